// The agreement cases, free of any test runner (the vitest drivers and
// `mpcheckgen test` share them): the rule-derived cases of a spec, random
// answers with the interpreter's verdicts, and the comparison with what the
// generated C did in the checker host.
import fc from "fast-check";
import type { CheckerModel } from "../../generator/model/types.ts";
import { initialContext, type CheckResult } from "../../generator/interp/interpret.ts";
import { answerPlanArb, planCheck } from "./random-answers.ts";
import { commandsAsHost, type HostCheck, type SimCase, type SimRunOptions } from "./sim.ts";
import { coverage, expectedCoverage, ruleWitnesses } from "./witnesses.ts";

export interface Expectation {
	case: SimCase;
	expected: CheckResult;
}

export interface Disagreement {
	id: string;
	answers: unknown;
	expected: { state: number; msgid: number; commands: unknown };
	observed: { state: number; msgid: number; commands: unknown; unanswered: number; leftover: number };
}

/** Compares host results with the interpreter's; returns the cases that differ. */
export function disagreements(cases: Expectation[], results: HostCheck[]): Disagreement[] {
	const out: Disagreement[] = [];
	cases.forEach((c, i) => {
		const got = results[i];
		const want = c.expected;
		const wantCmds = commandsAsHost(want.commands);
		const gotCmds = got.commands.map(({ cdb, dir, len, timeoutMs }) => ({ cdb, dir, len, timeoutMs }));
		const same =
			got.id === c.case.id &&
			got.state === want.pathState &&
			got.msgid === want.msgid &&
			got.unanswered === 0 &&
			got.leftover === 0 &&
			JSON.stringify(gotCmds) === JSON.stringify(wantCmds);
		if (!same) {
			out.push({
				id: c.case.id,
				answers: c.case.answers,
				expected: { state: want.pathState, msgid: want.msgid, commands: wantCmds },
				observed: { state: got.state, msgid: got.msgid, commands: gotCmds, unanswered: got.unanswered, leftover: got.leftover },
			});
		}
	});
	return out;
}

/** Witness cases: every rule of every state, checked for coverage and agreement. */
export function witnessCases(m: CheckerModel): { cases: Expectation[]; missing: string[] } {
	const ws = ruleWitnesses(m);
	const seen = coverage(ws.flatMap((w) => w.checks.map((c) => c.expected)));
	const missing = expectedCoverage(m).filter((k) => !seen.has(k));
	// each witness runs on a path of its own, its checks in order
	const cases = ws.flatMap((w) =>
		w.checks.map((c, i) => ({ case: { id: `${w.id}#${i}`, path: w.id, answers: c.answers }, expected: c.expected })),
	);
	return { cases, missing };
}

export interface RandomOptions extends SimRunOptions {
	/** Independent checks, each on a fresh path. */
	checks: number;
	/** Paths that each get `sequence` checks in a row, sharing the context. */
	paths?: number;
	sequence?: number;
	seed: number;
}

/**
 * Random answers: fast-check draws the plans; the interpreter decides what
 * each check must do (the C must do the same).
 */
export function randomCases(m: CheckerModel, o: RandomOptions): Expectation[] {
	const plansArb = fc.array(answerPlanArb, { minLength: 1, maxLength: 8 });
	const plans = fc.sample(plansArb, { numRuns: o.checks + (o.paths ?? 0) * (o.sequence ?? 0), seed: o.seed });
	const cases: Expectation[] = [];
	let k = 0;
	for (let i = 0; i < o.checks; i++) {
		const { answers, expected } = planCheck(m, plans[k++]);
		cases.push({ case: { id: `random-${i}`, answers }, expected });
	}
	for (let p = 0; p < (o.paths ?? 0); p++) {
		let ctx = initialContext(m);
		for (let s = 0; s < (o.sequence ?? 0); s++) {
			const { answers, expected } = planCheck(m, plans[k++], ctx);
			ctx = expected.context;
			cases.push({ case: { id: `path${p}-check${s}`, path: `seq-${p}`, answers }, expected });
		}
	}
	return cases;
}
