// `mpcheckgen test SPEC… [--examples FILE]`: an author's checker through
// the tests this repository runs on its embedded checkers. The spec's C is
// generated for 0.15 into a temporary directory and built with clang, gcc
// and gcc under ASan (the checker host, libmpathutil and the plugin
// answering from simulated SG_IO, native-tests/host); then, in each build,
// the rule-derived cases and random answers must reach the same path state
// and message, with the same commands, in the C and in the interpreter
// (native-tests/sim), and the author's examples must reach what they expect
// in both.
//
// The native-tests code is part of the package (bundled into a chunk of its
// own, loaded only by this command).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interpretCheck, initialContext, initialMapContext, type CheckResult, type ContextValues, type SimAnswer } from "./interp/interpret.ts";
import { ExamplesError, formatAnswer, outcomeNames, parseExamples, type Example } from "./examples.ts";
import { generate } from "./generate.ts";
import { loadSpecs } from "./load.ts";
import { checkerForTarget } from "./model/init-view.ts";
import type { CheckerModel } from "./model/types.ts";
import { buildNativeSet, generatedFiles, type NativeSet, type Toolchain } from "../native-tests/support/build.ts";
import { disagreements, randomCases, witnessCases, type Disagreement, type Expectation } from "../native-tests/sim/cases.ts";
import { runSimCases, type HostCheck } from "../native-tests/sim/sim.ts";
import { ensureHostPackages } from "../native-tests/support/host-packages.ts";

/** What the builds need on the host: as root they are installed, else the apt command is the error. */
const BUILD_PACKAGES = ["clang-19", "gcc", "libc6-dev"] as const;

export { ExamplesError };

export interface TestOptions {
	specs: string[];
	examples?: string;
	/** Random checks per build (clang and gcc; ASan runs a quarter). */
	random: number;
	seed: number;
	/** The command line that reruns this test (for the reproduce hint). */
	rerun: string;
	progress: (message: string) => void;
	out: (line: string) => void;
	/** Then the standard device scenarios in the VM (native-tests/vm/author.ts). */
	vm?: boolean;
	/** Called on the generated 0.15 directory before the builds (the tests seed a fault in the C through it). */
	patch?: (dir: string) => void;
}

export interface TestResult {
	failures: number;
	checks: number;
}

const BUILDS: { label: string; tc: Toolchain; share: number }[] = [
	{ label: "clang", tc: { compiler: "clang" }, share: 1 },
	{ label: "gcc", tc: { compiler: "gcc" }, share: 1 },
	{ label: "gcc ASan", tc: { compiler: "gcc", sanitize: "address" }, share: 0.25 },
];
const SANITIZER_ENV = { ASAN_OPTIONS: "detect_leaks=1:halt_on_error=1", UBSAN_OPTIONS: "halt_on_error=1:print_stacktrace=1" };

/** "PATH_UP UP", "PATH_PENDING transitioning". */
function outcome(m: CheckerModel, state: number, msgid: number): string {
	const names = outcomeNames(m);
	return `${names.states.get(state) ?? `path state ${state}`} ${names.messages.get(msgid) ?? `msgid ${msgid}`}`;
}

/** The interpreter on an example's answers, in order; throws when it needs more or fewer. */
function interpretExample(m: CheckerModel, e: Example, ctx: ContextValues, map: Record<string, number>): CheckResult {
	const r = interpretCheck(
		m,
		(_cmd, i) => {
			const a = e.answers[i];
			if (a === undefined) throw new ExamplesError(`${e.where}: the check sends command ${i + 1}, but the example gives ${e.answers.length} answer${e.answers.length === 1 ? "" : "s"}`);
			return a;
		},
		ctx,
		undefined,
		map,
	);
	if (r.commands.length < e.answers.length) {
		throw new ExamplesError(`${e.where}: the check ends after ${r.commands.length} command${r.commands.length === 1 ? "" : "s"}; the example gives ${e.answers.length} answers`);
	}
	return r;
}

function describeCase(answers: readonly SimAnswer[]): string {
	return answers.map(formatAnswer).join("; ");
}

export async function testSpecs(o: TestOptions): Promise<TestResult> {
	const models = await loadSpecs(o.specs);
	const checkers: CheckerModel[] = [];
	for (const m of models) {
		if (m.kind !== "checker") throw new ExamplesError(`${m.specFile}: a runner spec; mpcheckgen test tests checker specs`);
		if (!m.targets.includes("0.15")) throw new ExamplesError(`${m.specFile}: mpcheckgen test builds for 0.15; add "0.15" to the spec's targets`);
		// the C is built for 0.15: the model as 0.15 sees the checker's init
		checkers.push(checkerForTarget(m, "0.15"));
	}
	// the examples are read (and checked against the interpreter) before anything is built
	const examples = o.examples === undefined ? [] : parseExamples(readFileSync(o.examples, "utf8"), o.examples);
	if (examples.length > 0 && checkers.length !== 1) throw new ExamplesError(`--examples goes with one spec (given ${checkers.length})`);
	let failures = 0;
	let checks = 0;
	const fail = (lines: string[]) => {
		failures++;
		for (const l of lines) o.out(l);
	};

	const exampleResults: { e: Example; r: CheckResult }[] = [];
	if (examples.length > 0) {
		const m = checkers[0];
		// each path is a map of its own: its checks share the path's context and the map's
		const contexts = new Map<string, { ctx: ContextValues; map: Record<string, number> }>();
		for (const e of examples) {
			const was = contexts.get(e.path);
			const r = interpretExample(m, e, was?.ctx ?? initialContext(m), was?.map ?? initialMapContext(m));
			contexts.set(e.path, { ctx: r.context, map: r.map });
			exampleResults.push({ e, r });
			const got = outcome(m, r.pathState, r.msgid);
			const ok = r.pathStateName === e.pathState && (e.message === undefined || got === `${e.pathState} ${e.message}`);
			checks++;
			if (!ok) fail([`FAIL ${e.where}: ${e.text}`, `  the spec (interpreter) reaches ${got}`]);
		}
		o.out(`${m.specFile}: ${examples.length} examples through the interpreter, ${examples.length - failures} as expected`);
	}

	try {
		ensureHostPackages(BUILD_PACKAGES);
	} catch (e) {
		throw new ExamplesError(String(e instanceof Error ? e.message : e).replace(/^mpcheckgen: /, ""));
	}
	const dir = mkdtempSync(join(tmpdir(), "mpcheckgen-test-"));
	try {
		o.progress(`generating the C for 0.15 into ${dir}`);
		await generate({ specs: o.specs, target: "0.15", outDir: dir });
		o.patch?.(join(dir, "0.15"));
		const gen = generatedFiles(join(dir, "0.15"));
		for (const b of BUILDS) {
			o.progress(`${b.label}: building the checker host, libmpathutil and ${checkers.map((m) => `libcheck${m.name}.so`).join(", ")}`);
			let set: NativeSet;
			try {
				set = buildNativeSet(b.tc, gen);
				for (const m of checkers) set.simPlugin(m.name);
			} catch (e) {
				fail([`FAIL ${b.label}: the build failed`, String(e instanceof Error ? e.message : e)]);
				continue;
			}
			const env = b.tc.sanitize ? SANITIZER_ENV : undefined;
			for (const m of checkers) {
				const run = (what: string, cases: Expectation[]): HostCheck[] | undefined => {
					o.progress(`${b.label}: ${m.name}: ${cases.length} ${what}`);
					try {
						return runSimCases(set, m.name, cases.map((c) => c.case), { env });
					} catch (e) {
						fail([`FAIL ${m.name}, ${b.label} build: ${what}: the checker host failed`, String(e instanceof Error ? e.message : e)]);
						return undefined;
					}
				};
				const report = (what: string, cases: Expectation[], bad: Disagreement[], seeded: boolean) => {
					checks += cases.length;
					if (bad.length === 0) {
						o.out(`${m.specFile}: ${b.label}: ${cases.length} ${what}: C and spec agree`);
						return;
					}
					const byId = new Map(cases.map((c) => [c.case.id, c]));
					for (const d of bad.slice(0, 5)) {
						const c = byId.get(d.id)!;
						fail([
							`FAIL ${m.specFile}, ${b.label} build: ${what}: case ${d.id}${c.case.path ? ` (path ${c.case.path})` : ""}`,
							`  answers:  ${describeCase(c.case.answers)}`,
							`  the spec: ${outcome(m, d.expected.state, d.expected.msgid)}, commands ${JSON.stringify(d.expected.commands)}`,
							`  the C:    ${outcome(m, d.observed.state, d.observed.msgid)}, commands ${JSON.stringify(d.observed.commands)}` +
								(d.observed.unanswered || d.observed.leftover ? ` (${d.observed.unanswered} commands unanswered, ${d.observed.leftover} answers left over)` : ""),
							`  as an example line: ${describeCase(c.case.answers)} -> ${outcome(m, d.expected.state, d.expected.msgid)}`,
							`  reproduce: ${o.rerun}${seeded ? ` --seed ${o.seed}` : ""}`,
						]);
					}
					if (bad.length > 5) failures += bad.length - 5;
					o.out(`${m.specFile}: ${b.label}: ${what}: ${bad.length} of ${cases.length} disagree`);
				};
				const w = witnessCases(m);
				for (const k of w.missing) fail([`FAIL ${m.specFile}: no rule-derived case reaches ${k}`]);
				const wr = run("rule-derived cases", w.cases);
				if (wr) report("rule-derived cases", w.cases, disagreements(m, w.cases, wr), false);
				const n = Math.max(1, Math.round(o.random * b.share));
				const sequences = b.tc.sanitize ? 5 : 20;
				const rc = randomCases(m, { checks: n, paths: sequences, sequence: 10, seed: o.seed });
				const what = `random answers (${n} checks, ${sequences} paths × 10 checks in a row)`;
				const rr = run(what, rc);
				if (rr) report(what, rc, disagreements(m, rc, rr), true);
				if (exampleResults.length > 0) {
					const ec: Expectation[] = exampleResults.map(({ e, r }) => ({ case: { id: `line ${e.line}`, path: e.path, answers: e.answers }, expected: r }));
					const er = run("examples", ec);
					if (er) {
						checks += ec.length;
						let bad = 0;
						ec.forEach((c, i) => {
							const { e } = exampleResults[i];
							const got = er[i];
							const gotText = outcome(m, got.state, got.msgid);
							const ok =
								got.state === c.expected.pathState &&
								got.msgid === c.expected.msgid &&
								got.unanswered === 0 &&
								got.leftover === 0 &&
								gotText.split(" ")[0] === e.pathState &&
								(e.message === undefined || gotText === `${e.pathState} ${e.message}`);
							if (!ok) {
								bad++;
								fail([
									`FAIL ${e.where}, ${b.label} build: ${e.text}`,
									`  the C reaches ${gotText}` + (got.unanswered || got.leftover ? ` (${got.unanswered} commands unanswered, ${got.leftover} answers left over)` : ""),
									`  the spec (interpreter) reaches ${outcome(m, c.expected.pathState, c.expected.msgid)}`,
								]);
							}
						});
						o.out(`${m.specFile}: ${b.label}: ${ec.length} examples through the C, ${ec.length - bad} as expected`);
					}
				}
			}
		}
		if (o.vm) {
			const { runAuthorVm } = await import("../native-tests/vm/author.ts");
			// one run for every checker given (two VMs side by side)
			try {
				failures += await runAuthorVm(checkers, gen, { progress: o.progress, out: o.out });
			} catch (e) {
				fail([`FAIL ${checkers.map((m) => m.specFile).join(", ")}: the VM scenarios did not run: ${e instanceof Error ? e.message : String(e)}`]);
			}
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	return { failures, checks };
}
