// The agreement cases, free of any test runner (the vitest drivers and
// `mpcheckgen test` share them): the rule-derived cases of a spec, random
// answers with the interpreter's verdicts, and the comparison with what the
// generated C did in the checker host.
import fc from "fast-check";
import type { CheckerModel } from "../../generator/model/types.ts";
import { initialContext, initialMapContext, packedMapContext, type CheckResult, type ContextValues } from "../../generator/interp/interpret.ts";
import { answerPlanArb, planCheck } from "./random-answers.ts";
import { commandsAsHost, type HostCheck, type SimCase, type SimRunOptions } from "./sim.ts";
import { coverage, expectedCoverage, ruleWitnesses, type WitnessOptions } from "./witnesses.ts";

export interface Expectation {
	case: SimCase;
	expected: CheckResult;
}

export interface Disagreement {
	id: string;
	answers: unknown;
	expected: { state: number; msgid: number; commands: unknown; ctx: string; mpc: number };
	observed: { state: number; msgid: number; commands: unknown; unanswered: number; leftover: number; ctx: string | undefined; mpc: number };
}

const C_SIZE = { bool: 1, u8: 1, u16: 2, u32: 4 } as const;

/**
 * The bytes of the checker's context struct (x86-64: members in the spec's
 * order, each at its natural alignment, little-endian, the padding zero as
 * the framework's calloc leaves it), in hex: what the checker host prints.
 */
export function contextHex(m: CheckerModel, ctx: ContextValues): string {
	const bytes: number[] = [];
	let align = 1;
	for (const f of m.context) {
		if (f.scope.kind !== "path") continue;
		const v = ctx[f.key];
		if (v === undefined) throw new Error(`context field ${f.key} missing`);
		// a bytes field: an array of unsigned char, its bytes in order
		if (f.type === "bytes") {
			if (typeof v === "number" || v.length !== f.length) throw new Error(`context field ${f.key} is not ${f.length} bytes`);
			bytes.push(...v);
			continue;
		}
		if (typeof v !== "number") throw new Error(`context field ${f.key} holds bytes, not a ${f.type}`);
		const n = C_SIZE[f.type];
		align = Math.max(align, n);
		while (bytes.length % n) bytes.push(0);
		for (let k = 0; k < n; k++) bytes.push((v >>> (8 * k)) & 0xff);
	}
	while (bytes.length % align) bytes.push(0);
	return bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compares host results with the interpreter's; returns the cases that differ. */
export function disagreements(m: CheckerModel, cases: Expectation[], results: HostCheck[]): Disagreement[] {
	const out: Disagreement[] = [];
	cases.forEach((c, i) => {
		const got = results[i];
		const want = c.expected;
		const wantCmds = commandsAsHost(want.commands);
		const gotCmds = got.commands.map(({ cdb, dir, len, timeoutMs, out, via, offset }) => ({
			cdb,
			dir,
			len,
			timeoutMs,
			...(via ? { via } : {}),
			...(offset !== undefined ? { offset } : {}),
			...(out ? { out } : {}),
		}));
		const wantCtx = contextHex(m, want.context);
		// the map context as the C keeps it, packed; unset (-1) reads as the fields' initial values
		const wantMpc = packedMapContext(m, want.map);
		const gotMpc = got.mpc === -1 ? packedMapContext(m, initialMapContext(m)) : got.mpc;
		const same =
			got.id === c.case.id &&
			got.state === want.pathState &&
			got.msgid === want.msgid &&
			got.unanswered === 0 &&
			got.leftover === 0 &&
			JSON.stringify(gotCmds) === JSON.stringify(wantCmds) &&
			got.ctx === wantCtx &&
			gotMpc === wantMpc;
		if (!same) {
			out.push({
				id: c.case.id,
				answers: c.case.answers,
				expected: { state: want.pathState, msgid: want.msgid, commands: wantCmds, ctx: wantCtx, mpc: wantMpc },
				observed: { state: got.state, msgid: got.msgid, commands: gotCmds, unanswered: got.unanswered, leftover: got.leftover, ctx: got.ctx, mpc: got.mpc },
			});
		}
	});
	return out;
}

/** Witness cases: every rule of every state, checked for coverage and agreement. */
export function witnessCases(m: CheckerModel, opts: WitnessOptions = {}): { cases: Expectation[]; missing: string[] } {
	const ws = ruleWitnesses(m, opts);
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
		let map = initialMapContext(m);
		for (let s = 0; s < (o.sequence ?? 0); s++) {
			const { answers, expected } = planCheck(m, plans[k++], ctx, map);
			ctx = expected.context;
			map = expected.map;
			cases.push({ case: { id: `path${p}-check${s}`, path: `seq-${p}`, answers }, expected });
		}
	}
	return cases;
}
