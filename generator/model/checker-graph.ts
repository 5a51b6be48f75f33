// Checks over the state graph of a checker: every state reachable, every
// state able to end the check with a report, every goto cycle bounded by a
// retry budget.
import type { SpecInput } from "./input.ts";
import type { StateModel } from "./types.ts";

/** The states a state can move to, and whether the move draws from a budget. */
export function successors(s: StateModel): { target: StateModel; budgeted: boolean }[] {
	const out: { target: StateModel; budgeted: boolean }[] = [];
	for (const r of s.rules) {
		const o = r.outcome;
		if (o.kind === "goto") out.push({ target: o.target, budgeted: false });
		if (o.kind === "retry") {
			out.push({ target: o.target, budgeted: true });
			if (o.exhausted?.kind === "goto") out.push({ target: o.exhausted.target, budgeted: false });
		}
	}
	return out;
}

function reports(s: StateModel): boolean {
	return s.rules.some(
		(r) => r.outcome.kind === "report" || (r.outcome.kind === "retry" && r.outcome.exhausted?.kind === "report"),
	);
}

export function checkGraph(input: SpecInput, states: readonly StateModel[], initial: StateModel): void {
	const reached = new Set<StateModel>([initial]);
	const queue = [initial];
	while (queue.length > 0) {
		for (const { target } of successors(queue.shift()!)) {
			if (!reached.has(target)) {
				reached.add(target);
				queue.push(target);
			}
		}
	}
	for (const s of states) {
		if (!reached.has(s)) input.error(["states", s.key], `state '${s.key}' is unreachable from the initial state '${initial.key}'`);
	}
	const canEnd = new Set(states.filter(reports));
	for (let grew = true; grew; ) {
		grew = false;
		for (const s of states) {
			if (!canEnd.has(s) && successors(s).some((e) => canEnd.has(e.target))) {
				canEnd.add(s);
				grew = true;
			}
		}
	}
	for (const s of states) {
		if (!canEnd.has(s)) input.error(["states", s.key], `state '${s.key}' has no exit: no rule leads to a reported path state`);
	}
	// a cycle of plain gotos would loop forever: one edge of every cycle
	// must draw from a retry budget
	const color = new Map<StateModel, number>();
	const stack: StateModel[] = [];
	const visit = (s: StateModel): boolean => {
		color.set(s, 1);
		stack.push(s);
		for (const e of successors(s)) {
			if (e.budgeted) continue;
			const c = color.get(e.target) ?? 0;
			if (c === 1) {
				const cycle = [...stack.slice(stack.indexOf(e.target)), e.target].map((x) => x.key);
				input.error(["states", s.key], `goto cycle without a retry budget: ${cycle.join(" → ")} (use retry: BUDGET for one of these transitions)`);
				return true;
			}
			if (c === 0 && visit(e.target)) return true;
		}
		stack.pop();
		color.set(s, 2);
		return false;
	};
	for (const s of states) if ((color.get(s) ?? 0) === 0 && visit(s)) break;
}
