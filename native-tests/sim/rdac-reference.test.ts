// The rdac behaviour table of multipath-tools (shared/reference/
// checkers-behaviour.md §5), written out by hand, against both the TS
// interpretation of specs/rdac.ts and the generated C (simulated SG_IO; RDAC
// arrays cannot be emulated here): the decision order over VPD page 0xC9,
// the message of each DOWN, the retries. The last rows are the spec's
// deliberate differences from upstream (specs/rdac.ts says why).
//
// Run: npx vitest run native-tests/sim/rdac-reference.test.ts
import { describe, expect, it } from "vitest";
import { interpretCheck, type SimAnswer } from "../../generator/interp/interpret.ts";
import { hex, interpretRow, referenceChecker, runRowsInC, type ReferenceRow } from "./reference.ts";
import { runSimCases } from "./sim.ts";
import { senseBytes } from "./witnesses.ts";

const PATH = { WILD: 0, DOWN: 2, UP: 3, GHOST: 5 };
const MSG = { UP: 4, DOWN: 5, GHOST: 6, UNSUPPORTED: 7 };
// upstream's rdac message IDs
const RDAC = { NOT_CONNECTED: 100, STARTUP: 101, NON_RESPONSIVE: 102, RESET: 103, FIRMWARE: 104, QUIESCED: 105, SERVICE: 106, UNAVAILABLE: 107, INQUIRY_FAILED: 108, SHORT: 109 };

interface Page {
	b0?: number;
	tpgde?: boolean;
	owner?: boolean;
	shipping?: boolean;
	cur?: number;
	vendor?: number;
	alt?: number;
}
function page(p: Page, length = 48): SimAnswer {
	const b = new Array(48).fill(0);
	b[0] = p.b0 ?? 0;
	b[1] = 0xc9;
	b[3] = 44;
	b[8] = (p.owner ? 0x01 : 0) | (p.tpgde ? 0x10 : 0) | (p.shipping ? 0x20 : 0);
	b[10] = p.cur ?? 0;
	b[11] = p.vendor ?? 0;
	b[12] = p.alt ?? 0;
	return { status: 0, info: 0, data: b.slice(0, length) };
}
const check = (key: number, extra: SimAnswer = {}): SimAnswer => ({ status: 0x02, driverStatus: 0x08, info: 1, sense: senseBytes(key, 0, 0, false), ...extra });
const host = (status: number): SimAnswer => ({ status: 0, hostStatus: status, info: 1 });
const times = (n: number, a: SimAnswer) => Array.from({ length: n }, () => a);

type Row = ReferenceRow;
const one = (row: string, a: SimAnswer, state: number, msgid: number): Row => ({ row, answers: [a], state, msgid, sent: 1 });

const ROWS: Row[] = [
	one("ioctl ENOTTY → WILD", { errno: 25 }, PATH.WILD, MSG.UNSUPPORTED),
	one("CHECK CONDITION, ILLEGAL REQUEST → WILD", check(0x5), PATH.WILD, MSG.UNSUPPORTED),
	one("CHECK CONDITION, NOT READY → DOWN, inquiry failed", check(0x2), PATH.DOWN, RDAC.INQUIRY_FAILED),
	one("owner bit → UP", page({ owner: true }), PATH.UP, MSG.UP),
	one("I/O shipping bit → UP", page({ shipping: true }), PATH.UP, MSG.UP),
	one("neither: the other controller owns it → GHOST", page({}), PATH.GHOST, MSG.GHOST),
	one("b0 0x20 (PQ 1) → DOWN, lun not connected", page({ b0: 0x20, owner: true }), PATH.DOWN, RDAC.NOT_CONNECTED),
	one("b0 0x01 (another device type) → DOWN, lun not connected", page({ b0: 0x01, owner: true }), PATH.DOWN, RDAC.NOT_CONNECTED),
	one("b0 0x80 (bit 7 alone) is connected → UP", page({ b0: 0x80, owner: true }), PATH.UP, MSG.UP),
	one("TPGDE, current unavailable, vendor 2 → non-responsive", page({ tpgde: true, cur: 3, vendor: 2, owner: true }), PATH.DOWN, RDAC.NON_RESPONSIVE),
	one("… vendor 3 → held in reset", page({ tpgde: true, cur: 3, vendor: 3 }), PATH.DOWN, RDAC.RESET),
	one("… vendor 4 → firmware downloading", page({ tpgde: true, cur: 3, vendor: 4 }), PATH.DOWN, RDAC.FIRMWARE),
	one("… vendor 5 → firmware downloading", page({ tpgde: true, cur: 3, vendor: 5 }), PATH.DOWN, RDAC.FIRMWARE),
	one("… vendor 6 → quiesced", page({ tpgde: true, cur: 3, vendor: 6 }), PATH.DOWN, RDAC.QUIESCED),
	one("… vendor 7 → service mode", page({ tpgde: true, cur: 3, vendor: 7 }), PATH.DOWN, RDAC.SERVICE),
	one("… vendor 0 → unavailable", page({ tpgde: true, cur: 3, vendor: 0 }), PATH.DOWN, RDAC.UNAVAILABLE),
	one("… vendor 0x42 → unavailable", page({ tpgde: true, cur: 3, vendor: 0x42 }), PATH.DOWN, RDAC.UNAVAILABLE),
	one("current unavailable without TPGDE: ignored → UP", page({ cur: 3, owner: true }), PATH.UP, MSG.UP),
	one("TPGDE, current transitioning, alternate not → DOWN, startup", page({ tpgde: true, cur: 0xf, alt: 0, owner: true }), PATH.DOWN, RDAC.STARTUP),
	one("TPGDE, both transitioning, owner → UP", page({ tpgde: true, cur: 0xf, alt: 0xf, owner: true }), PATH.UP, MSG.UP),
	one("TPGDE, both transitioning, not owner → GHOST", page({ tpgde: true, cur: 0xf, alt: 0xf }), PATH.GHOST, MSG.GHOST),
	one("TPGDE, the high nibble of b10 ignored (0x33 is state 3)", page({ tpgde: true, cur: 0x33, vendor: 2 }), PATH.DOWN, RDAC.NON_RESPONSIVE),
	{ row: "DID_BUS_BUSY, then the page → UP", answers: [host(0x02), page({ owner: true })], state: PATH.UP, msgid: MSG.UP, sent: 2 },
	{ row: "DID_SOFT_ERROR, DID_TRANSPORT_DISRUPTED, then → UP", answers: [host(0x0b), host(0x0e), page({ owner: true })], state: PATH.UP, msgid: MSG.UP, sent: 3 },
	{ row: "DID_ERROR five times → DOWN, inquiry failed", answers: times(5, host(0x07)), state: PATH.DOWN, msgid: RDAC.INQUIRY_FAILED, sent: 5 },
	one("DID_NO_CONNECT is not retried → DOWN, inquiry failed", host(0x01), PATH.DOWN, RDAC.INQUIRY_FAILED),
	// deliberate differences
	one("difference: ioctl EIO (upstream GHOST from its zeroed buffer) → DOWN, inquiry failed", { errno: 5 }, PATH.DOWN, RDAC.INQUIRY_FAILED),
	one("difference: 12 bytes received (upstream reads 48) → DOWN, page too short", page({ owner: true }, 12), PATH.DOWN, RDAC.SHORT),
	one("difference: RECOVERED ERROR (upstream decodes the page: UP) → DOWN, inquiry failed", { ...check(0x1), data: page({ owner: true }).data }, PATH.DOWN, RDAC.INQUIRY_FAILED),
];

const INQUIRY_CDB = [0x12, 0x01, 0xc9, 0x00, 0x30, 0x00];

// The init (upstream's libcheck_init; on 0.15, whose init gets fd -1, the
// spec runs it at the path's first check): MODE SENSE(10) of the Control
// mode page, DBD, current then changeable values, 20 bytes; MODE SELECT(10)
// with SP of the current values with TAS set.
const SENSE_CURRENT_CDB = [0x5a, 0x08, 0x0a, 0, 0, 0, 0, 0, 20, 0];
const SENSE_CHANGEABLE_CDB = [0x5a, 0x08, 0x4a, 0, 0, 0, 0, 0, 20, 0];
const SELECT_CDB = [0x55, 0x01, 0, 0, 0, 0, 0, 0, 20, 0];
/** MODE SENSE(10) data: the 8-byte header, then the Control mode page (0x0A, length 0x0A), TAS in byte 13 bit 6. */
function controlPage(tas: boolean, length = 20): SimAnswer {
	const b = [0x00, 0x12, 0x00, 0x10, 0, 0, 0, 0, 0x8a, 0x0a, 0x02, 0x10, 0x00, tas ? 0x40 : 0x00, 0, 0, 0xff, 0xff, 0x00, 0x1e];
	return { status: 0, info: 0, data: b.slice(0, length) };
}
/** The changeable values: a mask of the bits that can be changed (unlike the current values, so a payload from the wrong read shows). */
function changeable(tas: boolean): SimAnswer {
	const b = [0x00, 0x12, 0x00, 0x00, 0, 0, 0, 0, 0x0a, 0x0a, 0x0e, 0xf0, 0x00, tas ? 0x48 : 0x08, 0, 0, 0, 0, 0, 0];
	return { status: 0, info: 0, data: b };
}
/** What a path's first check answers for an init that ends at once (TAS already set). */
const TAS_SET = controlPage(true);
const withInit = (row: Row): Row => ({ ...row, row: `${row.row} (after the init: TAS already set)`, answers: [TAS_SET, ...row.answers], sent: row.sent + 1 });
const GOOD: SimAnswer = { status: 0, info: 0 };
const owner = page({ owner: true });

/** Rows of the init, each followed by the first check's INQUIRY (the owner: UP); `cdbs` are the commands sent. */
const INIT_ROWS: (Row & { cdbs: number[][] })[] = [
	{
		row: "init: TAS clear and changeable → MODE SELECT of the current values with TAS set",
		answers: [controlPage(false), changeable(true), GOOD, owner],
		state: PATH.UP,
		msgid: MSG.UP,
		sent: 4,
		cdbs: [SENSE_CURRENT_CDB, SENSE_CHANGEABLE_CDB, SELECT_CDB, INQUIRY_CDB],
	},
	{
		row: "init: TAS already set → nothing more",
		answers: [controlPage(true), owner],
		state: PATH.UP,
		msgid: MSG.UP,
		sent: 2,
		cdbs: [SENSE_CURRENT_CDB, INQUIRY_CDB],
	},
	{
		row: "init: TAS clear, not changeable → no MODE SELECT",
		answers: [controlPage(false), changeable(false), owner],
		state: PATH.UP,
		msgid: MSG.UP,
		sent: 3,
		cdbs: [SENSE_CURRENT_CDB, SENSE_CHANGEABLE_CDB, INQUIRY_CDB],
	},
	{
		row: "init: MODE SENSE failing (ILLEGAL REQUEST) is ignored",
		answers: [check(0x5), owner],
		state: PATH.UP,
		msgid: MSG.UP,
		sent: 2,
		cdbs: [SENSE_CURRENT_CDB, INQUIRY_CDB],
	},
	{
		row: "init: MODE SENSE failing (ioctl EIO) is ignored, the check goes on (GHOST)",
		answers: [{ errno: 5 }, page({})],
		state: PATH.GHOST,
		msgid: MSG.GHOST,
		sent: 2,
		cdbs: [SENSE_CURRENT_CDB, INQUIRY_CDB],
	},
	{
		row: "init: the changeable values' MODE SENSE failing is ignored",
		answers: [controlPage(false), host(0x07), owner],
		state: PATH.UP,
		msgid: MSG.UP,
		sent: 3,
		cdbs: [SENSE_CURRENT_CDB, SENSE_CHANGEABLE_CDB, INQUIRY_CDB],
	},
	{
		row: "init: MODE SELECT failing is ignored",
		answers: [controlPage(false), changeable(true), check(0x5), owner],
		state: PATH.UP,
		msgid: MSG.UP,
		sent: 4,
		cdbs: [SENSE_CURRENT_CDB, SENSE_CHANGEABLE_CDB, SELECT_CDB, INQUIRY_CDB],
	},
	{
		row: "difference: a current page of 13 bytes (TAS unknown; upstream reads it as clear) ends the init",
		answers: [controlPage(false, 13), owner],
		state: PATH.UP,
		msgid: MSG.UP,
		sent: 2,
		cdbs: [SENSE_CURRENT_CDB, INQUIRY_CDB],
	},
];
/** The parameter list MODE SELECT sends: the current values read, page code and length 0x0A, TAS set. */
const SELECT_DATA = (() => {
	const b = [...controlPage(false).data!];
	b[8] = 0x0a;
	b[9] = 0x0a;
	b[13] |= 0x40;
	return b;
})();

const checker = referenceChecker("specs/rdac.ts");

const CHECK_ROWS = ROWS.map(withInit);

describe("specs/rdac.ts says what upstream rdac does", () => {
	it.each(CHECK_ROWS)("$row", (row) => {
		const r = interpretRow(checker.model, row);
		expect(r.commands[0]).toMatchObject({ cdb: SENSE_CURRENT_CDB, direction: -3, length: 20 });
		for (const c of r.commands.slice(1)) expect(c).toMatchObject({ cdb: INQUIRY_CDB, direction: -3, length: 48 });
	});
	it("the generated C gives the same answers for every row", () => {
		const results = runRowsInC(checker.set, "rdac", CHECK_ROWS);
		for (const r of results) {
			expect(r.commands[0]).toMatchObject({ cdb: hex(SENSE_CURRENT_CDB), dir: -3, len: 20 });
			for (const c of r.commands.slice(1)) expect(c).toMatchObject({ cdb: hex(INQUIRY_CDB), dir: -3, mxSbLen: 32 });
		}
	});
});

describe("the init's TAS setup (on 0.15 at the path's first check)", () => {
	it.each(INIT_ROWS)("$row", (row) => {
		const r = interpretRow(checker.model, row);
		expect(r.commands.map((c) => c.cdb)).toEqual(row.cdbs);
		const select = r.commands.find((c) => c.cdb[0] === 0x55);
		if (select) expect(select).toMatchObject({ direction: -2, length: 20, dataOut: SELECT_DATA });
	});
	it("the generated C sends the same commands and data for every row", () => {
		const results = runRowsInC(checker.set, "rdac", INIT_ROWS);
		results.forEach((r, i) => {
			expect(r.commands.map((c) => c.cdb), INIT_ROWS[i].row).toEqual(INIT_ROWS[i].cdbs.map(hex));
			const select = r.commands.find((c) => c.cdb.startsWith("55"));
			if (select) expect(select).toMatchObject({ dir: -2, len: 20, out: hex(SELECT_DATA) });
		});
	});
	it("the init runs once per path: the second check sends INQUIRY alone", () => {
		const first = interpretRow(checker.model, INIT_ROWS[0]);
		expect(first.context.initDone).toBe(1);
		const second = interpretCheck(checker.model, () => owner, first.context);
		expect({ state: second.pathState, cdbs: second.commands.map((c) => c.cdb) }).toEqual({ state: PATH.UP, cdbs: [INQUIRY_CDB] });
		const results = runSimCases(checker.set, "rdac", [
			{ id: "first", path: "p", answers: INIT_ROWS[0].answers },
			{ id: "second", path: "p", answers: [owner] },
		]);
		expect(results.map((r) => r.commands.map((c) => c.cdb))).toEqual([INIT_ROWS[0].cdbs.map(hex), [hex(INQUIRY_CDB)]]);
		expect(results.map((r) => r.state)).toEqual([PATH.UP, PATH.UP]);
	});
});
