// Lowering of the runner model: each operation of the spec becomes one
// static function, a compare-and-swap loop over the state with one case
// label per state it can meet; the state enum and names come from the
// model. The fixed parts of runner.c (thread start, reference counts) are
// the template's.
import type {
	PersistentCaseModel,
	PersistentOperationModel,
	PersistentStateModel,
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

/** C for the persistent worker's effects, conditions and waits (the worker's lock held). */
const PERSISTENT_EFFECT_C: Record<string, string> = {
	handOver: "hand_over(pr, rctx)",
	wakeThread: "wake_worker(pr)",
	wakeOnUnlock: "pr->wake_on_unlock = true",
	armIdle: "arm_idle(pr)",
	markReleased: "pr->released = true",
};
/** startThread comes last and returns what the operation returns. */
const PERSISTENT_START_C = "start_worker(pr)";
const PERSISTENT_CONDITION_C: Record<string, string> = {
	released: "pr->released",
	idleExpired: "idle_expired(pr)",
	checkCancelled: "pr->check_state != RUNNER_DONE",
};
const PERSISTENT_WAIT_C: Record<string, string> = { work: "await_work(pr)" };

/** The enumerator of a worker state: PERSISTENT_NONE… */
export function persistentStateName(s: PersistentStateModel): string {
	return `PERSISTENT_${s.key}`;
}

export function persistentOperationName(op: PersistentOperationModel | string): string {
	return `persistent_${typeof op === "string" ? op : op.key}`;
}

/** The operations that act on a check as well as on the worker. */
const PERSISTENT_PARAMS: Record<string, string[]> = {
	submit: ["struct persistent_runner *pr", "struct runner_context *rctx"],
};

function persistentCaseBody(c: PersistentCaseModel): CStmt[] {
	if (c.await) return [{ kind: "expr", text: PERSISTENT_WAIT_C[c.await.key] }, { kind: "expr", text: "continue" }];
	const out: CStmt[] = [];
	if (c.to) out.push({ kind: "expr", text: `pr->state = ${persistentStateName(c.to)}` });
	for (const e of c.effects) {
		if (e.key === "startThread") return [...out, { kind: "return", value: PERSISTENT_START_C }];
		out.push({ kind: "expr", text: PERSISTENT_EFFECT_C[e.key] });
	}
	out.push({ kind: "return", value: persistentStateName(c.returns) });
	return out;
}

function persistentFunction(op: PersistentOperationModel): CItem {
	const loop = op.byState.some((g) => g.cases.some((c) => c.await));
	const cases: CCase[] = [];
	for (const g of op.byState) {
		const body: CStmt[] = [];
		for (const c of g.cases) {
			if (c.doc) body.push({ kind: "comment", text: c.doc });
			if (c.when) body.push({ kind: "if", cond: [PERSISTENT_CONDITION_C[c.when.key]], then: persistentCaseBody(c) });
			else body.push(...persistentCaseBody(c));
		}
		cases.push({ labels: [persistentStateName(g.state)], body });
	}
	cases.push({
		labels: ["default"],
		body: [
			{ kind: "expr", text: 'condlog(2, "%s: unexpected worker state %d", __func__, pr->state)' },
			{ kind: "return", value: "pr->state" },
		],
	});
	const sw: CStmt = { kind: "switch", on: "pr->state", cases };
	return {
		kind: "function",
		doc: `${op.doc} Called with pr->lock held.`,
		isStatic: true,
		returns: "int",
		name: persistentOperationName(op),
		params: PERSISTENT_PARAMS[op.key] ?? ["struct persistent_runner *pr"],
		body: [loop ? { kind: "forever", body: [sw] } : sw],
	};
}

export interface LoweredRunner {
	/** enum runner_status, for runner.h. */
	readonly statusEnum: CItem;
	/** runner_state_name(), for runner.c. */
	readonly stateNameFunction: CItem;
	readonly operations: readonly CItem[];
	/** enum persistent_state, for runner.c. */
	readonly persistentEnum: CItem;
	readonly persistentOperations: readonly CItem[];
	readonly persistentInitial: string;
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
		persistentEnum: {
			kind: "enum",
			tag: "persistent_state",
			members: m.persistent.states.map((s) => ({ name: persistentStateName(s), doc: s.doc })),
		},
		persistentOperations: m.persistent.operations.map(persistentFunction),
		persistentInitial: persistentStateName(m.persistent.initial),
		stackSize: m.stackSize,
		idleTimeoutMs: m.idleTimeoutMs,
		batchWorkers: m.batchWorkers,
		maxNrTimeouts: m.maxNrTimeouts,
	};
}
