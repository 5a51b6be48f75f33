// A stalled check that finally ends (README: "a kept runner that ends starts
// a fresh check"): with the abandoned slot taken, a second timed-out check
// keeps its runner and waits for it. Once its hung SG_IO is released part-way
// and the thread has ended, the next pending() starts a fresh check at once,
// the one after returns that check's real result (not a stale TIMEOUT, not a
// PENDING with nothing in flight), and the runner threads are back to the
// baseline: with persistent runners (the default) the pool thread that ran
// the completed check, waiting for the next one, until the checker is
// freed.
//
// Both modes of the async framework: persistent runners and
// -DASYNC_THREAD_PER_CHECK.
import { beforeAll, describe, expect, it } from "vitest";
import { buildNativeSet } from "../support/build.ts";
import { runSimScript, type HostRecord } from "../sim/sim.ts";

const PATH_UP = 3;
const PATH_PENDING = 6;
const PATH_TIMEOUT = 7;
const TUR = "000000000000";

const MODES = [
	{ compiler: "clang" as const, mode: "persistent" },
	{ compiler: "gcc" as const, mode: "persistent" },
	{ compiler: "clang" as const, mode: "thread-per-check", defines: { ASYNC_THREAD_PER_CHECK: 1 } },
	{ compiler: "gcc" as const, mode: "thread-per-check", defines: { ASYNC_THREAD_PER_CHECK: 1 } },
];

describe.each(MODES)("$compiler build, $mode", ({ mode, ...tc }) => {
	// a completed check leaves its pool thread waiting for the next
	const idle = mode === "persistent" ? 1 : 0;
	let recs: HostRecord[];
	const rec = (event: string, id?: string) => {
		const r = recs.find((x) => x.event === event && (id === undefined || x.id === id));
		if (!r) throw new Error(`no ${event} ${id ?? ""} record in\n${recs.map((x) => JSON.stringify(x)).join("\n")}`);
		return r;
	};
	beforeAll(() => {
		const set = buildNativeSet(tc);
		recs = runSimScript(
			set,
			"tur",
			[
				"path p",
				"threads base",
				// check 1 hangs: timed out, its thread abandoned
				"answer hang=-1",
				"check c1",
				// check 2 hangs too: no free slot, its runner is kept
				"answer hang=-1",
				"check c2",
				"threads stalled",
				// both commands return; both threads end (DEAD)
				"release",
				"wait-threads 0",
				"threads ended",
				// the answer the fresh check gets
				"answer status=0",
				"pending fresh",
				"collect result",
				`wait-threads ${idle}`,
				"threads after",
				"reinit",
				"wait-threads 0",
				"threads freed",
			],
			{ timeout: 1 },
		);
	});
	it("the stalled checks time out; the second keeps its runner", () => {
		expect(rec("check", "c1")).toMatchObject({ state: PATH_TIMEOUT });
		expect(rec("check", "c2")).toMatchObject({ state: PATH_TIMEOUT });
		expect(rec("threads", "stalled").count).toBe(rec("threads", "base").count! + 2);
	});
	it("once the stalled thread has ended, the next pending() starts a fresh check", () => {
		expect(rec("threads", "ended").count).toBe(rec("threads", "base").count);
		const fresh = rec("pending", "fresh");
		expect(fresh.state).toBe(PATH_PENDING);
		expect(fresh.needWait, "a check is in flight").toBe(true);
	});
	it("the pending() after that returns the fresh check's real result", () => {
		const r = rec("collect", "result");
		expect(r.state).toBe(PATH_UP);
		// the fresh check's one TUR, answered GOOD
		expect(r.commands!.map((c) => c.cdb)).toEqual([TUR]);
		expect(r.unanswered).toBe(0);
		expect(r.leftover).toBe(0);
	});
	it("the runner threads are back to the baseline", () => {
		expect(rec("threads", "after").count).toBe(rec("threads", "base").count! + idle);
	});
	it("freeing the checker ends its worker thread", () => {
		expect(rec("threads", "freed").count).toBe(rec("threads", "base").count);
	});
});

// An abandoned thread that ends while the next check is in flight: when that
// check times out too, pending() first releases the ended runner, so the
// slot is free again and the timed-out runner is abandoned into it; the next
// check is a fresh one. (Without that release the runner would be kept and
// waited for, and every check would report TIMEOUT until its hung command
// returned.) Timed hangs: check 1's command returns 1 s after its timeout,
// 1 s before check 2's timeout.
describe("clang build, a slot freed while a check is in flight", () => {
	let recs: HostRecord[];
	const rec = (event: string, id: string) => {
		const r = recs.find((x) => x.event === event && x.id === id);
		if (!r) throw new Error(`no ${event} ${id} record in\n${recs.map((x) => JSON.stringify(x)).join("\n")}`);
		return r;
	};
	beforeAll(() => {
		recs = runSimScript(
			buildNativeSet({ compiler: "clang" }),
			"tur",
			[
				"path p",
				"threads base",
				// check 1 times out at 2 s, abandoned; its command returns at 3 s
				"answer hang=3000",
				"check c1",
				// check 2 hangs; it times out at 4 s, check 1's thread has ended
				"answer hang=-1",
				"check c2",
				"answer status=0",
				"check c3",
				"release",
				// the pool's thread waits for the next check until the checker is freed
				"reinit",
				"wait-threads 0",
				"threads after",
			],
			{ timeout: 2 },
		);
	});
	it("both hung checks time out", () => {
		expect(rec("check", "c1")).toMatchObject({ state: PATH_TIMEOUT });
		expect(rec("check", "c2")).toMatchObject({ state: PATH_TIMEOUT });
	});
	it("the next check is a fresh one, not the kept runner's TIMEOUT", () => {
		const r = rec("check", "c3");
		expect(r.state).toBe(PATH_UP);
		expect(r.commands!.map((c) => c.cdb)).toEqual([TUR]);
	});
	it("the runner threads are back to the baseline once the checker is freed", () => {
		expect(rec("threads", "after").count).toBe(rec("threads", "base").count);
	});
});
