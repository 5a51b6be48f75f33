// The directio behaviour table of multipath-tools (shared/reference/
// checkers-behaviour.md §7), written out by hand, against both the TS
// interpretation of specs/directio.ts and the generated C over simulated
// O_DIRECT reads (native-tests/host/sgsim.c wraps pread and fcntl: a read
// on an fd without O_DIRECT, into a buffer not aligned to 4096 bytes, or of
// a length or offset not a multiple of 4096 fails with EINVAL, so every UP
// row also shows the alignment and the flag). Deliberate differences from
// upstream, documented in the spec: the read is 4096 bytes (upstream:
// BLKBSZGET's soft block size, at most 4096), and a read outliving the
// checker timeout is PATH_TIMEOUT from the runner framework (upstream
// cancels its aio and reports PATH_DOWN); the last test shows that one.
//
// Run: npx vitest run native-tests/sim/directio-reference.test.ts
import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { interpretCheck, type SimAnswer } from "../../generator/interp/interpret.ts";
import { loadSpec } from "../../generator/load.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { buildNativeSet, type NativeSet } from "../support/build.ts";
import { runSimCases } from "./sim.ts";

const PATH = { UNCHECKED: 1, DOWN: 2, UP: 3, PENDING: 6, TIMEOUT: 7 };
const MSG = { DOWN: 5, UP: 4, TIMEOUT: 9, RUNNING: 10, NOT_AVAILABLE: 100 };
const sector = Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff);

const ROWS: { row: string; answers: SimAnswer[]; state: number; msgid: number }[] = [
	{ row: "the read returns all 4096 bytes → UP", answers: [{ data: sector }], state: PATH.UP, msgid: MSG.UP },
	{ row: "a short read (512 bytes missing) → DOWN", answers: [{ data: sector, resid: 512 }], state: PATH.DOWN, msgid: MSG.DOWN },
	{ row: "nothing read (end of device) → DOWN", answers: [{ resid: 4096 }], state: PATH.DOWN, msgid: MSG.DOWN },
	{ row: "the read fails with EIO (medium error) → DOWN", answers: [{ errno: 5 }], state: PATH.DOWN, msgid: MSG.DOWN },
	{ row: "ENXIO (offline) → DOWN", answers: [{ errno: 6 }], state: PATH.DOWN, msgid: MSG.DOWN },
	{ row: "ENODEV (deleted) → DOWN", answers: [{ errno: 19 }], state: PATH.DOWN, msgid: MSG.DOWN },
	{ row: "no memory for the request (ENOMEM): not submitted → UNCHECKED, not available", answers: [{ errno: 12 }], state: PATH.UNCHECKED, msgid: MSG.NOT_AVAILABLE },
	{ row: "EAGAIN: not submitted → UNCHECKED, not available", answers: [{ errno: 11 }], state: PATH.UNCHECKED, msgid: MSG.NOT_AVAILABLE },
];

let model: CheckerModel;
let set: NativeSet;
beforeAll(async () => {
	model = (await loadSpec("specs/directio.ts")) as CheckerModel;
	set = buildNativeSet({ compiler: "clang" });
});

describe("specs/directio.ts says what upstream directio does", () => {
	it.each(ROWS)("$row", ({ answers, state, msgid }) => {
		const r = interpretCheck(model, (_cmd, i) => answers[i]);
		expect({ state: r.pathState, msgid: r.msgid, sent: r.commands.length }).toEqual({ state, msgid, sent: 1 });
		expect(r.commands[0]).toMatchObject({ cdb: [], direction: -3, length: 4096, timeoutMs: 0, transport: "directRead", offset: 0 });
	});
	it("the generated C gives the same answers for every row, in runner threads and inline (sync)", () => {
		for (const sync of [false, true]) {
			const results = runSimCases(
				set,
				"directio",
				ROWS.map((r, i) => ({ id: `row${i}`, answers: r.answers })),
				{ sync },
			);
			expect(results.map((r) => ({ state: r.state, msgid: r.msgid, sent: r.commands.length }))).toEqual(
				ROWS.map((r) => ({ state: r.state, msgid: r.msgid, sent: 1 })),
			);
			for (const r of results) expect(r.commands[0]).toMatchObject({ cdb: "", dir: -3, len: 4096, via: "directRead", offset: 0 });
		}
	});
	it("DIFFERS: a read that hangs is PENDING, then PATH_TIMEOUT once the checker timeout has passed (upstream: DOWN); other paths go on", () => {
		const r = spawnSync(
			set.host,
			["--checker", set.simPlugin("directio"), "--timeout", "1", "--checks", "2", "--interval-ms", "100", "--sim-default", "hang=-1", "run", "/dev/null", "/dev/zero"],
			{ encoding: "utf8", timeout: 60_000 },
		);
		expect(r.status, r.stderr.slice(-2000)).toBe(0);
		const recs = r.stdout
			.split("\n")
			.filter((l) => l.startsWith("{"))
			.map((l) => JSON.parse(l) as { event: string; path?: string; state?: number; msgid?: number; ms?: number });
		for (const p of ["/dev/null", "/dev/zero"]) {
			expect(recs.find((x) => x.event === "started" && x.path === p)).toMatchObject({ state: PATH.PENDING, msgid: MSG.RUNNING });
			const results = recs.filter((x) => x.event === "result" && x.path === p);
			expect(results).toHaveLength(2);
			for (const x of results) expect(x).toMatchObject({ state: PATH.TIMEOUT, msgid: MSG.TIMEOUT });
			expect(results[0].ms).toBeGreaterThanOrEqual(1000);
		}
	});
});
