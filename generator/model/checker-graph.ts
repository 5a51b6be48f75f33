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

/** Whether a rule of the state ends the run: a report (a check) or done (an init). */
function reports(s: StateModel): boolean {
	const ends = (k: string | undefined) => k === "report" || k === "done";
	return s.rules.some((r) => ends(r.outcome.kind) || (r.outcome.kind === "retry" && ends(r.outcome.exhausted?.kind)));
}

/** The states reachable from `start`, itself included. */
export function reachable(start: StateModel): Set<StateModel> {
	const reached = new Set<StateModel>([start]);
	const queue = [start];
	while (queue.length > 0) {
		for (const { target } of successors(queue.shift()!)) {
			if (!reached.has(target)) {
				reached.add(target);
				queue.push(target);
			}
		}
	}
	return reached;
}

export function checkGraph(input: SpecInput, states: readonly StateModel[], initial: StateModel, initInitial?: StateModel): void {
	const reached = reachable(initial);
	if (initInitial) for (const s of reachable(initInitial)) reached.add(s);
	for (const s of states) {
		if (!reached.has(s)) {
			const from = initInitial ? `the initial state '${initial.key}' or the init's '${initInitial.key}'` : `the initial state '${initial.key}'`;
			input.error(["states", s.key], `state '${s.key}' is unreachable from ${from}`);
		}
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
		if (!canEnd.has(s)) input.error(["states", s.key], `state '${s.key}' has no exit: no rule leads to a reported path state (or, in the init, to done)`);
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
