// The warnings about a state's rule list as a whole: a rule that earlier
// rules together always pre-empt (no single one does: that is an error, in
// checker-rules.ts), and a rule that repeats the default rule's outcome
// (without it, the answers it matches reach the same outcome anyway), unless
// it is a guard like "any other ioctl error: DOWN", which spares the later
// rules' C the test of what it settles.
//
// A rule's answers are a box: per fact, the allowed values (a fact it does
// not test: the fact's whole domain). The facts are taken as independent,
// which only adds answers that cannot occur, so "covered" is never claimed
// wrongly; a rule that tests decoded data fields (which exist only for some
// answers) is never counted as covering anything.
import { complement, intersect, isEmpty, type IntervalSet } from "./intervals.ts";
import { factKey, type ConditionModel, type FactRef, type FinalOutcomeModel, type RuleModel } from "./types.ts";

type Box = Map<string, { fact: FactRef; allowed: IntervalSet }>;

function boxOf(conditions: readonly ConditionModel[]): Box {
	return new Map(conditions.map((c) => [factKey(c.fact), { fact: c.fact, allowed: c.allowed }]));
}

function allowedIn(b: Box, key: string, fact: FactRef): IntervalSet {
	return b.get(key)?.allowed ?? [fact.domain];
}

/** The parts of `b` outside `e` (boxes), or undefined when they do not meet. */
function subtract(b: Box, e: Box): Box[] | undefined {
	for (const [key, { fact, allowed }] of e) if (isEmpty(intersect(allowedIn(b, key, fact), allowed))) return undefined;
	const out: Box[] = [];
	let rest: Box = new Map(b);
	for (const [key, { fact, allowed }] of e) {
		const mine = allowedIn(rest, key, fact);
		const outside = intersect(mine, complement(allowed, fact.domain));
		if (!isEmpty(outside)) out.push(new Map(rest).set(key, { fact, allowed: outside }));
		rest = new Map(rest).set(key, { fact, allowed: intersect(mine, allowed) });
	}
	return out;
}

const MAX_BOXES = 4096;

/**
 * The earlier rules that together match every answer `r` matches (each
 * needed for it), or undefined when some answer of `r` reaches it.
 */
export function coveredByUnion(rules: readonly RuleModel[], r: RuleModel): RuleModel[] | undefined {
	let boxes: Box[] = [boxOf(r.conditions)];
	const used: RuleModel[] = [];
	for (const e of rules) {
		if (e.index >= r.index) break;
		if (!e.terminal || e.conditions.some((c) => c.fact.kind === "dataField")) continue;
		const eb = boxOf(e.conditions);
		let met = false;
		const next: Box[] = [];
		for (const b of boxes) {
			const parts = subtract(b, eb);
			if (parts === undefined) next.push(b);
			else {
				met = true;
				next.push(...parts);
			}
		}
		if (met) used.push(e);
		boxes = next;
		if (boxes.length === 0) return used;
		if (boxes.length > MAX_BOXES) return undefined;
	}
	return undefined;
}

function sameOutcome(a: FinalOutcomeModel, b: FinalOutcomeModel): boolean {
	if (a.assignments.length > 0 || b.assignments.length > 0) return false;
	if (a.kind === "goto") return b.kind === "goto" && a.target === b.target && a.log === b.log;
	if (a.kind === "done" || b.kind === "done") return a.kind === "done" && b.kind === "done" && a.log === b.log;
	return b.kind === "report" && a.pathState.value === b.pathState.value && a.message.id === b.message.id;
}

function meets(a: RuleModel, b: RuleModel): boolean {
	const ab = boxOf(a.conditions);
	for (const c of b.conditions) if (isEmpty(intersect(allowedIn(ab, factKey(c.fact), c.fact), c.allowed))) return false;
	return true;
}

/**
 * Whether `r` could go: it ends with the last (default) rule's outcome, and
 * every rule between them that also matches some of its answers does too.
 */
export function repeatsDefault(rules: readonly RuleModel[], r: RuleModel): boolean {
	const last = rules[rules.length - 1];
	if (!last || r === last || last.outcome.kind === "retry" || r.outcome.kind === "retry") return false;
	const def = last.outcome;
	if (!sameOutcome(r.outcome, def)) return false;
	const tested = new Set(r.conditions.filter((c) => !c.implied).map((c) => factKey(c.fact)));
	for (const j of rules) {
		if (j.index <= r.index) continue;
		// a guard: it settles a fact later rules would each test (an
		// implied "the ioctl succeeded"), which the C then leaves out
		if (j.conditions.some((c) => c.implied && tested.has(factKey(c.fact)))) return false;
		if (j === last || !meets(r, j)) continue;
		if (j.outcome.kind === "retry" || !sameOutcome(j.outcome, def)) return false;
	}
	return true;
}
