// The cciss_tur behaviour table of multipath-tools (shared/reference/
// checkers-behaviour.md §2), written out by hand, against both the TS
// interpretation of specs/cciss_tur.ts and the generated C over the
// simulated cciss passthrough (native-tests/host/sgsim.c: CCISS_GETLUNINFO
// reports LunID 0xc0001234, and CCISS_PASSTHRU refuses with EINVAL any
// command not addressed to volume 0x1234 in logical mode as TYPE_CMD, so
// every UP row also shows the addressing). No HP Smart Array can be
// emulated in the test VM: cciss_tur is proven in simulation only.
//
// Run: npx vitest run native-tests/sim/cciss-tur-reference.test.ts
import { beforeAll, describe, expect, it } from "vitest";
import { interpretCheck, type SimAnswer } from "../../generator/interp/interpret.ts";
import { loadSpec } from "../../generator/load.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { buildNativeSet, type NativeSet } from "../support/build.ts";
import { runSimCases } from "./sim.ts";
import { senseBytes } from "./witnesses.ts";

const PATH = { DOWN: 2, UP: 3 };
const MSG = { DOWN: 5, UP: 4 };
/** CommandStatus values of <linux/cciss_defs.h>. */
const CMD = { SUCCESS: 0, TARGET_STATUS: 1, DATA_UNDERRUN: 2, CONNECTION_LOST: 7, TIMEOUT: 0x0b };
/** An answer over cciss: the sim gives `status` as ScsiStatus and `hostStatus` as CommandStatus. */
const answer = (scsiStatus: number, commandStatus: number, extra: SimAnswer = {}): SimAnswer => ({ status: scsiStatus, hostStatus: commandStatus, ...extra });

const ROWS: { row: string; answers: SimAnswer[]; state: number; msgid: number }[] = [
	{ row: "CCISS_PASSTHRU fails (EIO) → DOWN", answers: [{ errno: 5 }], state: PATH.DOWN, msgid: MSG.DOWN },
	{ row: "not a cciss device (ENOTTY) → DOWN, not WILD as in tur", answers: [{ errno: 25 }], state: PATH.DOWN, msgid: MSG.DOWN },
	{ row: "CommandStatus 0 and ScsiStatus 0 → UP", answers: [answer(0, CMD.SUCCESS)], state: PATH.UP, msgid: MSG.UP },
	{ row: "ScsiStatus CHECK CONDITION → DOWN", answers: [answer(0x02, CMD.TARGET_STATUS)], state: PATH.DOWN, msgid: MSG.DOWN },
	{
		row: "UNIT ATTENTION sense is not looked at: DOWN, no retry",
		answers: [answer(0x02, CMD.TARGET_STATUS, { sense: senseBytes(6, 0x29, 0, false) })],
		state: PATH.DOWN,
		msgid: MSG.DOWN,
	},
	{ row: "ScsiStatus RESERVATION CONFLICT → DOWN, not UP as in tur", answers: [answer(0x18, CMD.TARGET_STATUS)], state: PATH.DOWN, msgid: MSG.DOWN },
	{ row: "ScsiStatus 0x01 (CommandStatus | ScsiStatus is not 0) → DOWN", answers: [answer(0x01, CMD.SUCCESS)], state: PATH.DOWN, msgid: MSG.DOWN },
	{ row: "CommandStatus CMD_DATA_UNDERRUN → DOWN", answers: [answer(0, CMD.DATA_UNDERRUN)], state: PATH.DOWN, msgid: MSG.DOWN },
	{ row: "CommandStatus CMD_CONNECTION_LOST → DOWN", answers: [answer(0, CMD.CONNECTION_LOST)], state: PATH.DOWN, msgid: MSG.DOWN },
	{ row: "CommandStatus CMD_TIMEOUT → DOWN", answers: [answer(0, CMD.TIMEOUT)], state: PATH.DOWN, msgid: MSG.DOWN },
];

let model: CheckerModel;
let set: NativeSet;
beforeAll(async () => {
	model = (await loadSpec("specs/cciss_tur.ts")) as CheckerModel;
	set = buildNativeSet({ compiler: "clang" });
});

describe("specs/cciss_tur.ts says what upstream cciss_tur does", () => {
	it.each(ROWS)("$row", ({ answers, state, msgid }) => {
		const r = interpretCheck(model, (_cmd, i) => answers[i]);
		expect({ state: r.pathState, msgid: r.msgid, sent: r.commands.length }).toEqual({ state, msgid, sent: 1 });
		expect(r.commands[0]).toMatchObject({ cdb: [0, 0, 0, 0, 0, 0], direction: -1, length: 0, timeoutMs: 0, transport: "cciss" });
	});
	it("the generated C gives the same answers for every row, sending TUR through CCISS_PASSTHRU without a timeout", () => {
		const results = runSimCases(
			set,
			"cciss_tur",
			ROWS.map((r, i) => ({ id: `row${i}`, answers: r.answers })),
		);
		expect(results.map((r) => ({ state: r.state, msgid: r.msgid, sent: r.commands.length }))).toEqual(
			ROWS.map((r) => ({ state: r.state, msgid: r.msgid, sent: 1 })),
		);
		for (const r of results) expect(r.commands[0]).toMatchObject({ cdb: "000000000000", dir: -1, len: 0, timeoutMs: 0, via: "cciss" });
	});
});
