// The scheduling policy of the pool's threads (worker-policy.c): started by
// a SCHED_OTHER caller they run SCHED_BATCH, so that waking one never
// preempts the caller handing out checks; under a SCHED_RR caller, as
// multipathd runs, they keep the SCHED_RR they inherit; built with
// RUNNER_BATCH_WORKERS=0 they stay SCHED_OTHER. Each of the three checks
// names the policy of the thread that ran it.
//
// Run: npx vitest run native-tests/runner/worker-policy.test.ts
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { GEN } from "../support/build.ts";
import { compile } from "../support/cc.ts";

const build = (batch: 0 | 1) =>
	compile({
		compiler: "gcc",
		kind: "executable",
		name: `worker-policy-${batch}`,
		sources: ["native-tests/runner/worker-policy.c", GEN.runner, "native-tests/support/dlog.c"],
		includeDirs: [GEN.mpathutil, GEN.abi],
		defines: { RUNNER_BATCH_WORKERS: batch },
		ldflags: ["-pthread"],
	}).output;

const lines = (policy: string) => [1, 2, 3].map((i) => `check ${i}: ${policy}`);

function run(exe: string, caller: "other" | "rr") {
	const r = spawnSync(exe, [caller], { encoding: "utf8", timeout: 30_000 });
	return { status: r.status, stdout: r.stdout.trim().split("\n"), stderr: r.stderr };
}

describe("pool thread scheduling policy", () => {
	it("a SCHED_OTHER caller's workers run SCHED_BATCH", () => {
		const r = run(build(1), "other");
		expect(r.stdout).toEqual(lines("batch"));
		expect(r.status, r.stderr).toBe(0);
	});
	it("built with RUNNER_BATCH_WORKERS=0 they stay SCHED_OTHER", () => {
		const r = run(build(0), "other");
		expect(r.stdout).toEqual(lines("other"));
		expect(r.status, r.stderr).toBe(0);
	});
	// SCHED_RR needs CAP_SYS_NICE: root, as the test command runs in CI
	it.runIf(process.getuid?.() === 0)("a SCHED_RR caller's workers keep SCHED_RR (multipathd)", () => {
		const r = run(build(1), "rr");
		expect(r.stdout).toEqual(lines("rr"));
		expect(r.status, r.stderr).toBe(0);
	});
});
