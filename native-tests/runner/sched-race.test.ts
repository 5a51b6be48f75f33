// Forced interleavings of the runner (sched-race.c, sched.ts): for every pair
// of operations specs/runner.ts lets race (derived from its operations and
// cases, so a new case gets its test), every interleaving of their atomic
// steps is run, and each must end as the spec says: an outcome some
// sequential order of the operations gives, the thread ended, the context
// freed exactly once by whoever dropped the last reference, and no
// pthread_cancel() on a thread that had already ended. Mutation tests show
// that defects the random race test misses are caught.
//
// The async checker's races run in both of its modes; with persistent
// runners the checks of two paths share the runner's pool of threads, and
// each schedule must also leave the pool at rest (every thread ended once
// the last path is freed), start a thread only when none is free, and never
// leave a check queued with every thread asleep, stuck or gone; the pool's
// own races (a thread reused, a cancelled check skipped, a stuck check with
// others queued, the last release waking the sleepers) must each show what
// they are about in some schedule, and defects of the pool are caught.
//
// Run: npx vitest run native-tests/runner/sched-race.test.ts
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
	ASYNC_RACES,
	asyncArgs,
	asyncRunFailures,
	buildSched,
	deriveRaces,
	expectedOutcomes,
	judge,
	MUTANTS,
	POOL_MUTANTS,
	runSched,
	SPEC,
	writeMutant,
	type RaceCase,
	type SchedBuild,
	type SchedRun,
} from "./sched.ts";

const RACES = deriveRaces();
const builds = new Map<string, SchedBuild>();
const build = (compiler: "clang" | "gcc" = "clang") => {
	let b = builds.get(compiler);
	if (!b) builds.set(compiler, (b = buildSched({ compiler })));
	return b;
};

function failures(rc: RaceCase, r: SchedRun): string[] {
	const allowed = expectedOutcomes(rc);
	return r.schedules.flatMap((s) => judge(rc, s, allowed).map((m) => `#${s.n} ${s.trace}: ${m}`));
}

describe("the test program", () => {
	it.each(["native-tests/runner/sched-race.c", "native-tests/runner/runner-test-hooks.h"])(
		"%s is clang-format-19 clean",
		(file) => {
			const r = spawnSync("clang-format-19", ["--dry-run", "--Werror", file], { encoding: "utf8" });
			expect(r.stderr).toBe("");
			expect(r.status).toBe(0);
		},
	);
});

describe("the races derived from specs/runner.ts", () => {
	it("cover the pairs the spec lets race", () => {
		const names = RACES.map((r) => r.name);
		// the ones issue 15 names, as a check of the derivation itself
		for (const n of [
			"cancel vs start in IDLE",
			"cancel vs finish in RUNNING",
			"cancel vs finish in RUNNING (worker running)",
			"poll vs finish in RUNNING [deadlinePassed]",
			"poll vs start in IDLE [deadlinePassed]",
			"release vs finish in RUNNING",
			"release vs finish in CANCELLED",
		]) {
			expect(names).toContain(n);
		}
		// every state some thread operation starts from, with every caller operation
		for (const op of ["start", "finish"]) {
			for (const c of SPEC.operations[op]!.cases) {
				for (const callerOp of ["cancel", "poll", "release"]) {
					expect(RACES.some((r) => r.threadOp === op && r.state === c.from && r.callerOp === callerOp), `${callerOp} vs ${op} in ${c.from}`).toBe(true);
				}
			}
		}
		expect(new Set(names).size).toBe(names.length);
	});

	it("a new case in the spec gets its race test", () => {
		// a hypothetical case: a cancel in RUNNING past the deadline gives up
		// at once (DEAD, no pthread_cancel)
		const spec = structuredClone(SPEC);
		const cancel = spec.operations.cancel!;
		(cancel as { cases: readonly unknown[] }).cases = [{ from: "RUNNING", when: "deadlinePassed", to: "DEAD" }, ...cancel.cases];
		const names = deriveRaces(spec).map((r) => r.name);
		expect(names).toContain("cancel vs finish in RUNNING [deadlinePassed]");
		expect(names).toContain("cancel vs finish in RUNNING [!deadlinePassed]");
		expect(names).not.toContain("cancel vs finish in RUNNING");
		const rc = deriveRaces(spec).find((r) => r.name === "cancel vs finish in RUNNING [deadlinePassed]")!;
		// the thread's finish has no case for DEAD: the derivation finds the hole
		expect(() => expectedOutcomes(rc, spec)).toThrow(/finish has no case for state DEAD/);
		const finish = spec.operations.finish!;
		(finish as { cases: readonly unknown[] }).cases = [...finish.cases, { from: "DEAD" }];
		// and the expected outcomes follow the new case
		expect(expectedOutcomes(rc, spec)).toContainEqual({ ret: "DEAD", final: "DEAD", cancels: 0 });
	});
});

describe.each(["clang", "gcc"] as const)("every interleaving ends as the spec says (generated runner, %s)", (compiler) => {
	it.each(RACES.map((r) => [r.name, r] as const))("%s", async (_n, rc) => {
		const r = await runSched(build(compiler), rc);
		const dump = `${r.argv.join(" ")}\n${r.stderr.slice(-2000)}`;
		expect(r.exitCode, dump).toBe(0);
		expect(r.summary, dump).not.toBeNull();
		expect(r.schedules.length, dump).toBe(r.summary!.schedules);
		// a race, not one order: the caller's steps land at several places
		expect(r.schedules.length, dump).toBeGreaterThanOrEqual(2);
		expect(failures(rc, r).slice(0, 10)).toEqual([]);
		// every outcome the spec allows happened in some interleaving
		const seen = new Set(r.schedules.map((s) => `${s.ret}/${s.final}/${s.cancels}`));
		const name = (k: string | null) => (k === null ? null : SPEC.states[k]!.name);
		for (const o of expectedOutcomes(rc)) {
			expect(seen, `${JSON.stringify(o)} never happened`).toContain(`${name(o.ret)}/${name(o.final)}/${o.cancels}`);
		}
		// no thread left at the end of the program
		expect(r.summary!.hangs).toBe(0);
		expect(r.summary!.threadsEnd, dump).toBe(r.summary!.threadsBase);
	});
});

// both modes of the async checker: its persistent runners (the default) and
// a thread per check (ASYNC_THREAD_PER_CHECK)
const tpcBuild = (() => {
	let b: SchedBuild | undefined;
	return () => (b ??= buildSched({ threadPerCheck: true, tag: "thread-per-check" }));
})();
const ASYNC_MODES = [
	{ mode: "persistent", persistent: true, races: ASYNC_RACES },
	{ mode: "thread-per-check", persistent: false, races: ASYNC_RACES.filter((r) => !r.persistentOnly) },
];

describe.each(ASYNC_MODES)("the async checker ($mode): every interleaving ends as README says", ({ persistent, races }) => {
	it.each(races.map((r) => [r.name, r] as const))("%s", async (_n, ar) => {
		const r = await runSched(persistent ? build() : tpcBuild(), asyncArgs(ar));
		// each schedule judged, each outcome README allows (and, in the
		// pool, each thread count and event the race is about) seen in
		// some schedule, every thread ended
		expect(asyncRunFailures(ar, r, persistent)).toEqual([]);
	});
});

describe("the forced interleavings catch broken runners", () => {
	it.each(MUTANTS.map((m) => [m.id, m] as const))("%s", async (_id, m) => {
		const b = buildSched({ runnerC: writeMutant(m), tag: `mutant-${m.id}` });
		let caught = 0;
		const examples: string[] = [];
		for (const rc of RACES) {
			const r = await runSched(b, rc);
			const bad = r.exitCode !== 0 ? [`exit ${r.exitCode}`] : failures(rc, r);
			if (bad.length) {
				caught++;
				examples.push(`${rc.name}: ${bad[0]}`);
			}
		}
		console.log(`mutant ${m.id} (${m.what}): caught by ${caught}/${RACES.length} races\n  ${examples.slice(0, 3).join("\n  ")}`);
		expect(caught, m.what).toBeGreaterThan(0);
	});

	// defects of the pool, each caught by the pool races named with it
	it.each(POOL_MUTANTS.map((m) => [m.id, m] as const))("%s", async (_id, m) => {
		const b = buildSched({ runnerC: writeMutant(m), tag: `mutant-${m.id}` });
		for (const name of m.races) {
			const ar = ASYNC_RACES.find((r) => r.name === name);
			expect(ar, name).toBeDefined();
			const bad = asyncRunFailures(ar!, await runSched(b, asyncArgs(ar!)), true);
			console.log(`mutant ${m.id} (${m.what}): ${name}: ${bad.length ? bad[0]!.slice(-300) : "not caught"}`);
			expect(bad.length, `${m.what}: ${name}`).toBeGreaterThan(0);
		}
	});

	it("cas-returns: a cancel between finish's load of RUNNING and its swap leaves CANCELLED for ever", async () => {
		const m = MUTANTS.find((x) => x.id === "cas-returns")!;
		const b = buildSched({ runnerC: writeMutant(m), tag: `mutant-${m.id}` });
		const rc = RACES.find((r) => r.name === "cancel vs finish in RUNNING")!;
		const r = await runSched(b, rc);
		const stuck = r.schedules.filter((s) => s.final === "cancelled");
		expect(stuck.length).toBeGreaterThan(0);
		expect(stuck[0]!.trace).toMatch(/T:load C:load C:cas T:cas/);
	});

	it("mark-before-cancel: pthread_cancel() reaches a thread that has ended", async () => {
		const m = MUTANTS.find((x) => x.id === "mark-before-cancel")!;
		const b = buildSched({ runnerC: writeMutant(m), tag: `mutant-${m.id}` });
		const rc = RACES.find((r) => r.name === "cancel vs finish in RUNNING")!;
		const r = await runSched(b, rc);
		const late = r.schedules.filter((s) => s.cancelAfterExit);
		expect(late.length).toBeGreaterThan(0);
		expect(late[0]!.trace).toMatch(/C:mark_cancel_sent.*T:put.*C:pthread_cancel/);
	});
});
