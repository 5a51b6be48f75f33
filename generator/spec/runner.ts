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

/** Effects of a case of the persistent worker (all under the worker's lock). */
export const PERSISTENT_EFFECTS = {
	handOver: "hand the check to the worker (its thread takes the check's thread reference)",
	startThread: "start a fresh worker thread; when that fails, the check is taken back and the worker has no thread",
	wakeThread: "wake the worker thread",
	wakeOnUnlock: "wake the worker thread once the caller has left the lock (it cannot end meanwhile: it has a check to run), so that it does not wake into a lock still held",
	armIdle: "start the idle time: the thread ends unless a check comes before it has passed",
	markReleased: "note that the owner has let go: the thread frees the worker when it ends",
} as const;
export type PersistentEffect = keyof typeof PERSISTENT_EFFECTS;

/** Conditions a case of the persistent worker can test. */
export const PERSISTENT_CONDITIONS = {
	released: "the owner has let go of the worker",
	idleExpired: "the worker's idle time has passed",
	checkCancelled: "the check did not end in DONE: it was cancelled, and a cancellation request may be pending for the thread",
} as const;
export type PersistentCondition = keyof typeof PERSISTENT_CONDITIONS;

export const PERSISTENT_WAITS = {
	work: "a check is handed over, the owner lets go, or the idle time passes",
} as const;
export type PersistentWait = keyof typeof PERSISTENT_WAITS;

export interface PersistentCaseSpec<W extends string> {
	from: W;
	when?: PersistentCondition;
	/** Wait (the lock released meanwhile), then look at the state again. */
	await?: PersistentWait;
	to?: W;
	effects?: readonly PersistentEffect[];
	/** What the operation returns (default: `to`, else `from`). */
	returns?: W;
	doc?: string;
}

export interface PersistentOperationSpec<W extends string> {
	actor: "thread" | "caller";
	doc: string;
	cases: readonly PersistentCaseSpec<W>[];
}

export type PersistentOperationName = "submit" | "take" | "end" | "release";

/**
 * The persistent runner (get_persistent_runner()): a path's worker thread
 * that stays alive between checks. Each check is still a runner of the main
 * state machine; this machine is the worker's, changed under its lock.
 */
export interface PersistentSpecInput<W extends string> {
	doc: string;
	states: { [K in W]: { doc: string } };
	initial: NoInfer<W>;
	operations: { [O in PersistentOperationName]: PersistentOperationSpec<NoInfer<W>> };
}

export interface RunnerSpecInput<S extends string, W extends string = string> {
	description: string;
	copyright: string;
	/** The states in value order: the first is 0. */
	states: { [K in S]: RunnerStateSpec };
	initial: NoInfer<S>;
	/** States a runner never leaves. */
	terminal: readonly NoInfer<S>[];
	operations: { [O in RunnerOperationName]: RunnerOperationSpec<NoInfer<S>, RunnerOperationName> };
	persistent: PersistentSpecInput<W>;
	knobs: {
		/** Default thread stack size in bytes (raised to PTHREAD_STACK_MIN). */
		stackSize: number;
		/** Default idle time of a persistent worker thread, in ms (RUNNER_IDLE_USEC overrides it). */
		idleTimeoutMs: number;
		/**
		 * A persistent worker started by a SCHED_OTHER thread moves itself
		 * to SCHED_BATCH, so that waking it never preempts the thread handing
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
	readonly persistent: {
		readonly doc: string;
		readonly states: Readonly<Record<string, { readonly doc: string }>>;
		readonly initial: string;
		readonly operations: Readonly<Record<string, PersistentOperationSpec<string>>>;
	};
	readonly knobs: { readonly stackSize: number; readonly idleTimeoutMs: number; readonly batchWorkers: boolean };
	readonly asyncChecker: { readonly maxNrTimeouts: number };
}

export function defineRunner<const S extends string, const W extends string>(spec: RunnerSpecInput<S, W>): RunnerSpec {
	return { kind: "runner", ...spec } as RunnerSpec;
}
