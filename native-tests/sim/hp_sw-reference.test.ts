// The hp_sw behaviour table of multipath-tools (shared/reference/
// checkers-behaviour.md §4), written out by hand, against both the TS
// interpretation of specs/hp_sw.ts and the generated C (simulated SG_IO;
// hp_sw arrays cannot be emulated here). The agreement tests show that C and
// spec agree; this shows that the spec says what upstream does, and where it
// deliberately does not (the sense decoding, last rows).
//
// Run: npx vitest run native-tests/sim/hp_sw-reference.test.ts
import { describe, expect, it } from "vitest";
import type { SimAnswer } from "../../generator/interp/interpret.ts";
import { hex, interpretRow, referenceChecker, runRowsInC, type ReferenceRow } from "./reference.ts";
import { senseBytes } from "./witnesses.ts";

const PATH = { WILD: 0, DOWN: 2, UP: 3, GHOST: 5 };
const MSG = { UP: 4, DOWN: 5, GHOST: 6, UNSUPPORTED: 7 };
const KEY = { RECOVERED: 0x1, NOT_READY: 0x2, ILLEGAL_REQUEST: 0x5 };

const good: SimAnswer = { status: 0, info: 0, data: [0, 0x80, 0, 4, 0x41, 0x42, 0x43, 0x44] };
const check = (sense: number[], extra: SimAnswer = {}): SimAnswer => ({ status: 0x02, driverStatus: 0x08, info: 1, sense, ...extra });
const fixed = (key: number) => senseBytes(key, 0, 0, false);
const desc = (key: number) => senseBytes(key, 0, 0, true);

interface Row extends ReferenceRow {
	/** Commands sent: the INQUIRY, and the TUR if the INQUIRY was answered. */
	sent: number;
}

const ROWS: Row[] = [
	{ row: "INQUIRY: ioctl ENOTTY → WILD", answers: [{ errno: 25 }], state: PATH.WILD, msgid: MSG.UNSUPPORTED, sent: 1 },
	{ row: "INQUIRY: ioctl EIO → DOWN", answers: [{ errno: 5 }], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "INQUIRY: all three statuses 0, TUR GOOD → UP", answers: [good, { status: 0, info: 0 }], state: PATH.UP, msgid: MSG.UP, sent: 2 },
	{ row: "INQUIRY: status 0x01 masked to 0, TUR GOOD → UP", answers: [{ ...good, status: 0x01 }, { status: 0, info: 0 }], state: PATH.UP, msgid: MSG.UP, sent: 2 },
	{ row: "INQUIRY: host status DID_BUS_BUSY → DOWN, no retry", answers: [{ status: 0, hostStatus: 0x02, info: 1 }], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "INQUIRY: driver status 0x06 alone → DOWN", answers: [{ status: 0, driverStatus: 0x06, info: 1 }], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "INQUIRY: CHECK CONDITION, RECOVERED ERROR (fixed) → TUR → UP", answers: [check(fixed(KEY.RECOVERED)), { status: 0, info: 0 }], state: PATH.UP, msgid: MSG.UP, sent: 2 },
	{
		row: "INQUIRY: COMMAND TERMINATED, RECOVERED ERROR (descriptor) → TUR → UP",
		answers: [check(desc(KEY.RECOVERED), { status: 0x22, driverStatus: 0 }), { status: 0, info: 0 }],
		state: PATH.UP,
		msgid: MSG.UP,
		sent: 2,
	},
	{
		row: "INQUIRY: DRIVER_SENSE alone (status 0), RECOVERED ERROR → TUR → UP",
		answers: [check(fixed(KEY.RECOVERED), { status: 0 }), { status: 0, info: 0 }],
		state: PATH.UP,
		msgid: MSG.UP,
		sent: 2,
	},
	{ row: "INQUIRY: CHECK CONDITION, ILLEGAL REQUEST → WILD", answers: [check(fixed(KEY.ILLEGAL_REQUEST))], state: PATH.WILD, msgid: MSG.UNSUPPORTED, sent: 1 },
	{
		row: "INQUIRY: driver status 0x28 (low nibble DRIVER_SENSE), ILLEGAL REQUEST → WILD",
		answers: [check(desc(KEY.ILLEGAL_REQUEST), { status: 0, driverStatus: 0x28 })],
		state: PATH.WILD,
		msgid: MSG.UNSUPPORTED,
		sent: 1,
	},
	{ row: "INQUIRY: status 0x03 masked to CHECK CONDITION, ILLEGAL REQUEST → WILD", answers: [check(fixed(KEY.ILLEGAL_REQUEST), { status: 0x03, driverStatus: 0 })], state: PATH.WILD, msgid: MSG.UNSUPPORTED, sent: 1 },
	{ row: "INQUIRY: CHECK CONDITION, NOT READY → DOWN", answers: [check(fixed(KEY.NOT_READY))], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "INQUIRY: CHECK CONDITION without sense → DOWN", answers: [check([])], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "INQUIRY: RESERVATION CONFLICT → DOWN", answers: [{ status: 0x18, info: 1 }], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "TUR: ioctl EIO → GHOST", answers: [good, { errno: 5 }], state: PATH.GHOST, msgid: MSG.GHOST, sent: 2 },
	{ row: "TUR: ioctl ENOTTY → GHOST", answers: [good, { errno: 25 }], state: PATH.GHOST, msgid: MSG.GHOST, sent: 2 },
	{ row: "TUR: NOT READY (the passive controller) → GHOST", answers: [good, check(fixed(KEY.NOT_READY))], state: PATH.GHOST, msgid: MSG.GHOST, sent: 2 },
	{ row: "TUR: a host status (info set) → GHOST, no retry", answers: [good, { status: 0, hostStatus: 0x02, info: 1 }], state: PATH.GHOST, msgid: MSG.GHOST, sent: 2 },
	{ row: "TUR: UNIT ATTENTION → GHOST, no retry", answers: [good, check(fixed(0x6))], state: PATH.GHOST, msgid: MSG.GHOST, sent: 2 },
	// deliberate differences (specs/hp_sw.ts): upstream's simple sense-key
	// rule reads a key from any sense buffer of more than 2 bytes
	{
		row: "difference: ILLEGAL REQUEST in 8 bytes of fixed sense (upstream WILD) → DOWN",
		answers: [check(fixed(KEY.ILLEGAL_REQUEST), { sbLenWr: 8 })],
		state: PATH.DOWN,
		msgid: MSG.DOWN,
		sent: 1,
	},
	{
		row: "difference: RECOVERED ERROR under response code 0x00 (upstream UP) → DOWN",
		answers: [check([0x00, 0, KEY.RECOVERED, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
		state: PATH.DOWN,
		msgid: MSG.DOWN,
		sent: 1,
	},
];

const INQUIRY_CDB = [0x12, 0x01, 0x80, 0x00, 0xff, 0x00];

const checker = referenceChecker("specs/hp_sw.ts");

describe("specs/hp_sw.ts says what upstream hp_sw does", () => {
	it.each(ROWS)("$row", (row) => {
		const r = interpretRow(checker.model, row);
		expect(r.commands[0]).toMatchObject({ cdb: INQUIRY_CDB, direction: -3, length: 255 });
		if (row.sent > 1) expect(r.commands[1]).toMatchObject({ cdb: [0, 0, 0, 0, 0, 0], direction: -1, length: 0 });
	});
	it("the generated C gives the same answers for every row", () => {
		const results = runRowsInC(checker.set, "hp_sw", ROWS);
		for (const r of results) {
			expect(r.commands[0]).toMatchObject({ cdb: hex(INQUIRY_CDB), dir: -3, mxSbLen: 32, timeoutMs: 30000 });
			if (r.commands.length > 1) expect(r.commands[1]).toMatchObject({ cdb: "000000000000", dir: -1 });
		}
	});
});
