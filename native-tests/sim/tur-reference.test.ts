// The TUR behaviour table of multipath-tools 0.15 (shared/reference/
// checkers-behaviour.md §1), written out by hand, against both the TS
// interpretation of specs/tur.ts and the generated C. The agreement tests
// show that C and spec agree; this shows that the spec says what upstream
// does.
import { beforeAll, describe, expect, it } from "vitest";
import { interpretCheck, type SimAnswer } from "../../generator/interp/interpret.ts";
import { loadSpec } from "../../generator/load.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { buildNativeSet, type NativeSet } from "../support/build.ts";
import { runSimCases } from "./sim.ts";
import { senseBytes } from "./witnesses.ts";

const PATH = { WILD: 0, DOWN: 2, UP: 3, GHOST: 5, PENDING: 6, DISCONNECTED: 10 };
const MSG = { DOWN: 5, UP: 4, GHOST: 6, UNSUPPORTED: 7, DISCONNECTED: 8, TRANSITIONING: 100 };

const good: SimAnswer = { status: 0, info: 0 };
const check = (sense: number[], extra: SimAnswer = {}): SimAnswer => ({
	status: 0x02,
	driverStatus: 0x08,
	info: 1,
	sense,
	...extra,
});
const fixed = (key: number, asc: number, ascq: number) => senseBytes(key, asc, ascq, false);
const desc = (key: number, asc: number, ascq: number) => senseBytes(key, asc, ascq, true);
const host = (status: number): SimAnswer => ({ status: 0, hostStatus: status, info: 1 });
const times = (n: number, a: SimAnswer) => Array.from({ length: n }, () => a);

interface Row {
	row: string;
	answers: SimAnswer[];
	state: number;
	msgid: number;
	/** TUR commands the check sends. */
	sent: number;
}

const ROWS: Row[] = [
	{ row: "1: ioctl ENOTTY → WILD", answers: [{ errno: 25 }], state: PATH.WILD, msgid: MSG.UNSUPPORTED, sent: 1 },
	{ row: "2: ioctl EIO → DOWN, no retry", answers: [{ errno: 5 }], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "2: ioctl ENXIO (offline) → DOWN", answers: [{ errno: 6 }], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "3: RESERVATION CONFLICT → UP", answers: [{ status: 0x18, info: 1 }], state: PATH.UP, msgid: MSG.UP, sent: 1 },
	{ row: "3: status masked with 0x7e (0x19) → UP", answers: [{ status: 0x19, info: 1 }], state: PATH.UP, msgid: MSG.UP, sent: 1 },
	{ row: "4: GOOD → UP", answers: [good], state: PATH.UP, msgid: MSG.UP, sent: 1 },
	{ row: "5: DID_BUS_BUSY, then GOOD → UP", answers: [host(0x02), good], state: PATH.UP, msgid: MSG.UP, sent: 2 },
	{
		row: "5: DID_TIME_OUT five times → sense decides: none → DOWN",
		answers: times(5, host(0x03)),
		state: PATH.DOWN,
		msgid: MSG.DOWN,
		sent: 5,
	},
	{
		row: "5: a retried host status with standby sense, exhausted → GHOST",
		answers: times(5, { ...check(fixed(2, 0x04, 0x0b)), hostStatus: 0x07 }),
		state: PATH.GHOST,
		msgid: MSG.GHOST,
		sent: 5,
	},
	{ row: "5: DID_NO_CONNECT is not retried → DOWN", answers: [host(0x01)], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "5: DID_TRANSPORT_FAILFAST is not retried → DOWN", answers: [host(0x0f)], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "5: DID_TARGET_FAILURE (0x10) is retried", answers: [host(0x10), good], state: PATH.UP, msgid: MSG.UP, sent: 2 },
	{ row: "6: UNIT ATTENTION, then GOOD → UP", answers: [check(fixed(6, 0x29, 0x00)), good], state: PATH.UP, msgid: MSG.UP, sent: 2 },
	{
		row: "6: UNIT ATTENTION five times → DOWN",
		answers: times(5, check(desc(6, 0x2a, 0x06))),
		state: PATH.DOWN,
		msgid: MSG.DOWN,
		sent: 5,
	},
	{
		row: "5+6: the budget is shared: 2 host retries + 3 UA, then UA → DOWN",
		answers: [host(0x02), host(0x08), check(fixed(6, 0x29, 0)), check(fixed(6, 0x29, 0)), check(fixed(6, 0x29, 0))],
		state: PATH.DOWN,
		msgid: MSG.DOWN,
		sent: 5,
	},
	{ row: "7: NOT READY 04/0B (fixed) → GHOST", answers: [check(fixed(2, 0x04, 0x0b))], state: PATH.GHOST, msgid: MSG.GHOST, sent: 1 },
	{ row: "7: NOT READY 04/0B (descriptor) → GHOST", answers: [check(desc(2, 0x04, 0x0b))], state: PATH.GHOST, msgid: MSG.GHOST, sent: 1 },
	{
		row: "8: NOT READY 04/0A → PENDING, transitioning",
		answers: [check(desc(2, 0x04, 0x0a))],
		state: PATH.PENDING,
		msgid: MSG.TRANSITIONING,
		sent: 1,
	},
	{
		row: "9: ILLEGAL REQUEST 25/00 → DISCONNECTED",
		answers: [check(fixed(5, 0x25, 0x00))],
		state: PATH.DISCONNECTED,
		msgid: MSG.DISCONNECTED,
		sent: 1,
	},
	{ row: "10: NOT READY 04/0C (unavailable) → DOWN", answers: [check(fixed(2, 0x04, 0x0c))], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "10: CHECK CONDITION without sense → DOWN", answers: [check([])], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "10: NOT READY 04/01 (becoming ready) → DOWN", answers: [check(fixed(2, 0x04, 0x01))], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{
		row: "sense: fixed format needs sb_len_wr > 13",
		answers: [check(fixed(2, 0x04, 0x0b), { sbLenWr: 13 })],
		state: PATH.DOWN,
		msgid: MSG.DOWN,
		sent: 1,
	},
	{
		row: "sense: descriptor format needs sb_len_wr > 3",
		answers: [check(desc(2, 0x04, 0x0b), { sbLenWr: 3 })],
		state: PATH.DOWN,
		msgid: MSG.DOWN,
		sent: 1,
	},
	{
		row: "sense: fixed 0xF0 (VALID bit) is fixed format",
		answers: [check([0xf0, ...fixed(2, 0x04, 0x0b).slice(1)])],
		state: PATH.GHOST,
		msgid: MSG.GHOST,
		sent: 1,
	},
	{
		row: "sense: 0xF2 is not descriptor format (compared unmasked)",
		answers: [check([0xf2, 2, 0x04, 0x0b, 0, 0, 0, 0])],
		state: PATH.DOWN,
		msgid: MSG.DOWN,
		sent: 1,
	},
	{
		row: "sense: only the 32 bytes of the sense buffer count, whatever sb_len_wr says",
		answers: [check(fixed(2, 0x04, 0x0b), { sbLenWr: 255 })],
		state: PATH.GHOST,
		msgid: MSG.GHOST,
		sent: 1,
	},
];

let tur: CheckerModel;
let set: NativeSet;
beforeAll(async () => {
	tur = (await loadSpec("specs/tur.ts")) as CheckerModel;
	set = buildNativeSet({ compiler: "clang" });
});

describe("specs/tur.ts says what upstream tur does", () => {
	it.each(ROWS)("$row", ({ answers, state, msgid, sent }) => {
		const r = interpretCheck(tur, (_cmd, i) => answers[i]);
		expect({ state: r.pathState, msgid: r.msgid, sent: r.commands.length }).toEqual({ state, msgid, sent });
		for (const c of r.commands) expect(c).toMatchObject({ cdb: [0, 0, 0, 0, 0, 0], direction: -1, length: 0 });
	});
	it("the generated C gives the same answers for every row", () => {
		const results = runSimCases(
			set,
			"tur",
			ROWS.map((r, i) => ({ id: `row${i}`, answers: r.answers.slice(0, r.sent) })),
		);
		expect(results.map((r) => ({ state: r.state, msgid: r.msgid, sent: r.commands.length }))).toEqual(
			ROWS.map((r) => ({ state: r.state, msgid: r.msgid, sent: r.sent })),
		);
		for (const r of results) {
			expect(r.commands.every((c) => c.cdb === "000000000000" && c.dir === -1 && c.mxSbLen === 32 && c.timeoutMs === 30000)).toBe(true);
		}
	});
});
