// Random device answers for the agreement tests: fast-check draws a plan per
// check (transport facts, sense in every format and some garbage, data
// that is random or a valid answer with mutations), and the plan turns into
// concrete answers as the interpreter asks for them, since what a command
// reads depends on the state and the context. The answers actually used are
// recorded and replayed to the C.
import fc from "fast-check";
import type { CheckerModel } from "../../generator/model/types.ts";
import { interpretCheck, type AnswerAt, type CheckResult, type ContextValues, type SimAnswer } from "../../generator/interp/interpret.ts";
import { ERRNO } from "../../generator/spec/vocabulary.ts";
import { synthesizeData } from "./data-synth.ts";
import { rng, senseBytes } from "./witnesses.ts";

const senseArb: fc.Arbitrary<{ sense: number[]; sbLenWr?: number }> = fc.oneof(
	fc.constant({ sense: [] as number[] }),
	fc
		.record({
			code: fc.constantFrom(0x70, 0x71, 0xf0, 0xf1),
			key: fc.integer({ min: 0, max: 0xff }),
			asc: fc.integer({ min: 0, max: 0xff }),
			ascq: fc.integer({ min: 0, max: 0xff }),
			len: fc.integer({ min: 0, max: 40 }),
		})
		.map(({ code, key, asc, ascq, len }) => {
			const s = senseBytes(key & 0x0f, asc, ascq, false);
			s[0] = code;
			s[2] = key;
			while (s.length < len) s.push(0);
			return { sense: s.slice(0, Math.max(len, 4)), sbLenWr: len };
		}),
	fc
		.record({
			code: fc.constantFrom(0x72, 0x73),
			key: fc.integer({ min: 0, max: 0xff }),
			asc: fc.integer({ min: 0, max: 0xff }),
			ascq: fc.integer({ min: 0, max: 0xff }),
			len: fc.integer({ min: 0, max: 12 }),
		})
		.map(({ code, key, asc, ascq, len }) => ({ sense: [code, key, asc, ascq, 0, 0, 0, 0], sbLenWr: len })),
	fc.record({
		sense: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }),
		sbLenWr: fc.integer({ min: 0, max: 255 }),
	}),
);

export interface AnswerPlan {
	errno?: number;
	status: number;
	hostStatus: number;
	driverStatus: number;
	info: number;
	sense: number[];
	sbLenWr?: number;
	resid?: number;
	/** How the data is made: none, random bytes, or a decoder outcome mutated. */
	data: "none" | "random" | "valid" | "mutated";
	seed: number;
}

export const answerPlanArb: fc.Arbitrary<AnswerPlan> = fc
	.record({
		failed: fc.integer({ min: 0, max: 9 }),
		errno: fc.oneof(fc.constantFrom(...Object.values(ERRNO)), fc.integer({ min: 1, max: 200 })),
		status: fc.oneof(fc.constantFrom(0x00, 0x02, 0x08, 0x18, 0x22, 0x28, 0x19), fc.integer({ min: 0, max: 255 })),
		hostStatus: fc.oneof(
			fc.constant(0),
			fc.integer({ min: 0, max: 0x14 }),
			fc.integer({ min: 0, max: 0xffff }),
		),
		driverStatus: fc.constantFrom(0, 0x08, 0x06, 0x28),
		info: fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 7 })),
		sense: senseArb,
		resid: fc.option(fc.integer({ min: -8, max: 5000 }), { freq: 4 }),
		data: fc.constantFrom("none", "random", "valid", "valid", "mutated", "mutated", "mutated"),
		seed: fc.integer({ min: 1, max: 0x7fffffff }),
	})
	.map((p) => ({
		errno: p.failed === 0 ? p.errno : undefined,
		status: p.status,
		hostStatus: p.hostStatus,
		driverStatus: p.driverStatus,
		info: p.info,
		sense: p.sense.sense,
		sbLenWr: p.sense.sbLenWr,
		resid: p.resid ?? undefined,
		data: p.data as AnswerPlan["data"],
		seed: p.seed,
	}));

function mutate(data: number[], r: () => number): { data: number[]; resid?: number } {
	const out = [...data];
	const n = 1 + Math.floor(r() * 3);
	let resid: number | undefined;
	for (let i = 0; i < n; i++) {
		const op = Math.floor(r() * 6);
		const at = Math.floor(r() * Math.max(out.length, 1));
		if (op === 0 && out.length) out[at] ^= 1 << Math.floor(r() * 8);
		else if (op === 1 && out.length) out[at] = [0, 0xff, 0x80, 0x01][Math.floor(r() * 4)];
		else if (op === 2) out.length = Math.floor(r() * out.length);
		else if (op === 3) for (let k = Math.floor(r() * 20); k > 0; k--) out.push(Math.floor(r() * 256));
		else if (op === 4 && out.length > 3) out[Math.floor(r() * 4)] = Math.floor(r() * 256);
		else if (op === 5) resid = Math.floor(r() * (out.length + 8)) - 4;
	}
	return { data: out, resid };
}

/** The concrete answer a plan gives to a command. */
export function planAnswer(p: AnswerPlan, at: AnswerAt, length: number): SimAnswer {
	if (p.errno) return { errno: p.errno };
	const a: SimAnswer = {
		status: p.status,
		hostStatus: p.hostStatus,
		driverStatus: p.driverStatus,
		info: p.info,
		sense: p.sense,
		sbLenWr: p.sbLenWr,
		resid: p.resid,
	};
	const r = rng(p.seed);
	if (p.data === "random") a.data = Array.from({ length: Math.floor(r() * Math.min(length + 16, 600)) }, () => Math.floor(r() * 256));
	const use = at.state.kind === "command" ? at.state.decoder : null;
	if ((p.data === "valid" || p.data === "mutated") && use) {
		const outcome = use.decoder.outcomes[Math.floor(r() * use.decoder.outcomes.length)].key;
		const inputs = Object.fromEntries(use.inputs.map((i) => [i.key, at.ctx[i.field.key]]));
		const s = synthesizeData(use.decoder, outcome, {}, inputs, length, r);
		const m = p.data === "mutated" ? mutate(s.data, r) : { data: s.data, resid: s.resid };
		a.data = m.data;
		a.resid = m.resid ?? s.resid ?? p.resid;
		if (p.data === "valid") {
			// a valid answer comes with GOOD status
			Object.assign(a, { status: 0, hostStatus: 0, driverStatus: 0, info: 0 });
		}
	}
	return a;
}

export interface PlannedCheck {
	answers: SimAnswer[];
	expected: CheckResult;
}

/**
 * Runs a check on the interpreter with answers from the plans (the last
 * plan repeats), recording the answers used.
 */
export function planCheck(m: CheckerModel, plans: AnswerPlan[], ctx?: ContextValues, map?: Record<string, number>): PlannedCheck {
	const answers: SimAnswer[] = [];
	const expected = interpretCheck(
		m,
		(cmd, i, at) => {
			const a = planAnswer(plans[Math.min(i, plans.length - 1)], at, cmd.length);
			answers.push(a);
			return a;
		},
		ctx,
		undefined,
		map,
	);
	return { answers, expected };
}
