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

export interface RunnerSpecInput<S extends string> {
	description: string;
	copyright: string;
	/** The states in value order: the first is 0. */
	states: { [K in S]: RunnerStateSpec };
	initial: NoInfer<S>;
	/** States a runner never leaves. */
	terminal: readonly NoInfer<S>[];
	operations: { [O in RunnerOperationName]: RunnerOperationSpec<NoInfer<S>, RunnerOperationName> };
	knobs: {
		/** Default thread stack size in bytes (raised to PTHREAD_STACK_MIN). */
		stackSize: number;
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
	readonly knobs: { readonly stackSize: number };
	readonly asyncChecker: { readonly maxNrTimeouts: number };
}

export function defineRunner<const S extends string>(spec: RunnerSpecInput<S>): RunnerSpec {
	return { kind: "runner", ...spec } as RunnerSpec;
}
