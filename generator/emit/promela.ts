// A Promela model of the runner protocol and of the async checker's use of
// it, for spin, in either of the async checker's modes: a thread per check
// (ASYNC_THREAD_PER_CHECK) or the paths' persistent runners (the default),
// whose checks a pool of threads takes from one queue. The state-machine
// cases of start, finish, cancel and poll, and those of the pool's provide,
// take, end and release, come from the RunnerModel (the one runner.c is
// lowered from), one branch per case; the fixed parts of runner.c.hbs and
// async_checker.c.hbs (the thread start, the reference counts, the context
// memory, the pool's queue, counts, lock and semaphore, its threads' loop and
// cleanup handler, the caller's check/pending/reap/abandon logic) are written
// here once, as the templates write them in C. pthread_cancel() is a pending
// flag that the thread acts on at its cancellation points (the worker's
// steps); the cleanup handler runs with cancellation disabled.
//
// Properties, as assertions (safety run), invalid end states (a deadlock,
// a thread left waiting) and the absence of non-progress cycles (the -l
// run, weak fairness):
// - the reference count never goes below zero, the context is freed
//   exactly once, and nothing touches it after the free;
// - check_runner() reports DEAD only once the thread has left the worker;
// - a result is reported only from DONE, complete, and never from a runner
//   the caller has already seen time out;
// - pthread_cancel() never targets a thread that has exited, nor a pool
//   thread that has gone on to another check; a pool thread with a
//   cancellation request pending never takes another check;
// - never more than MAX_NR_TIMEOUTS + 1 threads per path with a check of
//   the path not yet DONE or DEAD;
// - whenever the pool's lock is left, its counts are consistent with what
//   its threads do: none has gone below zero, the claimed are among the
//   awake, threads == awake + asleep (on the list) + busy, the sleepers on
//   the list and the claimed are the threads in their wait (each side
//   counted apart), and a queued check has a thread awake (or claimed) to
//   take it, unless the last start of a thread for the checks left queued
//   (by a take, or by a thread that ends) failed;
// - every thread ends and every context is freed (no spinning forever, no
//   thread waiting for a wake-up that never comes); with persistent
//   runners every thread ends once no persistent runner is left, without
//   waiting for its idle time, and the queue is empty at the end, but for
//   checks left in it after a failed start (counted, and reported as
//   coverage: the model starts NR_THREADS threads in all, so once those
//   have ended no provide can start another).
//
// The model is bounded: NR_RUNNERS runners (checks) created per path in
// all, NR_CALLS checker calls per path, WORKER_STEPS cancellation points
// per worker; one path with a thread per check; with persistent runners
// NR_PATHS paths sharing the pool and NR_THREADS pool threads started in
// all.
import type { PoolCaseModel, PoolOperationModel, RunnerCaseModel, RunnerModel, RunnerOperationModel } from "../model/types.ts";

export type PromelaMode = "threadPerCheck" | "persistent";

export interface PromelaOptions {
	/** Which runners the async checker uses: a thread per check, or the paths' persistent runners (the pool). */
	readonly mode?: PromelaMode;
	/** The count a context starts with (runner.c.hbs: one for the caller, one for the thread). */
	readonly refcountInit?: number;
	/** "cas": compare-and-swap as runner.c does; "store": load, then a plain store (a mutant). */
	readonly stateChange?: "cas" | "store";
	/**
	 * 0.15's cancel (a mutant): after a caller's case has moved RUNNING to
	 * CANCELLED and run its effects, it stores DEAD, while the thread may
	 * still be in the worker.
	 */
	readonly deadAfterCancel?: boolean;
	/** Runners created per path in all (3 and 5 calls: one abandoned, one kept, the fresh one after DEAD; 2 with persistent runners) (get_runner fails after that: the check runs synchronously). */
	readonly runners?: number;
	/** async_check_check() calls of each path's caller before async_check_free() (5; 2 with persistent runners). */
	readonly calls?: number;
	/** Steps in a worker between its cancellation points (default 1; 0 with persistent runners). */
	readonly workerSteps?: number;
	/** Persistent: the paths whose checkers share the pool, each with its persistent runner. */
	readonly paths?: number;
	/** Persistent: pool threads started in all (start_pool_thread() fails after that). */
	readonly threads?: number;
	/**
	 * Persistent, a mutant when false: claim_thread() counts the sleeping
	 * thread as claimed and awake but owes it no post, so nothing wakes it.
	 */
	readonly postClaims?: boolean;
}

const DEFAULTS: Required<PromelaOptions> = {
	mode: "threadPerCheck",
	refcountInit: 2,
	stateChange: "cas",
	deadAfterCancel: false,
	runners: 3,
	calls: 5,
	workerSteps: 1,
	paths: 2,
	threads: 2,
	postClaims: true,
};

/**
 * What persistent runners change in the defaults: their state space is the
 * larger (a second path multiplies it by more than ten), so two paths of 2
 * calls, 2 runners each, sharing up to 2 threads, and no steps between a
 * worker's cancellation points.
 */
const POOL_DEFAULTS: Partial<PromelaOptions> = { runners: 2, calls: 2, workerSteps: 0 };

/** The options a mode's model is written with: those of the other mode left out of its header. */
const MODE_OPTIONS: Record<PromelaMode, readonly (keyof PromelaOptions)[]> = {
	threadPerCheck: ["mode", "refcountInit", "stateChange", "deadAfterCancel", "runners", "calls", "workerSteps"],
	persistent: ["mode", "refcountInit", "stateChange", "deadAfterCancel", "runners", "calls", "workerSteps", "paths", "threads", "postClaims"],
};

/** The model files `mpcheckgen model` writes, one per mode. */
export const PROMELA_FILES: Readonly<Record<PromelaMode, string>> = { threadPerCheck: "runner.pml", persistent: "persistent.pml" };

/** The operations the fixed code calls, and where: the caller's are inlines, the thread's run in its proctype. */
const OPS = ["start", "finish", "cancel", "poll"] as const;
const POOL_OPS = ["provide", "take", "end", "release"] as const;

/** Which end of the protocol each step of a trail belongs to: printed by the model as "STEP who: text". */
export const STEP_PREFIX = "STEP ";

class Out {
	private readonly lines: string[] = [];
	private depth = 0;
	line(text = ""): this {
		this.lines.push(text === "" ? "" : `${"\t".repeat(this.depth)}${text}`);
		return this;
	}
	in(): this {
		this.depth++;
		return this;
	}
	out(): this {
		this.depth--;
		return this;
	}
	/** Appends to the last line. */
	more(text: string): this {
		this.lines[this.lines.length - 1] += text;
		return this;
	}
	toString(): string {
		return `${this.lines.join("\n")}\n`;
	}
}

interface Ctx {
	readonly m: RunnerModel;
	readonly opts: Required<PromelaOptions>;
	readonly persistent: boolean;
	/** The coverage points so far, by label. */
	readonly reached: string[];
}

/** What pan prints, once, for each coverage point the search reaches: "REACHED <label>". */
export const REACHED_PREFIX = "REACHED ";
const REACH_TABLE = "/* the coverage points */";

/**
 * A coverage point (persistent runners): embedded C, run by pan as the
 * search first reaches it, outside the state vector; spin's replay of a
 * trail only prints it. `cond`, C over the state (`now.<variable>`), narrows it.
 */
function reach(ctx: Ctx, label: string, cond?: string): string {
	if (!ctx.persistent) return "";
	let k = ctx.reached.indexOf(label);
	if (k < 0) k = ctx.reached.push(label) - 1;
	return ` c_code { ${cond ? `if (${cond}) ` : ""}reach(${k}); };`;
}

/** A printf of one step: "STEP <who>: <text>", who naming the actor and what it acts on. */
function say(who: string, whoArgs: readonly string[], text: string, args: readonly string[] = []): string {
	const all = [...whoArgs, ...args];
	return `printf("${STEP_PREFIX}${who}: ${text}\\n"${all.map((a) => `, ${a}`).join("")})`;
}

/** A step of a runner operation: "caller r1: …", or with persistent runners "thread t0 r1: …" (the thread's index). */
function step(ctx: Ctx, actor: string, text: string, args: readonly string[] = []): string {
	return ctx.persistent && actor === "thread" ? say("thread t%d r%d", ["self", "r"], text, args) : say(`${actor} r%d`, ["r"], text, args);
}

/**
 * A step of the pool: "caller p0: …" (the path's caller) or "thread t1: …".
 * provide runs for the caller and, as take's effect, for a thread: its
 * steps name whoever runs it (me: 1 + the path, or 1 + NR_PATHS + the thread).
 */
function pstep(actor: string | "either", text: string, args: readonly string[] = []): string {
	if (actor === "caller") return say("caller p%d", ["me - 1"], text, args);
	if (actor === "thread") return say("thread t%d", ["self"], text, args);
	return `if :: who == caller -> ${pstep("caller", text, args)} :: else -> ${say("thread t%d", ["me - 1 - NR_PATHS"], text, args)} fi`;
}

function opInline(o: Out, ctx: Ctx, op: RunnerOperationModel): void {
	const actor = op.actor;
	o.line(`/* ${op.key}: ${op.doc} */`);
	o.line(`inline op_${op.key}(r, ret) {`).in();
	o.line(`atomic { assert(alive[r]); state = status[r] };`);
	o.line("do");
	for (const g of op.byState) {
		o.line(`:: state == ${g.state.key} ->`).in();
		emitCases(o, ctx, op, g.cases, 0, actor);
		o.out();
	}
	o.line(`:: else -> ${step(ctx, actor, `${op.key} in %e: unexpected, no change`, ["state"])}; ret = state; break`);
	o.line("od").out().line("}").line();
}

/** The cases of one state, in spec order: a conditional case falls through to the next when its condition is false. */
function emitCases(o: Out, ctx: Ctx, op: RunnerOperationModel, cases: readonly RunnerCaseModel[], i: number, actor: string): void {
	const c = cases[i];
	if (c.when) {
		o.line("if");
		o.line(`:: ${conditionExpr(c.when.key)} ->`).in();
		caseBody(o, ctx, op, c, actor);
		o.out().line(":: else ->").in();
		if (i + 1 < cases.length) emitCases(o, ctx, op, cases, i + 1, actor);
		else o.line(`ret = state; break`);
		o.out().line("fi");
		return;
	}
	caseBody(o, ctx, op, c, actor);
}

function conditionExpr(key: string): string {
	if (key === "deadlinePassed") return "deadline[r]";
	throw new Error(`the Promela emitter does not know condition '${key}'`);
}

function caseBody(o: Out, ctx: Ctx, op: RunnerOperationModel, c: RunnerCaseModel, actor: string): void {
	const where = `${op.key} in ${c.from.key}`;
	if (c.await) {
		if (c.await.key !== "cancelSent") throw new Error(`the Promela emitter does not know wait '${c.await.key}'`);
		// a busy wait, as await_cancel_sent() is (sched_yield between loads)
		o.line(`${step(ctx, actor, `${where}: waits until the canceller is done with pthread_cancel`)};`);
		o.line("do");
		o.line(":: atomic { assert(alive[r]); ok = cancel_sent[r] };");
		o.line("   if :: ok -> break :: else -> skip /* sched_yield() */ fi");
		o.line("od;");
	}
	if (c.call) {
		o.line(`${step(ctx, actor, `${where}: ${c.call}`)};`);
		o.line(`op_${c.call}(r, ret);`);
		o.line("break");
		return;
	}
	if (c.to) {
		const text = `${where} -> ${c.to.key}`;
		// a thread counts for its path until its runner reaches a terminal state: then only put_runner() and the exit (or the pool's end) are left
		const uncount = actor === "thread" && c.to.terminal ? "uncount(r); " : "";
		if (ctx.opts.stateChange === "cas") {
			o.line("atomic {").in();
			o.line("assert(alive[r]);");
			o.line("if");
			o.line(`:: status[r] == ${c.from.key} -> status[r] = ${c.to.key}; ok = 1; ${uncount}${step(ctx, actor, text)}`);
			o.line(`:: else -> state = status[r]; ok = 0; ${step(ctx, actor, `${where}: compare-and-swap failed, found %e`, ["state"])}`);
			o.line("fi");
			o.out().line("};");
		} else {
			// the state was loaded earlier: a plain store may overwrite a change made since
			o.line(`atomic { assert(alive[r]); status[r] = ${c.to.key}; ok = 1; ${uncount}${step(ctx, actor, `${text} (plain store, no compare-and-swap)`)} };`);
		}
		o.line("if");
		o.line(":: ok ->").in();
		effects(o, ctx, c, actor, where);
		if (ctx.opts.deadAfterCancel && actor === "caller" && c.from.key === "RUNNING" && c.to.key === "CANCELLED") {
			o.line(`atomic { assert(alive[r]); status[r] = DEAD; ${step(ctx, actor, `${where}: CANCELLED -> DEAD right after pthread_cancel (0.15)`)} };`);
		}
		o.line(`ret = ${c.returns.key}; break`);
		o.out().line(":: else -> skip /* compare-and-swap failed: the case for the state found */");
		o.line("fi");
		return;
	}
	o.line(`${step(ctx, actor, `${where}${c.returns === c.from ? "" : `: returns ${c.returns.key}`}`)};`);
	o.line(`ret = ${c.returns.key}; break`);
}

function effects(o: Out, ctx: Ctx, c: RunnerCaseModel, actor: string, where: string): void {
	c.effects.forEach((e, i) => {
		if (e.key === "runWorker" && i !== c.effects.length - 1) throw new Error("the Promela emitter needs runWorker as the last effect");
		switch (e.key) {
			case "runWorker":
				o.line(ctx.persistent ? "worker(r, self);" : "worker(r);");
				break;
			case "pthreadCancel":
				// rctx->thr: the runner's own thread, or the pool thread that took the check
				if (ctx.persistent) {
					o.line(
						`atomic { assert(alive[r]); assert(!exited[thr[r]]); assert(cur[thr[r]] == r); cancel_pending[thr[r]] = 1; ${step(ctx, actor, `${where}: pthread_cancel thread t%d`, ["thr[r]"])} };`,
					);
				} else o.line(`atomic { assert(alive[r]); assert(!exited[r]); cancel_pending[r] = 1; ${step(ctx, actor, `${where}: pthread_cancel`)} };`);
				break;
			case "markCancelSent":
				o.line(`atomic { assert(alive[r]); cancel_sent[r] = 1; ${step(ctx, actor, `${where}: done with pthread_cancel`)} };`);
				break;
			default:
				throw new Error(`the Promela emitter does not know effect '${e.key}'`);
		}
	});
}

// ------------------------------------------------------------------ the pool

/** Promela for the pool's conditions, effects and wait (the pool's lock held), as lower/runner.ts has C for them; startThread returns the outcome. */
const POOL_CONDITION_PML: Record<string, string> = {
	nothingQueued: "qlen == 0",
	threadAwake: "awake > 0",
	threadAsleep: "asleep > 0",
	checkQueued: "qlen > 0",
	noUsers: "users == 0",
	idleExpired: "idle_passed",
	checkCancelled: "worker_ran && check_state != DONE",
};
const POOL_EFFECT_PML: Record<string, string> = {
	wakeThread: "claim_thread()",
	startThread: "start_pool_thread(po)",
	provide: "pool_provide(pout)",
	takeCheck: "take_check()",
	retire: "retire_thread()",
	endThread: "end_thread()",
	rejoin: "rejoin()",
	wakeAll: "wake_all()",
};
const POOL_WAIT_PML: Record<string, string> = { work: "await_work()" };
/** The pool's operations that the caller and (as an effect of take) a thread both run. */
const SHARED_POOL_OPS: ReadonlySet<string> = new Set(["provide"]);

const poolOutcome = (key: string) => `POOL_${key}`;

/**
 * The text the model prints for a pool case, after "caller p0: " or
 * "thread t1: ": "provide [threadAsleep] / wakeThread, returns PROVIDED",
 * "take [otherwise]: waits for work".
 */
export function poolCaseText(op: PoolOperationModel, c: PoolCaseModel): string {
	const guard = c.when ? ` [${c.when.key}]` : op.cases.length > 1 ? " [otherwise]" : "";
	if (c.await) return `${op.key}${guard}: waits for ${c.await.key}`;
	const eff = c.effects.length > 0 ? ` / ${c.effects.map((e) => e.key).join(", ")}` : "";
	const ret = c.returns ? `, returns ${c.returns.key}` : "";
	return `${op.key}${guard}${eff}${ret}`;
}

/** One case of a pool operation, inside the step that holds the pool's lock. */
function poolCaseBody(o: Out, ctx: Ctx, op: PoolOperationModel, c: PoolCaseModel): void {
	const text = poolCaseText(op, c);
	const actor = SHARED_POOL_OPS.has(op.key) ? "either" : op.actor;
	o.line(`${pstep(actor, text)};${reach(ctx, text)}`);
	if (c.await) {
		const wait = POOL_WAIT_PML[c.await.key];
		if (!wait) throw new Error(`the Promela emitter does not know pool wait '${c.await.key}'`);
		o.line(`waits = 1; ${wait}`);
		return;
	}
	let started = false;
	for (const e of c.effects) {
		const pml = POOL_EFFECT_PML[e.key];
		if (!pml) throw new Error(`the Promela emitter does not know pool effect '${e.key}'`);
		o.line(`${pml};`);
		started ||= e.key === "startThread";
	}
	if (c.returns && !started) o.line(`po = ${poolOutcome(c.returns.key)}`);
}

/** The cases in order, first match: a case with a condition falls through to the next when it is false. */
function poolCases(o: Out, ctx: Ctx, op: PoolOperationModel, i: number): void {
	const c = op.cases[i];
	if (!c.when) {
		poolCaseBody(o, ctx, op, c);
		return;
	}
	const cond = POOL_CONDITION_PML[c.when.key];
	if (!cond) throw new Error(`the Promela emitter does not know pool condition '${c.when.key}'`);
	o.line("if");
	o.line(`:: ${cond} ->`).in();
	poolCaseBody(o, ctx, op, c);
	o.out().line(":: else ->").in();
	if (i + 1 < op.cases.length) poolCases(o, ctx, op, i + 1);
	else o.line("skip");
	o.out().line("fi");
}

/**
 * A pool operation: called with the pool's lock held, inside the step
 * that takes it (the lock excludes every other access to the pool, so
 * what the holder does until it leaves the lock is one step). An
 * operation with a case that waits is the thread's, and takes the lock
 * itself unless the thread holds it already (after its previous check):
 * the waiting case leaves the lock (await_work()), the posts owed are
 * made, the thread sleeps on its semaphore, and the step that takes the
 * lock again looks at the cases again from the first (unless the thread
 * must leave it again, to wait for the post owed to it). `tail` runs in
 * the step that returns, as the fixed code does with the outcome before it
 * leaves the lock.
 */
function poolOpInline(o: Out, ctx: Ctx, op: PoolOperationModel, tail: readonly string[] = []): void {
	const waits = op.cases.some((c) => c.await);
	if (waits && op.actor !== "thread") throw new Error(`the Promela emitter needs the pool operation '${op.key}' that waits to be the thread's`);
	o.line(`/* pool_${op.key}(): ${op.doc} (pool.lock held) */`);
	o.line(`inline pool_${op.key}(${op.returnsOutcome ? "po" : ""}) {`).in();
	if (waits) {
		o.line("do");
		o.line(":: atomic {").in().in();
		o.line("(plock == 0 || plock == me) -> plock = me;");
		o.line("after_wait();");
		o.line("waits = 0;");
		o.line("if");
		o.line(":: owed_wait -> unlock_pool()");
		o.line(":: else ->").in();
	}
	poolCases(o, ctx, op, 0);
	if (waits) {
		o.more(";");
		o.line("if");
		o.line(":: !waits ->").in();
		for (const t of tail) o.line(t);
		o.out().line(":: else -> skip");
		o.line("fi");
		o.out().line("fi");
		o.out().line("};");
		o.line("post_owed();");
		o.line("if :: owed_wait -> await_owed_post() :: waits -> sem_wait() :: else -> break fi").out();
		o.line("od");
	}
	o.out().line("}").line();
}

/** Takes element i out of array[0 .. length - 1], moving the ones after it down (i is reset). */
function removeAt(o: Out, array: string, length: string): void {
	o.line(`do :: i + 1 < ${length} -> ${array}[i] = ${array}[i + 1]; i++ :: else -> break od;`);
	o.line(`${length}--; ${array}[${length}] = 0; i = 0`);
}

/**
 * The fixed parts of runner.c's pool: its lock and unlock_pool() with the
 * posts after it, the list of sleepers and each thread's semaphore,
 * claim_thread(), start_pool_thread(), take_check() and the other effects,
 * await_work(), the queue.
 */
function poolFixed(o: Out, ctx: Ctx): void {
	const { opts } = ctx;
	o.line("/*");
	o.line(" * unlock_pool(), in the step that leaves the lock: the pool's counts are");
	o.line(" * checked against what its threads do (g_*, kept by the fixed code of the");
	o.line(" * threads, not by the pool's effects), then the posts owed are taken along,");
	o.line(" * to be made once the lock is left (post_owed()). pthread_mutex_lock() is");
	o.line(" * the guard plock == 0 of the step that takes it.");
	o.line(" */");
	o.line("inline unlock_pool() {").in();
	o.line("assert(plock == me);");
	o.line("/* unsigned: a count taken below zero wraps around */");
	o.line("assert(threads <= NR_THREADS && awake <= NR_THREADS && asleep <= NR_THREADS && users <= NR_PATHS);");
	o.line("assert(claimed <= awake);");
	o.line("/* the claimed are off the list of sleepers, still in their wait until they take the lock */");
	o.line("assert(asleep + claimed == g_asleep && awake - claimed == g_awake);");
	o.line("assert(threads == awake + asleep + g_busy);");
	o.line("/* a queued check has a thread awake, or claimed, to take it, unless the last start for the checks left queued failed */");
	o.line("assert(qlen == 0 || awake > 0 || starved);");
	o.line("if :: qlen == 0 || awake > 0 -> starved = 0 :: else -> skip fi;");
	o.line("owed = to_wake; to_wake = 0; plock = 0");
	o.out().line("}").line();
	o.line("/*");
	o.line(" * The rest of unlock_pool(), the lock left: sem_post(&t->wake) for each");
	o.line(" * thread claimed, one step each. runner.c posts the one claimed last first;");
	o.line(" * here the lowest numbered goes first (posts to different threads commute).");
	o.line(" */");
	o.line("inline post_owed() {").in();
	o.line("do");
	o.line(":: atomic {").in().in();
	o.line("owed != 0 ->");
	o.line("nt = 0; do :: owed & (1 << nt) -> break :: else -> nt++ od;");
	o.line(`owed = owed & ~(1 << nt); tsem[nt]++; ${pstep("either", "posts the wake-up owed to t%d", ["nt"])};${reach(ctx, "a post made after the unlock")}`);
	o.line("nt = 0");
	o.out().out().line("}");
	o.line(":: else -> break");
	o.line("od");
	o.out().line("}").line();
	o.line("/* the thread that went to sleep last, off the list of sleepers: claimed, counted awake, its post owed once the lock is left */");
	o.line("inline claim_thread() {").in();
	o.line("asleep--; nt = sleepers[asleep]; sleepers[asleep] = 0;");
	o.line(`tclaimed[nt] = 1; claimed++; awake++;${reach(ctx, "a thread claimed with another asleep", "now.asleep > 0")}`);
	if (opts.postClaims) o.line("to_wake = to_wake | (1 << nt); nt = 0");
	else o.line("nt = 0 /* a mutant: no post owed */");
	o.out().line("}").line();
	o.line("/* a thread that wakes unclaimed takes itself off the list of sleepers, wherever it is in it */");
	o.line("inline unlink_sleeper() {").in();
	o.line("i = 0; do :: sleepers[i] != self -> i++ :: else -> break od;");
	removeAt(o, "sleepers", "asleep");
	o.out().line("}").line();
	o.line("/* a fresh thread for the queue, counted as awake from the start; NO_THREAD once NR_THREADS have been started */");
	o.line("inline start_pool_thread(po) {").in();
	o.line("if");
	o.line(":: tcreated < NR_THREADS ->").in();
	o.line("nt = tcreated; tcreated++; threads++; awake++; g_awake++; cur[nt] = NONE;");
	o.line(`${pstep("either", "starts thread t%d", ["nt"])};${reach(ctx, "the last thread (NR_THREADS) started", `now.tcreated == ${opts.threads}`)}`);
	o.line("run pool_thread(nt); nt = 0;");
	o.line("po = POOL_PROVIDED");
	o.out().line(":: else ->").in();
	o.line("po = POOL_NO_THREAD;");
	o.line(
		`if :: who == caller -> ${pstep("caller", "cannot start a thread")};${reach(ctx, "cannot start a thread for the caller's check")} :: else -> starved = 1; ${say("thread t%d", ["me - 1 - NR_PATHS"], "cannot start a thread for the checks left queued")};${reach(ctx, "cannot start a thread for the checks left queued")} fi`,
	);
	o.out().line("fi");
	o.out().line("}").line();
	o.line("/* the oldest queued check: the thread runs it (self->job) and is no longer awake for others */");
	o.line("inline take_check() {").in();
	o.line("r = queue[0]; cur[self] = r;");
	o.line("i = 0;");
	removeAt(o, "queue", "qlen");
	o.more(";");
	o.line("awake--");
	o.out().line("}").line();
	o.line("inline retire_thread() {").in();
	o.line("awake--; threads--");
	o.out().line("}").line();
	o.line("/* a thread gone: a start that failed before no longer excuses the checks left queued, a provide must try again */");
	o.line("inline end_thread() {").in();
	o.line("threads--; starved = 0");
	o.out().line("}").line();
	o.line("/* awake for the next check; its idle time starts (and has not passed when the thread looks, in the same step) */");
	o.line("inline rejoin() {").in();
	o.line("awake++; idle_passed = 0");
	o.out().line("}").line();
	o.line("inline wake_all() {").in();
	o.line(`do :: asleep > 0 -> claim_thread();${reach(ctx, "wake_all() claims a sleeping thread")} :: else -> break od`);
	o.out().line("}").line();
	o.line("/* await_work(), to the wait: the thread goes on the list of sleepers, first; the lock is left */");
	o.line("inline await_work() {").in();
	o.line("awake--; sleepers[asleep] = self; asleep++; g_awake--; g_asleep++;");
	o.line("unlock_pool()");
	o.out().line("}").line();
	o.line("/*");
	o.line(" * RUNNER_TEST_WAIT() on the thread's own semaphore: sem_clockwait() takes");
	o.line(" * its post (at once if it is there), or times out at the idle deadline,");
	o.line(" * the idle time passing. The idle time is taken as longer than a check's");
	o.line(" * timeout: it passes only while no check is queued, so a queued check is");
	o.line(" * never rescued by it from a lost wake-up; and only while a persistent");
	o.line(" * runner is left, so a thread that no release wakes waits for ever. A");
	o.line(" * wait times out only with no post to take (one made just after the");
	o.line(" * timeout is the same state as one made before the wait). EINTR is left");
	o.line(" * out: every wait looks again.");
	o.line(" */");
	o.line("inline sem_wait() {").in();
	o.line("if");
	o.line(`:: atomic { tsem[self] > 0 -> tsem[self]--; woke = 1; ${pstep("thread", "takes its post")} }`);
	o.line(
		`:: atomic { tsem[self] == 0 && users > 0 && qlen == 0 -> woke = 1; wait_timed_out = 1; idle_passed = 1; ${pstep("thread", "the idle time passes: the wait times out")};${reach(ctx, "the idle time passes: a wait times out")} }`,
	);
	o.line("fi");
	o.out().line("}").line();
	o.line("/*");
	o.line(" * The rest of await_work(), the lock taken again. A claimed thread is");
	o.line(" * awake (its claimer counted it so); if its wait timed out before the post");
	o.line(" * came, it leaves the lock and waits for the post owed (owed_wait), so that");
	o.line(" * no post comes after the thread has gone. One that wakes unclaimed (its");
	o.line(" * wait timed out) takes itself off the list and is awake on its own. (A");
	o.line(" * thread that has just started, or taken the post owed, looks at once: its");
	o.line(" * idle time passes only in a wait.)");
	o.line(" */");
	o.line("inline after_wait() {").in();
	o.line("if");
	o.line(":: woke ->").in();
	o.line("woke = 0; g_asleep--; g_awake++;");
	o.line("if");
	o.line(":: tclaimed[self] ->").in();
	o.line(`tclaimed[self] = 0; claimed--;${reach(ctx, "a woken thread takes its claim")}`);
	o.line(
		`if :: wait_timed_out -> owed_wait = 1; ${pstep("thread", "claimed as its wait timed out: waits for the post owed")};${reach(ctx, "a claimed thread whose wait timed out waits for the post owed")} :: else -> skip fi`,
	);
	o.out().line(":: else ->").in();
	o.line("assert(wait_timed_out); unlink_sleeper(); awake++;");
	o.line(`${pstep("thread", "wakes unclaimed: awake on its own")};${reach(ctx, "a thread wakes unclaimed (its wait timed out)")}`);
	o.out().line("fi;");
	o.line("wait_timed_out = 0");
	o.out().line(":: else -> skip");
	o.line("fi");
	o.out().line("}").line();
	o.line("/* the post owed to a claimed thread whose wait timed out, the lock left */");
	o.line("inline await_owed_post() {").in();
	o.line(`atomic { tsem[self] > 0 -> tsem[self]--; owed_wait = 0; ${pstep("thread", "takes the post owed")} }`);
	o.out().line("}").line();
	o.line("/* queue_check() and unqueue_check(): the queue, oldest first; the check queued last is taken back */");
	o.line("inline queue_check(r) {").in();
	o.line(`queue[qlen] = r; qlen++;${reach(ctx, "two checks queued", "now.qlen == 2")}`);
	o.out().line("}").line();
	o.line("inline unqueue_check(r) {").in();
	o.line("qlen--; assert(queue[qlen] == r); queue[qlen] = 0");
	o.out().line("}").line();
	o.line("/* the thread no longer counts for the check's path: its runner is DONE or DEAD */");
	o.line("inline uncount(r) {").in();
	o.line("if :: counted[r] -> counted[r] = 0; busy[r / NR_RUNNERS]-- :: else -> skip fi");
	o.out().line("}").line();
}

/** What pool_thread() does with what pool_take() returned, in the same step (the lock still held). */
function TAKE_TAIL(ctx: Ctx): string[] {
	return [
		"if",
		":: po == POOL_CHECK ->",
		"\tassert(alive[r]); assert(!cancel_pending[self]);",
		"\t/* ordered before runner_cancel() by the move to RUNNING */",
		"\tthr[r] = self;",
		"\tcounted[r] = 1; busy[r / NR_RUNNERS]++; assert(busy[r / NR_RUNNERS] <= MAX_NR_TIMEOUTS + 1);",
		`\tg_awake--; g_busy++; ${step(ctx, "thread", "takes the check")};`,
		"\tunlock_pool()",
		":: else -> g_awake--; unlock_pool()",
		"fi",
	];
}

/** pool_thread(): takes checks one after the other, runs each with cancellation enabled, ends on EXIT. */
function poolThread(o: Out, ctx: Ctx): void {
	o.line("/*");
	o.line(" * end_check(): the check's outcome (runner_finish(), whose steps race with");
	o.line(" * the caller), the thread's reference, then pool_end() under the lock, left");
	o.line(" * unless the thread looks for its next check (NEXT). The put is made in the");
	o.line(" * step that takes the lock: no holder of the lock touches a runner's count.");
	o.line(" */");
	o.line("inline end_check() {").in();
	o.line("op_finish(r, ret);");
	o.line("atomic {").in();
	o.line("plock == 0 -> plock = me;");
	o.line("check_state = ret; cur[self] = NONE; put(r, who); r = NONE;");
	o.line("pool_end(po);");
	o.line("check_state = 0; worker_ran = 0; state = 0; ret = 0; ok = 0; g_busy--;");
	o.line("if :: po == POOL_NEXT -> g_awake++ :: else -> unlock_pool() fi");
	o.out().line("};");
	o.line("post_owed()");
	o.out().line("}").line();
	o.line("/* pool_thread(): pool_take() takes the lock as the thread starts */");
	o.line("proctype pool_thread(byte self) {").in();
	o.line("mtype state, ret, po, pout, check_state; bool ok, unwound, woke, wait_timed_out, owed_wait, waits, idle_passed, worker_ran; byte steps, r = NONE, me = NR_PATHS + 1 + self, owed, nt, i; mtype who = thread;");
	o.line("do");
	o.line(":: pool_take(po);").in();
	o.line("if :: po != POOL_CHECK -> break :: else -> skip fi;");
	o.line("/* run_check(): cancellation enabled around runner_start() only; a cancelled worker unwinds into check_cancelled() */");
	o.line("op_start(r, ret);");
	o.line("/* end_check(), in check_cancelled() when the worker was cancelled: its cleanup starts */");
	o.line("atomic {").in();
	o.line("worker_ran = (ret == RUNNING || unwound); state = 0; ret = 0; ok = 0; steps = 0;");
	o.line(`assert(alive[r]); left_worker[r] = 1; ${step(ctx, "thread", "the check's cleanup")};`);
	o.line(`if :: !worker_ran ->${reach(ctx, "a thread takes a check cancelled while queued")} skip :: else -> skip fi`);
	o.out().line("};");
	o.line("end_check();");
	o.line("if");
	o.line(
		`:: unwound -> ${say("thread t%d", ["self"], "check_cancelled() is done: the thread exits")};${reach(ctx, "a check cancelled in its worker ends the thread")} break /* whatever pool_end() returned */`,
	);
	o.line(":: !unwound && po != POOL_NEXT -> break");
	o.line(":: else -> skip");
	o.line("fi");
	o.out().line("od;");
	o.line(`atomic { exited[self] = 1; nexited++; ${say("thread t%d", ["self"], "exits")} }`);
	o.out().line("}").line();
}

/** get_persistent_runner() and release_persistent_runner(), for the path p's caller. */
function poolCaller(o: Out, ctx: Ctx): void {
	o.line("/* get_persistent_runner(): r = NONE when it fails (the check runs synchronously) */");
	o.line("inline get_runner(r) {").in();
	o.line("atomic {").in();
	o.line("if");
	o.line(":: created[p] < NR_RUNNERS ->").in();
	o.line("r = p * NR_RUNNERS + created[p]; created[p]++;");
	o.line("alive[r] = 1; refcount[r] = REFCOUNT_INIT; status[r] = IDLE;");
	o.line(say("caller r%d", ["r"], "new_runner"));
	o.out().line(`:: else -> r = NONE; ${say("caller p%d", ["p"], "new_runner fails, the check runs synchronously")}`);
	o.line("fi");
	o.out().line("};");
	o.line("if");
	o.line(":: r != NONE ->").in();
	o.line("atomic {").in();
	o.line("plock == 0 -> plock = me;");
	o.line("if :: !user -> users++; user = 1 :: else -> skip fi;");
	o.line("queue_check(r);");
	o.line("pool_provide(po);");
	o.line(`if :: po != POOL_PROVIDED -> unqueue_check(r);${reach(ctx, "a check taken back: no thread")} :: else -> skip fi;`);
	o.line("unlock_pool()");
	o.out().line("};");
	o.line("post_owed();");
	o.line(
		`if :: po != POOL_PROVIDED -> atomic { assert(alive[r]); alive[r] = 0; freed[r]++; assert(freed[r] == 1); ${say("caller r%d", ["r"], "free(rctx), the check runs synchronously")}; r = NONE } :: else -> skip fi;`,
	);
	o.line("po = 0");
	o.out().line(":: else -> skip");
	o.line("fi");
	o.out().line("}").line();
	o.line("/* release_persistent_runner(): the path's persistent runner, if it got one */");
	o.line("inline release_persistent_runner() {").in();
	o.line("if");
	o.line(":: user ->").in();
	o.line("atomic { plock == 0 -> plock = me; users--; pool_release(); unlock_pool() };");
	o.line("post_owed()");
	o.out().line(":: else -> skip");
	o.line("fi");
	o.out().line("}").line();
}

/** The Promela model of the runner protocol for a runner model. */
export function emitPromela(m: RunnerModel, options: PromelaOptions = {}): string {
	const persistent = options.mode === "persistent";
	const opts: Required<PromelaOptions> = { ...DEFAULTS, ...(persistent ? POOL_DEFAULTS : {}), ...options };
	const ctx: Ctx = { m, opts, persistent, reached: [] };
	const ops = new Map(m.operations.map((op) => [op.key, op]));
	for (const k of OPS) if (!ops.has(k)) throw new Error(`the runner model has no operation '${k}'`);
	for (const k of ["IDLE", "RUNNING", "DONE", "CANCELLED", "DEAD"]) {
		if (!m.states.some((s) => s.key === k)) throw new Error(`the runner model has no state ${k}`);
	}
	const pops = new Map(m.pool.operations.map((op) => [op.key, op]));
	if (ctx.persistent) for (const k of POOL_OPS) if (!pops.has(k)) throw new Error(`the runner model has no pool operation '${k}'`);
	// the runner contexts: NR_RUNNERS per path, path p's numbered from p * NR_RUNNERS
	const N = ctx.persistent ? "NR_CONTEXTS" : "NR_RUNNERS";
	const o = new Out();
	o.line(`/* Generated by mpcheckgen from ${m.specFile}: do not edit. */`);
	o.line(
		ctx.persistent
			? `/* The runner protocol (${m.description}) with persistent runners, run by a pool of threads (${m.pool.doc}), and the async checker's use of them. */`
			: `/* The runner protocol (${m.description}) and the async checker's use of it (a thread per check). */`,
	);
	o.line(`/* Options: ${MODE_OPTIONS[opts.mode].map((k) => `${k}=${opts[k]}`).join(", ")} */`);
	o.line();
	o.line(`/* runner states, in value order; ${m.states.find((s) => s.key === m.initial)!.key} is the initial one */`);
	o.line(`mtype = { ${[...m.states].reverse().map((s) => s.key).join(", ")} };`);
	if (ctx.persistent) {
		o.line("/* what the pool's operations return (enum pool_outcome) */");
		o.line(`mtype = { ${[...m.pool.outcomes].reverse().map((x) => poolOutcome(x.key)).join(", ")} };`);
	}
	o.line();
	if (ctx.persistent) {
		o.line(REACH_TABLE);
		o.line(`#define NR_PATHS ${opts.paths}`);
		o.line(`#define NR_RUNNERS ${opts.runners}\t\t/* per path */`);
		o.line("#define NR_CONTEXTS (NR_PATHS * NR_RUNNERS)");
		o.line("#define NONE NR_CONTEXTS");
	} else {
		o.line(`#define NR_RUNNERS ${opts.runners}`);
		o.line(`#define NONE NR_RUNNERS`);
	}
	o.line(`#define NR_CALLS ${opts.calls}`);
	o.line(`#define WORKER_STEPS ${opts.workerSteps}`);
	o.line(`#define MAX_NR_TIMEOUTS ${m.maxNrTimeouts}`);
	o.line(`#define REFCOUNT_INIT ${opts.refcountInit}`);
	if (ctx.persistent) o.line(`#define NR_THREADS ${opts.threads}`);
	o.line();
	o.line("/* the context memory of each runner */");
	o.line(`bool alive[${N}];\t\t/* allocated, not yet freed */`);
	o.line(`byte freed[${N}];\t\t/* times freed */`);
	o.line(`short refcount[${N}];`);
	o.line(`mtype status[${N}];`);
	o.line(`bool cancel_sent[${N}];`);
	o.line(`bool deadline[${N}];\t\t/* the deadline has passed */`);
	o.line(`bool data[${N}];\t\t/* the worker wrote its complete result into its copy */`);
	o.line(`bool left_worker[${N}];\t/* in the cleanup handler: the worker runs no more */`);
	if (ctx.persistent) {
		o.line("byte thr[NR_CONTEXTS];\t\t/* rctx->thr: the pool thread that took the check */");
		o.line("bool counted[NR_CONTEXTS];\t/* counted in busy[] of its path: taken, not yet DONE or DEAD */");
		o.line("/* the pool threads */");
		o.line("bool cancel_pending[NR_THREADS];\t/* pthread_cancel() sent, not yet acted on */");
		o.line("bool exited[NR_THREADS];");
		o.line("byte cur[NR_THREADS];\t\t/* self->job: the check the thread runs; NONE between checks */");
		o.line("byte tcreated;");
		o.line("byte nexited;");
		o.line("bool tclaimed[NR_THREADS];\t/* self->claimed: taken off the sleepers by a claim, its post owed or made */");
		o.line("byte tsem[NR_THREADS];\t\t/* self->wake's count: posts not yet taken */");
		o.line("/* struct runner_pool: changed only by the holder of its lock, except the threads' semaphores */");
		o.line("byte plock;\t\t\t/* pool.lock: 0 unlocked, else its holder's me */");
		o.line("byte queue[NR_CONTEXTS];\t/* the queued checks, oldest first */");
		o.line("byte qlen;");
		o.line("byte threads;\t\t\t/* threads alive */");
		o.line("byte awake;\t\t\t/* awake with no check, or claimed */");
		o.line("byte sleepers[NR_THREADS];\t/* pool.asleep: the sleeping threads, the one that went to sleep last at sleepers[asleep - 1] */");
		o.line("byte asleep;\t\t\t/* the length of the list */");
		o.line("byte claimed;\t\t\t/* threads claimed, not yet back from their wait (the model's count of tclaimed[]) */");
		o.line("byte to_wake;\t\t\t/* pool.to_wake: the threads claimed (a bit each), posted once the lock is left */");
		o.line("byte users;\t\t\t/* persistent runners not yet released */");
		o.line("bool starved;\t\t\t/* a thread's provide could not start a thread for the checks left queued */");
		o.line("/* what the pool's counts stand for, from where each thread is (kept by the fixed code) */");
		o.line("byte g_awake;\t\t\t/* awake with no check, unclaimed */");
		o.line("byte g_asleep;");
		o.line("byte g_busy;\t\t\t/* with a check, from take to end */");
		o.line("byte busy[NR_PATHS];\t\t/* threads with a check of the path not yet DONE or DEAD */");
	} else {
		o.line("/* the thread of each runner */");
		o.line("bool cancel_pending[NR_RUNNERS];\t/* pthread_cancel() sent, not yet acted on */");
		o.line("bool exited[NR_RUNNERS];");
		o.line("byte nthreads;\t\t\t/* the path's threads whose runner is not yet DONE or DEAD */");
		o.line("bool counted[NR_RUNNERS];\t/* counted in nthreads */");
		o.line("byte nexited;");
	}
	o.line("/* what the caller knows */");
	o.line(`bool timed_out[${N}];\t/* check_runner() returned CANCELLED or DEAD */`);
	if (ctx.persistent) {
		o.line("byte created[NR_PATHS];");
		o.line("byte callers_done;");
	} else {
		o.line("byte created;");
		o.line("bool caller_done;");
	}
	o.line();
	const t = ctx.persistent ? "t" : "r";
	o.line(`/* the worker: WORKER_STEPS steps, then its result; a cancellation point${ctx.persistent ? " of thread t" : ""} before each */`);
	o.line(ctx.persistent ? "inline worker(r, t) {" : "inline worker(r) {").in();
	o.line("steps = 0;");
	o.line("do");
	o.line(`:: atomic { cancel_pending[${t}] -> unwound = 1; ${step(ctx, "thread", "cancelled in the worker")} }; break`);
	o.line(`:: atomic { !cancel_pending[${t}] && steps < WORKER_STEPS -> assert(alive[r]); steps++ }`);
	o.line(`:: atomic { !cancel_pending[${t}] && steps == WORKER_STEPS -> assert(alive[r]); data[r] = 1; ${step(ctx, "thread", "worker returned its result")} }; break`);
	o.line("od");
	o.out().line("}").line();
	o.line("/* put_runner(): the last reference frees the context */");
	o.line("inline put(r, who) {").in();
	o.line("atomic {").in();
	o.line("assert(alive[r]);");
	o.line("refcount[r]--;");
	o.line("assert(refcount[r] >= 0);");
	o.line("if");
	o.line(`:: refcount[r] == 0 -> alive[r] = 0; freed[r]++; assert(freed[r] == 1); printf("${STEP_PREFIX}%e r%d: put, freed\\n", who, r)`);
	o.line(`:: else -> printf("${STEP_PREFIX}%e r%d: put, %d left\\n", who, r, refcount[r])`);
	o.line("fi");
	o.out().line("}");
	o.out().line("}").line();
	if (!ctx.persistent) {
		o.line("/* the thread no longer counts: it cannot be stuck any more */");
		o.line("inline uncount(r) {").in();
		o.line("if :: counted[r] -> counted[r] = 0; nthreads-- :: else -> skip fi");
		o.out().line("}").line();
	}
	o.line("mtype = { caller, thread };").line();
	if (ctx.persistent) poolFixed(o, ctx);
	for (const k of ["cancel", "poll"] as const) opInline(o, ctx, ops.get(k)!);
	for (const k of ["start", "finish"] as const) opInline(o, ctx, ops.get(k)!);

	if (ctx.persistent) {
		for (const k of POOL_OPS) poolOpInline(o, ctx, pops.get(k)!, k === "take" ? TAKE_TAIL(ctx) : []);
		poolThread(o, ctx);
		poolCaller(o, ctx);
	} else {
		o.line("/* runner_thread(): the worker under a cleanup handler */");
		o.line("proctype runner_thread(byte r) {").in();
		o.line("mtype state, ret; bool ok, unwound; byte steps;");
		o.line("op_start(r, ret);");
		o.line("/* runner_cleanup(): cancellation disabled from here on */");
		o.line(`atomic { left_worker[r] = 1; ${step(ctx, "thread", "cleanup handler")} };`);
		o.line("op_finish(r, ret);");
		o.line("atomic { uncount(r) };");
		o.line("put(r, thread);");
		o.line(`atomic { exited[r] = 1; nexited++; ${step(ctx, "thread", "exits")} }`);
		o.out().line("}").line();

		o.line("/* get_runner(): the thread's reference is counted before it starts */");
		o.line("inline get_runner(r) {").in();
		o.line("atomic {").in();
		o.line("if");
		o.line(":: created < NR_RUNNERS ->").in();
		o.line("r = created; created++;");
		o.line("alive[r] = 1; refcount[r] = REFCOUNT_INIT; status[r] = IDLE;");
		o.line("nthreads++; counted[r] = 1;");
		o.line("assert(nthreads <= MAX_NR_TIMEOUTS + 1);");
		o.line(`${step(ctx, "caller", "get_runner, thread started")};`);
		o.line("run runner_thread(r)");
		o.out().line(`:: else -> r = NONE; printf("${STEP_PREFIX}caller: get_runner fails, the check runs synchronously\\n")`);
		o.line("fi");
		o.out().line("}");
		o.out().line("}").line();
	}
	o.line("/* check_runner(): the data is copied only in DONE */");
	o.line("inline check_runner(r, copy, ret) {").in();
	o.line("op_poll(r, ret);");
	o.line("if");
	o.line(":: ret == DONE && copy -> atomic { assert(alive[r]); assert(data[r]); got = r }");
	o.line(":: ret == DEAD -> assert(left_worker[r]); timed_out[r] = 1");
	o.line(":: ret == CANCELLED -> timed_out[r] = 1");
	o.line(":: else -> skip");
	o.line("fi");
	o.out().line("}").line();
	o.line("inline release_runner(r) {").in();
	o.line(`${step(ctx, "caller", "release_runner")};`);
	o.line("op_cancel(r, ret);");
	o.line("put(r, caller)");
	o.out().line("}").line();
	o.line("/* reap_abandoned(): release the abandoned runners that are no longer CANCELLED */");
	o.line("inline reap_abandoned() {").in();
	o.line("i = 0;");
	o.line("do");
	o.line(":: i < MAX_NR_TIMEOUTS ->").in();
	o.line("if");
	o.line(":: abandoned[i] != NONE ->").in();
	o.line("check_runner(abandoned[i], 0, ret);");
	o.line("if");
	o.line(":: ret != CANCELLED -> release_runner(abandoned[i]); abandoned[i] = NONE");
	o.line(":: else -> skip");
	o.line("fi");
	o.out().line(":: else -> skip");
	o.line("fi;");
	o.line("i++");
	o.out().line(":: else -> break");
	o.line("od");
	o.out().line("}").line();
	o.line("/* the path's result: only from DONE, never a late one */");
	o.line("inline report(r) {").in();
	o.line("assert(got == r && !timed_out[r]);");
	o.line(`printf("${STEP_PREFIX}caller r%d: result reported as the path's state\\n", r);`);
	o.line("got = NONE");
	o.out().line("}").line();
	if (ctx.persistent) {
		o.line("/* the async checker of path p: NR_CALLS checks, then async_check_free() */");
		o.line("proctype checker(byte p) {").in();
		o.line("mtype state, ret, po; bool ok, fresh, user; byte i, calls, got = NONE, rctx = NONE, owed, nt, me = p + 1; mtype who = caller;");
	} else {
		o.line("/* the async checker of one path: NR_CALLS checks, then async_check_free() */");
		o.line("proctype checker() {").in();
		o.line("mtype state, ret; bool ok, fresh; byte i, calls, got = NONE, rctx = NONE;");
	}
	o.line("byte abandoned[MAX_NR_TIMEOUTS + 1];\t/* + 1: Promela has no empty arrays */");
	o.line("i = 0;");
	o.line("do :: i <= MAX_NR_TIMEOUTS -> abandoned[i] = NONE; i++ :: else -> break od;");
	o.line("do");
	o.line(":: calls < NR_CALLS ->").in();
	o.line("calls++;");
	o.line("/* time passes: the deadline of the runner in flight may expire */");
	o.line("if");
	o.line(`:: rctx != NONE && !deadline[rctx] -> deadline[rctx] = 1; ${say("caller r%d", ["rctx"], "deadline passes")}`);
	o.line(":: else -> skip");
	o.line("fi;");
	o.line("/* async_check_check(), or async_check_pending() with a check in flight; DEAD: a fresh check at once */");
	o.line("fresh = (rctx == NONE);");
	o.line("do");
	o.line(":: reap_abandoned();").in();
	o.line("if");
	o.line(":: fresh -> get_runner(rctx); break");
	o.line(":: else ->").in();
	o.line("check_runner(rctx, 1, ret);");
	o.line("if");
	o.line(":: ret == DONE -> report(rctx); release_runner(rctx); rctx = NONE; break");
	o.line(":: ret == CANCELLED ->").in();
	o.line("/* abandon_runner(): a free slot, or keep it and wait */");
	o.line("i = 0;");
	o.line("do");
	o.line(`:: i < MAX_NR_TIMEOUTS && abandoned[i] == NONE -> atomic { abandoned[i] = rctx; ${say("caller r%d", ["rctx"], "timed out, abandoned")};${reach(ctx, "timed out, abandoned")} rctx = NONE }; break`);
	o.line(":: i < MAX_NR_TIMEOUTS && abandoned[i] != NONE -> i++");
	o.line(`:: i == MAX_NR_TIMEOUTS -> atomic { ${say("caller r%d", ["rctx"], "timed out, kept and waited for")};${reach(ctx, "timed out, kept and waited for")} skip }; break`);
	o.line("od;");
	o.line("break");
	o.out().line(":: ret == DEAD -> release_runner(rctx); rctx = NONE; fresh = 1");
	o.line(":: else -> break");
	o.line("fi");
	o.out().line("fi");
	o.out().line("od");
	o.out().line(":: else -> break");
	o.line("od;");
	o.line("/* async_check_free() */");
	o.line("if :: rctx != NONE -> release_runner(rctx) :: else -> skip fi;");
	o.line("i = 0;");
	o.line("do");
	o.line(":: i < MAX_NR_TIMEOUTS -> if :: abandoned[i] != NONE -> release_runner(abandoned[i]) :: else -> skip fi; i++");
	o.line(":: else -> break");
	o.line("od;");
	if (ctx.persistent) {
		o.line("release_persistent_runner();");
		o.line(`callers_done++; ${say("caller p%d", ["p"], "async_check_free done")}`);
	} else o.line(`caller_done = 1; printf("${STEP_PREFIX}caller: async_check_free done\\n")`);
	o.out().line("}").line();
	o.line("init {").in();
	o.line("byte j;");
	if (ctx.persistent) {
		o.line("atomic { do :: j < NR_PATHS -> run checker(j); j++ :: else -> break od; j = 0 };");
		o.line("/* every thread ends once no persistent runner is left, the queue is empty, every context is freed exactly once */");
		o.line("(callers_done == NR_PATHS && nexited == tcreated);");
		o.line("/* a check left queued (no thread could be started for it) is never run: counted as its free */");
		o.line(
			`do :: qlen > 0 -> assert(starved); qlen--; j = queue[qlen]; assert(alive[j] && refcount[j] == 1); freed[j]++; ${say("queue r%d", ["j"], "left queued for good")};${reach(ctx, "a check left queued for good")} :: else -> break od;`,
		);
		o.line("j = 0;");
		o.line("assert(plock == 0);");
		o.line("assert(threads == 0 && awake == 0 && asleep == 0 && claimed == 0 && to_wake == 0 && users == 0);");
		o.line("do");
		o.line(":: j < NR_THREADS -> assert(tsem[j] == 0 && !tclaimed[j]); j++");
		o.line(":: else -> break");
		o.line("od;");
		o.line("j = 0;");
		o.line("do");
		o.line(":: j < NR_CONTEXTS -> assert(freed[j] == (j % NR_RUNNERS < created[j / NR_RUNNERS])); j++");
		o.line(":: else -> break");
		o.line("od");
	} else {
		o.line("run checker();");
		o.line("/* every thread ends and every context is freed exactly once */");
		o.line("(caller_done && nexited == created);");
		o.line("do");
		o.line(":: j < created -> assert(freed[j] == 1); j++");
		o.line(":: else -> break");
		o.line("od");
	}
	o.out().line("}");
	const text = o.toString();
	if (!ctx.persistent) return text;
	// the coverage points' names, for reach(): pan prints each the first time
	const table = [
		"/* coverage: pan prints \"REACHED <point>\" the first time its search reaches a point */",
		"c_code {",
		`static const char *const reach_name[${ctx.reached.length}] = {`,
		...ctx.reached.map((l) => `\t"${l.replace(/["\\]/g, "\\$&")}",`),
		"};",
		`static char reach_seen[${ctx.reached.length}];`,
		"static void reach(int k)",
		"{",
		"\tif (!reach_seen[k]) {",
		"\t\treach_seen[k] = 1;",
		`\t\tprintf("${REACHED_PREFIX}%s\\n", reach_name[k]);`,
		"\t}",
		"}",
		"}",
		"",
	].join("\n");
	return text.replace(`${REACH_TABLE}\n`, table);
}
