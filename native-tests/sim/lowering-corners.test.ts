// Lowering corners the embedded specs do not reach. The mutation run
// (npm run mutate, MUTATION.md) found generator mutants that left generated/
// byte-identical, so no test of the embedded checkers could see them:
// condition pruning that drops a rule's `ans.err == 0` after a fall-through
// retry (or always), and an || term left unparenthesised inside an &&
// condition. The fixture spec native-tests/fixtures/good-specs/corners.ts
// needs each; it is generated with `mpcheckgen generate`, built against
// simulated SG_IO and checked two ways: a hand-written table (not from the
// model), and agreement with the interpreter on every rule's witnesses and
// on random answers.
//
// Run: npx vitest run native-tests/sim/lowering-corners.test.ts
import { beforeAll, describe, expect, it } from "vitest";
import type { SimAnswer } from "../../generator/interp/interpret.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { buildNativeSet, type NativeSet } from "../support/build.ts";
import { runRandom, runWitnesses } from "./agreement.ts";
import { generateGoodSpec, type GoodSpec } from "./good-spec.ts";
import { runSimCases } from "./sim.ts";

const SPEC = "native-tests/fixtures/good-specs/corners.ts";
const PATH = { DOWN: 2, UP: 3, GHOST: 5 } as const;
/** CHECKER_MSGID_UP, _DOWN, _GHOST of 0.15. */
const MSG = { UP: 4, DOWN: 5, GHOST: 6 } as const;

const EIO: SimAnswer = { errno: 5 };
const GOOD: SimAnswer = { status: 0, info: 0 };
/** CHECK CONDITION with fixed-format sense of key `key`. */
const sense = (key: number): SimAnswer => ({
	status: 0x02,
	driverStatus: 0x08,
	info: 1,
	sense: [0x70, 0, key, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x04, 0x01, 0, 0, 0, 0],
});
const NOT_READY = 0x2;
const UNIT_ATTENTION = 0x6;
const ILLEGAL_REQUEST = 0x5;

/** Checks on one path in order (the context carries over), and what each must give. */
const ROWS: { name: string; path: string; answers: SimAnswer[]; state: number; msgid: number; sent: number }[] = [
	{ name: "GOOD: UP", path: "a", answers: [GOOD], state: PATH.UP, msgid: MSG.UP, sent: 1 },
	{ name: "EIO, then GOOD: retried, UP", path: "b", answers: [EIO, GOOD], state: PATH.UP, msgid: MSG.UP, sent: 2 },
	{ name: "EIO twice, then GOOD: UP", path: "c", answers: [EIO, EIO, GOOD], state: PATH.UP, msgid: MSG.UP, sent: 3 },
	// the budget spent, the ioctl error falls through: the status rule must
	// not match a failed ioctl (its zeroed status reads GOOD)
	{ name: "EIO three times: DOWN, not UP", path: "d", answers: [EIO, EIO, EIO], state: PATH.DOWN, msgid: MSG.DOWN, sent: 3 },
	{ name: "NOT READY: GHOST", path: "e", answers: [sense(NOT_READY)], state: PATH.GHOST, msgid: MSG.GHOST, sent: 1 },
	// seenAttention is now set: the && with the context fails for either key
	{ name: "then UNIT ATTENTION: DOWN", path: "e", answers: [sense(UNIT_ATTENTION)], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ name: "then NOT READY: DOWN", path: "e", answers: [sense(NOT_READY)], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ name: "then GOOD: UP, seenAttention cleared", path: "e", answers: [GOOD], state: PATH.UP, msgid: MSG.UP, sent: 1 },
	{ name: "then UNIT ATTENTION: GHOST", path: "e", answers: [sense(UNIT_ATTENTION)], state: PATH.GHOST, msgid: MSG.GHOST, sent: 1 },
	{ name: "ILLEGAL REQUEST: DOWN", path: "f", answers: [sense(ILLEGAL_REQUEST)], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
];

let model: CheckerModel;
let g: GoodSpec;
let set: NativeSet;
let plugin: string;

beforeAll(async () => {
	g = await generateGoodSpec(SPEC);
	model = g.model;
	set = buildNativeSet({ compiler: "clang" });
	plugin = set.simPluginFrom("corners", g.checkerC("0.15"));
});

describe("the corners fixture spec", () => {
	it("the generated C gives the hand-written value for every row", () => {
		const got = runSimCases(
			set,
			"corners",
			ROWS.map((r, i) => ({ id: `r${i}`, path: r.path, answers: r.answers })),
			{ plugin },
		);
		const bad = ROWS.flatMap((r, i) => {
			const g = got[i]!;
			return g.state === r.state && g.msgid === r.msgid && g.commands.length === r.sent
				? []
				: [`${r.name}: got state ${g.state} msgid ${g.msgid} sent ${g.commands.length}, want ${r.state}/${r.msgid}/${r.sent}`];
		});
		expect(bad).toEqual([]);
	});

	it("every rule exercised, and C agrees with the spec on each case and on 500 random answers", () => {
		expect(runWitnesses(set, model, { plugin }).cases).toBeGreaterThan(0);
		runRandom(set, model, { checks: 500, paths: 5, sequence: 10, seed: 20261202, plugin });
	});
});
