// A Promela model of the runner protocol and of the async checker's use of
// it, for spin, in either of the async checker's modes: a thread per check
// (ASYNC_THREAD_PER_CHECK) or the path's persistent runner (the default).
// The state-machine cases of start, finish, cancel and poll, and those of
// the persistent worker's submit, take, end and release, come from the
// RunnerModel (the one runner.c is lowered from), one branch per case; the
// fixed parts of runner.c.hbs and async_checker.c.hbs (the thread start,
// the reference counts, the context memory, the worker's lock and semaphore,
// the caller's check/pending/reap/abandon logic) are written here
// once, as the templates write them in C. pthread_cancel() is a pending
// flag that the thread acts on at its cancellation points (the worker's
// steps); the cleanup handler runs with cancellation disabled.
//
// Properties, as assertions (safety run), invalid end states (a deadlock,
// a thread left waiting) and the absence of non-progress cycles (the -l
// run, weak fairness):
// - the reference count never goes below zero, the context is freed
//   exactly once, and nothing touches it after the free; the same for a
//   persistent runner (nothing locks, waits on, posts to or changes a freed
//   one; it is destroyed unlocked, with no thread waiting);
// - check_runner() reports DEAD only once the thread has left the worker;
// - a result is reported only from DONE, complete, and never from a runner
//   the caller has already seen time out;
// - pthread_cancel() never targets a thread that has exited, nor a worker
//   thread that has gone on to another check;
// - never more than MAX_NR_TIMEOUTS + 1 threads per path;
// - every thread ends and every context is freed (no spinning forever, no
//   thread waiting for a wake-up that never comes).
//
// The model is bounded: one path, NR_RUNNERS runners (checks) created in
// all, NR_CALLS checker calls, WORKER_STEPS cancellation points per worker;
// with persistent runners NR_THREADS threads and NR_WORKERS persistent
// runners created in all.
import type {
	PersistentCaseModel,
	PersistentOperationModel,
	RunnerCaseModel,
	RunnerModel,
	RunnerOperationModel,
} from "../model/types.ts";

export type PromelaMode = "threadPerCheck" | "persistent";

export interface PromelaOptions {
	/** Which runners the async checker uses: a thread per check, or the path's persistent runner. */
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
	/** Runners created per path in all (3 and 5 calls: one abandoned, one kept, the fresh one after DEAD) (get_runner fails after that: the check runs synchronously). */
	readonly runners?: number;
	/** async_check_check() calls of the caller before async_check_free(). */
	readonly calls?: number;
	/** Steps in a worker between its cancellation points (default 1; 0 with persistent runners, whose state space is the larger). */
	readonly workerSteps?: number;
	/** Persistent: threads started in all (start_worker() fails after that). */
	readonly threads?: number;
	/** Persistent: persistent runners created in all (new_worker() fails after that). */
	readonly workers?: number;
	/**
	 * Persistent, a mutant when false: get_persistent_runner() calls
	 * persistent_submit() without the worker's lock, its load of the state
	 * and the change it makes from it two steps.
	 */
	readonly submitLocked?: boolean;
}

const DEFAULTS: Required<PromelaOptions> = {
	mode: "threadPerCheck",
	refcountInit: 2,
	stateChange: "cas",
	deadAfterCancel: false,
	runners: 3,
	calls: 5,
	workerSteps: 1,
	threads: 3,
	workers: 2,
	submitLocked: true,
};

/** The options a mode's model is written with: those of the other mode left out of its header. */
const MODE_OPTIONS: Record<PromelaMode, readonly (keyof PromelaOptions)[]> = {
	threadPerCheck: ["mode", "refcountInit", "stateChange", "deadAfterCancel", "runners", "calls", "workerSteps"],
	persistent: ["mode", "refcountInit", "stateChange", "deadAfterCancel", "runners", "calls", "workerSteps", "threads", "workers", "submitLocked"],
};

/** The model files `mpcheckgen model` writes, one per mode. */
export const PROMELA_FILES: Readonly<Record<PromelaMode, string>> = { threadPerCheck: "runner.pml", persistent: "persistent.pml" };

/** The operations the fixed code calls, and where: the caller's are inlines, the thread's run in its proctype. */
const OPS = ["start", "finish", "cancel", "poll"] as const;
const PERSISTENT_OPS = ["submit", "take", "end", "release"] as const;
/** The worker states the fixed code of runner.c names (besides the initial one). */
const PERSISTENT_STATES = ["WAITING", "QUEUED", "BUSY"] as const;

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

/** A step of a persistent worker's operation: "caller w0: …", "thread t0 w0: …". */
function wstep(actor: string, text: string, args: readonly string[] = []): string {
	return actor === "thread" ? say("thread t%d w%d", ["self", "w"], text, args) : say("caller w%d", ["w"], text, args);
}

const pstate = (key: string) => `PERSISTENT_${key}`;

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
		// a thread per check counts until its runner reaches a terminal state: then only put_runner() and the exit are left
		const uncount = actor === "thread" && c.to.terminal && !ctx.persistent ? "uncount(r); " : "";
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
				// rctx->thr: the runner's own thread, or the worker thread that took the check
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

// ------------------------------------------------------- the persistent worker

function persistentCondition(key: string): string {
	switch (key) {
		case "released":
			return "released[w]";
		case "idleExpired":
			return "idle_passed[w]";
		case "checkCancelled":
			return "check_state[w] != DONE";
	}
	throw new Error(`the Promela emitter does not know worker condition '${key}'`);
}

/**
 * The text the model prints for a worker case, after "caller w0: " or
 * "thread t1 w0: ": "submit in WAITING -> QUEUED / handOver, wakeOnUnlock",
 * "take in WAITING: waits for work".
 */
export function persistentCaseText(op: PersistentOperationModel, c: PersistentCaseModel): string {
	if (c.await) return `${op.key} in ${c.from.key}: waits for ${c.await.key}`;
	const guard = c.when ? ` [${c.when.key}]` : "";
	const to = c.to ? ` -> ${c.to.key}` : "";
	const eff = c.effects.length > 0 ? ` / ${c.effects.map((e) => e.key).join(", ")}` : "";
	const ret = c.returns !== (c.to ?? c.from) ? `, returns ${c.returns.key}` : "";
	return `${op.key} in ${c.from.key}${guard}${to}${eff}${ret}`;
}

/** One case of a worker operation, inside the operation's atomic step (the worker's lock held). */
function persistentCaseBody(o: Out, ctx: Ctx, op: PersistentOperationModel, c: PersistentCaseModel): void {
	if (c.await) {
		if (c.await.key !== "work") throw new Error(`the Promela emitter does not know worker wait '${c.await.key}'`);
		o.line(`${wstep(op.actor, persistentCaseText(op, c))};${reach(ctx, persistentCaseText(op, c))} pnext = 1`);
		return;
	}
	o.line(`${wstep(op.actor, persistentCaseText(op, c))};`);
	if (c.to) o.line(`wstate[w] = ${pstate(c.to.key)};`);
	let started = false;
	for (const e of c.effects) {
		switch (e.key) {
			case "handOver":
				o.line("assert(alive[r]); job[w] = r;");
				break;
			case "startThread":
				o.line("start_worker(w, ret);");
				started = true;
				break;
			case "wakeThread":
				o.line("post(w);");
				break;
			case "wakeOnUnlock":
				o.line("wake_on_unlock[w] = 1;");
				break;
			case "armIdle":
				o.line("idle_passed[w] = 0;");
				break;
			case "markReleased":
				o.line("released[w] = 1;");
				break;
			default:
				throw new Error(`the Promela emitter does not know worker effect '${e.key}'`);
		}
	}
	if (!started) o.line(`ret = ${pstate(c.returns.key)};${reach(ctx, persistentCaseText(op, c))}`);
	else o.line(`skip /* start_worker() returns the state */;${reach(ctx, persistentCaseText(op, c))}`);
}

function persistentCases(o: Out, ctx: Ctx, op: PersistentOperationModel, cases: readonly PersistentCaseModel[], i: number): void {
	const c = cases[i];
	if (c.when) {
		o.line("if");
		o.line(`:: ${persistentCondition(c.when.key)} ->`).in();
		persistentCaseBody(o, ctx, op, c);
		o.out().line(":: else ->").in();
		if (i + 1 < cases.length) persistentCases(o, ctx, op, cases, i + 1);
		else o.line("ret = pstate");
		o.out().line("fi");
		return;
	}
	persistentCaseBody(o, ctx, op, c);
}

/**
 * A worker operation: called with the worker's lock held, so each call is
 * one atomic step (the lock excludes every other access to the worker).
 * An operation with a case that waits is the thread's: the step takes the
 * lock unless the thread holds it already (when it starts, and after a
 * wait), and a waiting case leaves the step: the thread then leaves the
 * lock and enters the wait on the semaphore (sem_clockwait()) in a step of
 * its own (one step: a post between the two is counted all the same), takes
 * a post or times out, and looks at the state again with the lock taken.
 * `tail` runs at the end of the step that returns.
 */
function persistentOpInline(o: Out, ctx: Ctx, op: PersistentOperationModel, tail: readonly string[] = []): void {
	const waits = op.byState.some((g) => g.cases.some((c) => c.await));
	if (waits && op.actor !== "thread") throw new Error(`the Promela emitter needs the worker operation '${op.key}' that waits to be the thread's`);
	o.line(`/* persistent_${op.key}(): ${op.doc} (pr->lock held) */`);
	o.line(`inline p_${op.key}(w, ${op.key === "submit" ? "r, " : ""}ret) {`).in();
	if (waits) {
		o.line("do");
		o.line(":: atomic {").in().in();
		o.line("(wlock[w] == me || (wlock[w] == 0 && !waiting[w]) || !walive[w]) -> assert(walive[w]); wlock[w] = me;");
	} else if (op.key === "submit" && !ctx.opts.submitLocked) {
		// without the lock nothing keeps the state from changing between its load and the change made from it
		o.line(`atomic { assert(walive[w]); pstate = wstate[w]; ${wstep(op.actor, "submit without the lock: loads %e", ["pstate"])} };`);
		o.line("atomic {").in();
		o.line("assert(walive[w]);");
	} else {
		o.line("atomic {").in();
		o.line("assert(walive[w]);");
	}
	if (op.key !== "submit" || ctx.opts.submitLocked) o.line(`pstate = wstate[w];${waits ? " pnext = 0;" : ""}`);
	o.line("if");
	for (const g of op.byState) {
		o.line(`:: pstate == ${pstate(g.state.key)} ->`).in();
		persistentCases(o, ctx, op, g.cases, 0);
		o.out();
	}
	o.line(`:: else -> ${wstep(op.actor, `${op.key} in %e: unexpected, no change`, ["pstate"])}; ret = pstate`);
	o.line(tail.length > 0 ? "fi;" : "fi");
	if (tail.length > 0) {
		if (waits) o.line("if :: !pnext ->").in();
		for (const t of tail) o.line(t);
		if (waits) o.out().line(":: else -> skip fi");
	}
	if (waits) {
		o.out().line("};");
		o.line(`if :: pnext -> atomic { assert(walive[w]); assert(wlock[w] == me); waiting[w] = 1; wlock[w] = 0; ${wstep("thread", "leaves the lock, waits on pr->wake")} } :: else -> break fi`).out();
		o.line("/* sem_clockwait() takes a post; one taken with no check queued and no release is left from an earlier wait that timed out */");
		o.line(
			`:: atomic { waiting[w] && posted[w] > 0 -> assert(walive[w]); posted[w]--; waiting[w] = 0; ` +
				`if :: wstate[w] == ${pstate("WAITING")} && !released[w] -> ${wstep("thread", "takes a post left from an earlier wait: looks again")};${reach(ctx, "a post left from an earlier wait wakes the thread")} ` +
				`:: else -> ${wstep("thread", "takes the post")};${reach(ctx, "a post wakes the thread")} fi }`,
		);
		o.line("/* the idle time passes: sem_clockwait() times out (never with a post to take) */");
		o.line(
			`:: atomic { waiting[w] && posted[w] == 0 && walive[w] && wstate[w] == ${pstate("WAITING")} -> waiting[w] = 0; idle_passed[w] = 1; timed_out_wait = 1; ${wstep("thread", "the idle time passes")};${reach(ctx, "the idle time passes")} }`,
		);
		o.line("od");
	} else o.out().line("}");
	o.out().line("}").line();
}

/** The fixed parts of runner.c's persistent runner: its lock, its semaphore, start_worker() and free_worker(). */
function persistentFixed(o: Out, ctx: Ctx): void {
	const initial = pstate(ctx.m.persistent.initial.key);
	o.line("/* pthread_mutex_lock(&pr->lock); me: 1 the caller, 2 + t thread t */");
	o.line("inline lock(w) {").in();
	o.line("atomic { (wlock[w] == 0 || !walive[w]) -> assert(walive[w]); wlock[w] = me }");
	o.out().line("}").line();
	o.line("inline unlock(w) {").in();
	o.line("atomic { assert(walive[w]); assert(wlock[w] == me); wlock[w] = 0 }");
	o.out().line("}").line();
	o.line("/*");
	o.line(" * sem_post(&pr->wake): counted, whether the thread waits yet or not. It");
	o.line(" * never counts more than three: one left from a wait that timed out as the");
	o.line(" * check was submitted, the next check's, and the release's.");
	o.line(" */");
	o.line("inline post(w) {").in();
	o.line("atomic {").in();
	o.line("assert(walive[w]);");
	o.line("posted[w]++;");
	o.line("assert(posted[w] <= 3);");
	o.line(
		`if :: waiting[w] -> ${say("%e w%d", ["who", "w"], "posts, the thread waits")};${reach(ctx, "a post to a waiting thread")} :: else -> ${say("%e w%d", ["who", "w"], "posts, the thread does not wait: counted")};${reach(ctx, "a post before the thread waits")} fi`,
	);
	o.out().line("}");
	o.out().line("}").line();
	o.line("/*");
	o.line(" * await_work(), in p_take: leaves the lock, sem_clockwait() until a post");
	o.line(" * or the idle time has passed, takes the lock again. The idle time is");
	o.line(" * longer than a check's timeout: it passes only while no check is");
	o.line(" * queued, so a queued check is never rescued by it from a lost wake-up.");
	o.line(" * (EINTR and other spurious returns are left out: every wait looks at the");
	o.line(" * state again.)");
	o.line(" */").line();
	o.line("/* start_worker(): a fresh thread, or the check taken back */");
	o.line("inline start_worker(w, ret) {").in();
	o.line("if");
	o.line(":: tcreated < NR_THREADS ->").in();
	o.line("nt = tcreated; tcreated++;");
	o.line("nthreads++; counted[nt] = 1; cur[nt] = NONE;");
	o.line("assert(nthreads <= MAX_NR_TIMEOUTS + 1);");
	o.line(`${wstep("caller", "thread t%d started", ["nt"])};${reach(ctx, `the last thread (NR_THREADS) started`, `now.tcreated == ${ctx.opts.threads}`)}`);
	o.line("run worker_thread(w, nt);");
	o.line("ret = wstate[w]");
	o.out().line(`:: else -> job[w] = NONE; wstate[w] = ${initial}; ret = ${initial}; ${wstep("caller", "cannot start a thread: the check is taken back")};${reach(ctx, "cannot start a thread")}`);
	o.line("fi");
	o.out().line("}").line();
	o.line("/* free_worker(): destroys the lock and the semaphore (a post may be left in it), frees the worker */");
	o.line("inline free_worker(w) {").in();
	o.line(
		`atomic { assert(walive[w]); assert(wlock[w] == 0); assert(!waiting[w]); walive[w] = 0; wfreed[w]++; assert(wfreed[w] == 1); ${say("%e w%d", ["who", "w"], "frees the worker")} }`,
	);
	o.out().line("}").line();
	o.line("/* the thread no longer counts: it ends, with nothing left to run */");
	o.line("inline uncount(t) {").in();
	o.line("if :: counted[t] -> counted[t] = 0; nthreads-- :: else -> skip fi");
	o.out().line("}").line();
}

/**
 * What worker_thread() does with what persistent_take() returned, in the
 * same step (the lock still held): BUSY, it takes the check and leaves the
 * lock to run it; else it leaves the lock to end.
 */
function TAKE_TAIL(ctx: Ctx): string[] {
	return [
		"if",
		`:: ret == ${pstate("BUSY")} -> r = job[w]; assert(r != NONE); assert(alive[r]); thr[r] = self; cur[self] = r; unlock(w); ${step(ctx, "thread", "takes the check")};`,
		`   if :: timed_out_wait -> timed_out_wait = 0;${reach(ctx, "a check submitted as the idle time passed is taken")} :: else -> skip fi`,
		":: else -> rel = released[w]; uncount(self); unlock(w); timed_out_wait = 0",
		"fi",
	];
}

/** worker_thread(): takes checks one after the other, runs each with cancellation enabled, ends on NONE. */
function persistentThread(o: Out, ctx: Ctx): void {
	o.line("inline thread_exit() {").in();
	o.line(`atomic { uncount(self); exited[self] = 1; nexited++; ${say("thread t%d", ["self"], "exits")} }`);
	o.out().line("}").line();
	o.line("/*");
	o.line(" * The thread takes the lock and ends its check (end_check()), leaving the");
	o.line(" * lock if the thread ends too. What it does under the lock is one step");
	o.line(" * with taking it, except runner_finish(), whose steps race with the caller.");
	o.line(" */");
	o.line("inline end_check(w, r, pret) {").in();
	o.line(
		`atomic { (wlock[w] == 0 || !walive[w]) -> assert(walive[w]); wlock[w] = me; assert(alive[r]); left_worker[r] = 1; ${step(ctx, "thread", "takes the lock, the check's cleanup")} };`,
	);
	o.line("op_finish(r, ret);");
	o.line("atomic {").in();
	o.line("assert(walive[w]); check_state[w] = ret; job[w] = NONE; cur[self] = NONE;");
	o.line("p_end(w, pret);");
	o.line(`if :: pret != ${pstate("WAITING")} -> rel = released[w]; uncount(self); unlock(w) :: else -> skip fi`);
	o.out().line("};");
	o.line("/* the thread that ends a released worker frees it; then it drops its reference and exits (one step: nothing of it is seen between) */");
	o.line(`if :: pret != ${pstate("WAITING")} -> atomic { if :: rel -> free_worker(w);${reach(ctx, "a thread ending a check frees its worker")} :: else -> skip fi; put(r, who); thread_exit() } :: else -> put(r, who) fi`);
	o.out().line("}").line();

	o.line("/* worker_thread(): the lock is taken by p_take as it starts */");
	o.line("proctype worker_thread(byte w; byte self) {").in();
	o.line("mtype state, ret, pstate, pret; bool ok, unwound, rel, pnext, timed_out_wait; byte steps, r, me; mtype who = thread;");
	o.line("me = self + 2;");
	o.line("do");
	o.line(":: p_take(w, pret);").in();
	o.line(`if :: pret != ${pstate("BUSY")} -> atomic { if :: rel -> free_worker(w);${reach(ctx, "a thread ending in take frees its worker")} :: else -> skip fi; thread_exit() }; break :: else -> skip fi;`);
	o.line("/* run_check(): cancellation enabled around the worker only */");
	o.line("op_start(r, ret);");
	o.line("/* end_check(), in check_cancelled() (the cleanup handler, after which the thread exits) when the worker was cancelled */");
	o.line("end_check(w, r, pret);");
	o.line(`if :: pret != ${pstate("WAITING")} -> break :: pret == ${pstate("WAITING")} && unwound -> thread_exit(); break /* with the lock held */ :: else -> skip fi`);
	o.out().line("od");
	o.out().line("}").line();
}

/** get_persistent_runner(): a check's runner, handed to the path's worker; a busy worker is left to its thread and replaced. */
function persistentGet(o: Out, ctx: Ctx): void {
	const initial = pstate(ctx.m.persistent.initial.key);
	const locked = ctx.opts.submitLocked;
	o.line("/* get_persistent_runner(): r = NONE when it fails (the check runs synchronously) */");
	o.line("inline get_runner(r) {").in();
	o.line("atomic {").in();
	o.line("if");
	o.line(":: created < NR_RUNNERS ->").in();
	o.line("r = created; created++;");
	o.line("alive[r] = 1; refcount[r] = REFCOUNT_INIT; status[r] = IDLE;");
	o.line(`${say("caller r%d", ["r"], "new_runner")}`);
	o.out().line(`:: else -> r = NONE; ${say("caller", [], "new_runner fails, the check runs synchronously")}`);
	o.line("fi");
	o.out().line("};");
	o.line("if");
	o.line(":: r != NONE ->").in();
	o.line("queued = 0;");
	o.line("do");
	o.line(":: atomic {").in();
	o.line("if");
	o.line(":: pw == NO_WORKER && wcreated < NR_WORKERS ->").in();
	o.line(`pw = wcreated; wcreated++; walive[pw] = 1; wstate[pw] = ${initial}; job[pw] = NONE; check_state[pw] = IDLE; posted[pw] = 0;`);
	o.line(say("caller w%d", ["pw"], "new_worker"));
	o.out().line(`:: pw == NO_WORKER && wcreated == NR_WORKERS -> ${say("caller", [], "new_worker fails")};${reach(ctx, "new_worker fails")}`);
	o.line(":: else -> skip");
	o.line("fi");
	o.out().line("};");
	o.line("if :: pw == NO_WORKER -> break :: else -> skip fi;");
	o.line("/* under the lock: submit; queued: whether to wake the thread; busy: leave the worker to its thread */");
	if (locked) {
		o.line("atomic {").in();
		o.line("lock(pw); p_submit(pw, r, pret);");
		o.line("if");
		o.line(`:: pret == ${pstate("QUEUED")} -> wake = wake_on_unlock[pw]; wake_on_unlock[pw] = 0`);
		o.line(`:: pret == ${pstate("BUSY")} -> p_release(pw, prel)`);
		o.line(":: else -> skip");
		o.line("fi;");
		o.line("unlock(pw)");
		o.out().line("};");
	} else {
		o.line("p_submit(pw, r, pret); /* a mutant: without the lock */");
		o.line("if");
		o.line(`:: pret == ${pstate("QUEUED")} -> atomic { wake = wake_on_unlock[pw]; wake_on_unlock[pw] = 0 }`);
		o.line(`:: pret == ${pstate("BUSY")} -> atomic { lock(pw); p_release(pw, prel); unlock(pw) }`);
		o.line(":: else -> skip");
		o.line("fi;");
	}
	o.line("if");
	o.line(`:: pret == ${pstate("QUEUED")} -> if :: wake -> post(pw) :: else -> skip fi; queued = 1; break`);
	o.line(`:: pret == ${pstate("BUSY")} -> if :: prel == ${initial} -> free_worker(pw) :: else -> skip fi; pw = NO_WORKER`);
	o.line(":: else -> break /* no thread could be started */");
	o.line("fi");
	o.line("od;");
	o.line(
		`if :: !queued -> atomic { assert(alive[r]); alive[r] = 0; freed[r]++; assert(freed[r] == 1); ${say("caller r%d", ["r"], "free(rctx), the check runs synchronously")}; r = NONE } :: else -> skip fi`,
	);
	o.out().line(":: else -> skip");
	o.line("fi");
	o.out().line("}").line();
	o.line("/* release_persistent_runner() */");
	o.line("inline release_worker(w) {").in();
	o.line("atomic { lock(w); p_release(w, pret); unlock(w) };");
	o.line(`if :: pret == ${initial} -> free_worker(w);${reach(ctx, "the caller frees the worker")} :: else -> skip fi`);
	o.out().line("}").line();
}

/** The Promela model of the runner protocol for a runner model. */
export function emitPromela(m: RunnerModel, options: PromelaOptions = {}): string {
	const persistent = options.mode === "persistent";
	const opts: Required<PromelaOptions> = { ...DEFAULTS, ...(persistent ? { workerSteps: 0 } : {}), ...options };
	const ctx: Ctx = { m, opts, persistent, reached: [] };
	const ops = new Map(m.operations.map((op) => [op.key, op]));
	for (const k of OPS) if (!ops.has(k)) throw new Error(`the runner model has no operation '${k}'`);
	for (const k of ["IDLE", "RUNNING", "DONE", "CANCELLED", "DEAD"]) {
		if (!m.states.some((s) => s.key === k)) throw new Error(`the runner model has no state ${k}`);
	}
	const pops = new Map(m.persistent.operations.map((op) => [op.key, op]));
	if (ctx.persistent) {
		for (const k of PERSISTENT_OPS) if (!pops.has(k)) throw new Error(`the runner model has no worker operation '${k}'`);
		for (const k of PERSISTENT_STATES) if (!m.persistent.states.some((s) => s.key === k)) throw new Error(`the runner model has no worker state ${k}`);
	}
	const o = new Out();
	o.line(`/* Generated by mpcheckgen from ${m.specFile}: do not edit. */`);
	o.line(
		ctx.persistent
			? `/* The runner protocol (${m.description}) with persistent runners (${m.persistent.doc}), and the async checker's use of them. */`
			: `/* The runner protocol (${m.description}) and the async checker's use of it (a thread per check). */`,
	);
	o.line(`/* Options: ${MODE_OPTIONS[opts.mode].map((k) => `${k}=${opts[k]}`).join(", ")} */`);
	o.line();
	o.line(`/* runner states, in value order; ${m.states.find((s) => s.key === m.initial)!.key} is the initial one */`);
	o.line(`mtype = { ${[...m.states].reverse().map((s) => s.key).join(", ")} };`);
	if (ctx.persistent) {
		o.line(`/* worker states (enum persistent_state); ${pstate(m.persistent.initial.key)} is the initial one */`);
		o.line(`mtype = { ${[...m.persistent.states].reverse().map((s) => pstate(s.key)).join(", ")} };`);
	}
	o.line();
	if (ctx.persistent) o.line(REACH_TABLE);
	o.line(`#define NR_RUNNERS ${opts.runners}`);
	o.line(`#define NONE NR_RUNNERS`);
	o.line(`#define NR_CALLS ${opts.calls}`);
	o.line(`#define WORKER_STEPS ${opts.workerSteps}`);
	o.line(`#define MAX_NR_TIMEOUTS ${m.maxNrTimeouts}`);
	o.line(`#define REFCOUNT_INIT ${opts.refcountInit}`);
	if (ctx.persistent) {
		o.line(`#define NR_THREADS ${opts.threads}`);
		o.line(`#define NR_WORKERS ${opts.workers}`);
		o.line(`#define NO_WORKER NR_WORKERS`);
	}
	o.line();
	o.line("/* the context memory of each runner */");
	o.line("bool alive[NR_RUNNERS];\t\t/* allocated, not yet freed */");
	o.line("byte freed[NR_RUNNERS];\t\t/* times freed */");
	o.line("short refcount[NR_RUNNERS];");
	o.line("mtype status[NR_RUNNERS];");
	o.line("bool cancel_sent[NR_RUNNERS];");
	o.line("bool deadline[NR_RUNNERS];\t\t/* the deadline has passed */");
	o.line("bool data[NR_RUNNERS];\t\t/* the worker wrote its complete result into its copy */");
	o.line("bool left_worker[NR_RUNNERS];\t/* in the cleanup handler: the worker runs no more */");
	if (ctx.persistent) {
		o.line("byte thr[NR_RUNNERS];\t\t/* rctx->thr: the worker thread that took the check */");
		o.line("/* the worker threads */");
		o.line("bool cancel_pending[NR_THREADS];\t/* pthread_cancel() sent, not yet acted on */");
		o.line("bool exited[NR_THREADS];");
		o.line("byte cur[NR_THREADS];\t\t/* the check the thread runs; NONE between checks */");
		o.line("byte nthreads;\t\t\t/* the path's threads that have not yet decided to end */");
		o.line("bool counted[NR_THREADS];\t/* counted in nthreads */");
		o.line("byte tcreated;");
		o.line("byte nexited;");
		o.line("/* the persistent runners (struct persistent_runner) */");
		o.line("bool walive[NR_WORKERS];\t/* allocated, not yet freed */");
		o.line("byte wfreed[NR_WORKERS];\t/* times freed */");
		o.line("mtype wstate[NR_WORKERS];\t/* pr->state */");
		o.line("byte wlock[NR_WORKERS];\t\t/* pr->lock: 0 unlocked, else its holder */");
		o.line("bool waiting[NR_WORKERS];\t/* the thread waits on pr->wake, the lock left */");
		o.line("byte posted[NR_WORKERS];\t/* pr->wake's count: posts not yet taken */");
		o.line("bool idle_passed[NR_WORKERS];\t/* pr->idle_until_ns has passed */");
		o.line("bool released[NR_WORKERS];");
		o.line("bool wake_on_unlock[NR_WORKERS];");
		o.line("mtype check_state[NR_WORKERS];\t/* what runner_finish() returned for the last check */");
		o.line("byte job[NR_WORKERS];\t\t/* the check handed over, or in progress; NONE */");
		o.line("byte wcreated;");
	} else {
		o.line("/* the thread of each runner */");
		o.line("bool cancel_pending[NR_RUNNERS];\t/* pthread_cancel() sent, not yet acted on */");
		o.line("bool exited[NR_RUNNERS];");
		o.line("byte nthreads;\t\t\t/* the path's threads whose runner is not yet DONE or DEAD */");
		o.line("bool counted[NR_RUNNERS];\t/* counted in nthreads */");
		o.line("byte nexited;");
	}
	o.line("/* what the caller knows */");
	o.line("bool timed_out[NR_RUNNERS];\t/* check_runner() returned CANCELLED or DEAD */");
	o.line("byte created;");
	o.line("bool caller_done;");
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
	for (const k of ["cancel", "poll"] as const) opInline(o, ctx, ops.get(k)!);
	for (const k of ["start", "finish"] as const) opInline(o, ctx, ops.get(k)!);

	if (ctx.persistent) {
		persistentFixed(o, ctx);
		for (const k of PERSISTENT_OPS) persistentOpInline(o, ctx, pops.get(k)!, k === "take" ? TAKE_TAIL(ctx) : []);
		persistentThread(o, ctx);
		persistentGet(o, ctx);
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
	o.line("/* the async checker of one path: NR_CALLS checks, then async_check_free() */");
	o.line("proctype checker() {").in();
	o.line("mtype state, ret; bool ok, fresh; byte i, calls, got = NONE, rctx = NONE;");
	if (ctx.persistent) o.line("mtype pstate, pret, prel, who = caller; bool pnext, wake, queued; byte nt, pw = NO_WORKER, me = 1;");
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
	if (ctx.persistent) o.line("if :: pw != NO_WORKER -> release_worker(pw) :: else -> skip fi;");
	o.line(`caller_done = 1; printf("${STEP_PREFIX}caller: async_check_free done\\n")`);
	o.out().line("}").line();
	o.line("init {").in();
	o.line("byte j;");
	o.line("run checker();");
	o.line("/* every thread ends and every context is freed exactly once */");
	o.line(`(caller_done && nexited == ${ctx.persistent ? "tcreated" : "created"});`);
	o.line("do");
	o.line(":: j < created -> assert(freed[j] == 1); j++");
	o.line(":: else -> break");
	o.line(ctx.persistent ? "od;" : "od");
	if (ctx.persistent) {
		o.line("j = 0;");
		o.line("do");
		o.line(":: j < wcreated -> assert(wfreed[j] == 1); j++");
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
