// Seeded faults of the runner protocol, applied to the RunnerModel (or to
// the Promela emitter's options for the fixed parts runner.c.hbs writes), so
// that each one goes through the same generator path as the real model.
// The first ones are of the runner's machine (verified with a thread per
// check), the others of the pool that runs the persistent runners' checks
// (verified with persistent runners).
import type { PromelaMode, PromelaOptions } from "../../generator/emit/promela.ts";
import type { PoolCaseModel, RunnerCaseModel, RunnerModel, RunnerStateModel } from "../../generator/model/types.ts";

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

/** `m` with the cases of the pool operation `op` replaced by `f` of them (which must change them). */
function mapPoolCases(m: RunnerModel, op: string, f: (cs: readonly PoolCaseModel[]) => PoolCaseModel[]): RunnerModel {
	const target = m.pool.operations.find((o) => o.key === op);
	if (!target) throw new Error(`mutant: no pool operation ${op}`);
	const cases = f(target.cases);
	if (JSON.stringify(cases) === JSON.stringify(target.cases)) throw new Error(`mutant: nothing changed in pool operation ${op}`);
	const operations = m.pool.operations.map((o) => (o === target ? { ...o, cases } : o));
	return { ...m, pool: { ...m.pool, operations } };
}

/** The cases with effect `effect` left out of those whose condition is `when`. */
const without = (when: string, effect: string) => (cs: readonly PoolCaseModel[]) =>
	cs.map((c) => (c.when?.key === when ? { ...c, effects: c.effects.filter((e) => e.key !== effect) } : c));

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
		doc: "cancel in IDLE without markCancelSent, with persistent runners: the pool thread that takes the cancelled check spins in runner_finish()",
		model: (m) => mapCases(m, "cancel", "IDLE", (c) => ({ ...c, effects: c.effects.filter((e) => e.key !== "markCancelSent") })),
		options: { mode: P },
	},
	{
		name: "persistent: a claimed thread not posted",
		doc: "claim_thread() counts the sleeping thread claimed and awake, but owes no post: nothing wakes it, and a release finds no unclaimed sleeper to wake",
		model: same,
		options: { mode: P, postClaims: false },
	},
	{
		name: "persistent: a sleeping thread counted on without a claim",
		doc: "provide with a thread asleep returns PROVIDED without wakeThread: the check waits for a thread nobody wakes",
		model: (m) => mapPoolCases(m, "provide", without("threadAsleep", "wakeThread")),
		options: { mode: P },
	},
	{
		name: "persistent: take without the provide",
		doc: "take of a check that leaves others queued does not provide for them: they wait behind the check just taken, stuck if it is",
		model: (m) => mapPoolCases(m, "take", without("checkQueued", "provide")),
		options: { mode: P },
	},
	{
		name: "persistent: a thread that ends leaves the queue without a provide",
		doc: "end of a check cancelled in its worker ends the thread without provide (runner.c before it had one): the checks queued behind that check, left waiting by a start that failed, have no thread at all",
		model: (m) => mapPoolCases(m, "end", without("checkCancelled", "provide")),
		// one thread in all: the start for the checks left queued fails at once
		options: { mode: P, threads: 1 },
	},
	{
		name: "persistent: a thread cancelled in its check takes the next",
		doc: "end without the checkCancelled case: a thread whose check was cancelled goes on to the next one, its cancellation request still pending (or, unwinding from the worker, exits holding the lock)",
		model: (m) => mapPoolCases(m, "end", (cs) => cs.filter((c) => c.when?.key !== "checkCancelled")),
		options: { mode: P },
	},
	{
		name: "persistent: retire without counting down",
		doc: "take ends an idle thread, or one with no users left, without the retire effect: the pool still counts it awake and alive",
		model: (m) => mapPoolCases(m, "take", (cs) => cs.map((c) => ({ ...c, effects: c.effects.filter((e) => e.key !== "retire") }))),
		options: { mode: P },
	},
	{
		name: "persistent: release does not wake the sleepers",
		doc: "release with no users left does not wakeAll: the sleeping threads wait for ever (their idle time passes only while a persistent runner is left)",
		model: (m) => mapPoolCases(m, "release", without("noUsers", "wakeAll")),
		options: { mode: P },
	},
	{
		name: "persistent: idle end with a check queued",
		doc: "take looks at the idle time before the queue: a thread whose wait timed out as a check was queued (and which took the claim made for it) ends, the check left with no thread",
		model: (m) => mapPoolCases(m, "take", (cs) => [...cs.filter((c) => c.when?.key === "idleExpired"), ...cs.filter((c) => c.when?.key !== "idleExpired")]),
		options: { mode: P },
	},
];
