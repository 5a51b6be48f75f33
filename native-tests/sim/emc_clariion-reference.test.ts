// The emc_clariion behaviour table of multipath-tools (shared/reference/
// checkers-behaviour.md §6), written out by hand, against both the TS
// interpretation of specs/emc_clariion.ts and the generated C (simulated
// SG_IO; CLARiiON arrays cannot be emulated here): the outcome order over
// VPD page 0xC0, the WWN stored on the first good check and compared on the
// next ones, the READ of the active path and the inactive-snapshot flag, the
// retries. A row is one map's checks in turn: on its path, sharing the
// path's context, or on another path of the map (sharing only the map's
// context, the inactive-snapshot flag). The last rows are the spec's
// deliberate differences from upstream (specs/emc_clariion.ts says why).
//
// Run: npx vitest run native-tests/sim/emc_clariion-reference.test.ts
import { beforeAll, describe, expect, it } from "vitest";
import { initialContext, initialMapContext, interpretCheck, type ContextValues, type SimAnswer } from "../../generator/interp/interpret.ts";
import { loadSpec } from "../../generator/load.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { buildNativeSet, type NativeSet } from "../support/build.ts";
import { contextHex } from "./cases.ts";
import { answerLine, runSimCases, runSimScript } from "./sim.ts";
import { senseBytes } from "./witnesses.ts";

const PATH = { WILD: 0, DOWN: 2, UP: 3, SHAKY: 4 };
const MSG = { UNSUPPORTED: 7 };
// upstream's emc_clariion message IDs (100–108), then the spec's own
const EMC = {
	QUERY_FAILED: 100,
	QUERY_ERROR: 101,
	NOT_CONFIGURED: 102,
	UNKNOWN_FORMAT: 103,
	NOT_AVAILABLE: 104,
	UNBOUND: 105,
	WWN_CHANGED: 106,
	READ_ERROR: 107,
	HEALTHY: 108,
	INACTIVE_SNAPSHOT: 109,
	SHORT: 110,
};

const WWN_A = Array.from({ length: 16 }, (_, i) => 0x60 + i);
const WWN_B = WWN_A.map((b, i) => (i === 15 ? b ^ 0x01 : b));

interface Page {
	b1?: number;
	/** byte 4: 0 unbound/LUNZ, 1 passive, 2 active */
	lun?: number;
	b9?: number;
	wwn?: number[];
	b27?: number;
	b28?: number;
	b30?: number;
	b48?: number;
}
function page(p: Page, length = 128): SimAnswer {
	const b = new Array(128).fill(0);
	b[1] = p.b1 ?? 0xc0;
	b[3] = 124;
	b[4] = p.lun ?? 1;
	b[9] = p.b9 ?? 0;
	(p.wwn ?? WWN_A).forEach((x, i) => (b[10 + i] = x));
	b[27] = p.b27 ?? 0x03;
	b[28] = p.b28 ?? 0x04;
	b[30] = p.b30 ?? 0x04;
	b[48] = p.b48 ?? 0;
	return { status: 0, info: 0, data: b.slice(0, length) };
}
const ACTIVE = page({ lun: 2 });
const PASSIVE = page({ lun: 1 });
const check = (key: number, asc = 0, ascq = 0, descriptor = false): SimAnswer => ({
	status: 0x02,
	driverStatus: 0x08,
	info: 1,
	sense: senseBytes(key, asc, ascq, descriptor),
});
const host = (status: number): SimAnswer => ({ status: 0, hostStatus: status, info: 1 });
const GOOD_READ: SimAnswer = { status: 0, info: 0, data: [] };
const SNAPSHOT = check(0x5, 0x25, 0x01);
const times = (n: number, a: SimAnswer) => Array.from({ length: n }, () => a);

interface Check {
	answers: SimAnswer[];
	state: number;
	msgid: number;
	/** commands sent: INQUIRYs, then a READ when the last answer is the READ's */
	sent: number;
	/** another path of the same map (its own context, the map's shared); absent: the row's path */
	path?: string;
}
interface Row {
	row: string;
	checks: Check[];
}
const c = (answers: SimAnswer[], state: number, msgid: number, sent = answers.length): Check => ({ answers, state, msgid, sent });
const on = (path: string, ch: Check): Check => ({ ...ch, path });
const one = (row: string, a: SimAnswer, state: number, msgid: number): Row => ({ row, checks: [c([a], state, msgid)] });

const ROWS: Row[] = [
	one("ioctl ENOTTY → WILD", { errno: 25 }, PATH.WILD, MSG.UNSUPPORTED),
	one("other ioctl error (EIO) → DOWN, sending query command failed", { errno: 5 }, PATH.DOWN, EMC.QUERY_FAILED),
	one("CHECK CONDITION, ILLEGAL REQUEST → WILD", check(0x5), PATH.WILD, MSG.UNSUPPORTED),
	one("… in descriptor format → WILD", check(0x5, 0, 0, true), PATH.WILD, MSG.UNSUPPORTED),
	one("CHECK CONDITION, NOT READY → DOWN, query command indicates error", check(0x2), PATH.DOWN, EMC.QUERY_ERROR),
	one("host status DID_NO_CONNECT (info check) → DOWN, query command indicates error", host(0x01), PATH.DOWN, EMC.QUERY_ERROR),
	one("b1 not 0xC0 → DOWN, unknown format", page({ b1: 0xc9 }), PATH.DOWN, EMC.UNKNOWN_FORMAT),
	one("b9 not 0 → DOWN, unknown format", page({ b9: 1 }), PATH.DOWN, EMC.UNKNOWN_FORMAT),
	one("b27 not 3 → DOWN, not configured for failover", page({ b27: 2 }), PATH.DOWN, EMC.NOT_CONFIGURED),
	one("b28 & 7 = 5 → DOWN, not configured for failover", page({ b28: 5 }), PATH.DOWN, EMC.NOT_CONFIGURED),
	one("b28 & 7 = 6 is configured → UP", page({ b28: 0xf6 }), PATH.UP, EMC.HEALTHY),
	one("b30 bit 2 clear → DOWN, not configured for failover", page({ b30: 0xfb }), PATH.DOWN, EMC.NOT_CONFIGURED),
	one("unknown format is tested before the failover setup", page({ b1: 0, b27: 0 }), PATH.DOWN, EMC.UNKNOWN_FORMAT),
	one("b48 not 0 → SHAKY, not available for normal operations", page({ b48: 1 }), PATH.SHAKY, EMC.NOT_AVAILABLE),
	one("failover setup is tested before availability", page({ b48: 1, b27: 0 }), PATH.DOWN, EMC.NOT_CONFIGURED),
	one("b4 = 0 → DOWN, unbound or LUNZ", page({ lun: 0 }), PATH.DOWN, EMC.UNBOUND),
	one("availability is tested before binding", page({ lun: 0, b48: 2 }), PATH.SHAKY, EMC.NOT_AVAILABLE),
	one("a passive path (b4 = 1), flag clear → UP (not GHOST), active path is healthy", PASSIVE, PATH.UP, EMC.HEALTHY),
	{ row: "the active path (b4 = 2): READ of 4096 bytes succeeds → UP, active path is healthy", checks: [c([ACTIVE, GOOD_READ], PATH.UP, EMC.HEALTHY)] },
	{ row: "active path, READ fails with 05/25/01 → DOWN, flag set", checks: [c([ACTIVE, SNAPSHOT], PATH.DOWN, EMC.INACTIVE_SNAPSHOT)] },
	{ row: "active path, READ fails with MEDIUM ERROR → DOWN, read error", checks: [c([ACTIVE, check(0x3, 0x11, 0)], PATH.DOWN, EMC.READ_ERROR)] },
	{ row: "active path, READ fails with 05/24/00 → DOWN, read error", checks: [c([ACTIVE, check(0x5, 0x24, 0)], PATH.DOWN, EMC.READ_ERROR)] },
	{ row: "active path, READ ioctl EIO → DOWN, read error", checks: [c([ACTIVE, { errno: 5 }], PATH.DOWN, EMC.READ_ERROR)] },
	{
		row: "WWN stored on the first good check, the same WWN later → UP",
		checks: [c([PASSIVE], PATH.UP, EMC.HEALTHY), c([PASSIVE], PATH.UP, EMC.HEALTHY)],
	},
	{
		row: "WWN changed on a later check → DOWN, WWN has changed (and stays changed)",
		checks: [
			c([PASSIVE], PATH.UP, EMC.HEALTHY),
			c([page({ wwn: WWN_B })], PATH.DOWN, EMC.WWN_CHANGED),
			c([page({ wwn: WWN_B, lun: 2 })], PATH.DOWN, EMC.WWN_CHANGED),
			c([PASSIVE], PATH.UP, EMC.HEALTHY),
		],
	},
	{
		row: "every WWN byte is compared (the first, byte 10, changed; the row before changes the last, byte 25)",
		checks: [c([PASSIVE], PATH.UP, EMC.HEALTHY), c([page({ wwn: [0, ...WWN_A.slice(1)] })], PATH.DOWN, EMC.WWN_CHANGED)],
	},
	{
		row: "a byte in the middle of the WWN (byte 17) changed → DOWN, WWN has changed",
		checks: [c([PASSIVE], PATH.UP, EMC.HEALTHY), c([page({ wwn: WWN_A.map((b, i) => (i === 7 ? b ^ 0x80 : b)) })], PATH.DOWN, EMC.WWN_CHANGED)],
	},
	{
		row: "no WWN stored by a check that stopped before the binding test: the next page's is stored",
		checks: [c([page({ lun: 0, wwn: WWN_B })], PATH.DOWN, EMC.UNBOUND), c([PASSIVE], PATH.UP, EMC.HEALTHY), c([PASSIVE], PATH.UP, EMC.HEALTHY)],
	},
	{
		row: "the WWN is stored before the READ: stored even when the READ fails",
		checks: [c([ACTIVE, { errno: 5 }], PATH.DOWN, EMC.READ_ERROR), c([page({ wwn: WWN_B })], PATH.DOWN, EMC.WWN_CHANGED)],
	},
	{
		row: "flag set on the active path; the path turned passive → DOWN; active again and READ good → flag cleared",
		checks: [
			c([ACTIVE, SNAPSHOT], PATH.DOWN, EMC.INACTIVE_SNAPSHOT),
			c([PASSIVE], PATH.DOWN, EMC.INACTIVE_SNAPSHOT),
			c([ACTIVE, GOOD_READ], PATH.UP, EMC.HEALTHY),
			c([PASSIVE], PATH.UP, EMC.HEALTHY),
		],
	},
	{
		row: "the flag is per map: the active path's snapshot makes a passive path of the map DOWN; the active path's good READ clears it for both",
		checks: [
			c([ACTIVE, SNAPSHOT], PATH.DOWN, EMC.INACTIVE_SNAPSHOT),
			on("passive", c([PASSIVE], PATH.DOWN, EMC.INACTIVE_SNAPSHOT)),
			c([ACTIVE, GOOD_READ], PATH.UP, EMC.HEALTHY),
			on("passive", c([PASSIVE], PATH.UP, EMC.HEALTHY)),
		],
	},
	{ row: "DID_BUS_BUSY, then the page → UP", checks: [c([host(0x02), PASSIVE], PATH.UP, EMC.HEALTHY)] },
	{ row: "DID_SOFT_ERROR, DID_TRANSPORT_DISRUPTED, then → UP", checks: [c([host(0x0b), host(0x0e), PASSIVE], PATH.UP, EMC.HEALTHY)] },
	{ row: "DID_ERROR five times → DOWN, query command indicates error", checks: [c(times(5, host(0x07)), PATH.DOWN, EMC.QUERY_ERROR)] },
	// deliberate differences
	one("difference: RECOVERED ERROR (upstream decodes a page with info clear) → DOWN, query command indicates error", { ...check(0x1), data: PASSIVE.data }, PATH.DOWN, EMC.QUERY_ERROR),
	one("difference: 48 bytes received (upstream reads 128) → DOWN, page too short", page({}, 48), PATH.DOWN, EMC.SHORT),
	{
		row: "difference: 05/25/01 in descriptor format (upstream: fixed only, read error) → DOWN, inactive snapshot",
		checks: [c([ACTIVE, check(0x5, 0x25, 0x01, true)], PATH.DOWN, EMC.INACTIVE_SNAPSHOT)],
	},
];

const INQUIRY_CDB = [0x12, 0x01, 0xc0, 0x00, 0x80, 0x00];
const READ_CDB = [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0];
const hex = (b: number[]) => b.map((x) => x.toString(16).padStart(2, "0")).join("");
const isRead = (cdb: number[]) => cdb[0] === 0x28;

let model: CheckerModel;
let set: NativeSet;
beforeAll(async () => {
	model = (await loadSpec("specs/emc_clariion.ts")) as CheckerModel;
	set = buildNativeSet({ compiler: "clang" });
});

describe("specs/emc_clariion.ts says what upstream emc_clariion does", () => {
	it.each(ROWS)("$row", ({ checks }) => {
		// each path's context, and the row's map's
		const ctx = new Map<string, ContextValues>();
		let map = initialMapContext(model);
		for (const [n, { answers, state, msgid, sent, path = "" }] of checks.entries()) {
			const r = interpretCheck(model, (_cmd, i) => answers[i], ctx.get(path) ?? initialContext(model), undefined, map);
			ctx.set(path, r.context);
			map = r.map;
			expect({ check: n, state: r.pathState, msgid: r.msgid, sent: r.commands.length }).toEqual({ check: n, state, msgid, sent });
			for (const cmd of r.commands)
				if (isRead(cmd.cdb)) expect(cmd).toMatchObject({ cdb: READ_CDB, direction: -3, length: 4096 });
				else expect(cmd).toMatchObject({ cdb: INQUIRY_CDB, direction: -3, length: 128 });
		}
	});
	it("the generated C gives the same answers for every row, check by check", () => {
		// a row's paths are one map's
		const cases = ROWS.flatMap((r, i) =>
			r.checks.map((ch, j) => ({ id: `row${i}.${j}`, path: `row${i}${ch.path ? `.${ch.path}` : ""}`, map: `row${i}`, answers: ch.answers.slice(0, ch.sent) })),
		);
		const results = runSimCases(set, "emc_clariion", cases);
		expect(results.map((r) => ({ id: r.id, state: r.state, msgid: r.msgid, sent: r.commands.length }))).toEqual(
			ROWS.flatMap((r, i) => r.checks.map((ch, j) => ({ id: `row${i}.${j}`, state: ch.state, msgid: ch.msgid, sent: ch.sent }))),
		);
		for (const r of results)
			for (const cmd of r.commands)
				if (cmd.cdb.startsWith("28")) expect(cmd).toMatchObject({ cdb: hex(READ_CDB), dir: -3, len: 4096, mxSbLen: 32 });
				else expect(cmd).toMatchObject({ cdb: hex(INQUIRY_CDB), dir: -3, len: 128, mxSbLen: 32 });
	});
	it("the WWN is kept as the page's 16 bytes, in the interpreter's context and in the C struct", () => {
		const r = interpretCheck(model, () => PASSIVE, initialContext(model));
		expect(r.context.wwn).toEqual(WWN_A);
		expect(r.context.wwnSet).toBe(1);
		const [c] = runSimCases(set, "emc_clariion", [{ id: "wwn", path: "wwn", answers: [PASSIVE] }]);
		// struct emc_clariion_context: wwn_set, wwn[16] (the snapshot flag is the map's)
		expect(c.ctx).toBe(`01${hex(WWN_A)}`);
		expect(c.ctx).toBe(contextHex(model, r.context));
	});
	it("two paths' checks of one map overlap: the passive path's check, which left the flag alone, does not undo the active path's (upstream 0.15: it copies its stale map context back)", () => {
		const answer = (a: SimAnswer, extra = "") => `${answerLine(a)}${extra}`;
		const recs = runSimScript(set, "emc_clariion", [
			// the active path finds a snapshot, then its good READ clears the flag: the map context is set (0)
			"path act",
			"map m",
			answer(ACTIVE),
			answer(SNAPSHOT),
			"check set",
			answer(ACTIVE),
			answer(GOOD_READ),
			"check cleared",
			// the passive path's check starts with that map context and hangs
			"path pas",
			"map m",
			answer(PASSIVE, " hang=-1"),
			"start passive",
			// meanwhile the active path finds the snapshot: the flag is set
			"path act",
			answer(ACTIVE),
			answer(SNAPSHOT),
			"check snapshot",
			// the passive path's check ends (UP, its copy of the flag clear) and is collected
			"release",
			"path pas",
			"collect passive",
			// the flag is still set: the passive path's next check is DOWN
			answer(PASSIVE),
			"check after",
		]);
		const rec = (event: string, id: string) => recs.find((r) => r.event === event && r.id === id);
		expect(rec("check", "set")).toMatchObject({ state: PATH.DOWN, msgid: EMC.INACTIVE_SNAPSHOT, mpc: 1 });
		expect(rec("check", "cleared")).toMatchObject({ state: PATH.UP, msgid: EMC.HEALTHY, mpc: 0 });
		expect(rec("start", "passive")).toMatchObject({ state: 6, mpc: 0 });
		expect(rec("check", "snapshot")).toMatchObject({ state: PATH.DOWN, msgid: EMC.INACTIVE_SNAPSHOT, mpc: 1 });
		expect(rec("collect", "passive")).toMatchObject({ state: PATH.UP, msgid: EMC.HEALTHY, mpc: 1 });
		expect(rec("check", "after")).toMatchObject({ state: PATH.DOWN, msgid: EMC.INACTIVE_SNAPSHOT, mpc: 1 });
	});
});
