// The readsector0 behaviour table of multipath-tools (shared/reference/
// checkers-behaviour.md §3: upstream's sg_read()), written out by hand,
// against both the TS interpretation of specs/readsector0.ts and the
// generated C. One row differs from upstream on purpose: an ioctl that keeps
// failing with EINTR is retried without bound upstream (the checker loop
// can hang in one check); the spec stops after five attempts with DOWN.
//
// Run: npx vitest run native-tests/sim/readsector0-reference.test.ts
import { describe, expect, it } from "vitest";
import type { SimAnswer } from "../../generator/interp/interpret.ts";
import { interpretRow, referenceChecker, runRowsInC, type ReferenceRow } from "./reference.ts";
import { senseBytes } from "./witnesses.ts";

const PATH = { DOWN: 2, UP: 3 };
const MSG = { DOWN: 5, UP: 4 };
const E = { EINTR: 4, EIO: 5, ENXIO: 6, ENOMEM: 12, ENODEV: 19 };

const good: SimAnswer = { status: 0, info: 0, data: [0xeb, 0x63, 0x90] };
const check = (sense: number[], extra: SimAnswer = {}): SimAnswer => ({ status: 0x02, driverStatus: 0x08, info: 1, sense, ...extra });
const fixed = (key: number, asc: number, ascq: number) => senseBytes(key, asc, ascq, false);
const desc = (key: number, asc: number, ascq: number) => senseBytes(key, asc, ascq, true);
const ua = check(fixed(6, 0x29, 0x00));
const host = (status: number): SimAnswer => ({ status: 0, hostStatus: status, info: 1 });
const times = (n: number, a: SimAnswer) => Array.from({ length: n }, () => a);

interface Row extends ReferenceRow {
	/** READ(10) commands the check sends. */
	sent: number;
}

const ROWS: Row[] = [
	{ row: "EINTR is retried: EINTR, then GOOD → UP", answers: [{ errno: E.EINTR }, good], state: PATH.UP, msgid: MSG.UP, sent: 2 },
	{
		row: "DIFFERS: EINTR five times → DOWN (upstream retries without bound)",
		answers: times(5, { errno: E.EINTR }),
		state: PATH.DOWN,
		msgid: MSG.DOWN,
		sent: 5,
	},
	{ row: "ioctl ENOMEM → UP", answers: [{ errno: E.ENOMEM }], state: PATH.UP, msgid: MSG.UP, sent: 1 },
	{ row: "ioctl EIO → DOWN, no retry", answers: [{ errno: E.EIO }], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "ioctl ENXIO (offline) → DOWN", answers: [{ errno: E.ENXIO }], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "ioctl ENODEV (deleted) → DOWN", answers: [{ errno: E.ENODEV }], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "status, host and driver status 0 → UP", answers: [good], state: PATH.UP, msgid: MSG.UP, sent: 1 },
	{
		row: "a 512-byte block: 3584 bytes residual, still all 0 → UP",
		answers: [{ ...good, resid: 3584 }],
		state: PATH.UP,
		msgid: MSG.UP,
		sent: 1,
	},
	{ row: "UNIT ATTENTION, then GOOD → UP", answers: [ua, good], state: PATH.UP, msgid: MSG.UP, sent: 2 },
	{ row: "UNIT ATTENTION twice, then GOOD → UP", answers: [ua, ua, good], state: PATH.UP, msgid: MSG.UP, sent: 3 },
	{ row: "UNIT ATTENTION three times (3 attempts in all) → DOWN", answers: times(3, ua), state: PATH.DOWN, msgid: MSG.DOWN, sent: 3 },
	{
		row: "UNIT ATTENTION in descriptor sense is retried too",
		answers: [check(desc(6, 0x2a, 0x09)), good],
		state: PATH.UP,
		msgid: MSG.UP,
		sent: 2,
	},
	{
		row: "EINTR does not count against the UNIT ATTENTION attempts",
		answers: [ua, { errno: E.EINTR }, ua, { errno: E.EINTR }, good],
		state: PATH.UP,
		msgid: MSG.UP,
		sent: 5,
	},
	{ row: "MEDIUM ERROR 11/00 (unrecovered read error) → DOWN", answers: [check(fixed(3, 0x11, 0x00))], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "NOT READY 04/02 → DOWN", answers: [check(fixed(2, 0x04, 0x02))], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "NOT READY 04/0B (standby) → DOWN, not GHOST", answers: [check(fixed(2, 0x04, 0x0b))], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "RESERVATION CONFLICT → DOWN (not UP as in tur)", answers: [{ status: 0x18, info: 1 }], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "DID_BUS_BUSY → DOWN, no retry (unlike tur)", answers: [host(0x02)], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "DID_TIME_OUT → DOWN", answers: [host(0x03)], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{ row: "driver status only (DRIVER_SENSE without sense) → DOWN", answers: [check([])], state: PATH.DOWN, msgid: MSG.DOWN, sent: 1 },
	{
		row: "sense: fixed format needs sb_len_wr > 13, so this UNIT ATTENTION is not retried",
		answers: [check(fixed(6, 0x29, 0x00), { sbLenWr: 13 })],
		state: PATH.DOWN,
		msgid: MSG.DOWN,
		sent: 1,
	},
];

const checker = referenceChecker("specs/readsector0.ts");

/** READ(10), LBA 0, one block, into 4096 bytes. */
const READ10_LBA0 = [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0];

describe("specs/readsector0.ts says what upstream readsector0 does", () => {
	it.each(ROWS)("$row", (row) => {
		const r = interpretRow(checker.model, row);
		for (const c of r.commands) expect(c).toMatchObject({ cdb: READ10_LBA0, direction: -3, length: 4096 });
	});
	it("the generated C gives the same answers for every row", () => {
		const results = runRowsInC(checker.set, "readsector0", ROWS);
		for (const r of results) {
			expect(
				r.commands.every((c) => c.cdb === "28000000000000000100" && c.dir === -3 && c.len === 4096 && c.mxSbLen === 32 && c.timeoutMs === 30000),
			).toBe(true);
		}
	});
});
