// The checker host's cycle mode (what the benchmarks run over real paths,
// native-tests/bench): a check started on every path, then all of them
// collected, cycle after cycle, with well-formed records. Simulated SG_IO;
// nothing here is timed beyond the checker timeout itself.
import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { buildNativeSet, type NativeSet } from "../support/build.ts";

interface Rec {
	event: string;
	cycle?: number;
	warmup?: boolean;
	all?: string;
	states?: Record<string, number>;
	pending?: number;
	sweeps?: number;
	wallMs?: number;
	cpuMs?: number;
	startMs?: number;
	startCpuMs?: number;
	threadsStart?: number;
	threadsPeak?: number;
	threadsEnd?: number;
	paths?: number;
	threads?: number;
	maxThreads?: number;
	ms?: number;
	rssKb?: number;
	hwmKb?: number;
}

// the simulated plugin ignores the fd: any openable file is a path
const PATHS = Array.from({ length: 16 }, (_, i) => ["/dev/null", "/dev/zero", "/dev/full", "/dev/random"][i % 4]!);

function runHost(set: NativeSet, args: string[]): Rec[] {
	const r = spawnSync(set.host, ["--checker", set.simPlugin("tur"), "--verbosity", "1", ...args, "cycle", ...PATHS], {
		encoding: "utf8",
		timeout: 120_000,
	});
	if (r.status !== 0) throw new Error(`checker host exited ${r.status} (signal ${r.signal}):\n${r.stdout}\n${r.stderr.slice(-3000)}`);
	return r.stdout
		.split("\n")
		.filter((l) => l.startsWith("{"))
		.map((l) => JSON.parse(l) as Rec);
}

describe.each([{ compiler: "clang" as const }, { compiler: "gcc" as const }])("checker host cycle mode, $compiler build", (tc) => {
	let set: NativeSet;
	beforeAll(() => {
		set = buildNativeSet(tc);
	});

	it("runs the warm-up and measured cycles, every path checked in each", () => {
		const recs = runHost(set, ["--sim-default", "status=0", "--cycles", "3", "--warmup", "2", "--interval-ms", "0"]);
		expect(recs[0]).toMatchObject({ event: "started", paths: PATHS.length, threads: 0 });
		const cycles = recs.filter((r) => r.event === "cycle");
		expect(cycles.map((c) => [c.cycle, c.warmup])).toEqual([
			[1, true],
			[2, true],
			[3, false],
			[4, false],
			[5, false],
		]);
		for (const c of cycles) {
			// every check went PENDING (a runner), then UP
			expect(c).toMatchObject({ all: "up", states: { up: PATHS.length }, pending: PATHS.length });
			expect(c.sweeps).toBeGreaterThanOrEqual(1);
			for (const k of ["wallMs", "cpuMs", "startMs", "startCpuMs", "rssKb", "hwmKb"] as const) expect(c[k]).toBeGreaterThanOrEqual(0);
			expect(c.threadsPeak).toBeUndefined();
		}
		expect(recs.at(-1)).toMatchObject({ event: "exit", threads: 0 });
	});

	it("in a storm of hung commands reports TIMEOUT, counts threads, keeps ≤ 2 per path and ends with none", () => {
		// every SG_IO hangs until the host releases them at its end
		const recs = runHost(set, [
			"--sim-default",
			"hang=-1",
			"--timeout",
			"1",
			"--cycles",
			"3",
			"--warmup",
			"0",
			"--interval-ms",
			"0",
			"--count-threads",
		]);
		const cycles = recs.filter((r) => r.event === "cycle");
		expect(cycles).toHaveLength(3);
		for (const c of cycles) expect(c).toMatchObject({ all: "timeout", states: { timeout: PATHS.length } });
		// the first starts a runner per path, the second one more (the first is abandoned), the third none
		expect(cycles.map((c) => c.pending)).toEqual([PATHS.length, PATHS.length, 0]);
		expect(cycles.map((c) => c.threadsPeak)).toEqual([PATHS.length, 2 * PATHS.length, 2 * PATHS.length]);
		expect(cycles[0]!.wallMs).toBeGreaterThanOrEqual(1000);
		expect(recs.find((r) => r.event === "finished")).toMatchObject({ maxThreads: 2 * PATHS.length });
		expect(recs.at(-1)).toMatchObject({ event: "exit", threads: 0 });
	});

	it("stops at once without devices to check", () => {
		const r = spawnSync(set.host, ["--checker", set.simPlugin("tur"), "cycle"], { encoding: "utf8" });
		expect(r.status).toBe(2);
		expect(r.stderr).toContain("cycle DEVICE...");
	});
});

// The persistent runners' pool: threads kept after the cycles end once they
// have been idle for RUNNER_IDLE_USEC, with the checkers still set up.
describe("the pool's threads after the cycles", () => {
	const cycles = ["--sim-default", "status=0", "--cycles", "3", "--warmup", "0", "--interval-ms", "0"];
	it("end after RUNNER_IDLE_USEC (a build with 200 ms), the checkers still set up", () => {
		const set = buildNativeSet({ compiler: "clang", defines: { RUNNER_IDLE_USEC: 200_000 } });
		const recs = runHost(set, [...cycles, "--idle-ms", "5000"]);
		const fin = recs.find((r) => r.event === "finished")!;
		const idle = recs.find((r) => r.event === "idle")!;
		expect(fin.threads, "threads alive after the cycles").toBeGreaterThan(0);
		expect(idle.threads, "threads left once idle").toBe(0);
		expect(idle.ms!, "not before their idle time").toBeGreaterThanOrEqual(150);
	});
	it("stay for the default idle time (60 s)", () => {
		const recs = runHost(buildNativeSet({ compiler: "clang" }), [...cycles, "--idle-ms", "500"]);
		expect(recs.find((r) => r.event === "idle")!.threads).toBeGreaterThan(0);
	});
});
