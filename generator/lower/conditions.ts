// Which of a rule's conditions the C must still test, and the C terms that
// test them. Implied conditions (the ioctl succeeded, the answer was GOOD)
// that earlier rules have already established are left out, and so are
// those a decoded outcome guarantees (the decoder only runs on a GOOD
// answer).
import { complement, contains, intersect, isSubset, type IntervalSet } from "../model/intervals.ts";
import { factKey, type ConditionModel, type RuleModel } from "../model/types.ts";

/** A rule with the conditions its C tests. */
export interface TestedRule {
	readonly rule: RuleModel;
	readonly tests: readonly ConditionModel[];
}

export function testedRules(rules: readonly RuleModel[]): TestedRule[] {
	const known = new Map<string, IntervalSet>();
	return rules.map((rule) => {
		const outcome = rule.conditions.find((c) => c.fact.kind === "dataOutcome");
		const decoded = outcome !== undefined && !contains(outcome.allowed, outcome.fact.domain[1]);
		const tests = rule.conditions.filter((c) => {
			if (!c.implied) return true;
			if (decoded && (c.fact.kind === "errno" || c.fact.kind === "sgInfo")) return false;
			const k = known.get(factKey(c.fact)) ?? [c.fact.domain];
			return !isSubset(k, c.allowed);
		});
		if (rule.terminal && rule.conditions.length === 1) {
			const c = rule.conditions[0];
			const key = factKey(c.fact);
			known.set(key, intersect(known.get(key) ?? [c.fact.domain], complement(c.allowed, c.fact.domain)));
		}
		return { rule, tests };
	});
}
