// Race test of the runner thread framework (runner-api.md §5): the five
// scenarios of upstream's runner-test.sh, plain (clang and gcc), with ASan,
// under valgrind and with RUNNER_START_DELAY_US, plus contract tests of the
// race program and mutation tests proving that it detects broken runners.
//
// A run passes when the program exits 0, every run reports 0 errors (the
// RESULT lines also show errors of runs before a SIGINT, which the exit code
// hides), no runner thread outlived the straggler wait, and valgrind/ASan
// report no error and no leak. Each scenario also asserts that its race
// really happened (both completions and cancellations, cancels before the
// worker started, late results that were discarded, ...).
//
// Timings under ASan and valgrind are scaled (race.ts, SCALES): the times by
// x2 (ASan) and x4 (valgrind, with at most 250 runners and half the
// repetitions). The reasons and measurements are documented there.
//
// No valgrind suppression file is used: the program waits for its runner
// threads before exiting (also after SIGINT), so no detached thread is alive
// at exit and glibc's TLS blocks (allocated by pthread_create) are never
// "possibly lost"; every valgrind run asserts that no block is lost at all,
// and a mutation test shows the "possibly lost" report without the wait.
//
// Run: npx vitest run native-tests/runner --testTimeout=900000
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BUILD_DIR, ROOT } from "../support/cc.ts";
import {
	ASAN_STACK_SIZE,
	buildRace,
	CANCEL_SCENARIO,
	RUNNER_IMPLS,
	describeRun,
	raceArgs,
	runDump,
	runnerImplName,
	runRace,
	SCALES,
	scaleOptions,
	SCENARIOS,
	sumRuns,
	type BuildVariant,
	type RaceBuild,
	type RaceOptions,
	type RaceRun,
	type RunMode,
	type Scenario,
} from "./race.ts";

// ---------------------------------------------------------------------------
// builds (once per variant) and timing records
// ---------------------------------------------------------------------------

const builds = new Map<BuildVariant, RaceBuild>();
const timings: { name: string; ms: number; detail: string }[] = [];

function build(variant: BuildVariant): RaceBuild {
	let b = builds.get(variant);
	if (!b) {
		const t0 = Date.now();
		b = buildRace(variant);
		builds.set(variant, b);
		timings.push({ name: `build ${variant}`, ms: Date.now() - t0, detail: b.cached ? "cached" : b.binary });
	}
	return b;
}

function record(name: string, r: RaceRun): void {
	const detail = describeRun(r);
	timings.push({ name, ms: r.durationMs, detail });
	console.log(`${name}: ${detail}`);
}

afterAll(() => {
	const total = timings.reduce((a, t) => a + t.ms, 0);
	const lines = timings.map((t) => `${(t.ms / 1000).toFixed(1).padStart(6)} s  ${t.name}: ${t.detail}`);
	console.log(`runner race test (runner: ${runnerImplName()}), durations:\n${lines.join("\n")}\n${(total / 1000).toFixed(1).padStart(6)} s  total`);
});

// ---------------------------------------------------------------------------
// judging
// ---------------------------------------------------------------------------

/** Everything a passing run must satisfy, whatever the scenario. */
function expectPass(r: RaceRun, opts: RaceOptions): void {
	const dump = `${describeRun(r)}\n${runDump(r)}`;
	expect(r.timedOut, dump).toBe(false);
	expect(r.signal, dump).toBeNull();
	expect(r.summary, dump).not.toBeNull();
	const s = r.summary!;
	expect(r.exitCode, dump).toBe(0);
	expect(s.child_done, dump).toBe(true);
	expect(s.child_signal, dump).toBe(0);
	expect(s.child_exit, dump).toBe(0);
	expect(r.totalFailedRuns, dump).toBe(0);
	expect(r.runs.length, dump).toBe(s.runs);
	expect(r.runs.length, dump).toBeGreaterThan(0);
	for (const run of r.runs) {
		expect(run.errors, `run ${run.run}\n${dump}`).toBe(0);
		expect(run.create_failed, dump).toBe(0);
		if (run.interrupted) continue;
		expect(run.total, dump).toBe(opts.N);
		// every runner ended exactly once: DONE with its result, DEAD, or
		// still CANCELLED at the end of the run. (DEAD may come without a
		// CANCELLED before it: upstream returns DEAD when the worker finished
		// between the poll's state check and the cancel.)
		expect(run.completed + run.dead + run.abandoned, `run ${run.run}\n${dump}`).toBe(run.total);
		expect(run.abandoned, `run ${run.run}\n${dump}`).toBeLessThanOrEqual(run.cancelled);
	}
	expect(s.errors, dump).toBe(0);
	expect(s.stragglers, dump).toBe(0);
	// with -k the last run is interrupted (none if SIGINT came between runs)
	expect(r.runs.filter((x) => x.interrupted).length, dump).toBeLessThanOrEqual(opts.k ? 1 : 0);
	expect(s.interrupted, dump).toBe(Boolean(opts.k));
	expect(s.workers_completed, dump).toBeLessThanOrEqual(s.workers_entered);
	expect(s.workers_entered, dump).toBeLessThanOrEqual(s.total);
	if (r.mode === "valgrind") {
		expect(s.valgrind, dump).toBe(true);
		expect(s.straggler_wait, dump).toBe(true);
		const v = r.valgrind!;
		expect(v.length, dump).toBe(2); // parent and forked child
		for (const p of v) {
			expect(p.errors, dump).toBe(0);
			expect([p.definitelyLost, p.indirectlyLost, p.possiblyLost], dump).toEqual([0, 0, 0]);
		}
	}
	if (r.mode === "helgrind") {
		const v = r.valgrind!;
		expect(v.length, dump).toBe(2); // parent and forked child
		for (const p of v) expect(p.errors, dump).toBe(0);
	}
	if (r.mode === "tsan") {
		expect(s.tsan, dump).toBe(true);
		expect(s.stack_size, dump).toBe(ASAN_STACK_SIZE);
		expect(r.sanitizerErrors, dump).toEqual([]);
	}
	// every runner thread ended before the program did (/proc/self/task)
	if (r.mode === "plain") expect(s.straggler_wait, dump).toBe(true);
	if (r.mode === "asan") {
		expect(s.asan, dump).toBe(true);
		expect(s.stack_size, dump).toBe(ASAN_STACK_SIZE);
		expect(s.straggler_wait, dump).toBe(true);
		expect(r.sanitizerErrors, dump).toEqual([]);
	}
}

/** Proof that each scenario exercised the races it is meant for. */
function expectRaced(sc: Scenario, r: RaceRun, opts: RaceOptions): void {
	const dump = `${describeRun(r)}\n${runDump(r, 10)}`;
	const s = r.summary!;
	const completed = sumRuns(r, "completed");
	// timed out: DEAD or still CANCELLED at the end of the run
	const timedOut = sumRuns(r, "dead") + sumRuns(r, "abandoned");
	// all scenarios: some runners completed, some timed out; but with
	// persistent runners, scenario 1's checks (timeouts of a µs or less),
	// and scenario 2's with a start delay as long as their timeout, wait in
	// the pool's queue longer than that, and all may be cancelled while
	// queued. Scenario 5's workers sleep exactly their timeout, so a check
	// completes only if a thread takes it within one poll interval of its
	// start: under valgrind, whose threads run one at a time, the pool's
	// threads may start too late for every check when the machine is busy
	// (0 of 300 in a CI run with six long scenarios side by side, 26 alone)
	const mayAllTimeOut = s.persistent && (sc.id === 1 || s.start_delay_us > 0 || (sc.id === 5 && s.valgrind));
	if (!mayAllTimeOut) expect(completed, dump).toBeGreaterThan(0);
	expect(timedOut, dump).toBeGreaterThan(0);
	switch (sc.id) {
		case 1:
			// create/cancel race: some workers never started because their
			// runner was cancelled while IDLE
			expect(s.workers_entered, dump).toBeLessThan(s.total);
			break;
		case 2:
			break;
		case 3:
			// realistic load: most sleeps exceed the timeout; at least one full
			// run before the simulated shutdown
			expect(timedOut, dump).toBeGreaterThan(completed);
			expect(r.runs.filter((x) => !x.interrupted).length, dump).toBeGreaterThanOrEqual(1);
			break;
		case 4:
			// completion vs cancellation: workers of cancelled runners finished
			// anyway (cancellation is disabled while sleeping), and their late
			// results were not copied (checked by the program: 0 bad_data)
			expect(s.workers_completed, dump).toBeGreaterThan(completed);
			expect(r.runs.filter((x) => !x.interrupted).length, dump).toBeGreaterThanOrEqual(1);
			break;
		case 5:
			// no noise: the cancelled runners are those whose poll came first
			break;
		case 6:
			// cancellation took effect: workers ended without completing
			expect(s.workers_completed, dump).toBeLessThan(s.workers_entered);
			break;
	}
	// the run lasted as long as the scenario needs: no premature end
	if (opts.k) expect(r.durationMs, dump).toBeGreaterThanOrEqual(opts.k);
}

/**
 * Plain runs wait for the runner threads at the end (the program counts
 * /proc/self/task): a thread that never ends fails the run even when every
 * poll looked right. Memory-checker runs wait anyway. Not under TSan: its
 * runtime starts a thread of its own, which the count cannot tell apart.
 */
const THREAD_CHECK = { MPATHTEST_STRAGGLER_WAIT: "1" };

async function runScenario(variant: BuildVariant, mode: RunMode, sc: Scenario, env?: Record<string, string>): Promise<RaceRun> {
	const opts = scaleOptions(sc.options, SCALES[mode]);
	const r = await runRace(build(variant), opts, { mode, env: { ...(mode === "plain" ? THREAD_CHECK : {}), ...env } });
	record(`${mode === "plain" ? variant : mode} scenario ${sc.id} [${raceArgs(opts).join(" ")}]`, r);
	expectPass(r, opts);
	expectRaced(sc, r, opts);
	return r;
}

const ALL = [...SCENARIOS, CANCEL_SCENARIO];
const T = 240_000;

// ---------------------------------------------------------------------------
// the program's own contract (cheap, first)
// ---------------------------------------------------------------------------

describe("runner-race program contract", () => {
	const small = ["-N", "4", "-p", "1", "-t", "1", "-n", "0", "-r", "1"];

	it("-h prints the usage on stdout and exits 0", async () => {
		const r = await runRace(build("plain-clang"), ["-h"], { mode: "plain" });
		expect(r.exitCode, runDump(r)).toBe(0);
		expect(r.stdout).toMatch(/^Usage: .*runner-race/);
		for (const o of "Nptnbskrivh") expect(r.stdout).toContain(`-${o}`);
		expect(r.summary).toBeNull(); // nothing was run
	});

	it.each([
		["an unknown option", ["-x"]],
		["a missing option argument", ["-N"]],
		["an extra operand", [...small, "extra"]],
	])("%s prints the usage on stderr and exits 1", async (_what, args) => {
		const r = await runRace(build("plain-clang"), args, { mode: "plain" });
		expect(r.exitCode, runDump(r)).toBe(1);
		expect(r.stderr).toContain("Usage: ");
		expect(r.stdout).toBe("");
	});

	it("invalid values are logged and the defaults kept", async () => {
		const args = ["-N", "abc", "-p", "0", "-s", "-3", "-t", "1", "-n", "0", "-r", "1", "-v", "9"];
		const r = await runRace(build("plain-clang"), args, { mode: "plain", env: { MPATHTEST_VERBOSITY: "" } });
		expect(r.exitCode, runDump(r)).toBe(0);
		expect(r.stderr).toContain('invalid -N "abc"');
		expect(r.stderr).toContain('invalid -p "0"');
		expect(r.stderr).toContain('invalid -s "-3"');
		expect(r.stderr).toContain('invalid -v "9"');
		expect(r.summary!.options).toMatchObject({ N: 100, p: 10, s: 1, t: 1, n: 0, r: 1, v: 2 });
		expect(r.runs).toHaveLength(1);
		expect(r.runs[0]!.total).toBe(100);
	});

	it("MPATHTEST_VERBOSITY sets the verbosity, -v overrides it", async () => {
		const quiet = await runRace(build("plain-clang"), ["-N", "abc", ...small], { mode: "plain", env: { MPATHTEST_VERBOSITY: "0" } });
		expect(quiet.exitCode, runDump(quiet)).toBe(0);
		expect(quiet.summary!.options.v).toBe(0);
		expect(quiet.stderr).not.toContain("invalid"); // level 1 message suppressed
		const loud = await runRace(build("plain-clang"), [...small, "-v", "3"], { mode: "plain", env: { MPATHTEST_VERBOSITY: "0" } });
		expect(loud.summary!.options.v).toBe(3);
		expect(loud.stderr).toContain("random seed"); // level 3 message
	});

	it("-k interrupts the test: the runs stop, the exit code is 0", async () => {
		const opts: RaceOptions = { N: 20, p: 10, t: 200, n: 0, s: 1, i: true, r: 100, k: 500 };
		const r = await runRace(build("plain-clang"), opts, { mode: "plain" });
		record("contract -k", r);
		expect(r.exitCode, runDump(r)).toBe(0);
		expect(r.summary!.interrupted).toBe(true);
		expect(r.runs.length).toBeGreaterThanOrEqual(2);
		expect(r.runs.length).toBeLessThan(10);
		expect(r.runs.slice(0, -1).every((x) => !x.interrupted)).toBe(true);
		expect(r.durationMs).toBeLessThan(5000);
		expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("TOTAL NUMBER OF FAILED RUNS: 0");
	});
});

// ---------------------------------------------------------------------------
// mutation tests: the program must catch a broken runner
// ---------------------------------------------------------------------------

describe("runner-race detects broken runners", () => {
	const opts = { ...CANCEL_SCENARIO.options, r: 3 };

	it("the mutant wrappers are transparent when disabled", async () => {
		const r = await runRace(build("mutant"), opts, { mode: "plain", env: { RACE_MUTANT: "none", ...THREAD_CHECK } });
		expectPass(r, opts);
	});

	it.each([
		["late-copy", "bad_data"],
		["stuck", "running"],
		["done-late", "bad_state"],
	] as const)("%s: detected as %s, exit 1", async (mutant, field) => {
		// done-late shows only on a runner polled after its thread ended
		// (DEAD), i.e. in a sweep after the one that cancelled it. A run's
		// deadlines are as far apart as its runners' creation: 100 runners
		// made in 0.8 ms (a fast CI machine) were all cancelled in one sweep,
		// and no run saw DEAD. 1000 runners take 5-80 ms to create, several
		// 1 ms sweeps, and runs here have had 900-2800 DEAD.
		const runs = mutant === "done-late" ? { ...opts, N: 1000, p: 1, r: 5 } : opts;
		const r = await runRace(build("mutant"), runs, { mode: "plain", env: { RACE_MUTANT: mutant } });
		record(`mutant ${mutant}`, r);
		const dump = `${describeRun(r)}\n${runDump(r, 10)}`;
		expect(r.exitCode, dump).toBe(1);
		expect(r.summary![field], dump).toBeGreaterThan(0);
		expect(r.summary!.failed_runs, dump).toBeGreaterThan(0);
		expect(r.totalFailedRuns, dump).toBe(r.summary!.failed_runs);
	});

	it("a crash of the test process: exit 130", async () => {
		const r = await runRace(build("mutant"), opts, { mode: "plain", env: { RACE_MUTANT: "crash" } });
		expect(r.exitCode, runDump(r)).toBe(130);
		expect(r.summary!.child_signal).toBe(6);
		expect(r.summary!.child_done).toBe(false);
	});

	it("a leak is reported by ASan (exit 1)", async () => {
		const r = await runRace(build("mutant-asan"), opts, { mode: "asan", env: { RACE_MUTANT: "leak" } });
		record("mutant leak (ASan)", r);
		expect(r.exitCode, runDump(r)).toBe(1);
		expect(r.summary!.errors).toBe(0); // invisible to the program itself
		expect(r.sanitizerErrors.join("\n"), runDump(r)).toMatch(/LeakSanitizer/);
	}, T);

	it("a leak is reported by valgrind (exit 1)", async () => {
		const r = await runRace(build("mutant"), opts, { mode: "valgrind", env: { RACE_MUTANT: "leak" } });
		record("mutant leak (valgrind)", r);
		expect(r.exitCode, runDump(r)).toBe(1);
		expect(r.summary!.errors).toBe(0);
		expect(Math.max(...r.valgrind!.map((p) => p.definitelyLost)), runDump(r)).toBeGreaterThan(0);
		expect(r.summary!.child_exit).toBe(128); // valgrind's --error-exitcode in the child
	}, T);

	it("without the straggler wait, valgrind reports the TLS of live runner threads (why no suppression is needed)", async () => {
		// interrupted while workers ignoring cancellation still sleep: their
		// detached threads are alive at exit
		const o: RaceOptions = { N: 100, p: 100, t: 500, n: 499, b: 5, s: 1, i: true, r: 20, k: 1500 };
		const r = await runRace(build("plain-gcc"), o, { mode: "valgrind", env: { MPATHTEST_STRAGGLER_WAIT: "0" } });
		record("valgrind without straggler wait", r);
		expect(r.exitCode, runDump(r)).toBe(1);
		expect(r.summary!.errors).toBe(0);
		expect(r.summary!.straggler_wait).toBe(false);
		// glibc's DTV (_dl_allocate_tls under pthread_create in get_runner):
		// what upstream's runner-test.supp hides. The child exits 128, which
		// upstream's parent prints as "TOTAL NUMBER OF FAILED RUNS: 128".
		expect(r.summary!.child_exit).toBe(128);
		expect(r.stderr).toMatch(/possibly lost in loss record[\s\S]*_dl_allocate_tls[\s\S]*get_runner/);
		expect(Math.max(...r.valgrind!.map((p) => p.possiblyLost)), runDump(r)).toBeGreaterThan(0);
		expect(Math.max(...r.valgrind!.map((p) => p.definitelyLost))).toBe(0);
	}, T);
});

// ---------------------------------------------------------------------------
// the scenarios
// ---------------------------------------------------------------------------

// Thread per check is the -DASYNC_THREAD_PER_CHECK mode now; persistent
// runners (below) are the default and run every scenario in every build.
// Thread per check: all scenarios with gcc, and under the memory checkers
// the races without the two long load scenarios (3: the daemon-like load,
// 5: no noise), which the persistent runs keep.
//
// The long scenarios (3, 4 and 5: 5-37 s each, most of it their workers'
// sleeps and the straggler wait) of every build run side by side, in the
// section at the end of this file; the short ones (1, 2, 6: a second or
// less) run one at a time where each build is tested.
const LONG_IDS: readonly number[] = [3, 4, 5];
const isLong = (s: Scenario): boolean => LONG_IDS.includes(s.id);
const SHORT = ALL.filter((s) => !isLong(s));

describe("scenarios, plain-gcc", () => {
	it.each(SHORT.map((s) => [s.id, s] as const))("scenario %i", async (_id, sc) => {
		await runScenario("plain-gcc", "plain", sc);
	}, T);
});

describe("scenario 2 with RUNNER_START_DELAY_US", () => {
	it("cancels in IDLE end cleanly", async () => {
		const sc = SCENARIOS[1]!;
		// wait for the runner threads, so that a thread that never ends after
		// a cancel in IDLE (upstream 0.15's endless spin) fails the test
		const r = await runScenario("start-delay", "plain", sc, { MPATHTEST_STRAGGLER_WAIT: "1" });
		const s = r.summary!;
		expect(s.start_delay_us).toBe(1000);
		expect(s.straggler_wait).toBe(true);
		// the delay equals the timeout: a large part of the runners must have
		// been cancelled before their worker started
		// (a twentieth: loaded CI machines saw 8% where a quiet one sees 20-25%)
		expect(s.total - s.workers_entered, describeRun(r)).toBeGreaterThan(s.total / 20);
	}, T);
});

describe("scenarios with ASan", () => {
	it.each(SHORT.map((s) => [s.id, s] as const))("scenario %i", async (_id, sc) => {
		await runScenario("asan", "asan", sc);
	}, T);
});

describe("scenarios under valgrind", () => {
	it.each(SHORT.map((s) => [s.id, s] as const))("scenario %i", async (_id, sc) => {
		await runScenario("plain-gcc", "valgrind", sc);
	}, T);
});

// ---------------------------------------------------------------------------
// the same scenarios with persistent runners (RACE_PERSISTENT: each slot is a
// path whose checks are queued for the pool's threads, which stay alive
// between the runs)
// ---------------------------------------------------------------------------

/** Persistent runs: the build is persistent, and later checks reused threads. */
function expectPersistent(r: RaceRun): void {
	const s = r.summary!;
	const dump = describeRun(r);
	expect(s.persistent, dump).toBe(true);
	// a thread whose check completed stays in the pool (a thread cancelled
	// in its check ends instead): it takes the next queued check, or sleeps
	// until a check of the next run claims it, the one that went to sleep
	// last first, and each take of a run's checks claims another sleeper
	// for the rest. So a check completed in any run but the last means a
	// later check ran on a thread that had run one before. (Completions
	// in the last run alone mean nothing: scenario 5 under valgrind may
	// complete 25 checks, all in its last run.)
	const before = r.runs.slice(0, -1);
	if (before.length > 0 && before.every((x) => !x.interrupted) && before.some((x) => x.completed > 0)) {
		expect(s.workers_reused, dump).toBeGreaterThan(0);
	}
}

describe.each(["persistent-clang", "persistent-gcc"] as const)("scenarios with persistent runners, %s", (variant) => {
	it.each(SHORT.map((s) => [s.id, s] as const))("scenario %i", async (_id, sc) => {
		expectPersistent(await runScenario(variant, "plain", sc));
	}, T);
});

describe("persistent runners: scenario 2 with RUNNER_START_DELAY_US", () => {
	it("cancels in IDLE end cleanly", async () => {
		const r = await runScenario("persistent-start-delay", "plain", SCENARIOS[1]!, { MPATHTEST_STRAGGLER_WAIT: "1" });
		expectPersistent(r);
		const s = r.summary!;
		expect(s.start_delay_us).toBe(1000);
		// the pool's threads take the queued checks one after another, so
		// that most wait longer than the timeout; 2000 of 2000 measured
		expect(s.total - s.workers_entered, describeRun(r)).toBeGreaterThan(s.total / 20);
	}, T);
});

describe("persistent runners with ASan", () => {
	it.each(SHORT.map((s) => [s.id, s] as const))("scenario %i", async (_id, sc) => {
		expectPersistent(await runScenario("persistent-asan", "asan", sc));
	}, T);
});

describe("persistent runners under valgrind", () => {
	it.each(SHORT.map((s) => [s.id, s] as const))("scenario %i", async (_id, sc) => {
		expectPersistent(await runScenario("persistent-gcc", "valgrind", sc));
	}, T);
});

describe("thread-per-check runs never reuse a thread", () => {
	it("scenario 6, plain-gcc", async () => {
		const r = await runScenario("plain-gcc", "plain", CANCEL_SCENARIO);
		expect(r.summary!.persistent).toBe(false);
		expect(r.summary!.workers_reused, describeRun(r)).toBe(0);
	}, T);
});

// ThreadSanitizer models the runner's atomics, so it checks every hand-over
// they order (data copy, cancel_sent, reference drop and free). The long
// scenarios 3 and 5 are left out (time), 4 keeps completion vs cancellation.
// Scenario 1 too: TSan's scheduling makes its cancels in IDLE too rare to
// count on (a CI run had every worker start), and scenario 2 has the
// IDLE/RUNNING cancel races as well.
const TSAN_SCENARIOS = ALL.filter((s) => [2, 4, 6].includes(s.id));

describe("scenarios with ThreadSanitizer", () => {
	it.each(TSAN_SCENARIOS.map((s) => [s.id, s] as const))("scenario %i", async (_id, sc) => {
		await runScenario("tsan", "tsan", sc);
	}, T);

	it("catches an ordering bug x86 hides: the state loaded with relaxed order", async () => {
		// the caller's load of DONE no longer synchronises with the thread's
		// RUNNING -> DONE swap, so the data copy races with the worker's writes
		const src = readFileSync(join(ROOT, RUNNER_IMPLS.generated.sources[0]!), "utf8");
		const from = "return __atomic_load_n(&rctx->status, __ATOMIC_ACQUIRE);";
		expect(src).toContain(from);
		const dir = join(BUILD_DIR, "race-mutants", "relaxed-load");
		mkdirSync(dir, { recursive: true });
		writeFileSync(join(dir, "runner.c"), src.replace(from, "return __atomic_load_n(&rctx->status, __ATOMIC_RELAXED);"));
		writeFileSync(join(dir, "runner.h"), readFileSync(join(ROOT, "generated/0.15/libmpathutil/runner.h")));
		const b = buildRace("tsan", "generated", join(dir, "runner.c"));
		const opts = scaleOptions(SCENARIOS[0]!.options, SCALES.tsan);
		const r = await runRace(b, { ...opts, r: 1 }, { mode: "tsan" });
		record("tsan relaxed-load mutant", r);
		expect(r.exitCode, runDump(r)).not.toBe(0);
		expect(r.sanitizerErrors.join("\n"), runDump(r)).toMatch(/ThreadSanitizer: data race/);
	}, T);
});

describe("persistent runners with ThreadSanitizer", () => {
	// the worker's lock, its semaphore and the hand-over of each
	// check through it are checked as well as the runner's atomics
	it.each(TSAN_SCENARIOS.map((s) => [s.id, s] as const))("scenario %i", async (_id, sc) => {
		expectPersistent(await runScenario("persistent-tsan", "tsan", sc));
	}, T);
});

// helgrind does not model atomics; helgrind.supp names the hand-overs they
// order. Only the short scenarios: helgrind serialises every thread, which
// also makes scenario 1's cancels in IDLE too rare to count on (scenario 2
// has its IDLE/RUNNING cancel races, 6 the cancellations taking effect).
const HELGRIND_SCENARIOS = ALL.filter((s) => [2, 6].includes(s.id));

describe("scenarios under helgrind", () => {
	it.each(HELGRIND_SCENARIOS.map((s) => [s.id, s] as const))("scenario %i", async (_id, sc) => {
		await runScenario("plain-gcc", "helgrind", sc);
	}, T);
});

// ---------------------------------------------------------------------------
// the long scenarios of every build, side by side
// ---------------------------------------------------------------------------

interface LongRun {
	variant: BuildVariant;
	mode: RunMode;
	sc: Scenario;
	persistent: boolean;
}

/**
 * Thread per check keeps scenario 4 (completion vs cancellation) under the
 * memory checkers; persistent runners run all three everywhere.
 */
const LONG_RUNS: LongRun[] = ALL.filter(isLong).flatMap((sc) => [
	{ variant: "plain-gcc" as const, mode: "plain" as const, sc, persistent: false },
	...(sc.id === 4 ? [{ variant: "asan" as const, mode: "asan" as const, sc, persistent: false }] : []),
	...(sc.id === 4 ? [{ variant: "plain-gcc" as const, mode: "valgrind" as const, sc, persistent: false }] : []),
	{ variant: "persistent-clang" as const, mode: "plain" as const, sc, persistent: true },
	{ variant: "persistent-gcc" as const, mode: "plain" as const, sc, persistent: true },
	{ variant: "persistent-asan" as const, mode: "asan" as const, sc, persistent: true },
	{ variant: "persistent-gcc" as const, mode: "valgrind" as const, sc, persistent: true },
]);

/**
 * How many long runs share the machine, and how many of them under
 * valgrind (which runs a program's threads one at a time, so each takes a
 * core). Their sleeps and straggler waits leave the cores mostly idle; the
 * races they provoke are at the scale of their timeouts (1-4 s), far above
 * what sharing two cores adds.
 */
const LONG_SLOTS = 6;
const LONG_VALGRIND_SLOTS = 2;

/** A counting semaphore: at most `n` holders at a time, FIFO. */
function slots(n: number): <T>(f: () => Promise<T>) => Promise<T> {
	let free = n;
	const waiting: (() => void)[] = [];
	return async (f) => {
		if (free > 0) free--;
		else await new Promise<void>((r) => waiting.push(r));
		try {
			return await f();
		} finally {
			const next = waiting.shift();
			if (next) next();
			else free++;
		}
	};
}

/** The longest first (under valgrind, then ASan, then scenario 3 first): the slowest run starts at once. */
const MODE_WEIGHT: Partial<Record<RunMode, number>> = { valgrind: 4, asan: 2 };
const longWeight = (x: LongRun): number => (MODE_WEIGHT[x.mode] ?? 1) * (x.sc.id === 3 ? 2.5 : 1);

describe.concurrent("long scenarios of every build, side by side", () => {
	const anyRun = slots(LONG_SLOTS);
	const valgrindRun = slots(LONG_VALGRIND_SLOTS);
	const ordered = [...LONG_RUNS].sort((a, b) => longWeight(b) - longWeight(a));
	const name = (x: LongRun): string =>
		`scenario ${x.sc.id}, ${x.mode === "plain" ? x.variant : `${x.mode} (${x.variant})`}${x.persistent ? "" : ", thread per check"}`;
	it.each(ordered.map((x) => [name(x), x] as const))("%s", async (_name, x) => {
		// build before taking a slot: a build blocks the event loop, which
		// would hold up reading the output of the runs already going
		build(x.variant);
		const run = () => runScenario(x.variant, x.mode, x.sc);
		const r = await (x.mode === "valgrind" ? valgrindRun(() => anyRun(run)) : anyRun(run));
		if (x.persistent) expectPersistent(r);
		else expect(r.summary!.persistent, describeRun(r)).toBe(false);
	}, T);
});
