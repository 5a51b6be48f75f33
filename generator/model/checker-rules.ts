// A state's rule list: each rule's facts and outcome, then the checks over
// the list as a whole (a rule an earlier one always pre-empts, a missing
// default rule; the warnings of checker-redundancy.ts).
import type { CheckerScope } from "./checker-scope.ts";
import { parseWhen } from "./checker-facts.ts";
import { coveredByUnion, repeatsDefault } from "./checker-redundancy.ts";
import { parseOutcome } from "./checker-outcomes.ts";
import { isRecord } from "./input.ts";
import { isSubset, type IntervalSet } from "./intervals.ts";
import type { ValuePath } from "./source-index.ts";
import { factKey, type ConditionModel, type DecoderModel, type RuleModel, type StateModel } from "./types.ts";

/** Whether every answer `later` matches is matched by `earlier` too. */
export function covers(earlier: readonly ConditionModel[], later: readonly ConditionModel[]): boolean {
	for (const c of earlier) {
		const l = later.find((x) => factKey(x.fact) === factKey(c.fact));
		const allowedLater: IntervalSet = l ? l.allowed : [c.fact.domain];
		if (!isSubset(allowedLater, c.allowed)) return false;
	}
	return true;
}

export function buildRules(
	cx: CheckerScope,
	rawRules: unknown,
	path: ValuePath,
	state: StateModel,
	decoder: DecoderModel | undefined,
): RuleModel[] {
	const { input } = cx;
	if (!Array.isArray(rawRules) || rawRules.length === 0) {
		input.error(path, `state '${state.key}' needs a non-empty list of rules`);
		return [];
	}
	const rules: RuleModel[] = [];
	rawRules.forEach((raw: unknown, index: number) => {
		const rpath = [...path, index];
		if (!isRecord(raw)) {
			input.error(rpath, "a rule is { when?, then }");
			return;
		}
		input.onlyKeys(raw, ["when", "then", "doc"], rpath, "rule property");
		const conditions = parseWhen(cx, raw.when, [...rpath, "when"], decoder, state.kind === "decision");
		if (!conditions) return;
		const outcomes = conditions.find((c) => c.fact.kind === "dataOutcome")?.written.map((w) => w.value);
		if (raw.then === undefined) {
			input.error(rpath, "the rule has no `then` outcome");
			return;
		}
		const decoded = decoder && outcomes ? { decoder, outcomes } : undefined;
		const outcome = parseOutcome(cx, raw.then, [...rpath, "then"], state, decoded);
		if (!outcome) return;
		const terminal = outcome.kind !== "retry" || outcome.exhausted !== null;
		rules.push({ index, doc: input.doc(rpath, raw.doc), loc: input.locate(rpath), conditions, outcome, terminal });
	});
	if (rules.length !== rawRules.length) return rules;
	// shadowed rules: an earlier rule that always ends the list matches
	// every answer this one matches
	const shadowed = new Set<RuleModel>();
	for (const r of rules) {
		const by = rules.find((e) => e.index < r.index && e.terminal && covers(e.conditions, r.conditions));
		if (by) {
			shadowed.add(r);
			input.error(
				[...path, r.index],
				`rule ${r.index + 1} of state '${state.key}' can never match: rule ${by.index + 1} (line ${by.loc.line}) already matches every answer it matches`,
			);
		}
	}
	// the warnings: pre-empted by several rules together, or the default's outcome again
	for (const r of rules) {
		if (shadowed.has(r)) continue;
		const by = coveredByUnion(rules, r);
		if (by) {
			shadowed.add(r);
			input.warn(
				[...path, r.index],
				`rule ${r.index + 1} of state '${state.key}' can never match: rules ${by.map((e) => `${e.index + 1} (line ${e.loc.line})`).join(", ")} together match every answer it matches`,
			);
		}
	}
	const fallback = rules[rules.length - 1];
	for (const r of rules) {
		if (shadowed.has(r) || !repeatsDefault(rules, r)) continue;
		input.warn(
			[...path, r.index],
			`rule ${r.index + 1} of state '${state.key}' repeats the default: without it, the answers it matches reach the same outcome (rule ${fallback.index + 1}, line ${fallback.loc.line})`,
		);
	}
	const last = rules[rules.length - 1];
	if (last && last.conditions.some((c) => !c.implied)) {
		input.error([...path, last.index], `the last rule of state '${state.key}' must have no \`when\`: every answer needs an outcome`);
	} else if (last && !last.terminal) {
		// a spent budget would fall through to no rule at all
		input.error(
			[...path, last.index, "then", "whenExhausted"],
			`the last rule of state '${state.key}' retries with whenExhausted: "fallthrough", but no rule follows it: give the outcome once the budget is spent`,
		);
	}
	return rules;
}
