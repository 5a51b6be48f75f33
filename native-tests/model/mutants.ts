// Seeded faults of the runner protocol, applied to the RunnerModel (or to
// the Promela emitter's options for the fixed parts runner.c.hbs writes), so
// that each one goes through the same generator path as the real model.
import type { PromelaOptions } from "../../generator/emit/promela.ts";
import type { RunnerCaseModel, RunnerModel, RunnerStateModel } from "../../generator/model/types.ts";

export interface Mutant {
	readonly name: string;
	readonly doc: string;
	readonly model: (m: RunnerModel) => RunnerModel;
	readonly options: PromelaOptions;
}

function state(m: RunnerModel, key: string): RunnerStateModel {
	const s = m.states.find((x) => x.key === key);
	if (!s) throw new Error(`no runner state ${key}`);
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

const same = (m: RunnerModel) => m;

export const MUTANTS: readonly Mutant[] = [
	{
		name: "refcount starts at 1",
		doc: "get_runner() counts only the caller's reference",
		model: same,
		options: { refcountInit: 1 },
	},
	{
		name: "state change without compare-and-swap",
		doc: "every state change is a plain store of the state loaded before",
		model: same,
		options: { stateChange: "store" },
	},
	{
		name: "DEAD at the cancel request (upstream 0.15)",
		doc: "cancel in RUNNING moves to CANCELLED, sends pthread_cancel(), then stores DEAD while the worker may still run",
		model: same,
		options: { deadAfterCancel: true },
	},
	{
		name: "cancel in RUNNING goes straight to DEAD",
		doc: "the cancel case's state change is RUNNING → DEAD (returning CANCELLED): the thread no longer waits for the canceller",
		model: (m) => mapCases(m, "cancel", "RUNNING", (c) => ({ ...c, to: state(m, "DEAD"), returns: state(m, "CANCELLED") })),
		options: {},
	},
	{
		name: "cancel before the thread started (upstream 0.15)",
		doc: "cancel in IDLE moves to CANCELLED and nothing more: the thread skips the worker and spins in its cleanup handler",
		model: (m) => mapCases(m, "cancel", "IDLE", (c) => ({ ...c, effects: c.effects.filter((e) => e.key !== "markCancelSent") })),
		options: {},
	},
	{
		name: "a cancelled thread finishes in DONE",
		doc: "the cleanup handler moves CANCELLED to DONE: a timed-out runner's late (or partial) result becomes fetchable",
		model: (m) => mapCases(m, "finish", "CANCELLED", (c) => ({ ...c, to: state(m, "DONE"), returns: state(m, "DONE") })),
		options: {},
	},
];
