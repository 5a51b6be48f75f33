// The agreement check: the generated C module (through the checker host and
// simulated SG_IO) and the TS interpretation of its spec must reach the
// same path state and message, sending the same commands, and leave the
// same checker context (its bytes as the C struct holds them), for every
// case.
// The cases themselves are in cases.ts (shared with `mpcheckgen test`).
import { expect } from "vitest";
import type { CheckerModel } from "../../generator/model/types.ts";
import type { NativeSet } from "../support/build.ts";
import { disagreements, randomCases, witnessCases, type Expectation, type RandomOptions } from "./cases.ts";
import { runSimCases, type HostCheck, type SimRunOptions } from "./sim.ts";

export { contextHex, disagreements, randomCases, witnessCases, type Disagreement, type Expectation, type RandomOptions } from "./cases.ts";

function assertAgree(m: CheckerModel, cases: Expectation[], results: HostCheck[]): void {
	const bad = disagreements(m, cases, results);
	expect(bad.slice(0, 3), `${bad.length} of ${cases.length} cases disagree`).toEqual([]);
}

export function runWitnesses(set: NativeSet, m: CheckerModel, opts: SimRunOptions = {}): { cases: number; rules: number } {
	const { cases, missing } = witnessCases(m);
	expect(missing, "rules no generated case exercises").toEqual([]);
	const results = runSimCases(set, m.name, cases.map((c) => c.case), opts);
	assertAgree(m, cases, results);
	return { cases: cases.length, rules: m.states.reduce((n, s) => n + s.rules.length, 0) };
}

/**
 * Random answers: fast-check draws the plans; the interpreter decides what
 * each check must do; the C must do the same.
 */
export function runRandom(set: NativeSet, m: CheckerModel, o: RandomOptions): { cases: number } {
	const cases = randomCases(m, o);
	const results = runSimCases(set, m.name, cases.map((c) => c.case), o);
	assertAgree(m, cases, results);
	return { cases: cases.length };
}
