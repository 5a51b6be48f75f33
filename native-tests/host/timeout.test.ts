// The timeout path of the generated async checker framework: a check whose
// SG_IO never returns (and so ignores cancellation: ioctl is no
// cancellation point) reports PENDING, then PATH_TIMEOUT once the checker
// timeout has passed; repeated timeouts never leave more than one extra
// thread per path, and every thread ends once the commands return.
import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { buildNativeSet, type NativeSet } from "../support/build.ts";

interface Rec {
	event: string;
	path?: string;
	state?: number;
	msgid?: number;
	t?: number;
	ms?: number;
	count?: number;
	threads?: number;
	maxThreads?: number;
	check?: number;
}

const PATHS = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random"];
const PATH_PENDING = 6;
const PATH_TIMEOUT = 7;
const MSGID_TIMEOUT = 9;
const MSGID_RUNNING = 10;

function runHost(set: NativeSet, args: string[]): Rec[] {
	const r = spawnSync(set.host, ["--checker", set.simPlugin("tur"), ...args], { encoding: "utf8", timeout: 120_000 });
	if (r.status !== 0) throw new Error(`checker host exited ${r.status} (signal ${r.signal}):\n${r.stdout}\n${r.stderr.slice(-3000)}`);
	return r.stdout
		.split("\n")
		.filter((l) => l.startsWith("{"))
		.map((l) => JSON.parse(l) as Rec);
}

// both modes of the async framework: persistent runners (the default) and
// -DASYNC_THREAD_PER_CHECK
const MODES = [
	{ compiler: "clang" as const, mode: "persistent" },
	{ compiler: "gcc" as const, mode: "persistent" },
	{ compiler: "clang" as const, mode: "thread-per-check", defines: { ASYNC_THREAD_PER_CHECK: 1 } },
	{ compiler: "gcc" as const, mode: "thread-per-check", defines: { ASYNC_THREAD_PER_CHECK: 1 } },
];

describe.each(MODES)("$compiler build, $mode", ({ mode: _mode, ...tc }) => {
	let recs: Rec[];
	beforeAll(() => {
		const set = buildNativeSet(tc);
		// every SG_IO hangs until the host releases them at the end
		recs = runHost(set, [
			"--timeout",
			"1",
			"--checks",
			"8",
			"--interval-ms",
			"100",
			"--count-threads",
			"--sim-default",
			"hang=-1",
			"run",
			...PATHS,
		]);
	});
	it("a check starts as PENDING (still running) and times out after the checker timeout", () => {
		for (const p of PATHS) {
			const started = recs.find((r) => r.event === "started" && r.path === p)!;
			expect(started).toMatchObject({ state: PATH_PENDING, msgid: MSGID_RUNNING });
			const first = recs.find((r) => r.event === "result" && r.path === p)!;
			expect(first).toMatchObject({ state: PATH_TIMEOUT, msgid: MSGID_TIMEOUT, check: 1 });
			// the deadline is 1 s; it is seen at the first poll after it
			expect(first.ms).toBeGreaterThanOrEqual(1000);
			expect(first.ms).toBeLessThan(1500);
		}
	});
	it("every check of a hung path reports PATH_TIMEOUT", () => {
		const results = recs.filter((r) => r.event === "result");
		expect(results).toHaveLength(PATHS.length * 8);
		expect(results.every((r) => r.state === PATH_TIMEOUT && r.msgid === MSGID_TIMEOUT)).toBe(true);
	});
	it("repeated timeouts keep at most one extra thread per path", () => {
		const peak = Math.max(...recs.filter((r) => r.event === "threads").map((r) => r.count!));
		expect(peak).toBeLessThanOrEqual(2 * PATHS.length);
		// the first stuck thread was abandoned and a second check started
		expect(peak).toBe(2 * PATHS.length);
		expect(recs.find((r) => r.event === "finished")!.maxThreads).toBe(peak);
	});
	it("no thread is left once the commands return", () => {
		expect(recs.find((r) => r.event === "exit")).toMatchObject({ threads: 0 });
	});
});
