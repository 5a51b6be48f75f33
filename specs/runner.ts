// The runner framework of libmpathutil (0.15 API, shared/reference/runner-api.md)
// as a state machine. Differences from upstream 0.15, all deliberate:
// - DEAD means the thread has really finished: the thread itself moves
//   CANCELLED → DEAD, after the canceller is done with pthread_cancel(), so a
//   caller that waits for DEAD knows no stuck thread is left behind;
// - a cancel in IDLE ends in DEAD too (upstream spins forever);
// - no state change ever happens inside assert();
// - get_persistent_runner() (named in 0.15's version script, never written
//   there) keeps a path's worker thread alive between checks.
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
	persistent: {
		doc: "a path's worker thread, kept alive between checks and woken for the next one",
		states: {
			NONE: { doc: "no thread: not started yet, idled out, or ended after a cancelled check" },
			WAITING: { doc: "the thread waits for the next check" },
			QUEUED: { doc: "a check is handed over; the thread has not taken it yet" },
			BUSY: { doc: "the thread runs a check" },
		},
		initial: "NONE",
		operations: {
			submit: {
				actor: "caller",
				doc: "Hands a check to the worker; BUSY: the caller needs another worker.",
				cases: [
					{ from: "NONE", to: "QUEUED", effects: ["handOver", "startThread"], doc: "a fresh thread takes the check" },
					{ from: "WAITING", to: "QUEUED", effects: ["handOver", "wakeOnUnlock"] },
					{ from: "QUEUED", returns: "BUSY", doc: "a check is queued already" },
					{ from: "BUSY", doc: "the thread still runs a check, or is stuck in a timed-out one" },
				],
			},
			take: {
				actor: "thread",
				doc: "The worker thread waits for its next check; NONE: the thread ends.",
				cases: [
					{ from: "WAITING", when: "released", to: "NONE" },
					{ from: "WAITING", when: "idleExpired", to: "NONE", doc: "idle for too long: the thread ends" },
					{ from: "WAITING", await: "work" },
					{ from: "QUEUED", to: "BUSY" },
				],
			},
			end: {
				actor: "thread",
				doc: "The worker thread is done with its check (finished or cancelled); NONE: the thread ends.",
				cases: [
					{ from: "BUSY", when: "released", to: "NONE" },
					{
						from: "BUSY",
						when: "checkCancelled",
						to: "NONE",
						doc: "a cancellation request may be pending: the thread ends and a fresh one replaces it",
					},
					{ from: "BUSY", to: "WAITING", effects: ["armIdle"] },
				],
			},
			release: {
				actor: "caller",
				doc: "The owner lets go of the worker; NONE: no thread is left, the caller frees it.",
				cases: [
					{ from: "NONE" },
					{ from: "WAITING", effects: ["markReleased", "wakeThread"] },
					{ from: "QUEUED", effects: ["markReleased"], doc: "the thread runs the queued check first" },
					{ from: "BUSY", effects: ["markReleased"] },
				],
			},
		},
	},
	knobs: { stackSize: 4096, idleTimeoutMs: 60000, batchWorkers: true },
	asyncChecker: { maxNrTimeouts: 1 },
});
