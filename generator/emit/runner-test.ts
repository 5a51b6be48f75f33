// The runner's race test as a multipath-tools tree holds it
// (runner-api.md §5): the program (templates/runner-test.c.hbs), the script
// that runs its scenarios (templates/runner-test.sh.hbs), and the scenarios
// themselves, which native-tests/runner/race.ts runs too.

/** Options of the race-test program (runner-api.md §5), times in ms. */
export interface RaceOptions {
	readonly N: number;
	readonly p: number;
	readonly t: number;
	readonly n: number;
	readonly b?: number;
	readonly s: number;
	readonly k?: number;
	readonly r: number;
	readonly i: boolean;
	readonly v?: number;
}

export interface Scenario {
	readonly id: number;
	readonly purpose: string;
	readonly options: RaceOptions;
}

/** The program's command line for `o`, in the order upstream's script writes it. */
export function raceArgs(o: RaceOptions): string[] {
	const a = ["-N", o.N, "-p", o.p, "-t", o.t, "-n", o.n].map(String);
	if (o.b !== undefined) a.push("-b", String(o.b));
	a.push("-s", String(o.s));
	if (o.k) a.push("-k", String(o.k));
	a.push("-r", String(o.r));
	if (o.i) a.push("-i");
	if (o.v !== undefined) a.push("-v", String(o.v));
	return a;
}

/** The scenarios of upstream's runner-test.sh (0.15.0, short times: TIME1/TIME2 = 7500/4700). */
export const SCENARIOS: readonly Scenario[] = [
	{ id: 1, purpose: "1 us timeout: create/cancel races", options: { N: 100, p: 1, t: 0, n: 2, b: 1, s: 1, i: true, r: 20 } },
	{ id: 2, purpose: "1 ms timeout (meant for the start-delay build)", options: { N: 100, p: 1, t: 1, n: 2, b: 1, s: 1, i: true, r: 20 } },
	{
		id: 3,
		purpose: "realistic daemon load, scaled down, interrupted",
		options: { N: 1000, p: 100, t: 1000, n: 999, b: 5, s: 1, i: true, r: 20, k: 7500 },
	},
	{
		id: 4,
		purpose: "completion vs cancellation within 1 ms of the timeout, interrupted",
		options: { N: 1000, p: 10, t: 1000, n: 1, b: 1, s: 1, i: true, r: 20, k: 4700 },
	},
	{ id: 5, purpose: "no noise: some runners still time out", options: { N: 100, p: 1, t: 1000, n: 0, s: 1, i: true, r: 5 } },
];

/**
 * Not upstream: the workers honour cancellation (no -i) and sleep in 4 steps,
 * so pthread_cancel() really ends workers and the cleanup runs on the
 * cancellation path; the five upstream scenarios all use -i -s 1, where
 * cancellation never takes effect.
 */
export const CANCEL_SCENARIO: Scenario = {
	id: 6,
	purpose: "cancellation takes effect (no -i, 4 steps)",
	options: { N: 100, p: 2, t: 20, n: 20, b: 1, s: 4, i: false, r: 10 },
};

/**
 * How the scenario timings are adapted to a memory checker.
 *
 * time: every time option (-p, -t, -n, -k) is multiplied by it. The races
 *   depend on the ratio between the tool's fixed costs (thread creation,
 *   thread start latency, one poll sweep over all runners) and the timeout,
 *   noise and poll interval; multiplying the times brings the ratios back to
 *   those of a plain run. -t 0 (1 us) stays minimal, so scenario 1 keeps its
 *   create/cancel races.
 * maxRunners: cap on -N (thread creation costs grow with the number of live
 *   threads under valgrind).
 * reps: -r is divided by it (at least 2 runs); -k is scaled by time / reps so
 *   that the interrupted scenarios stop at the same fraction of their runs.
 */
export interface ToolScale {
	readonly time: number;
	readonly maxRunners: number;
	readonly reps: number;
}

/**
 * valgrind's memcheck. Measured (2 cores, 1000 runners): creating 1000
 * runners takes 60-1150 ms instead of 20-30 ms (valgrind serialises threads
 * and gets slower with thousands of live ones), the poll loop overshoots by
 * 15-40 ms instead of ~2 ms. That is a 10-40x slowdown of exactly the costs
 * the races depend on. At most 250 runners cut creation by 4, x4 on the times
 * brings the rest back to the plain ratios; half the repetitions keep
 * valgrind within the time budget.
 */
export const VALGRIND_SCALE: ToolScale = { time: 4, maxRunners: 250, reps: 2 };

export function scaleOptions(o: RaceOptions, s: ToolScale): RaceOptions {
	return {
		...o,
		N: Math.min(o.N, s.maxRunners),
		p: o.p * s.time,
		t: o.t * s.time,
		n: o.n * s.time,
		k: o.k ? Math.round((o.k * s.time) / s.reps) : o.k,
		r: Math.max(2, Math.ceil(o.r / s.reps)),
	};
}

/** The scenarios of tests/runner-test.sh: upstream's five and the one where cancellation takes effect. */
export const SCRIPT_SCENARIOS: readonly Scenario[] = [...SCENARIOS, CANCEL_SCENARIO];

/**
 * `run ARGS` as lines of a script block indented by one tab, each at most
 * 80 columns: an option stays with its value, continuation lines end in a
 * backslash and are indented by one more tab.
 */
export function runLines(args: readonly string[]): string[] {
	const words = ["run"];
	for (let i = 0; i < args.length; i++) words.push(/^-/.test(args[i]) && i + 1 < args.length && !/^-/.test(args[i + 1]) ? `${args[i]} ${args[++i]}` : args[i]);
	const lines: string[] = [];
	let line = "";
	const limit = (indent: number) => 80 - 8 * indent - 2; // room for " \\"
	for (const w of words) {
		const room = limit(lines.length === 0 ? 1 : 2);
		if (line !== "" && line.length + 1 + w.length > room) {
			lines.push(`${line} \\`);
			line = w;
		} else line = line === "" ? w : `${line} ${w}`;
	}
	lines.push(line);
	return lines.map((l, i) => (i === 0 ? l : `\t${l}`));
}

/** The view of templates/runner-test.sh.hbs: each scenario's command line, plain and under valgrind. */
export function runnerTestScriptView() {
	return {
		valgrindTime: VALGRIND_SCALE.time,
		valgrindRunners: VALGRIND_SCALE.maxRunners,
		scenarios: SCRIPT_SCENARIOS.map((s) => ({
			id: s.id,
			purpose: s.purpose,
			plain: runLines(raceArgs(s.options)),
			valgrind: runLines(raceArgs(scaleOptions(s.options, VALGRIND_SCALE))),
		})),
	};
}
