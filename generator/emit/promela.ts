// A Promela model of the runner protocol and of the async checker's use of
// it, for spin. The state-machine cases of start, finish, cancel and poll
// come from the RunnerModel (the one runner.c is lowered from), one branch
// per case; the fixed parts of runner.c.hbs and async_checker.c.hbs (the
// thread start, the reference counts, the context memory, the caller's
// check/pending/reap/abandon logic) are written here once, as the templates
// write them in C. pthread_cancel() is a pending flag that the thread acts
// on at its cancellation points (the worker's steps); the cleanup handler
// runs with cancellation disabled.
//
// Properties, as assertions (safety run) and as the absence of
// non-progress cycles (the -l run, weak fairness):
// - the reference count never goes below zero, the context is freed
//   exactly once, and nothing touches it after the free;
// - check_runner() reports DEAD only once the thread has left the worker;
// - a result is reported only from DONE, complete, and never from a runner
//   the caller has already seen time out;
// - pthread_cancel() never targets a thread that has exited;
// - never more than MAX_NR_TIMEOUTS + 1 threads per path;
// - every thread ends and every context is freed (no spinning forever).
//
// The model is bounded: one path, NR_RUNNERS runners created in all,
// NR_CALLS checker calls, WORKER_STEPS cancellation points per worker.
import type { RunnerCaseModel, RunnerModel, RunnerOperationModel } from "../model/types.ts";

export interface PromelaOptions {
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
	/** Cancellation points in a worker. */
	readonly workerSteps?: number;
}

const DEFAULTS: Required<PromelaOptions> = { refcountInit: 2, stateChange: "cas", deadAfterCancel: false, runners: 3, calls: 5, workerSteps: 1 };

/** The operations the fixed code calls, and where: the caller's are inlines, the thread's run in its proctype. */
const OPS = ["start", "finish", "cancel", "poll"] as const;

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

function step(actor: string, text: string, args = "r"): string {
	return `printf("${STEP_PREFIX}${actor} r%d: ${text}\\n", ${args})`;
}

function opInline(o: Out, m: RunnerModel, op: RunnerOperationModel, opts: Required<PromelaOptions>): void {
	const actor = op.actor;
	o.line(`/* ${op.key}: ${op.doc} */`);
	o.line(`inline op_${op.key}(r, ret) {`).in();
	o.line(`atomic { assert(alive[r]); state = status[r] };`);
	o.line("do");
	for (const g of op.byState) {
		o.line(`:: state == ${g.state.key} ->`).in();
		emitCases(o, m, op, g.cases, 0, actor, opts);
		o.out();
	}
	o.line(`:: else -> ${step(actor, `${op.key} in %e: unexpected, no change`, "r, state")}; ret = state; break`);
	o.line("od").out().line("}").line();
}

/** The cases of one state, in spec order: a conditional case falls through to the next when its condition is false. */
function emitCases(o: Out, m: RunnerModel, op: RunnerOperationModel, cases: readonly RunnerCaseModel[], i: number, actor: string, opts: Required<PromelaOptions>): void {
	const c = cases[i];
	if (c.when) {
		o.line("if");
		o.line(`:: ${conditionExpr(c.when.key)} ->`).in();
		caseBody(o, m, op, c, actor, opts);
		o.out().line(":: else ->").in();
		if (i + 1 < cases.length) emitCases(o, m, op, cases, i + 1, actor, opts);
		else o.line(`ret = state; break`);
		o.out().line("fi");
		return;
	}
	caseBody(o, m, op, c, actor, opts);
}

function conditionExpr(key: string): string {
	if (key === "deadlinePassed") return "deadline[r]";
	throw new Error(`the Promela emitter does not know condition '${key}'`);
}

function caseBody(o: Out, m: RunnerModel, op: RunnerOperationModel, c: RunnerCaseModel, actor: string, opts: Required<PromelaOptions>): void {
	const where = `${op.key} in ${c.from.key}`;
	if (c.await) {
		if (c.await.key !== "cancelSent") throw new Error(`the Promela emitter does not know wait '${c.await.key}'`);
		// a busy wait, as await_cancel_sent() is (sched_yield between loads)
		o.line(`${step(actor, `${where}: waits until the canceller is done with pthread_cancel`)};`);
		o.line("do");
		o.line(":: atomic { assert(alive[r]); ok = cancel_sent[r] };");
		o.line("   if :: ok -> break :: else -> skip /* sched_yield() */ fi");
		o.line("od;");
	}
	if (c.call) {
		o.line(`${step(actor, `${where}: ${c.call}`)};`);
		o.line(`op_${c.call}(r, ret);`);
		o.line("break");
		return;
	}
	if (c.to) {
		const text = `${where} -> ${c.to.key}`;
		// a thread counts until its runner reaches a terminal state: then only put_runner() and the exit are left
		const uncount = actor === "thread" && c.to.terminal ? "uncount(r); " : "";
		if (opts.stateChange === "cas") {
			o.line("atomic {").in();
			o.line("assert(alive[r]);");
			o.line("if");
			o.line(`:: status[r] == ${c.from.key} -> status[r] = ${c.to.key}; ok = 1; ${uncount}${step(actor, text)}`);
			o.line(`:: else -> state = status[r]; ok = 0; ${step(actor, `${where}: compare-and-swap failed, found %e`, "r, state")}`);
			o.line("fi");
			o.out().line("};");
		} else {
			// the state was loaded earlier: a plain store may overwrite a change made since
			o.line(`atomic { assert(alive[r]); status[r] = ${c.to.key}; ok = 1; ${uncount}${step(actor, `${text} (plain store, no compare-and-swap)`)} };`);
		}
		o.line("if");
		o.line(":: ok ->").in();
		effects(o, c, actor, where);
		if (opts.deadAfterCancel && actor === "caller" && c.from.key === "RUNNING" && c.to.key === "CANCELLED") {
			o.line(`atomic { assert(alive[r]); status[r] = DEAD; ${step(actor, `${where}: CANCELLED -> DEAD right after pthread_cancel (0.15)`)} };`);
		}
		o.line(`ret = ${c.returns.key}; break`);
		o.out().line(":: else -> skip /* compare-and-swap failed: the case for the state found */");
		o.line("fi");
		return;
	}
	o.line(`${step(actor, `${where}${c.returns === c.from ? "" : `: returns ${c.returns.key}`}`)};`);
	o.line(`ret = ${c.returns.key}; break`);
}

function effects(o: Out, c: RunnerCaseModel, actor: string, where: string): void {
	c.effects.forEach((e, i) => {
		if (e.key === "runWorker" && i !== c.effects.length - 1) throw new Error("the Promela emitter needs runWorker as the last effect");
		switch (e.key) {
			case "runWorker":
				o.line("worker(r);");
				break;
			case "pthreadCancel":
				o.line(`atomic { assert(alive[r]); assert(!exited[r]); cancel_pending[r] = 1; ${step(actor, `${where}: pthread_cancel`)} };`);
				break;
			case "markCancelSent":
				o.line(`atomic { assert(alive[r]); cancel_sent[r] = 1; ${step(actor, `${where}: done with pthread_cancel`)} };`);
				break;
			default:
				throw new Error(`the Promela emitter does not know effect '${e.key}'`);
		}
	});
}

/** The Promela model of the runner protocol for a runner model. */
export function emitPromela(m: RunnerModel, options: PromelaOptions = {}): string {
	const opts = { ...DEFAULTS, ...options };
	const ops = new Map(m.operations.map((op) => [op.key, op]));
	for (const k of OPS) if (!ops.has(k)) throw new Error(`the runner model has no operation '${k}'`);
	for (const k of ["IDLE", "RUNNING", "DONE", "CANCELLED", "DEAD"]) {
		if (!m.states.some((s) => s.key === k)) throw new Error(`the runner model has no state ${k}`);
	}
	const o = new Out();
	o.line(`/* Generated by mpcheckgen from ${m.specFile}: do not edit. */`);
	o.line(`/* The runner protocol (${m.description}) and the async checker's use of it. */`);
	o.line(`/* Options: ${Object.entries(opts).map(([k, v]) => `${k}=${v}`).join(", ")} */`);
	o.line();
	o.line(`/* runner states, in value order; ${m.states.find((s) => s.key === m.initial)!.key} is the initial one */`);
	o.line(`mtype = { ${[...m.states].reverse().map((s) => s.key).join(", ")} };`);
	o.line();
	o.line(`#define NR_RUNNERS ${opts.runners}`);
	o.line(`#define NONE NR_RUNNERS`);
	o.line(`#define NR_CALLS ${opts.calls}`);
	o.line(`#define WORKER_STEPS ${opts.workerSteps}`);
	o.line(`#define MAX_NR_TIMEOUTS ${m.maxNrTimeouts}`);
	o.line(`#define REFCOUNT_INIT ${opts.refcountInit}`);
	o.line();
	o.line("/* the context memory of each runner */");
	o.line("bool alive[NR_RUNNERS];\t\t/* allocated, not yet freed */");
	o.line("byte freed[NR_RUNNERS];\t\t/* times freed */");
	o.line("short refcount[NR_RUNNERS];");
	o.line("mtype status[NR_RUNNERS];");
	o.line("bool cancel_sent[NR_RUNNERS];");
	o.line("bool deadline[NR_RUNNERS];\t\t/* the deadline has passed */");
	o.line("bool data[NR_RUNNERS];\t\t/* the worker wrote its complete result into its copy */");
	o.line("/* the thread of each runner */");
	o.line("bool cancel_pending[NR_RUNNERS];\t/* pthread_cancel() sent, not yet acted on */");
	o.line("bool left_worker[NR_RUNNERS];\t/* in the cleanup handler: the worker runs no more */");
	o.line("bool exited[NR_RUNNERS];");
	o.line("byte nthreads;\t\t\t/* the path's threads whose runner is not yet DONE or DEAD */");
	o.line("bool counted[NR_RUNNERS];\t/* counted in nthreads */");
	o.line("byte nexited;");
	o.line("/* what the caller knows */");
	o.line("bool timed_out[NR_RUNNERS];\t/* check_runner() returned CANCELLED or DEAD */");
	o.line("byte created;");
	o.line("bool caller_done;");
	o.line();
	o.line("/* the worker: WORKER_STEPS steps, each a cancellation point; then its result */");
	o.line("inline worker(r) {").in();
	o.line("steps = 0;");
	o.line("do");
	o.line(`:: atomic { cancel_pending[r] -> unwound = 1; ${step("thread", "cancelled in the worker")} }; break`);
	o.line(":: atomic { !cancel_pending[r] && steps < WORKER_STEPS -> assert(alive[r]); steps++ }");
	o.line(`:: atomic { !cancel_pending[r] && steps == WORKER_STEPS -> assert(alive[r]); data[r] = 1; ${step("thread", "worker returned its result")} }; break`);
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
	o.line("/* the thread no longer counts: it cannot be stuck any more */");
	o.line("inline uncount(r) {").in();
	o.line("if :: counted[r] -> counted[r] = 0; nthreads-- :: else -> skip fi");
	o.out().line("}").line();
	o.line("mtype = { caller, thread };").line();
	for (const k of ["cancel", "poll"] as const) opInline(o, m, ops.get(k)!, opts);
	for (const k of ["start", "finish"] as const) opInline(o, m, ops.get(k)!, opts);

	o.line("/* runner_thread(): the worker under a cleanup handler */");
	o.line("proctype runner_thread(byte r) {").in();
	o.line("mtype state, ret; bool ok, unwound; byte steps;");
	o.line("op_start(r, ret);");
	o.line("/* runner_cleanup(): cancellation disabled from here on */");
	o.line(`atomic { left_worker[r] = 1; ${step("thread", "cleanup handler")} };`);
	o.line("op_finish(r, ret);");
	o.line("atomic { uncount(r) };");
	o.line("put(r, thread);");
	o.line(`atomic { exited[r] = 1; nexited++; ${step("thread", "exits")} }`);
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
	o.line(`${step("caller", "get_runner, thread started")};`);
	o.line("run runner_thread(r)");
	o.out().line(`:: else -> r = NONE; printf("${STEP_PREFIX}caller: get_runner fails, the check runs synchronously\\n")`);
	o.line("fi");
	o.out().line("}");
	o.out().line("}").line();
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
	o.line(`${step("caller", "release_runner")};`);
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
	o.line("mtype state, ret; bool ok; byte i, calls, got = NONE, rctx = NONE;");
	o.line("byte abandoned[MAX_NR_TIMEOUTS + 1];\t/* + 1: Promela has no empty arrays */");
	o.line("i = 0;");
	o.line("do :: i <= MAX_NR_TIMEOUTS -> abandoned[i] = NONE; i++ :: else -> break od;");
	o.line("do");
	o.line(":: calls < NR_CALLS ->").in();
	o.line("calls++;");
	o.line("/* time passes: the deadline of the runner in flight may expire */");
	o.line("if");
	o.line(`:: rctx != NONE && !deadline[rctx] -> deadline[rctx] = 1; ${step("caller", "deadline passes", "rctx")}`);
	o.line(":: else -> skip");
	o.line("fi;");
	o.line("if");
	o.line(":: rctx == NONE ->").in();
	o.line("reap_abandoned();");
	o.line("get_runner(rctx)");
	o.out().line(":: else ->").in();
	o.line("/* async_check_pending() */");
	o.line("reap_abandoned();");
	o.line("check_runner(rctx, 1, ret);");
	o.line("if");
	o.line(":: ret == DONE -> report(rctx); release_runner(rctx); rctx = NONE");
	o.line(":: ret == CANCELLED ->").in();
	o.line("/* abandon_runner(): a free slot, or keep it and wait */");
	o.line("i = 0;");
	o.line("do");
	o.line(`:: i < MAX_NR_TIMEOUTS && abandoned[i] == NONE -> abandoned[i] = rctx; ${step("caller", "timed out, abandoned", "rctx")}; rctx = NONE; break`);
	o.line(":: i < MAX_NR_TIMEOUTS && abandoned[i] != NONE -> i++");
	o.line(`:: i == MAX_NR_TIMEOUTS -> ${step("caller", "timed out, kept and waited for", "rctx")}; break`);
	o.line("od");
	o.out().line(":: ret == DEAD -> release_runner(rctx); rctx = NONE; reap_abandoned(); get_runner(rctx)");
	o.line(":: else -> skip");
	o.line("fi");
	o.out().line("fi");
	o.out().line(":: else -> break");
	o.line("od;");
	o.line("/* async_check_free() */");
	o.line("if :: rctx != NONE -> release_runner(rctx) :: else -> skip fi;");
	o.line("i = 0;");
	o.line("do");
	o.line(":: i < MAX_NR_TIMEOUTS -> if :: abandoned[i] != NONE -> release_runner(abandoned[i]) :: else -> skip fi; i++");
	o.line(":: else -> break");
	o.line("od;");
	o.line(`caller_done = 1; printf("${STEP_PREFIX}caller: async_check_free done\\n")`);
	o.out().line("}").line();
	o.line("init {").in();
	o.line("byte j;");
	o.line("run checker();");
	o.line("/* every thread ends and every context is freed exactly once */");
	o.line("(caller_done && nexited == created);");
	o.line("do");
	o.line(":: j < created -> assert(freed[j] == 1); j++");
	o.line(":: else -> break");
	o.line("od");
	o.out().line("}");
	return o.toString();
}
