// Seeded faults of the runner protocol, applied to the RunnerModel (or to
// the Promela emitter's options for the fixed parts runner.c.hbs writes), so
// that each one goes through the same generator path as the real model.
// The first ones are of the runner's machine (verified with a thread per
// check), the others of the persistent worker's (verified with persistent
// runners).
import type { PromelaMode, PromelaOptions } from "../../generator/emit/promela.ts";
import type {
	PersistentCaseModel,
	PersistentStateModel,
	RunnerCaseModel,
	RunnerModel,
	RunnerStateModel,
} from "../../generator/model/types.ts";

export interface Mutant {
	readonly name: string;
	readonly doc: string;
	readonly model: (m: RunnerModel) => RunnerModel;
	readonly options: PromelaOptions & { readonly mode: PromelaMode };
}

function state(m: RunnerModel, key: string): RunnerStateModel {
	const s = m.states.find((x) => x.key === key);
	if (!s) throw new Error(`no runner state ${key}`);
	return s;
}

function wstate(m: RunnerModel, key: string): PersistentStateModel {
	const s = m.persistent.states.find((x) => x.key === key);
	if (!s) throw new Error(`no worker state ${key}`);
	return s;
}

/** `m` with the cases of `op` from `from` passed through `f` (which must change something). */
function mapCases(m: RunnerModel, op: string, from: string, f: (c: RunnerCaseModel) => RunnerCaseModel): RunnerModel {
	let changed = false;
	const operations = m.operations.map((o) =>
		o.key !== op
			? o
			: {
					...o,
					byState: o.byState.map((g) =>
						g.state.key !== from
							? g
							: {
									...g,
									cases: g.cases.map((c) => {
										changed = true;
										return f(c);
									}),
								},
					),
				},
	);
	if (!changed) throw new Error(`mutant: operation ${op} has no case from ${from}`);
	return { ...m, operations };
}

/** `m` with the cases of the worker operation `op` from `from` replaced by `f` of them (which must change them). */
function mapWorkerCases(m: RunnerModel, op: string, from: string, f: (cs: readonly PersistentCaseModel[]) => PersistentCaseModel[]): RunnerModel {
	let changed = false;
	const operations = m.persistent.operations.map((o) =>
		o.key !== op
			? o
			: {
					...o,
					byState: o.byState.map((g) => {
						if (g.state.key !== from) return g;
						const cases = f(g.cases);
						changed = JSON.stringify(cases) !== JSON.stringify(g.cases);
						return { ...g, cases };
					}),
				},
	);
	if (!changed) throw new Error(`mutant: worker operation ${op} has no case from ${from}, or nothing changed`);
	return { ...m, persistent: { ...m.persistent, operations } };
}

const same = (m: RunnerModel) => m;
const T = "threadPerCheck" as const;
const P = "persistent" as const;

export const MUTANTS: readonly Mutant[] = [
	{
		name: "refcount starts at 1",
		doc: "get_runner() counts only the caller's reference",
		model: same,
		options: { mode: T, refcountInit: 1 },
	},
	{
		name: "state change without compare-and-swap",
		doc: "every state change is a plain store of the state loaded before",
		model: same,
		options: { mode: T, stateChange: "store" },
	},
	{
		name: "DEAD at the cancel request (upstream 0.15)",
		doc: "cancel in RUNNING moves to CANCELLED, sends pthread_cancel(), then stores DEAD while the worker may still run",
		model: same,
		options: { mode: T, deadAfterCancel: true },
	},
	{
		name: "cancel in RUNNING goes straight to DEAD",
		doc: "the cancel case's state change is RUNNING → DEAD (returning CANCELLED): the thread no longer waits for the canceller",
		model: (m) => mapCases(m, "cancel", "RUNNING", (c) => ({ ...c, to: state(m, "DEAD"), returns: state(m, "CANCELLED") })),
		options: { mode: T },
	},
	{
		name: "cancel before the thread started (upstream 0.15)",
		doc: "cancel in IDLE moves to CANCELLED and nothing more: the thread skips the worker and spins in its cleanup handler",
		model: (m) => mapCases(m, "cancel", "IDLE", (c) => ({ ...c, effects: c.effects.filter((e) => e.key !== "markCancelSent") })),
		options: { mode: T },
	},
	{
		name: "a cancelled thread finishes in DONE",
		doc: "the cleanup handler moves CANCELLED to DONE: a timed-out runner's late (or partial) result becomes fetchable",
		model: (m) => mapCases(m, "finish", "CANCELLED", (c) => ({ ...c, to: state(m, "DONE"), returns: state(m, "DONE") })),
		options: { mode: T },
	},
	{
		name: "persistent: cancel before the check started (upstream 0.15)",
		doc: "cancel in IDLE without markCancelSent, with persistent runners: the thread spins in runner_finish() holding the worker's lock",
		model: (m) => mapCases(m, "cancel", "IDLE", (c) => ({ ...c, effects: c.effects.filter((e) => e.key !== "markCancelSent") })),
		options: { mode: P },
	},
	{
		name: "persistent: a waiting worker not woken",
		doc: "submit in WAITING hands the check over without waking the thread (no wakeOnUnlock): a lost wake-up",
		model: (m) => mapWorkerCases(m, "submit", "WAITING", (cs) => cs.map((c) => ({ ...c, effects: c.effects.filter((e) => e.key !== "wakeOnUnlock") }))),
		options: { mode: P },
	},
	{
		name: "persistent: submit without the lock",
		doc: "get_persistent_runner() calls persistent_submit() without taking the worker's lock: the state it acts on may have changed since it loaded it",
		model: same,
		options: { mode: P, submitLocked: false },
	},
	{
		name: "persistent: submit without a state check",
		doc: "submit in BUSY hands the check over as in WAITING, to a thread that still runs (or is stuck in) another",
		model: (m) =>
			mapWorkerCases(m, "submit", "BUSY", (cs) => {
				const waiting = m.persistent.operations.find((o) => o.key === "submit")!.byState.find((g) => g.state.key === "WAITING")!.cases[0];
				return cs.map((c) => ({ ...c, to: wstate(m, "QUEUED"), effects: waiting.effects, returns: wstate(m, "QUEUED") }));
			}),
		options: { mode: P },
	},
	{
		name: "persistent: the worker freed while BUSY",
		doc: "release in BUSY returns NONE: the caller frees the worker while its thread still runs a check",
		model: (m) => mapWorkerCases(m, "release", "BUSY", (cs) => cs.map((c) => ({ ...c, effects: [], returns: wstate(m, "NONE") }))),
		options: { mode: P },
	},
	{
		name: "persistent: idle end with a check queued",
		doc: "take ends the thread once the idle time has passed even in QUEUED (a submit that raced the idle end, or a fresh thread after one): the clock looked at before the state, the check never run",
		model: (m) =>
			mapWorkerCases(m, "take", "QUEUED", (cs) => {
				const idle = m.persistent.operations.find((o) => o.key === "take")!.byState.find((g) => g.state.key === "WAITING")!.cases.find((c) => c.when?.key === "idleExpired")!;
				return [{ ...idle, from: wstate(m, "QUEUED") }, ...cs];
			}),
		options: { mode: P },
	},
	{
		name: "persistent: a thread cancelled in its check takes the next",
		doc: "end without the checkCancelled case: a thread whose check was cancelled waits for the next one, its cancellation request still pending",
		model: (m) => mapWorkerCases(m, "end", "BUSY", (cs) => cs.filter((c) => c.when?.key !== "checkCancelled")),
		options: { mode: P },
	},
];
