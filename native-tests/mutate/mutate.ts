// npm run mutate: the mutation score of the behaviour tests (issue 15).
//
// Each mutant of catalogue.ts is applied, one at a time, in a scratch copy
// of the working tree (build/mutate/tree, node_modules linked, its own
// build/ cache kept between runs); generated/ is regenerated there with
// `mpcheckgen generate` (a mutant that makes generation fail is killed by
// "generate"), then the mutant's behaviour tests run in their fixed order,
// stopping at the first failure. The golden test is never run: it passes
// after a regenerate. Before the mutants, the same tests run once on the
// unmutated copy and must all pass. A full run writes MUTATION.md.
//
//   npm run mutate                      every mutant, writes MUTATION.md
//   npm run mutate -- --list            the catalogue, nothing run
//   npm run mutate -- --only NAME[,NAME] those mutants (MUTATION.md untouched)
//   npm run mutate -- --no-baseline     skip the unmutated run (with --only)
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { MUTANTS, mutatedFiles, type Mutant, type TestRun } from "./catalogue.ts";
import { killGroup, runInGroup } from "../support/group-run.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const WORK = join(ROOT, "build/mutate");
const TREE = join(WORK, "tree");
const LOGS = join(WORK, "logs");
/** A test run longer than this counts as a kill by hang. */
const TEST_TIMEOUT_MS = 300_000;

interface Result {
	mutant: Mutant;
	killed: boolean;
	/** "generate", a test id, or "" when it survived. */
	by: string;
	/** The first failing test's name, when vitest reported one. */
	detail: string;
	/** Whether generated/ differs from the unmutated output. */
	outputChanged: boolean;
	seconds: number;
	ran: string[];
}

function usage(): never {
	process.stdout.write(
		"usage: npm run mutate [-- --list | --only NAME[,NAME...] [--no-baseline]]\n" +
			"  applies each mutant of native-tests/mutate/catalogue.ts in build/mutate/tree, regenerates,\n" +
			"  runs its behaviour tests; a full run writes MUTATION.md\n",
	);
	process.exit(0);
}

function fail(msg: string): never {
	process.stderr.write(`mutate: ${msg}\n`);
	process.exit(2);
}

function parseArgs(argv: string[]): { list: boolean; only?: string[]; baseline: boolean } {
	let list = false;
	let only: string[] | undefined;
	let baseline = true;
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === "-h" || a === "--help") usage();
		else if (a === "--list") list = true;
		else if (a === "--no-baseline") baseline = false;
		else if (a === "--only" || a.startsWith("--only=")) {
			const v = a === "--only" ? argv[++i] : a.slice("--only=".length);
			if (!v) fail("--only needs a mutant name");
			only = [...(only ?? []), ...v.split(",").filter(Boolean)];
		} else fail(`unknown argument ${JSON.stringify(a)} (--help for usage)`);
	}
	if (only) {
		const unknown = only.filter((n) => !MUTANTS.some((m) => m.name === n));
		if (unknown.length) fail(`no mutant ${unknown.join(", ")} (npm run mutate -- --list)`);
	}
	if (!baseline && !only) fail("--no-baseline only with --only: a full run always checks the unmutated tree first");
	return { list, only, baseline };
}

/** The files of the working tree git knows of (tracked, or untracked and not ignored). */
function sourceFiles(): string[] {
	const r = spawnSync("git", ["ls-files", "-z", "-co", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" });
	if (r.status !== 0) fail(`git ls-files failed: ${r.stderr}`);
	return r.stdout.split("\0").filter((f) => f && existsSync(join(ROOT, f)));
}

/** A fresh copy of the working tree at TREE; its build/ (the compile cache) is kept. */
function prepareTree(): void {
	mkdirSync(TREE, { recursive: true });
	for (const e of readdirSync(TREE)) if (e !== "build") rmSync(join(TREE, e), { recursive: true, force: true });
	for (const f of sourceFiles()) {
		mkdirSync(dirname(join(TREE, f)), { recursive: true });
		cpSync(join(ROOT, f), join(TREE, f));
	}
	symlinkSync(join(ROOT, "node_modules"), join(TREE, "node_modules"));
}

function restore(m: Mutant): void {
	for (const e of m.edits) cpSync(join(ROOT, e.file), join(TREE, e.file));
	rmSync(join(TREE, "generated"), { recursive: true, force: true });
	cpSync(join(ROOT, "generated"), join(TREE, "generated"), { recursive: true });
}

function sameTree(a: string, b: string): boolean {
	const list = (d: string): string[] => readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(d, join(e.parentPath, e.name))).sort();
	const la = list(a);
	const lb = list(b);
	if (la.join("\n") !== lb.join("\n")) return false;
	return la.every((f) => readFileSync(join(a, f)).equals(readFileSync(join(b, f))));
}

interface Run {
	ok: boolean;
	output: string;
	timedOut: boolean;
	seconds: number;
}

/** The process group of the command running now, killed with us on SIGINT/SIGTERM. */
let current: number | undefined;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
	process.on(sig, () => {
		if (current !== undefined) killGroup(current);
		process.stderr.write(`\nmutate: interrupted; build/mutate/tree is left as it was (the next run copies it afresh)\n`);
		process.exit(130);
	});
}

/** Runs a command in TREE in its own process group; a run past the timeout is killed with its children. */
async function run(cmd: string, args: string[], timeoutMs: number): Promise<Run> {
	const env = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", CI: "1" };
	const r = await runInGroup([cmd, ...args], { cwd: TREE, env, timeoutMs, onStart: (pgid) => (current = pgid) });
	current = undefined;
	return { ok: r.exitCode === 0 && !r.timedOut, output: r.stdout + r.stderr, timedOut: r.timedOut, seconds: r.durationMs / 1000 };
}

function vitestArgs(t: TestRun, json: string): string[] {
	return [
		join(TREE, "node_modules/vitest/vitest.mjs"),
		"run",
		t.file,
		...(t.name ? ["-t", t.name] : []),
		"--bail=1",
		"--reporter=dot",
		"--reporter=json",
		`--outputFile.json=${json}`,
	];
}

/** How many tests of a vitest JSON report passed (0 when there is no report). */
function passedTests(json: string): number {
	try {
		return (JSON.parse(readFileSync(json, "utf8")) as { numPassedTests: number }).numPassedTests;
	} catch {
		return 0;
	}
}

/** An error's first line, without the compiler command of a failed compile. */
function shortError(line: string): string {
	return (/compile of \S+ failed \(/.test(line) ? line.replace(/ failed \(.*$/, " failed") : line).slice(0, 120);
}

/** The full name of the first failed test of a vitest JSON report. */
function firstFailure(json: string): string {
	try {
		const rep = JSON.parse(readFileSync(json, "utf8")) as {
			testResults: { assertionResults: { status: string; fullName: string; failureMessages?: string[] }[]; message?: string }[];
		};
		for (const f of rep.testResults) {
			const a = f.assertionResults.find((x) => x.status === "failed");
			if (!a) continue;
			// the test, and the first line of what failed (an assertion, a compile error, ...)
			const why = shortError((a.failureMessages?.[0] ?? "").split("\n")[0]);
			return why ? `${a.fullName}: ${why}` : a.fullName;
		}
		const broken = rep.testResults.find((f) => f.message);
		if (broken) return `the file failed: ${shortError(broken.message!.split("\n")[0])}`;
	} catch {
		// no report (a crash or a timeout)
	}
	return "";
}

async function runTest(t: TestRun, logName: string): Promise<Run & { detail: string }> {
	const json = join(LOGS, `${logName}.json`);
	rmSync(json, { force: true });
	const r = await run(process.execPath, vitestArgs(t, json), TEST_TIMEOUT_MS);
	// a name pattern that selects nothing passes in vitest: never count that as a pass
	if (r.ok && passedTests(json) === 0) fail(`${t.id}: ${t.file}${t.name ? ` -t ${JSON.stringify(t.name)}` : ""} ran no test`);
	const detail = r.timedOut ? `no result within ${TEST_TIMEOUT_MS / 1000} s` : r.ok ? "" : firstFailure(json);
	return { ...r, detail };
}

function uniqueTests(ms: readonly Mutant[]): TestRun[] {
	const out: TestRun[] = [];
	for (const m of ms) for (const t of m.tests) if (!out.some((x) => x.id === t.id)) out.push(t);
	return out;
}

async function baseline(ms: readonly Mutant[]): Promise<void> {
	const tests = uniqueTests(ms);
	process.stdout.write(`baseline: ${tests.length} test runs on the unmutated tree\n`);
	const gen = await run(process.execPath, ["bin/mpcheckgen.js", "generate"], 120_000);
	if (!gen.ok) fail(`generate fails on the unmutated tree:\n${gen.output}`);
	if (!sameTree(join(ROOT, "generated"), join(TREE, "generated"))) fail("generated/ is not current: run npm run generate and commit first");
	for (const t of tests) {
		const r = await runTest(t, "baseline");
		process.stdout.write(`  ${t.id}: ${r.ok ? "pass" : "FAIL"} (${r.seconds.toFixed(1)} s)\n`);
		if (!r.ok) {
			writeFileSync(join(LOGS, "baseline.log"), r.output);
			fail(`${t.id} fails on the unmutated tree (${r.detail}); see ${relative(ROOT, join(LOGS, "baseline.log"))}`);
		}
	}
}

async function runMutant(m: Mutant): Promise<Result> {
	const start = Date.now();
	rmSync(join(LOGS, `${m.name}.log`), { force: true });
	const files = mutatedFiles(m, ROOT);
	for (const [f, text] of files) writeFileSync(join(TREE, f), text);
	const ran: string[] = [];
	const done = (killed: boolean, by: string, detail: string, outputChanged: boolean, output = ""): Result => {
		if (killed) writeFileSync(join(LOGS, `${m.name}.log`), output);
		return { mutant: m, killed, by, detail, outputChanged, seconds: (Date.now() - start) / 1000, ran };
	};
	try {
		const gen = await run(process.execPath, ["bin/mpcheckgen.js", "generate"], 120_000);
		ran.push("generate");
		if (!gen.ok) return done(true, "generate", gen.output.trim().split("\n").slice(-1)[0] ?? "", true, gen.output);
		const outputChanged = !sameTree(join(ROOT, "generated"), join(TREE, "generated"));
		for (const t of m.tests) {
			const r = await runTest(t, m.name);
			ran.push(t.id);
			if (!r.ok) return done(true, t.id, r.detail, outputChanged, r.output);
		}
		return done(false, "", "", outputChanged);
	} finally {
		restore(m);
	}
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function report(results: Result[], totalSeconds: number): string {
	const killed = results.filter((r) => r.killed);
	const equivalent = results.filter((r) => !r.killed && r.mutant.equivalent);
	const survivors = results.filter((r) => !r.killed && !r.mutant.equivalent);
	const scored = results.length - equivalent.length;
	const lines = [
		"# Mutation score",
		"",
		"Written by `npm run mutate` (native-tests/mutate/mutate.ts; the catalogue is native-tests/mutate/catalogue.ts).",
		"Each mutant is a deliberate bug in the generator side (templates/, generator/emit, lower, model) or in the",
		"interpreter (generator/interp, the tests' oracle), applied alone in a scratch copy; generated/ is regenerated",
		"and the mutant's behaviour tests run in order until one fails. The golden test is not among them: it passes",
		"after a regenerate. Do not edit by hand; run `npm run mutate` again.",
		"",
		`**Score: ${killed.length}/${scored} non-equivalent mutants killed (${scored ? ((100 * killed.length) / scored).toFixed(0) : 0} %)**; ` +
			`${equivalent.length} equivalent, ${survivors.length} surviving; ${results.length} mutants in ${(totalSeconds / 60).toFixed(1)} min.`,
		"",
		"| mutant | area | bug | output changed | killed by | first failing test | time |",
		"|---|---|---|---|---|---|---|",
		...results.map(
			(r) =>
				`| ${r.mutant.name} | ${r.mutant.area} | ${cell(r.mutant.what)} | ${r.outputChanged ? "yes" : "no"} | ${r.killed ? cell(r.by) : r.mutant.equivalent ? "— (equivalent)" : "**SURVIVED**"} | ${cell(r.detail)} | ${r.seconds.toFixed(1)} s |`,
		),
		"",
		"## Equivalent mutants",
		"",
		...(equivalent.length
			? equivalent.map((r) => `- **${r.mutant.name}** (${r.mutant.what}): ${r.mutant.equivalent}`)
			: ["None."]),
		"",
	];
	const wrong = results.filter((r) => r.killed && r.mutant.equivalent);
	if (wrong.length) {
		lines.push("## Declared equivalent but killed", "", ...wrong.map((r) => `- **${r.mutant.name}**: killed by ${r.by}; the claim in the catalogue is wrong`), "");
	}
	if (survivors.length) {
		lines.push("## Surviving mutants (test gaps)", "", ...survivors.map((r) => `- **${r.mutant.name}** (${r.mutant.what}): survived ${r.ran.join(", ")}`), "");
	}
	return lines.join("\n");
}

async function main(): Promise<void> {
	const args = parseArgs(process.argv.slice(2));
	if (args.list) {
		for (const m of MUTANTS) {
			process.stdout.write(`${m.name.padEnd(34)} ${m.area.padEnd(15)} ${m.what}${m.equivalent ? " [equivalent]" : ""}\n`);
		}
		process.stdout.write(`${MUTANTS.length} mutants\n`);
		return;
	}
	const selected = args.only ? MUTANTS.filter((m) => args.only!.includes(m.name)) : MUTANTS;
	// every edit must apply before anything runs
	for (const m of selected) mutatedFiles(m, ROOT);
	const start = Date.now();
	mkdirSync(LOGS, { recursive: true });
	prepareTree();
	if (args.baseline) await baseline(selected);
	const results: Result[] = [];
	for (const [i, m] of selected.entries()) {
		process.stdout.write(`[${i + 1}/${selected.length}] ${m.name} (${m.area}) ... `);
		const r = await runMutant(m);
		results.push(r);
		const verdict = r.killed
			? `killed by ${r.by}${r.detail ? ` (${r.detail.slice(0, 100)})` : ""}`
			: m.equivalent
				? "survived (declared equivalent)"
				: `SURVIVED ${r.ran.join(", ")}`;
		process.stdout.write(`${verdict}, ${r.seconds.toFixed(1)} s${r.outputChanged ? "" : ", generated/ unchanged"}\n`);
	}
	const total = (Date.now() - start) / 1000;
	const text = report(results, total);
	if (!args.only) {
		writeFileSync(join(ROOT, "MUTATION.md"), text);
		process.stdout.write(`wrote MUTATION.md\n`);
	}
	const survivors = results.filter((r) => !r.killed && !r.mutant.equivalent);
	const wrong = results.filter((r) => r.killed && r.mutant.equivalent);
	process.stdout.write(
		`${results.filter((r) => r.killed).length} killed, ${results.filter((r) => !r.killed && r.mutant.equivalent).length} equivalent, ` +
			`${survivors.length} surviving, in ${(total / 60).toFixed(1)} min\n`,
	);
	if (survivors.length || wrong.length) process.exitCode = 1;
}

await main();
