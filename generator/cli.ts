// The mpcheckgen command line. Exit codes: 0 success, 1 a spec has errors
// (or --check found differences), 2 a usage error.
import { existsSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { relative, resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { ABI_TARGET_IDS, abiProfile } from "./abi/profiles.ts";
import { DEFAULT_OUT_DIR, DEFAULT_TARGETS, generateTree, TreeError } from "./generate.ts";
import { countText, formatDiagnostic, SpecError, type Diagnostic } from "./model/diagnostics.ts";
import type { SpecModel } from "./model/types.ts";
import { NEW_TEMPLATES, NewSpecError, newSpec, type NewTemplate } from "./new.ts";

// The heavy parts (esbuild, ts-morph, the emitters) are imported by the
// commands that need them, so `--help` and usage errors start at once.

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

/** Prints the specs' warnings (stderr); the summary line says how many. */
function printWarnings(warnings: readonly Diagnostic[]): void {
	for (const d of warnings) process.stderr.write(`${formatDiagnostic(d)}\n`);
	if (warnings.length > 0) process.stderr.write(`mpcheckgen: ${countText(warnings)} (--strict makes them errors)\n`);
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
		.option("--strict", "warnings are errors (nothing written)")
		.exitOverride()
		.action(async (opts: { spec?: string[]; target?: string; out: string; check?: boolean; tree?: string; layout?: string; strict?: boolean }, cmd: Command) => {
			if (opts.spec) checkFiles(opts.spec);
			if (opts.layout === "tree" && opts.tree === undefined) usage("--layout tree needs --tree DIR");
			if (opts.tree !== undefined) {
				if (opts.layout === "plugin") usage("--tree writes the tree layout; --layout plugin does not go with it");
				if (opts.target !== undefined) usage("--tree detects the release from the tree; leave out --target");
				const outGiven = cmd.getOptionValueSource("out") === "cli";
				const t0 = performance.now();
				const r = await generateTree({ tree: opts.tree, out: outGiven ? opts.out : undefined, specs: opts.spec, check: opts.check, strict: opts.strict });
				const { warningsOf } = await import("./generate.ts");
				printWarnings(warningsOf(r.models));
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
			// one short run: clang-format's WebAssembly is faster left to
			// V8's baseline compiler than tiered up with TurboFan, whose
			// background compiles cost more than they save (0.2 s vs 0.5 s)
			setFlagsFromString("--liftoff-only");
			const { generate, warningsOf } = await import("./generate.ts");
			const r = await generate({ specs: opts.spec, target: opts.target, outDir: opts.out, check: opts.check, strict: opts.strict });
			printWarnings(warningsOf(r.models));
			const where = r.targetDirs.map((d) => `${relative(process.cwd(), d) || "."}/`).join(", ");
			for (const m of r.models) {
				const why = r.implied.includes(m.specFile) ? " (embedded; the checkers' C needs the runner framework)" : "";
				process.stdout.write(`${m.specFile}: ${describe(m)}${why}\n`);
			}
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
	cmd.command("patch")
		.description("commit the tree layout as a patch series on a branch of a multipath-tools git worktree, check it, and write it with git format-patch")
		.requiredOption("--tree <dir>", "the multipath-tools git worktree (the series goes on top of its HEAD)")
		.addOption(new Option("--checkers <names>", "comma-separated embedded checkers (default: every embedded checker for the release)"))
		.addOption(new Option("-o, --out <dir>", "where the patches go").default("patches"))
		.addOption(new Option("--branch <name>", "the branch the series is committed to").default("mpcheckgen/series"))
		.addOption(new Option("--subject-prefix <prefix>", 'e.g. "PATCH v2"').default("PATCH"))
		.option("--changes <file>", 'the changes since v1, for the cover letter (with --subject-prefix "PATCH vN", N >= 2)')
		.option("--date <iso>", "the date of every commit and of the cover letter (default: the base commit's date)")
		.option("--no-check", "skip the checks (git am, make at each commit, make test, style)")
		.addOption(new Option("--long-lines <what>", "added lines over 80 columns (string literals aside) are a failure or a warning").choices(["fail", "warn"]).default("fail"))
		.exitOverride()
		.action(
			async (opts: { tree: string; checkers?: string; out: string; branch: string; subjectPrefix: string; changes?: string; date?: string; check: boolean; longLines: "fail" | "warn" }) => {
				const checkers = opts.checkers?.split(",").map((c) => c.trim());
				if (checkers !== undefined && (checkers.length === 0 || checkers.some((c) => c === ""))) usage(`--checkers ${opts.checkers}: a comma-separated list of checker names`);
				if (opts.date !== undefined && Number.isNaN(Date.parse(opts.date))) usage(`--date ${opts.date}: not an ISO 8601 date`);
				const { generatePatches, PatchUsageError } = await import("./patch.ts");
				const t0 = performance.now();
				let r: Awaited<ReturnType<typeof generatePatches>>;
				try {
					r = await generatePatches({
						tree: opts.tree,
						checkers,
						out: opts.out,
						branch: opts.branch,
						subjectPrefix: opts.subjectPrefix,
						changes: opts.changes,
						date: opts.date,
						check: opts.check,
						longLines: opts.longLines,
						progress: (m) => process.stderr.write(`mpcheckgen patch: ${m}\n`),
					});
				} catch (e) {
					if (e instanceof PatchUsageError) usage(e.message);
					throw e;
				}
				const out = (s: string) => process.stdout.write(`${s}\n`);
				out(`${opts.tree}: multipath-tools ${r.release.release} (target ${r.release.target}), base ${r.base.slice(0, 12)} ("${r.baseSubject}")`);
				r.commits.forEach((c, i) => {
					out(`[${opts.subjectPrefix} ${i + 1}/${r.commits.length}] ${c.subject}`);
					out(c.diffstat);
				});
				for (const f of r.skippedFixes) out(`fix ${f}`);
				if (r.checks.length === 0) out("checks: skipped (--no-check)");
				for (const c of r.checks) out(`check: ${c.what}: ${c.warning !== undefined ? `ok with a warning: ${c.warning}` : "ok"}${c.note !== undefined ? `, ${c.note}` : ""} (${(c.ms / 1000).toFixed(1)} s)`);
				for (const w of r.warnings) process.stderr.write(`mpcheckgen: warning: ${w}\n`);
				const rel = relative(process.cwd(), r.outDir) || ".";
				const where = rel.startsWith("..") ? r.outDir : rel;
				out(`branch ${r.branch} at ${r.tip.slice(0, 12)}: ${r.commits.length} commits on ${r.base.slice(0, 12)}`);
				out(`mpcheckgen: ${r.commits.length + 1} patches in ${where}/ (${r.cover} and ${r.commits.map((c) => c.patch).join(", ")}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
			},
		);
	cmd.command("validate")
		.description("check specs without writing anything: the TypeScript type check, then the model rules")
		.argument("<file...>", "spec files")
		.option("--no-typecheck", "skip the TypeScript type check")
		.option("--strict", "warnings are errors")
		.exitOverride()
		.action(async (files: string[], opts: { typecheck: boolean; strict?: boolean }) => {
			checkFiles(files);
			const { loadSpec, sortDiagnostics, SpecCrash } = await import("./load.ts");
			const typeErrors: Diagnostic[] = [];
			if (opts.typecheck) {
				const { typecheckSpecs } = await import("./typecheck.ts");
				typeErrors.push(...typecheckSpecs(files));
			}
			// the model rules run even when the type check failed: their
			// messages are often the clearer ones; a spec too broken for
			// them adds nothing to its type errors
			const models: SpecModel[] = [];
			const modelErrors: Diagnostic[] = [];
			for (const f of files) {
				const typed = typeErrors.some((d) => resolve(d.loc.file) === resolve(f));
				try {
					models.push(await loadSpec(f));
				} catch (e) {
					if (!(e instanceof SpecError)) throw e;
					if (!(typed && e instanceof SpecCrash)) modelErrors.push(...e.diagnostics);
				}
			}
			const warnings = models.flatMap((m) => (m.kind === "checker" ? m.warnings : [])).map((d) => (opts.strict ? { ...d, severity: "error" as const } : d));
			const all = sortDiagnostics([...typeErrors, ...modelErrors, ...warnings]);
			if (all.some((d) => d.severity === "error")) throw new SpecError(all);
			printWarnings(all);
			for (const m of models) {
				const n = m.kind === "checker" ? m.warnings.length : 0;
				process.stdout.write(`${m.specFile}: ok (${describe(m)})${n > 0 ? `, ${n} warning${n === 1 ? "" : "s"}` : ""}\n`);
			}
		});
	cmd.command("model")
		.description("write the Promela models of the runner protocol and the async checker's use of it, for spin: a thread per check, and persistent runners (the paths' checks run by a pool of threads)")
		.requiredOption("-s, --spec <file>", "the runner spec (specs/runner.ts)")
		.addOption(new Option("-o, --out <dir>", "output directory; the models go to <dir>/runner.pml (a thread per check) and <dir>/persistent.pml (the pool)").default("build/model"))
		.exitOverride()
		.action(async (opts: { spec: string; out: string }) => {
			checkFiles([opts.spec]);
			const { loadSpec } = await import("./load.ts");
			const m = await loadSpec(opts.spec);
			if (m.kind !== "runner") usage(`${opts.spec} is a checker spec; the model is of the runner protocol (specs/runner.ts)`);
			const { emitPromela, PROMELA_FILES } = await import("./emit/promela.ts");
			const { mkdirSync, writeFileSync } = await import("node:fs");
			const { join } = await import("node:path");
			const texts = (["threadPerCheck", "persistent"] as const).map((mode) => [PROMELA_FILES[mode], emitPromela(m, { mode })] as const);
			mkdirSync(opts.out, { recursive: true });
			process.stdout.write(`${m.specFile}: ${describe(m)}\n`);
			for (const [name, text] of texts) {
				writeFileSync(join(opts.out, name), text);
				process.stdout.write(`wrote ${join(opts.out, name)}\n`);
			}
			process.stdout.write(
				`verify one: cd ${opts.out} && spin -a runner.pml && gcc -DSAFETY -o pan pan.c && ./pan -m200000\n` +
					"  (no cycles: gcc -DNP -o pan pan.c && ./pan -m200000 -l -f; a trail: spin -t runner.pml | grep STEP; the same for persistent.pml)\n",
			);
		});
	cmd.command("diagram")
		.description("write the state diagram of each spec as SVG: a checker's states, commands, rules and retries; the runner's states and operations")
		.addOption(new Option("-s, --spec <file...>", "spec files (default: the embedded specs)"))
		.addOption(new Option("-o, --out <dir>", "output directory; each diagram goes to <dir>/<checker name>.svg or <dir>/runner.svg").default("generated/diagrams"))
		.exitOverride()
		.action(async (opts: { spec?: string[]; out: string }) => {
			if (opts.spec) checkFiles(opts.spec);
			const { mkdirSync, readFileSync, statSync, writeFileSync } = await import("node:fs");
			const { join } = await import("node:path");
			if (existsSync(opts.out) && !statSync(opts.out).isDirectory()) usage(`--out ${opts.out}: exists and is not a directory`);
			const t0 = performance.now();
			const [{ loadSpecs }, { diagramFiles, embeddedSpecs }] = await Promise.all([import("./load.ts"), import("./generate.ts")]);
			const models = await loadSpecs(opts.spec ?? embeddedSpecs());
			const files = await diagramFiles(models, "");
			const { diagramPath } = await import("./emit/diagram.ts");
			mkdirSync(opts.out, { recursive: true });
			let unchanged = 0;
			for (const m of models) {
				const path = diagramPath(m);
				const text = files.get(path)!;
				const file = join(opts.out, path);
				const size = /<svg width="([\d.]+)pt" height="([\d.]+)pt"/.exec(text);
				const dims = size ? `${size[1]}×${size[2]} pt, ` : "";
				const what = `${m.specFile}: ${describe(m)}; ${dims}${(text.length / 1024).toFixed(1)} KiB`;
				if (existsSync(file) && readFileSync(file, "utf8") === text) {
					unchanged++;
					process.stdout.write(`unchanged ${file} (${what})\n`);
					continue;
				}
				writeFileSync(file, text);
				process.stdout.write(`wrote ${file} (${what})\n`);
			}
			const where = relative(process.cwd(), resolve(opts.out)) || ".";
			process.stdout.write(
				`mpcheckgen: ${models.length - unchanged} written, ${unchanged} unchanged in ${where.startsWith("..") ? resolve(opts.out) : where}/ (${Math.round(performance.now() - t0)} ms)\n`,
			);
		});
	cmd.command("test")
		.description("build checker specs' C (clang, gcc, gcc ASan) and check it against the spec: rule-derived cases, random answers, your examples")
		.argument("<spec...>", "checker spec files")
		.option("--examples <file>", "answer sequences and the outcome each must reach (see README, \"Write your own checker\")")
		.addOption(new Option("--random <n>", "random checks per build (ASan: a quarter)").default("2000"))
		.addOption(new Option("--seed <n>", "the seed of the random answers").default(String(20261125)))
		.option("--vm", "then the standard device scenarios in a qemu VM (scsi_debug, LIO ALUA states; minutes under TCG)")
		.exitOverride()
		.action(async (files: string[], opts: { examples?: string; random: string; seed: string; vm?: boolean }) => {
			checkFiles(files);
			if (opts.examples !== undefined && !existsSync(resolve(opts.examples))) usage(`no such examples file: ${opts.examples}`);
			const random = Number(opts.random);
			const seed = Number(opts.seed);
			if (!Number.isInteger(random) || random < 1) usage(`--random ${opts.random}: a positive number of checks`);
			if (!Number.isInteger(seed)) usage(`--seed ${opts.seed}: an integer`);
			const { testSpecs, ExamplesError } = await import("./test.ts");
			const t0 = performance.now();
			const rerun = ["mpcheckgen test", ...files, ...(opts.examples ? ["--examples", opts.examples] : []), ...(random !== 2000 ? ["--random", String(random)] : [])].join(" ");
			let r: Awaited<ReturnType<typeof testSpecs>>;
			try {
				r = await testSpecs({
					specs: files,
					examples: opts.examples,
					vm: opts.vm,
					random,
					seed,
					rerun,
					progress: (m) => process.stderr.write(`mpcheckgen test: ${m}\n`),
					out: (l) => process.stdout.write(`${l}\n`),
				});
			} catch (e) {
				if (e instanceof ExamplesError) {
					process.stderr.write(`mpcheckgen: ${e.message}\n`);
					result.status = 1;
					return;
				}
				throw e;
			}
			const s = ((performance.now() - t0) / 1000).toFixed(1);
			if (r.failures > 0) {
				process.stdout.write(`mpcheckgen test: ${r.failures} failure${r.failures === 1 ? "" : "s"} in ${r.checks} checks (${s} s)\n`);
				result.status = 1;
			} else process.stdout.write(`mpcheckgen test: ${r.checks} checks, all as expected (${s} s)\n`);
		});
	cmd.command("new")
		.description("start a checker spec: specs/NAME.ts here, or a fresh directory ready to validate and generate")
		.argument("<name>", "the checker's name: a C identifier of at most 15 characters (libcheckNAME.so)")
		.addOption(new Option("--from <template>", "what the skeleton starts from").choices(NEW_TEMPLATES).default("blank"))
		.option("--dir <dir>", "lay out a project in DIR: specs/NAME.ts, package.json, tsconfig.json")
		.exitOverride()
		.action(async (name: string, opts: { from: NewTemplate; dir?: string }) => {
			let r: ReturnType<typeof newSpec>;
			try {
				r = newSpec({ name, from: opts.from, dir: opts.dir });
			} catch (e) {
				if (e instanceof NewSpecError && e.usage) usage(e.message);
				throw e;
			}
			for (const f of r.written) process.stdout.write(`wrote ${f}\n`);
			for (const line of r.next) process.stdout.write(`${line}\n`);
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
		if (e instanceof Error && e.name === "PatchCheckError") {
			const failures = (e as Error & { failures: readonly string[] }).failures;
			for (const f of failures) process.stderr.write(`mpcheckgen: check failed: ${f}\n`);
			process.stderr.write(`mpcheckgen: ${e.message}; nothing written (no branch, no patches)\n`);
			return 1;
		}
		if (e instanceof TreeError) {
			process.stderr.write(`mpcheckgen: ${e.message}; nothing written\n`);
			return 1;
		}
		if (e instanceof UsageError) {
			process.stderr.write(`mpcheckgen: ${e.message}\n`);
			return 2;
		}
		if (e instanceof NewSpecError) {
			process.stderr.write(`mpcheckgen: ${e.message}; nothing written\n`);
			return 1;
		}
		if (e instanceof SpecError) {
			for (const d of e.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
			process.stderr.write(`mpcheckgen: ${countText(e.diagnostics)}; nothing written\n`);
			return 1;
		}
		throw e;
	}
}
