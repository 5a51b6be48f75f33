// The mpcheckgen command line. Exit codes: 0 success, 1 a spec has errors
// (or --check found differences), 2 a usage error.
import { existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { ABI_TARGET_IDS, abiProfile } from "./abi/profiles.ts";
import { DEFAULT_OUT_DIR, DEFAULT_TARGETS, generate, generateTree, TreeError } from "./generate.ts";
import { loadSpecs } from "./load.ts";
import { formatDiagnostic, SpecError } from "./model/diagnostics.ts";
import type { SpecModel } from "./model/types.ts";
import { typecheckSpecs } from "./typecheck.ts";

class UsageError extends Error {}

function usage(message: string): never {
	throw new UsageError(message);
}

function checkFiles(files: string[]): void {
	for (const f of files) {
		if (!existsSync(resolve(f))) usage(`no such spec file: ${f}`);
		if (!f.endsWith(".ts")) usage(`a spec is a TypeScript file (.ts): ${f}`);
	}
}

function checkTarget(target: string): void {
	const p = abiProfile(target);
	if (!p) usage(`unknown target '${target}' (known: ${ABI_TARGET_IDS.join(", ")})`);
	if (!p.emitter) {
		const supported = ABI_TARGET_IDS.filter((id) => abiProfile(id)?.emitter).join(", ");
		usage(`target ${target}: mpcheckgen cannot emit C for this ABI yet (supported: ${supported})`);
	}
}

function describe(m: SpecModel): string {
	if (m.kind === "runner") return `runner: ${m.states.length} states, ${m.operations.length} operations`;
	const rules = m.states.reduce((n, s) => n + s.rules.length, 0);
	return `checker ${m.name}: ${m.states.length} state${m.states.length === 1 ? "" : "s"}, ${rules} rules, ${m.messages.length} messages`;
}

function program(result: { status: number }): Command {
	const cmd = new Command("mpcheckgen")
		.description("Generate multipath-tools path checkers and the runner framework from typed TypeScript specs")
		.showHelpAfterError()
		.exitOverride();
	cmd.command("generate")
		.description("validate specs and write the generated C (default: all embedded specs in specs/)")
		.addOption(new Option("-s, --spec <file...>", "spec files to generate (default: the embedded specs)"))
		.addOption(new Option("-t, --target <abi>", `multipath-tools checker ABI (default: every checker for each target it lists: ${DEFAULT_TARGETS.join(", ")})`))
		.addOption(new Option("-o, --out <dir>", "output directory; files go to <dir>/<target>/").default(DEFAULT_OUT_DIR))
		.addOption(new Option("--tree <dir>", "write the tree layout into this multipath-tools tree (its release is detected)"))
		.addOption(new Option("-l, --layout <layout>", "plugin: self-contained files with stand-in headers; tree: a release's own tree (needs --tree)").choices(["plugin", "tree"]))
		.option("--check", "write nothing; exit 1 if any file would change")
		.exitOverride()
		.action(async (opts: { spec?: string[]; target?: string; out: string; check?: boolean; tree?: string; layout?: string }, cmd: Command) => {
			if (opts.spec) checkFiles(opts.spec);
			if (opts.layout === "tree" && opts.tree === undefined) usage("--layout tree needs --tree DIR");
			if (opts.tree !== undefined) {
				if (opts.layout === "plugin") usage("--tree writes the tree layout; --layout plugin does not go with it");
				if (opts.target !== undefined) usage("--tree detects the release from the tree; leave out --target");
				const outGiven = cmd.getOptionValueSource("out") === "cli";
				const t0 = performance.now();
				const r = await generateTree({ tree: opts.tree, out: outGiven ? opts.out : undefined, specs: opts.spec, check: opts.check });
				const where = relative(process.cwd(), r.dir) || ".";
				process.stdout.write(`${opts.tree}: multipath-tools ${r.release.release} (target ${r.release.target})\n`);
				for (const m of r.models) process.stdout.write(`${m.specFile}: ${describe(m)}\n`);
				for (const f of r.written) process.stdout.write(`${opts.check ? "would write" : "wrote"} ${f}\n`);
				const ms = Math.round(performance.now() - t0);
				process.stdout.write(`mpcheckgen: ${r.written.length} ${opts.check ? "would be written" : "written"}, ${r.unchanged.length} unchanged in ${where}/ (tree layout, ${ms} ms)\n`);
				if (opts.check && r.written.length > 0) result.status = 1;
				return;
			}
			if (opts.target !== undefined) checkTarget(opts.target);
			const t0 = performance.now();
			const r = await generate({ specs: opts.spec, target: opts.target, outDir: opts.out, check: opts.check });
			const where = r.targetDirs.map((d) => `${relative(process.cwd(), d) || "."}/`).join(", ");
			for (const m of r.models) process.stdout.write(`${m.specFile}: ${describe(m)}\n`);
			const ms = Math.round(performance.now() - t0);
			if (opts.check) {
				const drift = [...r.written, ...r.removed];
				for (const f of r.written) process.stdout.write(`would write ${f}\n`);
				for (const f of r.removed) process.stdout.write(`would remove ${f}\n`);
				process.stdout.write(
					drift.length === 0
						? `mpcheckgen: ${r.unchanged.length} files in ${where} are up to date\n`
						: `mpcheckgen: ${drift.length} files in ${where} are out of date; run npx mpcheckgen generate\n`,
				);
				if (drift.length > 0) result.status = 1;
				return;
			}
			for (const f of r.written) process.stdout.write(`wrote ${f}\n`);
			for (const f of r.removed) process.stdout.write(`removed ${f} (no spec generates it any more)\n`);
			process.stdout.write(
				`mpcheckgen: ${r.written.length} written, ${r.unchanged.length} unchanged, ${r.removed.length} removed in ${where} (${ms} ms)\n`,
			);
		});
	cmd.command("validate")
		.description("check specs without writing anything: the TypeScript type check, then the model rules")
		.argument("<file...>", "spec files")
		.option("--no-typecheck", "skip the TypeScript type check")
		.exitOverride()
		.action(async (files: string[], opts: { typecheck: boolean }) => {
			checkFiles(files);
			if (opts.typecheck) {
				const diagnostics = typecheckSpecs(files);
				if (diagnostics.length > 0) throw new SpecError(diagnostics);
			}
			const models = await loadSpecs(files);
			for (const m of models) process.stdout.write(`${m.specFile}: ok (${describe(m)})\n`);
		});
	return cmd;
}

export async function main(argv: string[]): Promise<number> {
	const result = { status: 0 };
	const cmd = program(result);
	try {
		if (argv.length === 0) {
			cmd.outputHelp({ error: true });
			return 2;
		}
		await cmd.parseAsync(argv, { from: "user" });
		return result.status;
	} catch (e) {
		if (e instanceof CommanderError) {
			if (e.code === "commander.helpDisplayed" || e.code === "commander.help" || e.code === "commander.version") return 0;
			return 2;
		}
		if (e instanceof TreeError) {
			process.stderr.write(`mpcheckgen: ${e.message}; nothing written\n`);
			return 1;
		}
		if (e instanceof UsageError) {
			process.stderr.write(`mpcheckgen: ${e.message}\n`);
			return 2;
		}
		if (e instanceof SpecError) {
			for (const d of e.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
			process.stderr.write(`mpcheckgen: ${e.diagnostics.length} error${e.diagnostics.length === 1 ? "" : "s"}; nothing written\n`);
			return 1;
		}
		throw e;
	}
}
