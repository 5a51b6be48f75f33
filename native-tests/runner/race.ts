// Driver of the runner race test (runner-api.md §5; the program is
// tests/runner.c as the runner emitter writes it): builds the program against the runner under test in several variants, runs it plain,
// under valgrind or with ASan, and returns the parsed RESULT/SUMMARY lines and
// the memory checker's verdict. The tests are in runner-race.test.ts.
//
// Manual use:  npx tsx native-tests/runner/race.ts [plain|asan|tsan|valgrind|helgrind|start-delay|persistent|persistent-asan|persistent-valgrind|persistent-start-delay] [scenario 1-6] [-- extra options]
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { CANCEL_SCENARIO, raceArgs, SCENARIOS, scaleOptions, VALGRIND_SCALE, type RaceOptions, type ToolScale } from "../../generator/emit/runner-test.ts";
import { compile, ROOT, type Compiler, type Sanitizer } from "../support/cc.ts";
import { runInGroup } from "../support/group-run.ts";

// ---------------------------------------------------------------------------
// The runner under test (the ONE place that knows where it is)
// ---------------------------------------------------------------------------

export interface RunnerImpl {
	/** Sources of the runner (libmpathutil/runner.c). */
	sources: string[];
	/** Logging backend (dlog, libmp_verbosity), linked into the same library. */
	logSources: string[];
	/** Directories of runner.h and debug.h. */
	includeDirs: string[];
	/**
	 * Extra flags this implementation needs to build with the upstream
	 * flags. Each one is a known defect of the implementation; keep it empty.
	 */
	cflags: string[];
}

export const RUNNER_IMPLS = {
	/** The generated runner, with the stand-in debug.h of the target ABI. */
	generated: {
		sources: ["generated/0.15/libmpathutil/runner.c"],
		logSources: ["native-tests/support/dlog.c"],
		includeDirs: ["generated/0.15/libmpathutil", "generated/0.15/target-abi"],
		cflags: [],
	},
} satisfies Record<string, RunnerImpl>;

export type RunnerImplName = keyof typeof RUNNER_IMPLS;

/** The runner under test; MPCHECKGEN_RACE_RUNNER overrides it. */
export const RUNNER_UNDER_TEST: RunnerImplName = "generated";

export function runnerImplName(): RunnerImplName {
	const env = process.env.MPCHECKGEN_RACE_RUNNER;
	if (!env) return RUNNER_UNDER_TEST;
	if (!(env in RUNNER_IMPLS)) throw new Error(`MPCHECKGEN_RACE_RUNNER=${env}: not one of ${Object.keys(RUNNER_IMPLS).join(", ")}`);
	return env as RunnerImplName;
}

export function runnerImpl(name: RunnerImplName = runnerImplName()): RunnerImpl {
	const impl = RUNNER_IMPLS[name];
	for (const f of impl.sources) {
		if (!existsSync(join(ROOT, f))) throw new Error(`runner implementation "${name}": ${f} does not exist`);
	}
	return impl;
}

// ---------------------------------------------------------------------------
// Build variants
// ---------------------------------------------------------------------------

/**
 * Thread stack of the runner in ASan builds. ASan needs far more stack than
 * the 16 KiB minimum (runner-api.md §5: crashes inside ASan's thread
 * bookkeeping); 1 MiB is glibc's usual order of magnitude and leaves room for
 * ASan's redzones and instrumented stdio.
 */
export const ASAN_STACK_SIZE = 1024 * 1024;

/** RUNNER_START_DELAY_US of the start-delay build (scenario 2 with it: runner-test.sh). */
export const START_DELAY_US = 1000;

export type BuildVariant =
	| "plain-clang"
	| "plain-gcc"
	| "asan"
	| "tsan"
	| "start-delay"
	| "mutant"
	| "mutant-asan"
	| "persistent-clang"
	| "persistent-gcc"
	| "persistent-asan"
	| "persistent-tsan"
	| "persistent-start-delay";

interface VariantSpec {
	compiler: Compiler;
	sanitize: Sanitizer;
	/** Defines for both the runner library and the test program. */
	defines: Record<string, number>;
	/** Links race-mutant.c, whose wrappers break the runner on request (RACE_MUTANT). */
	mutant: boolean;
}

export const VARIANTS: Record<BuildVariant, VariantSpec> = {
	"plain-clang": { compiler: "clang", sanitize: "none", defines: {}, mutant: false },
	"plain-gcc": { compiler: "gcc", sanitize: "none", defines: {}, mutant: false },
	// gcc: the compiler of the measured upstream ASan crash.
	asan: { compiler: "gcc", sanitize: "address", defines: { RUNNER_STACK_SIZE: ASAN_STACK_SIZE }, mutant: false },
	// ThreadSanitizer (clang-19): its runtime needs large thread stacks too
	tsan: { compiler: "clang", sanitize: "thread", defines: { RUNNER_STACK_SIZE: ASAN_STACK_SIZE }, mutant: false },
	"start-delay": { compiler: "clang", sanitize: "none", defines: { RUNNER_START_DELAY_US: START_DELAY_US }, mutant: false },
	mutant: { compiler: "gcc", sanitize: "none", defines: {}, mutant: true },
	"mutant-asan": { compiler: "gcc", sanitize: "address", defines: { RUNNER_STACK_SIZE: ASAN_STACK_SIZE }, mutant: true },
	// RACE_PERSISTENT: every slot is a path with a persistent runner
	"persistent-clang": { compiler: "clang", sanitize: "none", defines: { RACE_PERSISTENT: 1 }, mutant: false },
	"persistent-gcc": { compiler: "gcc", sanitize: "none", defines: { RACE_PERSISTENT: 1 }, mutant: false },
	"persistent-asan": {
		compiler: "gcc",
		sanitize: "address",
		defines: { RACE_PERSISTENT: 1, RUNNER_STACK_SIZE: ASAN_STACK_SIZE },
		mutant: false,
	},
	"persistent-tsan": {
		compiler: "clang",
		sanitize: "thread",
		defines: { RACE_PERSISTENT: 1, RUNNER_STACK_SIZE: ASAN_STACK_SIZE },
		mutant: false,
	},
	"persistent-start-delay": {
		compiler: "clang",
		sanitize: "none",
		defines: { RACE_PERSISTENT: 1, RUNNER_START_DELAY_US: START_DELAY_US },
		mutant: false,
	},
};

export interface RaceBuild {
	variant: BuildVariant;
	binary: string;
	library: string;
	cached: boolean;
	commands: string[][];
}

/** The race-test program, as the runner emitter writes it (tests/runner.c of a tree). */
const PROGRAM = "generated/0.15/tests/runner.c";
const MUTANT = "native-tests/runner/race-mutant.c";

/**
 * Builds the runner (plus logging backend) as a shared library, like
 * libmpathutil, and the race test against it. Two steps so that the test
 * program itself always gets the strict upstream flags, whatever the runner
 * implementation needs (RunnerImpl.cflags).
 */
export function buildRace(variant: BuildVariant, implName: RunnerImplName = runnerImplName(), runnerC?: string): RaceBuild {
	const base = runnerImpl(implName);
	// runnerC: a modified copy of the runner (mutation tests), runner.h next to it
	const impl = runnerC ? { ...base, sources: [runnerC], includeDirs: [dirname(runnerC), ...base.includeDirs] } : base;
	const v = VARIANTS[variant];
	const libName = `libmpathutil-runner-${implName}${runnerC ? "-mutant" : ""}`;
	const lib = compile({
		compiler: v.compiler,
		sanitize: v.sanitize,
		kind: "shared",
		name: libName,
		sources: [...impl.sources, ...impl.logSources],
		includeDirs: impl.includeDirs,
		defines: v.defines,
		cflags: impl.cflags,
		ldflags: [`-Wl,-soname,${libName}.so`],
	});
	const defines: Record<string, string | number> = { ...v.defines };
	if (v.mutant) {
		defines.check_runner = "mutant_check_runner";
		defines.release_runner = "mutant_release_runner";
	}
	const exe = compile({
		compiler: v.compiler,
		sanitize: v.sanitize,
		kind: "executable",
		name: v.mutant ? "runner-race-mutant" : runnerC ? "runner-race-mutant-runner" : "runner-race",
		sources: v.mutant ? [PROGRAM, MUTANT] : [PROGRAM],
		includeDirs: impl.includeDirs,
		defines,
		ldflags: [lib.output, `-Wl,-rpath,${dirname(lib.output)}`],
		extraInputs: [lib.output],
	});
	return { variant, binary: exe.output, library: lib.output, cached: lib.cached && exe.cached, commands: [lib.command, exe.command] };
}

// ---------------------------------------------------------------------------
// Options and scenarios
// ---------------------------------------------------------------------------

export { CANCEL_SCENARIO, raceArgs, SCENARIOS, scaleOptions, type RaceOptions, type Scenario, type ToolScale } from "../../generator/emit/runner-test.ts";

export type RunMode = "plain" | "asan" | "valgrind" | "tsan" | "helgrind";

/** How the scenario timings are adapted to each memory checker (see ToolScale). */
export const SCALES: Record<RunMode, ToolScale> = {
	plain: { time: 1, maxRunners: Infinity, reps: 1 },
	// Measured (2 cores, 1000 runners): creating the runners takes 120-150 ms
	// instead of 20-30 ms (1 MiB stacks plus ASan's per-thread setup), polling
	// is not slower. x2 keeps creation below ~7% of the timeout, as in a plain
	// run (2-3%), and leaves margin for ASan's CPU overhead (~2x).
	asan: { time: 2, maxRunners: Infinity, reps: 1 },
	// the scale of the tree's runner-test.sh under VALGRIND=1 (measured there)
	valgrind: VALGRIND_SCALE,
	// ThreadSanitizer: 5-15x CPU and a shadow of every access; creation
	// costs like ASan's (1 MiB stacks; measured up to 350 ms for 250
	// runners). x2 on the times as for ASan, at most 250 runners and half
	// the repetitions keep it short (-k then still leaves a full run in
	// scenario 4): the point is the happens-before check of each access.
	tsan: { time: 2, maxRunners: 250, reps: 2 },
	// helgrind serialises threads like memcheck and is slower still.
	helgrind: { time: 4, maxRunners: 100, reps: 4 },
};

// ---------------------------------------------------------------------------
// Running and parsing
// ---------------------------------------------------------------------------

/** One RESULT line. */
export interface RunResult {
	run: number;
	total: number;
	finished: number;
	completed: number;
	cancelled: number;
	dead: number;
	abandoned: number;
	running: number;
	bad_data: number;
	bad_state: number;
	create_failed: number;
	errors: number;
	polls: number;
	max_gap_ms: number;
	create_ms: number;
	duration_ms: number;
	interrupted: boolean;
}

/** The SUMMARY line (printed by the parent process). */
export interface Summary {
	runs: number;
	failed_runs: number;
	errors: number;
	total: number;
	finished: number;
	completed: number;
	cancelled: number;
	dead: number;
	abandoned: number;
	running: number;
	bad_data: number;
	bad_state: number;
	create_failed: number;
	workers_entered: number;
	workers_completed: number;
	workers_reused: number;
	straggler_wait: boolean;
	straggler_wait_ms: number;
	stragglers: number;
	max_gap_ms: number;
	max_create_ms: number;
	interrupted: boolean;
	child_done: boolean;
	child_exit: number;
	child_signal: number;
	exit: number;
	seed: string;
	start_delay_us: number;
	stack_size: number;
	asan: boolean;
	tsan: boolean;
	persistent: boolean;
	valgrind: boolean;
	options: Record<string, number | boolean>;
}

/** What valgrind said about one process (parent and forked child each report). */
export interface ValgrindProcess {
	pid: number;
	errors: number | null;
	definitelyLost: number;
	indirectlyLost: number;
	possiblyLost: number;
	allFreed: boolean;
}

export interface RaceRun {
	mode: RunMode;
	argv: string[];
	exitCode: number | null;
	signal: string | null;
	timedOut: boolean;
	durationMs: number;
	runs: RunResult[];
	summary: Summary | null;
	/** The number on the last line, "TOTAL NUMBER OF FAILED RUNS: n". */
	totalFailedRuns: number | null;
	stdout: string;
	stderr: string;
	valgrind: ValgrindProcess[] | null;
	/** "ERROR: AddressSanitizer/LeakSanitizer ...", "WARNING: ThreadSanitizer: ..." headlines. */
	sanitizerErrors: string[];
}

export const VALGRIND_ARGS = ["--leak-check=full", "--error-exitcode=128", "--max-threads=5000"];
export const ASAN_OPTIONS = "detect_leaks=1:detect_odr_violation=0";
/**
 * helgrind: every data race, lock-order and API misuse report is an error
 * (exit 128 in the process that had it). helgrind does not model __atomic
 * operations, which are all the runner synchronises with; helgrind.supp
 * names each hand-over they order (and why), nothing else.
 */
export const HELGRIND_SUPP = join(ROOT, "native-tests/runner/helgrind.supp");
export const HELGRIND_ARGS = ["--tool=helgrind", "--error-exitcode=128", "--max-threads=5000", `--suppressions=${HELGRIND_SUPP}`];
/**
 * ThreadSanitizer: any report fails the run (exitcode 66 in the process
 * that had it). No suppressions.
 */
export const TSAN_OPTIONS = "halt_on_error=0:exitcode=66:report_signal_unsafe=0";
export const LSAN_OPTIONS = "report_objects=1";

export interface RunOptions {
	mode: RunMode;
	env?: Record<string, string>;
	/** Kill the whole process group after this (default 10 min). */
	timeoutMs?: number;
}

export function parseValgrind(stderr: string): ValgrindProcess[] {
	const procs = new Map<number, ValgrindProcess>();
	const get = (pid: number): ValgrindProcess => {
		let p = procs.get(pid);
		if (!p) {
			p = { pid, errors: null, definitelyLost: 0, indirectlyLost: 0, possiblyLost: 0, allFreed: false };
			procs.set(pid, p);
		}
		return p;
	};
	const num = (s: string): number => Number(s.replace(/,/g, ""));
	for (const line of stderr.split("\n")) {
		const m = /^==(\d+)== (.*)$/.exec(line);
		if (!m) continue;
		const p = get(Number(m[1]));
		const text = m[2]!;
		let x: RegExpExecArray | null;
		if ((x = /ERROR SUMMARY: ([\d,]+) errors?/.exec(text))) p.errors = num(x[1]!);
		else if ((x = /definitely lost: ([\d,]+) bytes/.exec(text))) p.definitelyLost = num(x[1]!);
		else if ((x = /indirectly lost: ([\d,]+) bytes/.exec(text))) p.indirectlyLost = num(x[1]!);
		else if ((x = /possibly lost: ([\d,]+) bytes/.exec(text))) p.possiblyLost = num(x[1]!);
		else if (/All heap blocks were freed/.test(text)) p.allFreed = true;
	}
	return [...procs.values()];
}

export function parseOutput(stdout: string): Pick<RaceRun, "runs" | "summary" | "totalFailedRuns"> {
	const runs: RunResult[] = [];
	let summary: Summary | null = null;
	let totalFailedRuns: number | null = null;
	for (const line of stdout.split("\n")) {
		if (line.startsWith("RESULT ")) runs.push(JSON.parse(line.slice(7)) as RunResult);
		else if (line.startsWith("SUMMARY ")) summary = JSON.parse(line.slice(8)) as Summary;
		else {
			const m = /^TOTAL NUMBER OF FAILED RUNS: (\d+)$/.exec(line);
			if (m) totalFailedRuns = Number(m[1]);
		}
	}
	return { runs, summary, totalFailedRuns };
}

/** Runs the race program (or any argv of it) and parses what it printed. */
export async function runRace(build: RaceBuild, args: RaceOptions | string[], opts: RunOptions): Promise<RaceRun> {
	const progArgs = Array.isArray(args) ? args : raceArgs(args);
	const env: Record<string, string | undefined> = { ...process.env, ...(opts.env ?? {}) };
	let argv = [build.binary, ...progArgs];
	if (opts.mode === "valgrind") argv = ["valgrind", ...VALGRIND_ARGS, ...argv];
	if (opts.mode === "helgrind") argv = ["valgrind", ...HELGRIND_ARGS, ...argv];
	if (opts.mode === "tsan") env.TSAN_OPTIONS = TSAN_OPTIONS;
	if (opts.mode === "asan") {
		env.ASAN_OPTIONS = ASAN_OPTIONS;
		env.LSAN_OPTIONS = LSAN_OPTIONS;
	}
	// own process group, so that a timeout also kills the forked child
	const r = await runInGroup(argv, { env, timeoutMs: opts.timeoutMs ?? 600_000 });
	return {
		mode: opts.mode,
		argv,
		exitCode: r.exitCode,
		signal: r.signal,
		timedOut: r.timedOut,
		durationMs: r.durationMs,
		...parseOutput(r.stdout),
		stdout: r.stdout,
		stderr: r.stderr,
		valgrind: opts.mode === "valgrind" || opts.mode === "helgrind" ? parseValgrind(r.stderr) : null,
		sanitizerErrors: r.stderr.split("\n").filter((l) => /(ERROR|WARNING): (Address|Leak|Thread)Sanitizer/.test(l)),
	};
}

/** Sum of a RESULT field over all runs. */
export function sumRuns(r: RaceRun, key: "completed" | "cancelled" | "dead" | "abandoned" | "errors" | "total" | "finished"): number {
	return r.runs.reduce((a, x) => a + x[key], 0);
}

/** A compact one-line description of a run for logs and failure messages. */
export function describeRun(r: RaceRun): string {
	const s = r.summary;
	const parts = [
		`exit ${r.exitCode}${r.signal ? ` signal ${r.signal}` : ""}${r.timedOut ? " TIMEOUT" : ""}`,
		`${(r.durationMs / 1000).toFixed(1)} s`,
		`runs ${r.runs.length}${s?.interrupted ? " (interrupted)" : ""}`,
		`completed ${sumRuns(r, "completed")}`,
		`cancelled ${sumRuns(r, "cancelled")}`,
		`dead ${sumRuns(r, "dead")}`,
		`errors ${sumRuns(r, "errors")}`,
	];
	if (s) {
		parts.push(
			`entered ${s.workers_entered}/${s.total}`,
			`worker-done ${s.workers_completed}`,
			`max create ${s.max_create_ms.toFixed(0)} ms`,
			`max poll gap ${s.max_gap_ms.toFixed(0)} ms`,
		);
		if (s.straggler_wait) parts.push(`straggler wait ${s.straggler_wait_ms} ms (${s.stragglers} left)`);
	}
	if (r.valgrind) {
		const v = r.valgrind;
		parts.push(
			`valgrind: ${v.length} procs, errors ${v.map((p) => p.errors ?? "?").join("+")}, ` +
				`lost ${v.map((p) => `${p.definitelyLost}/${p.indirectlyLost}/${p.possiblyLost}`).join(" ")}`,
		);
	}
	if (r.sanitizerErrors.length) parts.push(`sanitizer: ${r.sanitizerErrors.join(" | ")}`);
	return parts.join(", ");
}

/** stdout/stderr tails for failure messages. */
export function runDump(r: RaceRun, lines = 40): string {
	const tail = (s: string): string => s.split("\n").slice(-lines).join("\n");
	return `$ ${r.argv.join(" ")}\n--- stdout (tail)\n${tail(r.stdout)}\n--- stderr (tail)\n${tail(r.stderr)}`;
}

// ---------------------------------------------------------------------------
// Manual use
// ---------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
	const sep = argv.indexOf("--");
	const extra = sep >= 0 ? argv.slice(sep + 1) : [];
	const pos = sep >= 0 ? argv.slice(0, sep) : argv;
	const which = pos[0] ?? "plain";
	const ids = pos.slice(1).map(Number);
	const modes: Record<string, [RunMode, BuildVariant]> = {
		plain: ["plain", "plain-clang"],
		asan: ["asan", "asan"],
		tsan: ["tsan", "tsan"],
		valgrind: ["valgrind", "plain-gcc"],
		helgrind: ["helgrind", "plain-gcc"],
		"start-delay": ["plain", "start-delay"],
		persistent: ["plain", "persistent-clang"],
		"persistent-asan": ["asan", "persistent-asan"],
		"persistent-valgrind": ["valgrind", "persistent-gcc"],
		"persistent-tsan": ["tsan", "persistent-tsan"],
		"persistent-start-delay": ["plain", "persistent-start-delay"],
	};
	if (!modes[which]) throw new Error(`unknown mode ${which}: one of ${Object.keys(modes).join(", ")}`);
	const [mode, variant] = modes[which]!;
	const build = buildRace(variant);
	process.stderr.write(`binary: ${build.binary}\n`);
	let failed = 0;
	for (const sc of [...SCENARIOS, CANCEL_SCENARIO].filter((s) => ids.length === 0 || ids.includes(s.id))) {
		const args = [...raceArgs(scaleOptions(sc.options, SCALES[mode])), ...extra];
		const r = await runRace(build, args, { mode });
		const ok = r.exitCode === 0 && sumRuns(r, "errors") === 0;
		if (!ok) failed++;
		process.stdout.write(`scenario ${sc.id} [${args.join(" ")}]: ${ok ? "ok" : "FAILED"}: ${describeRun(r)}\n`);
	}
	return failed ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
	main(process.argv.slice(2)).then(
		(rc) => process.exit(rc),
		(e: unknown) => {
			process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
			process.exit(2);
		},
	);
}
