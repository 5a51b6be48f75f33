// Forced interleavings of the runner (sched-race.c): which races to force and
// what each must end in, both DERIVED from the runner spec (specs/runner.ts),
// so that a new case or state in the spec gets its race test.
//
// - deriveRaces(): every pair of a caller operation (cancel, poll, and
//   release = cancel + dropping the caller's reference) and a thread
//   operation (start, finish) that both have a case from the same state,
//   once per value of the conditions those cases test (deadlinePassed). The
//   runner is brought to that state, with the thread at the start of its
//   operation, by the shortest sequence of operations the spec allows (one
//   actor at a time); then the C program explores every interleaving of the
//   atomic steps of the caller's operation with the rest of the thread's
//   life.
// - expectedOutcomes(): the outcomes the spec allows, by linearisability:
//   each interleaving must end as if the caller's operation had happened
//   at once, somewhere between two of the thread's operations.
//
// Manual use: npx tsx native-tests/runner/sched.ts [RUNNER_C]
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { RunnerCaseSpec, RunnerSpec } from "../../generator/spec/runner.ts";
import runnerSpec from "../../specs/runner.ts";
import { BUILD_DIR, compile, ROOT, type Compiler, type Sanitizer } from "../support/cc.ts";
import { GEN } from "../support/build.ts";
import { runnerImpl } from "./race.ts";

export const SPEC: RunnerSpec = runnerSpec;

// ---------------------------------------------------------------------------
// The sequential model of the spec
// ---------------------------------------------------------------------------

/** Where the runner thread is: before an operation of its life, or gone. */
export type ThreadPos = "start" | "worker" | "finish" | "exited";
export type CallerOp = "cancel" | "poll" | "release";
export type Conds = Record<string, boolean>;

export interface SeqState {
	state: string;
	thread: ThreadPos;
	cancelSent: boolean;
}

interface Applied {
	ret: string;
	next: string;
	effects: string[];
	/** The case waits for something that has not happened. */
	blocked: boolean;
}

/** One operation of the spec from a state, following `call`s. */
export function applyOp(spec: RunnerSpec, op: string, s: SeqState, conds: Conds): Applied {
	const cases = (spec.operations[op]?.cases ?? []) as readonly RunnerCaseSpec<string, string>[];
	for (const c of cases) {
		if (c.from !== s.state) continue;
		if (c.when && !conds[c.when]) continue;
		if (c.call) return applyOp(spec, c.call, s, conds);
		const blocked = c.await === "cancelSent" && !s.cancelSent;
		return { ret: c.returns ?? c.to ?? c.from, next: c.to ?? c.from, effects: [...(c.effects ?? [])], blocked };
	}
	throw new Error(`specs/runner.ts: operation ${op} has no case for state ${s.state}`);
}

function hasCase(spec: RunnerSpec, op: string, state: string): boolean {
	return (spec.operations[op]?.cases ?? []).some((c) => c.from === state);
}

/** The thread's next operation at a position (the worker is start's effect). */
function threadStep(spec: RunnerSpec, s: SeqState, conds: Conds): SeqState | null {
	switch (s.thread) {
		case "start": {
			const a = applyOp(spec, "start", s, conds);
			if (a.blocked) return null;
			return { ...s, state: a.next, thread: a.effects.includes("runWorker") ? "worker" : "finish" };
		}
		case "worker":
			// the worker returns, or a pthread_cancel() ends it: the state is
			// the same either way
			return { ...s, thread: "finish" };
		case "finish": {
			const a = applyOp(spec, "finish", s, conds);
			if (a.blocked) return null;
			return { ...s, state: a.next, thread: "exited" };
		}
		case "exited":
			return null;
	}
}

interface CallerResult {
	s: SeqState;
	ret: string | null;
	cancels: number;
}

function callerStep(spec: RunnerSpec, op: CallerOp, s: SeqState, conds: Conds): CallerResult {
	const a = applyOp(spec, op === "release" ? "cancel" : op, s, conds);
	const cancels = a.effects.filter((e) => e === "pthreadCancel").length;
	const cancelSent = s.cancelSent || a.effects.includes("markCancelSent");
	return { s: { ...s, state: a.next, cancelSent }, ret: op === "release" ? null : a.ret, cancels };
}

// ---------------------------------------------------------------------------
// The races
// ---------------------------------------------------------------------------

export interface RaceCase {
	name: string;
	callerOp: CallerOp;
	threadOp: "start" | "finish";
	/** The state both operations start from. */
	state: string;
	position: Exclude<ThreadPos, "exited">;
	conds: Conds;
	/** sched-race --setup steps. */
	setup: string[];
	/** sched-race --timeout-us: 1 when deadlinePassed, else none. */
	timeoutUs: number;
}

const THREAD_POSITIONS: Record<"start" | "finish", Exclude<ThreadPos, "exited">[]> = {
	start: ["start"],
	// the thread's life before finish: still in its worker (where a
	// pthread_cancel() takes effect) or returned from it
	finish: ["worker", "finish"],
};

/** Shortest sequence of single-actor steps from the initial state to (state, pos). */
function setupPath(spec: RunnerSpec, state: string, pos: ThreadPos): string[] | null {
	const start: SeqState = { state: spec.initial, thread: "start", cancelSent: false };
	const key = (s: SeqState) => `${s.state}/${s.thread}/${s.cancelSent}`;
	const seen = new Set([key(start)]);
	let frontier: { s: SeqState; path: string[] }[] = [{ s: start, path: [] }];
	while (frontier.length) {
		const next: typeof frontier = [];
		for (const { s, path } of frontier) {
			if (s.state === state && s.thread === pos) return path;
			const moves: { s: SeqState; step: string }[] = [];
			const t = threadStep(spec, s, {});
			if (t && t.thread !== "exited") moves.push({ s: t, step: t.thread === "worker" ? "worker" : "finish" });
			if (hasCase(spec, "cancel", s.state)) moves.push({ s: callerStep(spec, "cancel", s, {}).s, step: "cancel" });
			for (const m of moves) {
				if (seen.has(key(m.s))) continue;
				seen.add(key(m.s));
				next.push({ s: m.s, path: [...path, m.step] });
			}
		}
		frontier = next;
	}
	return null;
}

/** The conditions the cases of op (and what it calls) test from a state. */
function condsTested(spec: RunnerSpec, op: string, state: string, seen = new Set<string>()): string[] {
	if (seen.has(op)) return [];
	seen.add(op);
	const out = new Set<string>();
	for (const c of spec.operations[op]?.cases ?? []) {
		if (c.from !== state) continue;
		if (c.when) out.add(c.when);
		if (c.call) for (const w of condsTested(spec, c.call, state, seen)) out.add(w);
	}
	return [...out];
}

export function deriveRaces(spec: RunnerSpec = SPEC): RaceCase[] {
	const ops = Object.entries(spec.operations);
	const callerOps = ops.filter(([, o]) => o.actor === "caller").map(([n]) => n);
	const threadOps = ops.filter(([, o]) => o.actor === "thread").map(([n]) => n);
	for (const n of callerOps) if (n !== "cancel" && n !== "poll") throw new Error(`caller operation ${n}: no C entry point known`);
	for (const n of threadOps) if (n !== "start" && n !== "finish") throw new Error(`thread operation ${n}: no C position known`);
	const races: RaceCase[] = [];
	for (const threadOp of threadOps as ("start" | "finish")[]) {
		for (const state of Object.keys(spec.states)) {
			if (!hasCase(spec, threadOp, state)) continue;
			for (const position of THREAD_POSITIONS[threadOp]) {
				const setup = setupPath(spec, state, position);
				if (!setup) continue; // the spec never puts the thread there
				const entries: [CallerOp, string][] = [
					...callerOps.map((o) => [o as CallerOp, o] as [CallerOp, string]),
					// release_runner(): cancel, then the caller's reference goes
					["release", "cancel"],
				];
				for (const [callerOp, specOp] of entries) {
					if (!hasCase(spec, specOp, state)) continue;
					const tested = condsTested(spec, specOp, state);
					const variants: Conds[] = [];
					for (let m = 0; m < 1 << tested.length; m++) {
						variants.push(Object.fromEntries(tested.map((w, i) => [w, Boolean(m & (1 << i))])));
					}
					for (const conds of variants) {
						for (const w of Object.keys(conds)) if (w !== "deadlinePassed") throw new Error(`condition ${w}: no C set-up known`);
						const c = Object.entries(conds).map(([w, v]) => `${v ? "" : "!"}${w}`);
						races.push({
							name: `${callerOp} vs ${threadOp} in ${state}${position === "worker" ? " (worker running)" : ""}${c.length ? ` [${c.join(",")}]` : ""}`,
							callerOp,
							threadOp,
							state,
							position,
							conds,
							setup,
							timeoutUs: conds.deadlinePassed ? 1 : 0,
						});
					}
				}
			}
		}
	}
	return races;
}

export interface Outcome {
	/** What the caller's operation returned (null for release). */
	ret: string | null;
	/** What the poll after everything returned (null after release). */
	final: string | null;
	/** pthread_cancel() calls in the whole run. */
	cancels: number;
}

/**
 * The outcomes the spec allows for a race: the caller's operation placed
 * between any two of the thread's remaining operations; then the thread runs
 * on, and the caller polls once more (with the same conditions).
 */
export function expectedOutcomes(rc: RaceCase, spec: RunnerSpec = SPEC): Outcome[] {
	let s0: SeqState = { state: spec.initial, thread: "start", cancelSent: false };
	// pthread_cancel() calls of the whole run, the set-up's included
	let setupCancels = 0;
	for (const step of rc.setup) {
		if (step === "cancel") {
			const c = callerStep(spec, "cancel", s0, {});
			setupCancels += c.cancels;
			s0 = c.s;
		} else s0 = threadStep(spec, s0, {})!;
	}
	const out = new Map<string, Outcome>();
	for (let k = 0; ; k++) {
		let s = s0;
		let ok = true;
		for (let i = 0; i < k && ok; i++) {
			const t = threadStep(spec, s, rc.conds);
			if (!t) ok = false;
			else s = t;
		}
		if (!ok) break; // the thread cannot go further on its own
		const c = callerStep(spec, rc.callerOp, s, rc.conds);
		s = c.s;
		for (let t = threadStep(spec, s, rc.conds); t; t = threadStep(spec, s, rc.conds)) s = t;
		if (s.thread !== "exited") throw new Error(`${rc.name}: the spec leaves the thread in ${s.thread} (state ${s.state})`);
		const final = rc.callerOp === "release" ? null : applyOp(spec, "poll", s, rc.conds).ret;
		const o: Outcome = { ret: c.ret, final, cancels: setupCancels + c.cancels };
		out.set(JSON.stringify(o), o);
		if (s0.thread === "exited") break;
	}
	return [...out.values()];
}

// ---------------------------------------------------------------------------
// The async checker's races (not derived: its only spec knob is
// maxNrTimeouts; the outcomes are README's, written out by hand)
// ---------------------------------------------------------------------------

/** Path states (checkers.h). */
export const PATH_STATE = { UP: 3, PENDING: 6, TIMEOUT: 7 } as const;

export interface AsyncRace {
	name: string;
	setup: string[];
	/** The raced call; "b:" before it: on path B. */
	race: "apending" | "acheck" | "afree" | "b:apending" | "b:acheck" | "b:afree";
	/** What the raced call may return (path states). */
	rets: number[];
	/** Runners the paths use in all: each must be freed once, its thread ended. */
	runners: number;
	/**
	 * Threads the pool starts in all (persistent runners; default one per
	 * runner, as a thread cancelled in its check ends): a number, or the
	 * fewest and the most, each of which some schedule must start.
	 */
	poolThreads?: number | readonly [number, number];
	/** What some schedule must show the pool do (persistent runners). */
	poolEvents?: readonly PoolEvent[];
	/** Only for the persistent runners (a race of the pool's threads). */
	persistentOnly?: boolean;
	/** Starts of a runner thread made to fail ("nostart"): each schedule must meet them all. */
	failedStarts?: number;
}

/**
 * reused: a pool thread took a check after one whose worker it ran;
 * skipThenTake: one took a check after skipping one cancelled while queued.
 */
export type PoolEvent = "reused" | "skipThenTake";

/**
 * acheck starts a check, "worker"/"finish"/"tput"/"tdone" move the thread
 * that took the path's newest check (into its worker, to its cleanup, to
 * the drop of its reference, to its end or its sleep in the pool), "hold"
 * keeps it where it is until the race is over and "stuck" until every path
 * is up (a command stuck in SG_IO), "talone" runs every thread alone in
 * turn, "nostart" makes the next start of a runner thread fail, acancel
 * cancels the runner in flight as a poll past its deadline does, apending
 * collects; "b:" before a step: on path B.
 */
export const ASYNC_RACES: AsyncRace[] = [
	{ name: "pending vs the check's thread", setup: ["acheck"], race: "apending", rets: [PATH_STATE.PENDING, PATH_STATE.UP], runners: 1 },
	{
		name: "pending vs the thread's finish",
		setup: ["acheck", "finish"],
		race: "apending",
		rets: [PATH_STATE.PENDING, PATH_STATE.UP],
		runners: 1,
	},
	{
		// README: timed out with its thread still running, it is abandoned;
		// if the thread has ended (DEAD), a fresh check starts at once
		name: "pending on a timed-out runner vs its thread ending",
		setup: ["acheck", "worker", "acancel"],
		race: "apending",
		rets: [PATH_STATE.TIMEOUT, PATH_STATE.PENDING],
		runners: 2,
	},
	{ name: "free vs the check's thread", setup: ["acheck"], race: "afree", rets: [], runners: 1 },
	{ name: "free vs a timed-out runner's thread", setup: ["acheck", "worker", "acancel"], race: "afree", rets: [], runners: 1 },
	{
		name: "free with an abandoned runner vs its thread ending",
		setup: ["acheck", "worker", "acancel", "apending", "acheck", "tdone"],
		race: "afree",
		rets: [],
		runners: 2,
	},
	{
		name: "pending (reaping the abandoned runner) vs its thread ending",
		setup: ["acheck", "worker", "acancel", "apending", "acheck", "tdone"],
		race: "apending",
		rets: [PATH_STATE.UP],
		runners: 2,
	},
	{
		name: "check (reaping the abandoned runner) vs its thread ending",
		setup: ["acheck", "worker", "acancel", "apending"],
		race: "acheck",
		rets: [PATH_STATE.PENDING],
		runners: 2,
	},
	{
		// the first runner's thread is stuck (held), so its slot is taken:
		// the second timed-out runner is waited for (TIMEOUT), or, its
		// thread ended, replaced at once (PENDING)
		name: "pending on a second timed-out runner (slot taken) vs its thread ending",
		setup: ["acheck", "worker", "acancel", "hold", "apending", "acheck", "worker", "acancel"],
		race: "apending",
		rets: [PATH_STATE.TIMEOUT, PATH_STATE.PENDING],
		runners: 3,
	},
	// ---- the pool's own races (persistent runners only)
	{
		// a completed check (collected while its thread is about to drop
		// its reference) leaves the thread to the pool: the next check
		// is taken by it, asleep (woken) or still awake, or, queued while
		// the thread is not yet back, by a thread started for it
		name: "check after a completed one vs its thread going back to the pool",
		setup: ["acheck", "tput", "apending"],
		race: "acheck",
		rets: [PATH_STATE.PENDING],
		runners: 2,
		poolThreads: [1, 2],
		poolEvents: ["reused"],
		persistentOnly: true,
	},
	{
		// path A's check, timed out while queued, is taken and skipped
		// (the worker never runs): the thread goes on to path B's check,
		// unless the thread its take started for B's got there first
		name: "check of path B vs a thread skipping path A's check cancelled while queued",
		setup: ["acheck", "acancel"],
		race: "b:acheck",
		rets: [PATH_STATE.PENDING],
		runners: 3,
		poolThreads: [1, 2],
		poolEvents: ["skipThenTake"],
		persistentOnly: true,
	},
	{
		// both checks queued before a thread takes one: the thread that
		// takes A's starts another for B's, and A's gets stuck past its
		// timeout; B's is never left behind it
		name: "pending of path B vs the thread started for it, its check queued behind one now stuck",
		setup: ["acheck", "b:acheck", "worker", "acancel", "stuck"],
		race: "b:apending",
		rets: [PATH_STATE.PENDING, PATH_STATE.UP],
		runners: 3,
		poolThreads: 2,
		persistentOnly: true,
	},
	{
		// a thread stuck in path A's timed-out check counts for nothing:
		// B's next check goes to B's thread on its way back, or to a
		// fresh one, and both paths come up while A's thread is stuck
		name: "check of path B vs its thread going back to the pool, a thread stuck in path A's timed-out check",
		setup: ["acheck", "worker", "acancel", "stuck", "apending", "b:acheck", "b:tput", "b:apending"],
		race: "b:acheck",
		rets: [PATH_STATE.PENDING],
		runners: 4,
		poolThreads: [2, 3],
		poolEvents: ["reused"],
		persistentOnly: true,
	},
	{
		// no thread can be started for B's check as A's is taken, so B's
		// waits behind it; A's is cancelled in its worker, and the thread
		// that ends provides for B's: a thread started, B's taken
		name: "pending of path B vs the end of the thread whose take could not start one for it",
		setup: ["acheck", "b:acheck", "nostart", "worker", "acancel"],
		race: "b:apending",
		rets: [PATH_STATE.PENDING, PATH_STATE.UP],
		runners: 3,
		poolThreads: 2,
		failedStarts: 1,
		persistentOnly: true,
	},
	{
		// two threads sleep in the pool; the release of the last
		// persistent runner wakes both, and they end
		name: "free of the last path vs the pool's sleeping threads",
		setup: ["acheck", "b:acheck", "talone", "apending", "b:apending", "afree"],
		race: "b:afree",
		rets: [],
		runners: 2,
		poolThreads: 2,
		persistentOnly: true,
	},
];

export function asyncArgs(r: AsyncRace): string[] {
	return ["--async", "--setup", r.setup.join(","), "--race", r.race];
}

/** The fewest and the most threads the pool may start for a race. */
export function poolThreadRange(r: AsyncRace): readonly [number, number] {
	const t = r.poolThreads ?? r.runners;
	return typeof t === "number" ? [t, t] : t;
}

/** Everything wrong with one schedule of an async race ([] if none). */
export function judgeAsync(r: AsyncRace, s: Schedule, persistent = false): string[] {
	const bad: string[] = [];
	if (!r.race.endsWith("afree")) {
		if (!r.rets.includes(Number(s.ret))) bad.push(`${r.race} returned ${s.ret}, not one of ${r.rets.join(", ")}`);
		if (s.final === null) bad.push("the raced path was never collected");
		// PENDING means a check is in flight (README: a fresh check starts at once)
		if (Number(s.ret) === PATH_STATE.PENDING && !s.needWait) bad.push("PENDING with no check in flight");
	}
	// every path that had a check comes up (stuck threads still stuck)
	s.finals.forEach((f, i) => {
		if (f >= 0 && f !== PATH_STATE.UP) bad.push(`path ${"AB"[i]} ended ${f}, not UP`);
	});
	if (s.hang || !s.exited) bad.push("a runner thread never ended");
	if (s.created !== s.threads) bad.push(`${s.created} runner threads started, ${s.threads} ran`);
	const [lo, hi] = persistent ? poolThreadRange(r) : [r.runners, r.runners];
	if (s.created < lo || s.created > hi) bad.push(`${s.created} runner threads started, not ${lo === hi ? lo : `${lo} to ${hi}`}`);
	if (s.needlessStart) bad.push("a pool thread started while another had no check to run");
	if (s.failedStarts !== (r.failedStarts ?? 0)) bad.push(`${s.failedStarts} runner thread starts failed, not ${r.failedStarts ?? 0}`);
	// the queue never waits behind a stuck check, nor for a sleeping thread
	if (s.starved) bad.push("a check left queued with every thread asleep, stuck or gone");
	if (!s.poolRest) bad.push("the pool not at rest at the end (a thread, a queued check, a count or a post left)");
	if (s.frees !== r.runners) bad.push(`${s.frees} contexts freed for ${r.runners} runners`);
	if (s.putAfterFree) bad.push("a reference was dropped after the free");
	if (s.cancelAfterExit) bad.push("pthread_cancel() on a thread that had already ended");
	return bad;
}

/**
 * Everything wrong with a whole run of an async race: its schedules', and
 * what some schedule must have done ([] if none).
 */
export function asyncRunFailures(r: AsyncRace, run: SchedRun, persistent = false): string[] {
	const bad: string[] = [];
	if (run.exitCode !== 0) bad.push(`exit ${run.exitCode}: ${run.stderr.slice(-500)}`);
	if (!run.summary) return [...bad, "no SUMMARY line"];
	if (run.summary.stopped) bad.push("stopped: a schedule left the pool not at rest");
	// a race, not one order
	if (run.schedules.length < 2) bad.push(`${run.schedules.length} schedules`);
	bad.push(...run.schedules.flatMap((s) => judgeAsync(r, s, persistent).map((m) => `#${s.n} ${s.trace}: ${m}`)).slice(0, 10));
	// each outcome README allows happened in some interleaving
	const rets = new Set(run.schedules.map((s) => Number(s.ret)));
	for (const ret of r.rets) if (!rets.has(ret)) bad.push(`ret ${ret} never happened`);
	if (persistent) {
		const [lo, hi] = poolThreadRange(r);
		const started = new Set(run.schedules.map((s) => s.created));
		for (const n of new Set([lo, hi])) if (!started.has(n)) bad.push(`no schedule started ${n} pool threads`);
		for (const e of r.poolEvents ?? []) if (!run.schedules.some((s) => s[e])) bad.push(`no schedule where ${e}`);
	}
	if (run.summary.threadsEnd !== run.summary.threadsBase) bad.push(`${run.summary.threadsEnd} threads at the end, ${run.summary.threadsBase} at the start`);
	return bad;
}

// ---------------------------------------------------------------------------
// Build and run
// ---------------------------------------------------------------------------

export interface SchedBuild {
	binary: string;
	runner: string;
}

/**
 * Builds sched-race.c with the runner compiled in (RUNNER_C), its hooks on.
 * runnerC defaults to the runner under test (race.ts); a mutant copy needs
 * runner.h next to it.
 */
export function buildSched(
	opts: {
		runnerC?: string;
		compiler?: Compiler;
		sanitize?: Sanitizer;
		cflags?: string[];
		tag?: string;
		/** The async checker with ASYNC_THREAD_PER_CHECK (default: its persistent runners). */
		threadPerCheck?: boolean;
	} = {},
): SchedBuild {
	const impl = runnerImpl();
	const runnerC = resolve(ROOT, opts.runnerC ?? process.env.MPCHECKGEN_SCHED_RUNNER ?? impl.sources[0]!);
	const exe = compile({
		compiler: opts.compiler ?? "clang",
		sanitize: opts.sanitize,
		kind: "executable",
		name: `sched-race${opts.tag ? `-${opts.tag}` : ""}`,
		sources: ["native-tests/runner/sched-race.c", ...impl.logSources],
		includeDirs: [dirname(runnerC), ...impl.includeDirs, GEN.multipath, GEN.abi, "native-tests/runner"],
		// the async checker framework on top, for the async races
		defines: {
			RUNNER_C: JSON.stringify(runnerC),
			ASYNC_C: JSON.stringify(GEN.glue),
			...(opts.threadPerCheck ? { ASYNC_THREAD_PER_CHECK: 1 } : {}),
		},
		cflags: opts.cflags,
		extraInputs: [runnerC, GEN.glue],
	});
	return { binary: exe.output, runner: runnerC };
}

export interface Schedule {
	n: number;
	trace: string;
	ret: string | null;
	final: string | null;
	/** async: a check is in flight after the raced call. */
	needWait: boolean;
	copied: boolean;
	frees: number;
	freedBy: "caller" | "thread" | null;
	putAfterFree: boolean;
	cancels: number;
	cancelAfterExit: boolean;
	/** Runner threads that took a step, and that were started. */
	threads: number;
	created: number;
	/** Every runner thread ended. */
	exited: boolean;
	hang: boolean;
	workerEntered: boolean;
	workerCompleted: boolean;
	grants: number;
	/** async: what each path (A, B) ended in; -1 for one without a check or freed in the race. */
	finals: number[];
	/** A pool thread took a check after one whose worker it ran. */
	reused: boolean;
	/** A pool thread took a check after skipping one cancelled while queued. */
	skipThenTake: boolean;
	/** A pool thread was started while a live one had no check. */
	needlessStart: boolean;
	/** Once no thread could go on, a check was still queued: nothing would take it. */
	starved: boolean;
	/** Starts of a runner thread that failed (made to, by "nostart"). */
	failedStarts: number;
	/** The pool at rest at the end: no thread, queued check, count or post. */
	poolRest: boolean;
}

export interface SchedSummary {
	schedules: number;
	hangs: number;
	threadsBase: number;
	threadsEnd: number;
	ms: number;
	/** A schedule left the pool not at rest: the ones after it were not run. */
	stopped: boolean;
}

export interface SchedRun {
	argv: string[];
	exitCode: number | null;
	schedules: Schedule[];
	summary: SchedSummary | null;
	stderr: string;
	stdout: string;
}

export function schedArgs(rc: RaceCase): string[] {
	return ["--setup", rc.setup.length ? rc.setup.join(",") : "-", "--race", rc.callerOp, "--timeout-us", String(rc.timeoutUs)];
}

export function runSched(b: SchedBuild, rc: RaceCase | string[], wrapper: string[] = [], env: Record<string, string> = {}): Promise<SchedRun> {
	const argv = [...wrapper, b.binary, ...(Array.isArray(rc) ? rc : schedArgs(rc))];
	return new Promise((resolvePromise, reject) => {
		const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
		const out: Buffer[] = [];
		const err: Buffer[] = [];
		const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
		child.stdout.on("data", (d: Buffer) => out.push(d));
		child.stderr.on("data", (d: Buffer) => err.push(d));
		child.on("error", reject);
		child.on("close", (code) => {
			clearTimeout(timer);
			const stdout = Buffer.concat(out).toString("utf8");
			const schedules: Schedule[] = [];
			let summary: SchedSummary | null = null;
			for (const line of stdout.split("\n")) {
				if (line.startsWith("SCHEDULE ")) schedules.push(JSON.parse(line.slice(9)) as Schedule);
				else if (line.startsWith("SUMMARY ")) summary = JSON.parse(line.slice(8)) as SchedSummary;
			}
			resolvePromise({ argv, exitCode: code, schedules, summary, stderr: Buffer.concat(err).toString("utf8"), stdout });
		});
	});
}

/** Everything wrong with one schedule, judged against the spec ([] if none). */
export function judge(rc: RaceCase, s: Schedule, allowed: Outcome[], spec: RunnerSpec = SPEC): string[] {
	const bad: string[] = [];
	const o: Outcome = { ret: s.ret, final: s.final, cancels: s.cancels };
	const name = (x: string | null) => (x === null ? null : Object.entries(spec.states).find(([, v]) => v.name === x)?.[0] ?? x);
	const got = { ...o, ret: name(o.ret), final: name(o.final) };
	if (!allowed.some((a) => a.ret === got.ret && a.final === got.final && a.cancels === got.cancels)) {
		bad.push(`outcome ${JSON.stringify(got)} is none the spec allows: ${JSON.stringify(allowed)}`);
	}
	if (s.hang || !s.exited) bad.push("the runner thread never ended");
	if (s.cancelAfterExit) bad.push("pthread_cancel() on a thread that had already ended");
	if (s.frees !== 1) bad.push(`the context was freed ${s.frees} times`);
	if (s.putAfterFree) bad.push("a reference was dropped after the free");
	const puts = s.trace.split(" ").filter((t) => t.endsWith(":put"));
	if (puts.length !== 2) bad.push(`${puts.length} references dropped, not 2`);
	const lastPut = puts.at(-1)?.startsWith("C:") ? "caller" : "thread";
	if (s.frees === 1 && s.freedBy !== lastPut) bad.push(`freed by the ${s.freedBy}, not by the last reference (${lastPut})`);
	if (got.final !== null && !spec.terminal.includes(got.final)) bad.push(`final state ${got.final} is not terminal`);
	// data only in DONE, and then the worker's own
	if (s.copied !== (got.final === "DONE")) bad.push(`data copied: ${s.copied} with final state ${got.final}`);
	if (got.final === "DONE" && !s.workerCompleted) bad.push("DONE without a completed worker");
	return bad;
}

// ---------------------------------------------------------------------------
// Mutants: hand-made defects of the generated runner, to prove the test
// catches them (a copy in build/, never the generated file)
// ---------------------------------------------------------------------------

export interface Mutant {
	id: string;
	what: string;
	apply(src: string): string;
}

function replaceOnce(src: string, re: RegExp, by: string, id: string): string {
	const m = src.match(new RegExp(re.source, `${re.flags.replace("g", "")}g`));
	if (!m || m.length !== 1) throw new Error(`mutant ${id}: the pattern ${re} matches ${m?.length ?? 0} times in runner.c`);
	return src.replace(re, by);
}

export const MUTANTS: Mutant[] = [
	{
		id: "cas-returns",
		what: "finish: a failed RUNNING→DONE compare-and-swap returns instead of retrying",
		apply: (src) =>
			replaceOnce(src, /(change_state\(rctx, &state, RUNNER_DONE\)\)\n\t+)continue;/, "$1return state;", "cas-returns"),
	},
	{
		id: "mark-before-cancel",
		what: "cancel in RUNNING: cancel_sent marked before pthread_cancel()",
		apply: (src) =>
			replaceOnce(
				src,
				/(\t+)pthread_cancel\(rctx->thr\);\n(\t+)mark_cancel_sent\(rctx\);/,
				"$1mark_cancel_sent(rctx);\n$2pthread_cancel(rctx->thr);",
				"mark-before-cancel",
			),
	},
	{
		id: "idle-cancel-spins",
		what: "cancel in IDLE does not mark cancel_sent: the thread spins for ever (upstream 0.15's pitfall)",
		apply: (src) =>
			replaceOnce(
				src,
				/(change_state\(rctx, &state, RUNNER_CANCELLED\)\)\n\t+continue;\n)\t+mark_cancel_sent\(rctx\);\n(\t+return RUNNER_CANCELLED;\n\t+case RUNNER_RUNNING:)/,
				"$1$2",
				"idle-cancel-spins",
			),
	},
	{
		id: "refcount-1",
		what: "the reference count starts at 1",
		apply: (src) => replaceOnce(src, /rctx->refcount = 2;/, "rctx->refcount = 1;", "refcount-1"),
	},
];

/**
 * Defects of the persistent runners' pool, each with the pool races
 * (ASYNC_RACES, by name) that must catch it.
 */
export interface PoolMutant extends Mutant {
	races: readonly string[];
}

export const POOL_MUTANTS: PoolMutant[] = [
	{
		id: "pool-no-post",
		what: "claim_thread() owes no post: a claimed sleeping thread is never woken",
		apply: (src) => replaceOnce(src, /\tt->next = pool\.to_wake;\n\tpool\.to_wake = t;\n/, "", "pool-no-post"),
		races: ["free of the last path vs the pool's sleeping threads", "check after a completed one vs its thread going back to the pool"],
	},
	{
		id: "pool-take-no-provide",
		what: "pool_take() leaves the checks behind the one it takes to no thread (no pool_provide() after take_check())",
		apply: (src) => replaceOnce(src, /(take_check\(self\);\n)\t+pool_provide\(\);\n/, "$1", "pool-take-no-provide"),
		races: ["pending of path B vs the thread started for it, its check queued behind one now stuck"],
	},
	{
		id: "pool-provide-no-claim",
		what: "pool_provide() starts a thread instead of waking a sleeping one",
		apply: (src) =>
			replaceOnce(src, /\tif \(pool\.asleep\) \{\n\t\tclaim_thread\(\);\n\t\treturn POOL_PROVIDED;\n\t\}\n/, "", "pool-provide-no-claim"),
		races: ["check after a completed one vs its thread going back to the pool"],
	},
	{
		id: "pool-skip-ends-thread",
		what: "pool_end() ends a thread whose check was cancelled while queued (its worker never ran), instead of letting it take the next",
		apply: (src) =>
			replaceOnce(src, /if \(self->worker_ran && self->check_state != RUNNER_DONE\)/, "if (self->check_state != RUNNER_DONE)", "pool-skip-ends-thread"),
		races: ["check of path B vs a thread skipping path A's check cancelled while queued"],
	},
	{
		id: "pool-end-no-provide",
		what: "pool_end() ends a thread whose check was cancelled in its worker without a provide: the checks a failed start left waiting behind it have no thread",
		apply: (src) => replaceOnce(src, /(\t\tend_thread\(\);\n)\t\tpool_provide\(\);\n/, "$1", "pool-end-no-provide"),
		races: ["pending of path B vs the end of the thread whose take could not start one for it"],
	},
];

/** Writes the mutant runner.c (with runner.h) under build/ and returns its path. */
export function writeMutant(m: Mutant): string {
	const base = runnerImpl().sources[0]!;
	const src = readFileSync(resolve(ROOT, base), "utf8");
	const dir = join(BUILD_DIR, "sched-mutants", m.id);
	mkdirSync(dir, { recursive: true });
	writeFileSync(join(dir, "runner.c"), m.apply(src));
	writeFileSync(join(dir, "runner.h"), readFileSync(join(dirname(resolve(ROOT, base)), "runner.h")));
	return join(dir, "runner.c");
}

// ---------------------------------------------------------------------------
// Manual use
// ---------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
	const b = buildSched({ runnerC: argv[0] });
	process.stderr.write(`binary: ${b.binary} (runner ${b.runner})\n`);
	let failed = 0;
	for (const rc of deriveRaces()) {
		const r = await runSched(b, rc);
		const allowed = expectedOutcomes(rc);
		const bad = r.schedules.flatMap((s) => judge(rc, s, allowed).map((m) => `  #${s.n} ${s.trace}\n    ${m}`));
		if (bad.length || r.exitCode !== 0) failed++;
		process.stdout.write(`${rc.name}: ${r.schedules.length} schedules, ${bad.length ? `${bad.length} FAILED` : "ok"}\n${bad.slice(0, 3).join("\n")}${bad.length ? "\n" : ""}`);
	}
	return failed ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
	main(process.argv.slice(2)).then(
		(rc) => process.exit(rc),
		(e: unknown) => {
			process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
			process.exit(2);
		},
	);
}
