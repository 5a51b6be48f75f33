// The runner spec language: the runner framework (a detached thread running
// a worker on a private copy of the caller's data, with a timeout) written
// as a state machine. Each operation is one function of the generated
// runner.c; each of its cases is one atomic compare-and-swap step from a
// state, with the effects that follow it.

/** Effects a runner case can have after its state change. */
export const RUNNER_EFFECTS = {
	runWorker: "run the worker on the private copy of the data",
	pthreadCancel: "request cancellation of the thread (pthread_cancel)",
	markCancelSent: "tell the thread that the canceller is done with it",
} as const;
export type RunnerEffect = keyof typeof RUNNER_EFFECTS;

/** Conditions a case can wait for or test before acting. */
export const RUNNER_CONDITIONS = {
	deadlinePassed: "the runner has a timeout and it has expired",
} as const;
export type RunnerCondition = keyof typeof RUNNER_CONDITIONS;

export const RUNNER_WAITS = {
	cancelSent: "the canceller has finished with pthread_cancel()",
} as const;
export type RunnerWait = keyof typeof RUNNER_WAITS;

export interface RunnerStateSpec {
	/** The name runner_state_name() returns. */
	name: string;
	doc: string;
}

export interface RunnerCaseSpec<S extends string, Op extends string> {
	/** The state this case applies to. */
	from: S;
	/** Only when this condition holds (otherwise the next case for `from`). */
	when?: RunnerCondition;
	/** Wait for this before changing state. */
	await?: RunnerWait;
	/** The state to move to (compare-and-swap from `from`). */
	to?: S;
	/** What happens after the state change. */
	effects?: readonly RunnerEffect[];
	/** Continue with another operation and return what it returns. */
	call?: Op;
	/** What the operation returns (default: `to`, else `from`). */
	returns?: S;
	doc?: string;
}

export interface RunnerOperationSpec<S extends string, Op extends string> {
	/** Who runs it: the runner thread or the caller (multipathd's checker loop). */
	actor: "thread" | "caller";
	doc: string;
	cases: readonly RunnerCaseSpec<S, Op>[];
}

export type RunnerOperationName = "start" | "finish" | "cancel" | "poll";

/** Effects of a case of the pool (all under the pool's lock). */
export const POOL_EFFECTS = {
	wakeThread: "claim the thread that went to sleep last for the queued checks (the ones asleep longest idle out); it is woken once the lock is left, so that it does not wake into a lock still held",
	startThread: "start a thread for the queued checks, counted as awake from the start; when that fails, the operation returns NO_THREAD",
	provide: "make sure a thread takes the checks still queued (provide)",
	takeCheck: "take the oldest queued check: the thread runs it and is no longer awake for others",
	retire: "the thread, awake with no check, ends: it is no longer counted",
	endThread: "the thread, done with its check, ends: it is no longer counted",
	rejoin: "the thread, done with its check, is awake for the next one; its idle time starts",
	wakeAll: "wake every sleeping thread, so that each looks at the pool again (and ends)",
} as const;
export type PoolEffect = keyof typeof POOL_EFFECTS;

/** Conditions a case of the pool can test. */
export const POOL_CONDITIONS = {
	nothingQueued: "no check is queued",
	threadAwake: "a thread is awake with no check, or claimed already: it takes the next queued check",
	threadAsleep: "a thread sleeps",
	checkQueued: "a check is queued",
	noUsers: "every persistent runner has been released",
	idleExpired: "the thread's idle time has passed",
	checkCancelled: "the check was cancelled while its worker ran: a cancellation request may be pending for the thread",
} as const;
export type PoolCondition = keyof typeof POOL_CONDITIONS;

export const POOL_WAITS = {
	work: "sleep until claimed or the idle time passes (the lock left meanwhile); either way the thread is awake again",
} as const;
export type PoolWait = keyof typeof POOL_WAITS;

/** What an operation of the pool returns, for the fixed code of runner.c. */
export const POOL_OUTCOMES = {
	PROVIDED: "a thread takes the queued checks: one is awake, or woken, or started",
	NO_THREAD: "no thread could be started for the queued checks",
	CHECK: "the thread has taken a check",
	NEXT: "the thread looks for its next check",
	EXIT: "the thread ends",
} as const;
export type PoolOutcome = keyof typeof POOL_OUTCOMES;

export interface PoolCaseSpec {
	/** Only when this condition holds (otherwise the next case). */
	when?: PoolCondition;
	/** Wait (the lock left meanwhile), then look at the cases again from the first. */
	await?: PoolWait;
	effects?: readonly PoolEffect[];
	/** What the operation returns (release returns nothing). */
	returns?: PoolOutcome;
	doc?: string;
}

export interface PoolOperationSpec {
	actor: "thread" | "caller";
	doc: string;
	/** Tried in order; the first whose condition holds applies; the last has none. */
	cases: readonly PoolCaseSpec[];
}

export type PoolOperationName = "provide" | "take" | "end" | "release";

/**
 * The pool of get_persistent_runner(): threads that stay alive between
 * checks and take them from one queue. Each check is still a runner of the
 * main state machine; the pool's counts and queue change under its lock,
 * in these operations.
 */
export interface PoolSpecInput {
	doc: string;
	operations: { [O in PoolOperationName]: PoolOperationSpec };
}

export interface RunnerSpecInput<S extends string> {
	description: string;
	copyright: string;
	/** The states in value order: the first is 0. */
	states: { [K in S]: RunnerStateSpec };
	initial: NoInfer<S>;
	/** States a runner never leaves. */
	terminal: readonly NoInfer<S>[];
	operations: { [O in RunnerOperationName]: RunnerOperationSpec<NoInfer<S>, RunnerOperationName> };
	pool: PoolSpecInput;
	knobs: {
		/** Default thread stack size in bytes (raised to PTHREAD_STACK_MIN). */
		stackSize: number;
		/** Default idle time of a pool thread, in ms (RUNNER_IDLE_USEC overrides it). */
		idleTimeoutMs: number;
		/**
		 * A pool thread started by a SCHED_OTHER thread moves itself to
		 * SCHED_BATCH, so that waking it never preempts the thread handing
		 * out the checks (RUNNER_BATCH_WORKERS=0 builds without it).
		 */
		batchWorkers: boolean;
	};
	asyncChecker: {
		/** Abandoned (timed-out, still running) runners kept per path. */
		maxNrTimeouts: number;
	};
}

export interface RunnerSpec {
	readonly kind: "runner";
	readonly description: string;
	readonly copyright: string;
	readonly states: Readonly<Record<string, RunnerStateSpec>>;
	readonly initial: string;
	readonly terminal: readonly string[];
	readonly operations: Readonly<Record<string, RunnerOperationSpec<string, string>>>;
	readonly pool: {
		readonly doc: string;
		readonly operations: Readonly<Record<string, PoolOperationSpec>>;
	};
	readonly knobs: { readonly stackSize: number; readonly idleTimeoutMs: number; readonly batchWorkers: boolean };
	readonly asyncChecker: { readonly maxNrTimeouts: number };
}

export function defineRunner<const S extends string>(spec: RunnerSpecInput<S>): RunnerSpec {
	return { kind: "runner", ...spec } as RunnerSpec;
}
