// The runner framework of libmpathutil (0.15 API, shared/reference/runner-api.md)
// as a state machine. Differences from upstream 0.15, all deliberate:
// - DEAD means the thread has really finished: the thread itself moves
//   CANCELLED → DEAD, after the canceller is done with pthread_cancel(), so a
//   caller that waits for DEAD knows no stuck thread is left behind;
// - a cancel in IDLE ends in DEAD too (upstream spins forever);
// - no state change ever happens inside assert();
// - get_persistent_runner() (named in 0.15's version script, never written
//   there) runs a check in a pool of threads kept alive between checks.
import { defineRunner } from "../generator/spec/index.ts";

export default defineRunner({
	description: "detached checker threads with timeouts and cancellation",
	copyright: "2026 The mpcheckgen authors",
	states: {
		IDLE: { name: "idle", doc: "thread created, worker not yet entered" },
		RUNNING: { name: "running", doc: "worker executing" },
		DONE: {
			name: "done",
			doc: "worker returned; the only state in which data can be fetched",
		},
		CANCELLED: {
			name: "cancelled",
			doc: "cancel requested (usually timeout); the thread may still run",
		},
		DEAD: { name: "dead", doc: "thread finished without usable data" },
	},
	initial: "IDLE",
	terminal: ["DONE", "DEAD"],
	operations: {
		start: {
			actor: "thread",
			doc: "The runner thread enters the worker.",
			cases: [
				{ from: "IDLE", to: "RUNNING", effects: ["runWorker"] },
				{ from: "CANCELLED", doc: "cancelled before it started: the worker is skipped" },
			],
		},
		finish: {
			actor: "thread",
			doc: "The runner thread ends, normally or cancelled (its cleanup handler).",
			cases: [
				{ from: "RUNNING", to: "DONE", doc: "the worker returned: its data is complete" },
				{
					from: "CANCELLED",
					await: "cancelSent",
					to: "DEAD",
					doc: "never exit before the canceller is done with pthread_cancel()",
				},
			],
		},
		cancel: {
			actor: "caller",
			doc: "Cancel the runner (on timeout or release); returns the state to act on.",
			cases: [
				{
					from: "IDLE",
					to: "CANCELLED",
					effects: ["markCancelSent"],
					doc: "the thread will skip the worker",
				},
				{ from: "RUNNING", to: "CANCELLED", effects: ["pthreadCancel", "markCancelSent"] },
				{ from: "DONE", doc: "finished already: nothing to cancel" },
				{ from: "CANCELLED" },
				{ from: "DEAD" },
			],
		},
		poll: {
			actor: "caller",
			doc: "check_runner(): the runner's state, cancelling it once its deadline has passed.",
			cases: [
				{ from: "IDLE", when: "deadlinePassed", call: "cancel" },
				{ from: "IDLE", returns: "RUNNING", doc: "reported as running" },
				{ from: "RUNNING", when: "deadlinePassed", call: "cancel" },
				{ from: "RUNNING" },
				{ from: "DONE", doc: "a result counts even when the deadline has passed" },
				{ from: "CANCELLED" },
				{ from: "DEAD" },
			],
		},
	},
	pool: {
		doc: "threads shared by every persistent runner, kept alive between checks: a thread that is awake takes the next queued check without being woken",
		operations: {
			provide: {
				actor: "caller",
				doc: "Makes sure a thread takes the queued checks (the caller has queued one).",
				cases: [
					{ when: "nothingQueued", returns: "PROVIDED", doc: "a thread has taken the last one" },
					{ when: "threadAwake", returns: "PROVIDED", doc: "it takes them one after another" },
					{ when: "threadAsleep", effects: ["wakeThread"], returns: "PROVIDED" },
					{ effects: ["startThread"], returns: "PROVIDED", doc: "every thread runs a check, or is stuck in a timed-out one" },
				],
			},
			take: {
				actor: "thread",
				doc: "The thread, awake with no check, takes the next one; EXIT: the thread ends.",
				cases: [
					{
						when: "checkQueued",
						effects: ["takeCheck", "provide"],
						returns: "CHECK",
						doc: "if it leaves checks queued, another thread takes them meanwhile",
					},
					{ when: "noUsers", effects: ["retire"], returns: "EXIT" },
					{ when: "idleExpired", effects: ["retire"], returns: "EXIT", doc: "idle for too long" },
					{ await: "work" },
				],
			},
			end: {
				actor: "thread",
				doc: "The thread is done with its check (finished or cancelled); EXIT: the thread ends.",
				cases: [
					{
						when: "checkCancelled",
						effects: ["endThread", "provide"],
						returns: "EXIT",
						doc: "a cancellation request may be pending: the thread ends, another takes the next check",
					},
					{ effects: ["rejoin"], returns: "NEXT" },
				],
			},
			release: {
				actor: "caller",
				doc: "The owner of a persistent runner has let go of it (the count of users is down already).",
				cases: [
					{ when: "noUsers", effects: ["wakeAll"], doc: "the sleeping threads end; the others once the queue is empty" },
					{},
				],
			},
		},
	},
	knobs: { stackSize: 4096, idleTimeoutMs: 60000, batchWorkers: true },
	asyncChecker: { maxNrTimeouts: 1 },
});
