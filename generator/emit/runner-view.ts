// Runner model → the view of runner.h/.c and async_checker.h/.c. Each
// operation of the spec becomes one static function: a compare-and-swap
// loop over the state, one case label per state it can meet.
import type { RunnerCaseModel, RunnerModel, RunnerOperationModel } from "../model/types.ts";
import { comment, indent } from "./c-writer.ts";

/** C for each effect, wait and condition the runner spec language knows. */
const EFFECT_C: Record<string, string> = {
	runWorker: "rctx->func(rctx->data);",
	pthreadCancel: "pthread_cancel(rctx->thr);",
	markCancelSent: "mark_cancel_sent(rctx);",
};
const WAIT_C: Record<string, string> = { cancelSent: "await_cancel_sent(rctx);" };
const CONDITION_C: Record<string, string> = { deadlinePassed: "deadline_passed(rctx)" };

export interface RunnerView {
	states: { cName: string; name: string; docLines: string[] }[];
	operations: string[][];
	stackSize: number;
	maxNrTimeouts: number;
}

/** Whether a case only reports the state it found. */
function isTrivial(c: RunnerCaseModel): boolean {
	return !c.when && !c.await && !c.to && !c.call && c.effects.length === 0 && c.returns === c.from;
}

function caseBody(c: RunnerCaseModel, level: number, loop: boolean): string[] {
	const ind = indent(level);
	const out: string[] = [];
	if (c.await) out.push(`${ind}${WAIT_C[c.await.key]}`);
	if (c.call) {
		out.push(`${ind}return runner_${c.call}(rctx);`);
		return out;
	}
	if (c.to) {
		if (!loop) throw new Error("a state change needs the compare-and-swap loop");
		out.push(`${ind}if (!change_state(rctx, &state, ${c.to.cName}))`, `${ind}\tcontinue;`);
	}
	for (const e of c.effects) out.push(`${ind}${EFFECT_C[e.key]}`);
	out.push(`${ind}return ${c.returns.cName};`);
	return out;
}

function operationLines(op: RunnerOperationModel): string[] {
	const loop = op.byState.some((g) => g.cases.some((c) => c.to));
	const lines: string[] = [...comment(op.doc, 0)];
	lines.push(`static int ${op.cName}(struct runner_context *rctx)`, "{", "\tint state = get_state(rctx);", "");
	const base = loop ? 2 : 1;
	if (loop) lines.push("\tfor (;;) {");
	lines.push(`${indent(base)}switch (state) {`);
	const groups = op.byState;
	for (let i = 0; i < groups.length; i++) {
		const g = groups[i];
		// consecutive states that only report themselves share one return
		if (g.cases.length === 1 && isTrivial(g.cases[0])) {
			let j = i;
			while (j + 1 < groups.length && groups[j + 1].cases.length === 1 && isTrivial(groups[j + 1].cases[0])) j++;
			for (let k = i; k <= j; k++) {
				const c = groups[k].cases[0];
				if (c.doc) lines.push(...comment(c.doc, base));
				lines.push(`${indent(base)}case ${c.from.cName}:`);
			}
			lines.push(`${indent(base + 1)}return ${i === j ? g.state.cName : "state"};`);
			i = j;
			continue;
		}
		lines.push(`${indent(base)}case ${g.state.cName}:`);
		for (const c of g.cases) {
			if (c.doc) lines.push(...comment(c.doc, base + 1));
			if (c.when) {
				const body = caseBody(c, base + 2, loop);
				lines.push(`${indent(base + 1)}if (${CONDITION_C[c.when.key]})${body.length > 1 ? " {" : ""}`, ...body);
				if (body.length > 1) lines.push(`${indent(base + 1)}}`);
			} else lines.push(...caseBody(c, base + 1, loop));
		}
	}
	lines.push(`${indent(base)}default:`);
	lines.push(`${indent(base + 1)}condlog(2, "%s: unexpected runner state %s", __func__,`);
	lines.push(`${indent(base + 2)}runner_state_name(state));`);
	lines.push(`${indent(base + 1)}return state;`);
	lines.push(`${indent(base)}}`);
	if (loop) lines.push("\t}");
	lines.push("}");
	return lines;
}

/** The order the functions must appear in: callees before callers. */
function ordered(ops: RunnerOperationModel[]): RunnerOperationModel[] {
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

export function runnerView(m: RunnerModel): RunnerView {
	return {
		states: m.states.map((s) => ({ cName: s.cName, name: s.name, docLines: comment(s.doc, 1) })),
		operations: ordered(m.operations).map(operationLines),
		stackSize: m.stackSize,
		maxNrTimeouts: m.maxNrTimeouts,
	};
}
