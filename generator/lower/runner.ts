// Lowering of the runner model: each operation of the spec becomes one
// static function, a compare-and-swap loop over the state with one case
// label per state it can meet; the state enum and names come from the
// model. The fixed parts of runner.c (thread start, reference counts) are
// the template's.
import type {
	PoolCaseModel,
	PoolOperationModel,
	PoolOutcomeModel,
	RunnerCaseModel,
	RunnerModel,
	RunnerOperationModel,
	RunnerStateModel,
} from "../model/types.ts";
import type { CCase, CItem, CStmt } from "./c-ir.ts";

/** C for each effect, wait and condition the runner spec language knows. */
const EFFECT_C: Record<string, string> = {
	runWorker: "rctx->func(rctx->data)",
	pthreadCancel: "pthread_cancel(rctx->thr)",
	markCancelSent: "mark_cancel_sent(rctx)",
};
const WAIT_C: Record<string, string> = { cancelSent: "await_cancel_sent(rctx)" };
const CONDITION_C: Record<string, string> = { deadlinePassed: "deadline_passed(rctx)" };

/** The enumerator of a runner state: RUNNER_IDLE… (the 0.15 API's names). */
export function runnerStateName(s: RunnerStateModel): string {
	return `RUNNER_${s.key}`;
}

export function runnerOperationName(op: RunnerOperationModel | string): string {
	return `runner_${typeof op === "string" ? op : op.key}`;
}

/** Whether a case only reports the state it found. */
function isTrivial(c: RunnerCaseModel): boolean {
	return !c.when && !c.await && !c.to && !c.call && c.effects.length === 0 && c.returns === c.from;
}

function caseBody(c: RunnerCaseModel, loop: boolean): CStmt[] {
	const out: CStmt[] = [];
	if (c.await) out.push({ kind: "expr", text: WAIT_C[c.await.key] });
	if (c.call) return [...out, { kind: "return", value: `${runnerOperationName(c.call)}(rctx)` }];
	if (c.to) {
		if (!loop) throw new Error("a state change needs the compare-and-swap loop");
		out.push({ kind: "if", cond: [`!change_state(rctx, &state, ${runnerStateName(c.to)})`], then: [{ kind: "expr", text: "continue" }] });
	}
	for (const e of c.effects) out.push({ kind: "expr", text: EFFECT_C[e.key] });
	out.push({ kind: "return", value: runnerStateName(c.returns) });
	return out;
}

function operationFunction(op: RunnerOperationModel): CItem {
	const loop = op.byState.some((g) => g.cases.some((c) => c.to));
	const cases: CCase[] = [];
	const groups = op.byState;
	for (let i = 0; i < groups.length; i++) {
		const g = groups[i];
		// consecutive states that only report themselves share one return
		if (g.cases.length === 1 && isTrivial(g.cases[0])) {
			let j = i;
			while (j + 1 < groups.length && groups[j + 1].cases.length === 1 && isTrivial(groups[j + 1].cases[0])) j++;
			const shared = groups.slice(i, j + 1).map((x) => x.cases[0]);
			// a documented case keeps its own label line with its comment
			const body: CStmt[] = [{ kind: "return", value: i === j ? runnerStateName(g.state) : "state" }];
			shared.forEach((c, k) => {
				cases.push({ labels: [runnerStateName(c.from)], doc: c.doc, body: k === shared.length - 1 ? body : [] });
			});
			i = j;
			continue;
		}
		const body: CStmt[] = [];
		for (const c of g.cases) {
			if (c.doc) body.push({ kind: "comment", text: c.doc });
			if (c.when) body.push({ kind: "if", cond: [CONDITION_C[c.when.key]], then: caseBody(c, loop) });
			else body.push(...caseBody(c, loop));
		}
		cases.push({ labels: [runnerStateName(g.state)], body });
	}
	cases.push({
		labels: ["default"],
		body: [
			{ kind: "expr", text: 'condlog(2, "%s: unexpected runner state %s", __func__, runner_state_name(state))' },
			{ kind: "return", value: "state" },
		],
	});
	const sw: CStmt = { kind: "switch", on: "state", cases };
	return {
		kind: "function",
		doc: op.doc,
		isStatic: true,
		returns: "int",
		name: runnerOperationName(op),
		params: ["struct runner_context *rctx"],
		body: [
			{ kind: "decl", decl: "int state", init: "get_state(rctx)" },
			{ kind: "blank" },
			loop ? { kind: "forever", body: [sw] } : sw,
		],
	};
}

/** The order the functions must appear in: callees before callers. */
function ordered(ops: readonly RunnerOperationModel[]): RunnerOperationModel[] {
	const out: RunnerOperationModel[] = [];
	const visit = (op: RunnerOperationModel) => {
		if (out.includes(op)) return;
		for (const g of op.byState) {
			for (const c of g.cases) {
				const callee = c.call ? ops.find((o) => o.key === c.call) : undefined;
				if (callee) visit(callee);
			}
		}
		out.push(op);
	};
	ops.forEach(visit);
	return out;
}

/** C for the pool's effects and conditions (the pool's lock held); startThread returns the outcome. */
const POOL_EFFECT_C: Record<string, string> = {
	wakeThread: "claim_thread()",
	provide: "pool_provide()",
	takeCheck: "take_check(self)",
	retire: "retire_thread()",
	endThread: "end_thread()",
	rejoin: "rejoin(self)",
	wakeAll: "wake_all()",
};
const POOL_START_C = "start_pool_thread()";
const POOL_CONDITION_C: Record<string, string> = {
	nothingQueued: "!pool.head",
	threadAwake: "pool.awake > 0",
	threadAsleep: "pool.asleep",
	checkQueued: "pool.head",
	noUsers: "pool.users == 0",
	idleExpired: "idle_expired(self)",
	checkCancelled: "self->worker_ran && self->check_state != RUNNER_DONE",
};
const POOL_WAIT_C: Record<string, string> = { work: "await_work(self)" };

/** The enumerator of an outcome of the pool's operations: POOL_PROVIDED… */
export function poolOutcomeName(o: PoolOutcomeModel): string {
	return `POOL_${o.key}`;
}

export function poolOperationName(op: PoolOperationModel | string): string {
	return `pool_${typeof op === "string" ? op : op.key}`;
}

/** The operations a pool thread runs act on that thread. */
const POOL_PARAMS: Record<string, string[]> = {
	take: ["struct pool_thread *self"],
	end: ["struct pool_thread *self"],
};

function poolCaseBody(c: PoolCaseModel): CStmt[] {
	if (c.await) return [{ kind: "expr", text: POOL_WAIT_C[c.await.key] }];
	const out: CStmt[] = [];
	for (const e of c.effects) {
		if (e.key === "startThread") return [...out, { kind: "return", value: POOL_START_C }];
		out.push({ kind: "expr", text: POOL_EFFECT_C[e.key] });
	}
	if (c.returns) out.push({ kind: "return", value: poolOutcomeName(c.returns) });
	return out;
}

/**
 * The cases in order: each conditional one an if that returns, the last
 * one after them; an operation that returns nothing chains them with else,
 * and one that waits loops until a case returns.
 */
function poolFunction(op: PoolOperationModel): CItem {
	const loop = op.cases.some((c) => c.await);
	const chain = (cases: readonly PoolCaseModel[]): CStmt[] => {
		const [c, ...rest] = cases;
		const body = poolCaseBody(c);
		const doc: CStmt[] = c.doc ? [{ kind: "comment", text: c.doc }] : [];
		if (!c.when) return [...doc, ...body];
		if (op.returnsOutcome) return [...doc, { kind: "if", cond: [POOL_CONDITION_C[c.when.key]], then: body }, ...chain(rest)];
		const otherwise = chain(rest);
		return [...doc, { kind: "if", cond: [POOL_CONDITION_C[c.when.key]], then: body, else: otherwise.length ? otherwise : undefined }];
	};
	const body = chain(op.cases);
	return {
		kind: "function",
		doc: `${op.doc} Called with pool.lock held.`,
		isStatic: true,
		returns: op.returnsOutcome ? "int" : "void",
		name: poolOperationName(op),
		params: POOL_PARAMS[op.key] ?? ["void"],
		body: loop ? [{ kind: "forever", body }] : body,
	};
}

export interface LoweredRunner {
	/** enum runner_status, for runner.h. */
	readonly statusEnum: CItem;
	/** runner_state_name(), for runner.c. */
	readonly stateNameFunction: CItem;
	readonly operations: readonly CItem[];
	/** enum pool_outcome, for runner.c. */
	readonly poolOutcomeEnum: CItem;
	readonly poolOperations: readonly CItem[];
	readonly stackSize: number;
	readonly idleTimeoutMs: number;
	readonly batchWorkers: boolean;
	readonly maxNrTimeouts: number;
}

export function lowerRunner(m: RunnerModel): LoweredRunner {
	return {
		statusEnum: {
			kind: "enum",
			tag: "runner_status",
			members: m.states.map((s) => ({ name: runnerStateName(s), doc: s.doc })),
		},
		stateNameFunction: {
			kind: "function",
			isStatic: false,
			returns: "const char *",
			name: "runner_state_name",
			params: ["int state"],
			body: [
				{
					kind: "switch",
					on: "state",
					cases: [
						...m.states.map((s) => ({ labels: [runnerStateName(s)], body: [{ kind: "return", value: JSON.stringify(s.name) } as CStmt] })),
						{ labels: ["default"], body: [{ kind: "return", value: '"unknown"' }] },
					],
				},
			],
		},
		operations: ordered(m.operations).map(operationFunction),
		poolOutcomeEnum: {
			kind: "enum",
			tag: "pool_outcome",
			members: m.pool.outcomes.map((o) => ({ name: poolOutcomeName(o), doc: o.doc })),
		},
		poolOperations: m.pool.operations.map(poolFunction),
		stackSize: m.stackSize,
		idleTimeoutMs: m.idleTimeoutMs,
		batchWorkers: m.batchWorkers,
		maxNrTimeouts: m.maxNrTimeouts,
	};
}
