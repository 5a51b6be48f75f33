// The ALUA checker's behaviour as issue #4 states it, case by case with
// hand-built device answers, through the TS interpretation of specs/alua.ts
// and through the generated C (which must agree on every check, context
// carried from check to check on each path).
import { beforeAll, describe, expect, it } from "vitest";
import { initialContext, interpretCheck, type CheckResult, type ContextValues, type SimAnswer } from "../../generator/interp/interpret.ts";
import { loadSpec } from "../../generator/load.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { buildNativeSet, type NativeSet } from "../support/build.ts";
import { contextHex } from "./agreement.ts";
import { commandsAsHost, runSimCases, type SimCase } from "./sim.ts";
import { senseBytes } from "./witnesses.ts";

const PATH = { WILD: 0, DOWN: 2, UP: 3, GHOST: 5, PENDING: 6 };
const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const be32 = (v: number) => [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];

/** VPD page 0x83 with an NAA designator, a relative target port and (optionally) a target port group. */
function vpd83(tpg: number | undefined, rtp = 1): SimAnswer {
	const naa = [0x01, 0x03, 0x00, 0x08, 0x60, 0x01, 0x40, 0x5a, 0x00, 0x00, 0x00, 0x01];
	const rel = [0x01, 0x14, 0x00, 0x04, 0, 0, ...be16(rtp)];
	const grp = tpg === undefined ? [] : [0x01, 0x15, 0x00, 0x04, 0, 0, ...be16(tpg)];
	const body = [...naa, ...rel, ...grp];
	return good([0x00, 0x83, ...be16(body.length), ...body]);
}

function descriptor(id: number, state: number, pref = false, ports = 1): number[] {
	const out = [(pref ? 0x80 : 0) | state, 0x8f, ...be16(id), 0, 0, 0, ports];
	for (let i = 0; i < ports; i++) out.push(0, 0, ...be16(i + 1));
	return out;
}

/** An RTPG answer: the extended header when `time` is given, else the plain one. */
function rtpg(descs: number[][], time?: number): SimAnswer {
	const body = descs.flat();
	if (time === undefined) return good([...be32(body.length), ...body]);
	return good([...be32(body.length + 4), 0x10, time, 0, 0, ...body]);
}

function good(data: number[]): SimAnswer {
	return { status: 0, info: 0, data };
}
const checkCondition = (key: number, asc: number, ascq: number): SimAnswer => ({
	status: 0x02,
	driverStatus: 0x08,
	info: 1,
	sense: senseBytes(key, asc, ascq, true),
});

const INQUIRY_83 = "120183080000";
const RTPG_EXT_128 = "a32a00000000000000800000";
const RTPG_PLAIN_128 = "a30a00000000000000800000";

interface Step {
	answers: SimAnswer[];
	state: number;
	message: string;
	/** The CDBs the check sends, in hex. */
	cdbs?: string[];
	context?: ContextValues;
}

interface Story {
	name: string;
	steps: Step[];
}

const TPG = 7;

const STORIES: Story[] = [
	{
		name: "no target port group designator: PATH_WILD, not ALUA-capable",
		steps: [{ answers: [vpd83(undefined)], state: PATH.WILD, message: "noTargetPortGroup", cdbs: [INQUIRY_83] }],
	},
	{
		name: "no VPD page 0x83 (ILLEGAL REQUEST): PATH_WILD",
		steps: [{ answers: [checkCondition(5, 0x24, 0)], state: PATH.WILD, message: "noVpd83" }],
	},
	...[
		[0x0, PATH.UP, "activeOptimized"],
		[0x1, PATH.UP, "nonOptimized"],
		[0x4, PATH.UP, "lbaDependent"],
		[0x2, PATH.GHOST, "standby"],
		[0x3, PATH.DOWN, "unavailable"],
		[0xe, PATH.DOWN, "offline"],
		[0xf, PATH.PENDING, "transitioning"],
		[0x7, PATH.DOWN, "unknownState"],
	].map(([aas, state, message]) => ({
		name: `access state 0x${aas.toString(16)} of the path's own group: ${message}`,
		steps: [
			{
				answers: [vpd83(TPG), rtpg([descriptor(TPG + 1, 0), descriptor(TPG, aas as number, true), descriptor(TPG + 2, 3)], 20)],
				state: state as number,
				message: message as string,
				cdbs: [INQUIRY_83, RTPG_EXT_128],
				context: { tpgKnown: 1, targetPortGroup: TPG, relativeTargetPort: 1, accessState: aas as number, preferred: 1, transitionTime: 20 },
			},
		],
	})),
	{
		name: "the group is read once per path: the next check sends RTPG only",
		steps: [
			{ answers: [vpd83(TPG), rtpg([descriptor(TPG, 0)], 0)], state: PATH.UP, message: "activeOptimized" },
			{
				answers: [rtpg([descriptor(TPG, 2)], 0)],
				state: PATH.GHOST,
				message: "standby",
				cdbs: [RTPG_EXT_128],
				context: { accessState: 2, transitionTime: 60 },
			},
		],
	},
	{
		name: "extended header rejected: plain format, remembered for the path",
		steps: [
			{
				answers: [vpd83(TPG), checkCondition(5, 0x24, 0), rtpg([descriptor(TPG, 1)])],
				state: PATH.UP,
				message: "nonOptimized",
				cdbs: [INQUIRY_83, RTPG_EXT_128, RTPG_PLAIN_128],
				context: { rtpgPlain: 1, transitionTime: 60 },
			},
			{ answers: [rtpg([descriptor(TPG, 0)])], state: PATH.UP, message: "activeOptimized", cdbs: [RTPG_PLAIN_128] },
		],
	},
	{
		name: "both formats rejected: PATH_DOWN, and the next check tries the extended header again",
		steps: [
			{
				answers: [vpd83(TPG), checkCondition(5, 0x24, 0), checkCondition(5, 0x24, 0)],
				state: PATH.DOWN,
				message: "rtpgRejected",
				context: { rtpgPlain: 0 },
			},
			{ answers: [rtpg([descriptor(TPG, 0)], 5)], state: PATH.UP, message: "activeOptimized", cdbs: [RTPG_EXT_128] },
		],
	},
	{
		name: "data longer than the allocation: re-issued with the length the device reported",
		steps: [
			{
				answers: [
					vpd83(TPG),
					good([...be32(196), 0x10, 0, 0, 0, ...Array.from({ length: 120 }, () => 0)]),
					rtpg([...Array.from({ length: 20 }, (_, i) => descriptor(100 + i, 0, false, 1)).slice(0, 15), descriptor(TPG, 1)], 0),
				],
				state: PATH.UP,
				message: "nonOptimized",
				cdbs: [INQUIRY_83, RTPG_EXT_128, "a32a000000000000" + "00c8" + "0000"],
				context: { rtpgLength: 200 },
			},
		],
	},
	{
		name: "own group missing: VPD 0x83 read again once, then PATH_DOWN",
		steps: [
			{
				answers: [vpd83(TPG), rtpg([descriptor(TPG + 1, 0)], 0), vpd83(TPG), rtpg([descriptor(TPG + 1, 0)], 0)],
				state: PATH.DOWN,
				message: "groupMissing",
				cdbs: [INQUIRY_83, RTPG_EXT_128, INQUIRY_83, RTPG_EXT_128],
			},
		],
	},
	{
		name: "own group missing, and the re-read finds a new group: that group's state",
		steps: [
			{
				answers: [vpd83(TPG), rtpg([descriptor(TPG + 1, 2)], 0), vpd83(TPG + 1), rtpg([descriptor(TPG + 1, 2)], 0)],
				state: PATH.GHOST,
				message: "standby",
				context: { targetPortGroup: TPG + 1 },
			},
		],
	},
	{
		name: "UNIT ATTENTION 2A/06 (state changed) on RTPG: VPD 0x83 is read again",
		steps: [
			{ answers: [vpd83(TPG), rtpg([descriptor(TPG, 0)], 0)], state: PATH.UP, message: "activeOptimized" },
			{
				answers: [checkCondition(6, 0x2a, 0x06), vpd83(TPG), rtpg([descriptor(TPG, 2)], 0)],
				state: PATH.GHOST,
				message: "standby",
				cdbs: [RTPG_EXT_128, INQUIRY_83, RTPG_EXT_128],
			},
		],
	},
	{
		name: "other UNIT ATTENTIONs are retried without re-reading",
		steps: [
			{
				answers: [vpd83(TPG), checkCondition(6, 0x2a, 0x01), rtpg([descriptor(TPG, 0)], 0)],
				state: PATH.UP,
				message: "activeOptimized",
				cdbs: [INQUIRY_83, RTPG_EXT_128, RTPG_EXT_128],
			},
		],
	},
	{
		name: "NOT READY 04/0A on RTPG itself: PATH_PENDING",
		steps: [{ answers: [vpd83(TPG), checkCondition(2, 0x04, 0x0a)], state: PATH.PENDING, message: "transitioning" }],
	},
	{
		name: "SG_IO not supported: PATH_WILD",
		steps: [{ answers: [{ errno: 25 }], state: PATH.WILD, message: "UNSUPPORTED" }],
	},
	{
		name: "device offline (ENXIO): PATH_DOWN",
		steps: [{ answers: [vpd83(TPG), { errno: 6 }], state: PATH.DOWN, message: "DOWN" }],
	},
	{
		name: "another group's port count runs past the data before the path's group: PATH_DOWN",
		steps: [
			{
				answers: [vpd83(TPG), rtpg([[0x00, 0x8f, ...be16(TPG + 1), 0, 0, 0, 9, 0, 0, 0, 1], descriptor(TPG, 0)], 0)],
				state: PATH.DOWN,
				message: "rtpgTruncated",
			},
		],
	},
	{
		name: "a descriptor header cut by the data length: PATH_DOWN",
		steps: [{ answers: [vpd83(TPG), good([...be32(5), 0x00, 0x8f, 0x00, 0x07, 0x00])], state: PATH.DOWN, message: "rtpgTruncated" }],
	},
	{
		name: "the path's own descriptor with its port list cut: its state counts",
		steps: [
			{
				answers: [vpd83(TPG), rtpg([descriptor(TPG + 1, 0), [0x02, 0x8f, ...be16(TPG), 0, 0, 0, 9, 0, 0, 0, 1]], 0)],
				state: PATH.GHOST,
				message: "standby",
			},
		],
	},
	{
		name: "LIO's real extended RTPG answer (data length 4 bytes short): the group listed last is read",
		steps: [
			{
				answers: [
					vpd83(3),
					good([
						...Buffer.from("000000281000000000cf0002000200010000000102cf000100020002000000020000000301cf000300020001", "hex"),
					]),
				],
				state: PATH.UP,
				message: "nonOptimized",
				context: { accessState: 1, transitionTime: 60 },
			},
		],
	},
	{
		name: "ILLEGAL REQUEST on a VPD re-read (LIO offline): PATH_DOWN, not WILD",
		steps: [
			{ answers: [vpd83(TPG), rtpg([descriptor(TPG, 0)], 0)], state: PATH.UP, message: "activeOptimized" },
			{
				answers: [checkCondition(6, 0x2a, 0x06), checkCondition(5, 0x24, 0)],
				state: PATH.DOWN,
				message: "DOWN",
				cdbs: [RTPG_EXT_128, INQUIRY_83],
			},
		],
	},
	{
		name: "UNIT ATTENTION 3F/03 (inquiry data changed: LIO moved the LUN): VPD 0x83 is read again",
		steps: [
			{ answers: [vpd83(TPG), rtpg([descriptor(TPG, 0), descriptor(TPG + 1, 2)], 0)], state: PATH.UP, message: "activeOptimized" },
			{
				answers: [checkCondition(6, 0x3f, 0x03), vpd83(TPG + 1), rtpg([descriptor(TPG, 0), descriptor(TPG + 1, 2)], 0)],
				state: PATH.GHOST,
				message: "standby",
				context: { targetPortGroup: TPG + 1 },
			},
		],
	},
	{
		name: "returned data length 0: PATH_DOWN",
		steps: [{ answers: [vpd83(TPG), good(be32(0))], state: PATH.DOWN, message: "rtpgBadLength" }],
	},
	{
		name: "fewer than 4 bytes transferred (resid): PATH_DOWN",
		steps: [{ answers: [vpd83(TPG), { ...good([0, 0]), resid: 126 }], state: PATH.DOWN, message: "rtpgTooShort" }],
	},
	{
		name: "VPD page with the wrong page code: PATH_DOWN",
		steps: [{ answers: [good([0x00, 0x80, 0x00, 0x04, 0x41, 0x42, 0x43, 0x44])], state: PATH.DOWN, message: "vpdWrongPage" }],
	},
	{
		name: "a designator running past the page: PATH_DOWN",
		steps: [
			{
				answers: [good([0x00, 0x83, 0x00, 0x08, 0x01, 0x15, 0x00, 0x10, 0, 0, 0, 7])],
				state: PATH.DOWN,
				message: "vpdBadDesignator",
			},
		],
	},
	{
		name: "a target port group designator shorter than 4 bytes: PATH_DOWN",
		steps: [{ answers: [good([0x00, 0x83, 0x00, 0x06, 0x01, 0x15, 0x00, 0x02, 0, 7])], state: PATH.DOWN, message: "vpdBadDesignator" }],
	},
	{
		name: "a page longer than what arrived, no group in it: PATH_DOWN",
		steps: [
			{
				answers: [{ ...good([0x00, 0x83, 0x01, 0x00, 0x01, 0x03, 0x00, 0x04, 1, 2, 3, 4]), resid: 2036 }],
				state: PATH.DOWN,
				message: "vpdTruncated",
			},
		],
	},
];

let alua: CheckerModel;
let set: NativeSet;
beforeAll(async () => {
	alua = (await loadSpec("specs/alua.ts")) as CheckerModel;
	set = buildNativeSet({ compiler: "gcc", sanitize: "address" });
});

function messageId(key: string): number {
	const own = alua.messages.find((m) => m.key === key);
	if (own) return own.id;
	const generic = ["NONE", "DISABLED", "NO_FD", "INVALID", "UP", "DOWN", "GHOST", "UNSUPPORTED"].indexOf(key);
	if (generic < 0) throw new Error(`unknown message ${key}`);
	return generic;
}

function hex(cdb: number[]): string {
	return cdb.map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("specs/alua.ts behaves as the ALUA checker issue says", () => {
	const expected = new Map<string, CheckResult[]>();
	it.each(STORIES)("$name", ({ name, steps }) => {
		let ctx = initialContext(alua);
		const results: CheckResult[] = [];
		for (const step of steps) {
			const r = interpretCheck(alua, (_c, i) => step.answers[i], ctx);
			expect({ state: r.pathState, msgid: r.msgid }).toEqual({ state: step.state, msgid: messageId(step.message) });
			expect(r.commands.length).toBe(step.answers.length);
			if (step.cdbs) expect(r.commands.map((c) => hex(c.cdb))).toEqual(step.cdbs);
			if (step.context) expect(r.context).toMatchObject(step.context);
			results.push(r);
			ctx = r.context;
		}
		expected.set(name, results);
	});
	it("the generated C agrees on every check (ASan build, context carried per path)", () => {
		const cases: SimCase[] = STORIES.flatMap((s, i) => s.steps.map((st, k) => ({ id: `${i}.${k}`, path: `story${i}`, answers: st.answers })));
		const got = runSimCases(set, "alua", cases, { env: { ASAN_OPTIONS: "detect_leaks=1:halt_on_error=1" } });
		const want = STORIES.flatMap((s) => expected.get(s.name)!);
		// the context too: the C struct's bytes after each check
		expect(
			got.map((g) => ({ state: g.state, msgid: g.msgid, cmds: g.commands.map(({ cdb, dir, len }) => ({ cdb, dir, len })), ctx: g.ctx })),
		).toEqual(
			want.map((w) => ({
				state: w.pathState,
				msgid: w.msgid,
				cmds: commandsAsHost(w.commands).map(({ cdb, dir, len }) => ({ cdb, dir, len })),
				ctx: contextHex(alua, w.context),
			})),
		);
		expect(got.every((g) => g.unanswered === 0 && g.leftover === 0)).toBe(true);
	});
});
