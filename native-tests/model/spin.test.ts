// spin verifies the Promela models emitted from the runner spec's model
// (generator/emit/promela.ts), with a thread per check and with persistent
// runners (a pool of threads): the protocol as the spec writes it holds
// every property, every case of the pool's operations is reached, each
// seeded fault of the model is found, its counterexample printed as
// caller/thread steps (among them what the model found in runner.c: a
// thread that ends without a provide).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { emitPromela, poolCaseText, PROMELA_FILES, REACHED_PREFIX, type PromelaMode, type PromelaOptions } from "../../generator/emit/promela.ts";
import { loadSpec } from "../../generator/load.ts";
import type { RunnerModel } from "../../generator/model/types.ts";
import { ensureHostPackages } from "../support/host-packages.ts";
import { MUTANTS } from "./mutants.ts";
import { summary, verify, type SpinMode, type SpinResult } from "./spin.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const OUT = join(ROOT, "build/model");
export const SPIN_PACKAGES = ["spin", "gcc", "libc6-dev"] as const;

/**
 * The bounds of each run: a safety run uses the emitter's defaults (what
 * `mpcheckgen model` writes: with a thread per check 3 runners and 5 calls
 * reach the kept runner; with persistent runners two paths of 2 calls
 * share the pool's 2 threads); the cycle run, the costlier, fewer.
 */
const BOUNDS: Record<PromelaMode, Record<SpinMode, PromelaOptions>> = {
	threadPerCheck: { safety: {}, progress: { runners: 2, calls: 4, workerSteps: 1 } },
	persistent: { safety: {}, progress: { paths: 1, runners: 2, calls: 3 } },
};

/**
 * The further runs of the pool, whose state space a second path multiplies
 * by more than ten: one path deep (3 runners in 5 calls reach the kept
 * runner, with a thread's start failing), and two paths whose checks share
 * a single thread (every further start fails).
 */
const POOL_RUNS: readonly { name: string; search: SpinMode; options: PromelaOptions }[] = [
	{ name: "one path, 5 calls", search: "safety", options: { paths: 1, runners: 3, calls: 5 } },
	{ name: "two paths, one thread", search: "safety", options: { threads: 1 } },
	{ name: "two paths, one thread", search: "progress", options: { paths: 2, runners: 2, calls: 2, threads: 1 } },
];

let model: RunnerModel;
beforeAll(async () => {
	ensureHostPackages(SPIN_PACKAGES);
	const m = await loadSpec(join(ROOT, "specs/runner.ts"), ROOT);
	if (m.kind !== "runner") throw new Error("specs/runner.ts is not a runner spec");
	model = m;
});

function check(name: string, m: RunnerModel, options: PromelaOptions & { mode: PromelaMode }, search: SpinMode): { r: SpinResult; pml: string } {
	const dir = join(OUT, name.replace(/[^a-z0-9]+/gi, "-").toLowerCase(), search);
	const pml = emitPromela(m, { ...BOUNDS[options.mode][search], ...options });
	const r = verify(pml, dir, search);
	process.stdout.write(`${summary(name, r)}\n`);
	return { r, pml };
}

describe("the runner protocol as specs/runner.ts writes it", () => {
	it("mpcheckgen model refuses a checker spec and writes nothing", () => {
		const dir = mkdtempSync(join(tmpdir(), "mpcg-model-"));
		try {
			const out = join(dir, "out");
			const r = spawnSync(process.execPath, [join(ROOT, "bin/mpcheckgen.js"), "model", "--spec", "specs/tur.ts", "--out", out], { cwd: ROOT, encoding: "utf8" });
			expect(r.status).toBe(2);
			expect(r.stderr).toContain("specs/tur.ts is a checker spec");
			expect(existsSync(out)).toBe(false);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it("mpcheckgen model writes the models the safety runs verify, one per mode", () => {
		const dir = mkdtempSync(join(tmpdir(), "mpcg-model-"));
		try {
			const r = spawnSync(process.execPath, [join(ROOT, "bin/mpcheckgen.js"), "model", "--spec", "specs/runner.ts", "--out", dir], { cwd: ROOT, encoding: "utf8" });
			expect(r.stderr).toBe("");
			expect(r.status).toBe(0);
			for (const mode of ["threadPerCheck", "persistent"] as const) {
				const file = join(dir, PROMELA_FILES[mode]);
				expect(r.stdout).toContain(`wrote ${file}`);
				expect(readFileSync(file, "utf8")).toBe(emitPromela(model, { mode, ...BOUNDS[mode].safety }));
			}
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	/** The coverage points each persistent safety run reached, and all there are. */
	const reached = new Set<string>();
	let points: string[] = [];

	it.each([
		["threadPerCheck", "safety", "", {}],
		["threadPerCheck", "progress", "", {}],
		["persistent", "safety", "", {}],
		["persistent", "progress", "", {}],
		...POOL_RUNS.map((x) => ["persistent", x.search, `, ${x.name}`, x.options] as const),
	] as const)("%s, %s%s: no error in the whole state space", (mode, search, name, options) => {
		const { r, pml } = check(`runner spec, ${mode}${name}`, model, { ...options, mode }, search);
		expect(r.error, r.trail.join("\n")).toBeUndefined();
		expect(r.errors).toBe(0);
		expect(r.complete).toBe(true);
		expect(r.statesStored).toBeGreaterThan(1000);
		if (mode !== "persistent" || search !== "safety") return;
		for (const l of r.panOutput.split("\n")) if (l.startsWith(REACHED_PREFIX)) reached.add(l.slice(REACHED_PREFIX.length));
		points = [...pml.matchAll(/^\t"(.*)",$/gm)].map((x) => x[1]);
	});

	it("persistent: every case of the pool, and the events around it, is reached", () => {
		// not verified vacuously: pan prints each coverage point the first
		// time its search reaches it, in one of the safety runs above
		expect(points.length).toBeGreaterThan(20);
		for (const op of model.pool.operations) {
			for (const c of op.cases) expect(points, "a coverage point per pool case").toContain(poolCaseText(op, c));
		}
		console.log(`persistent: ${reached.size} of ${points.length} coverage points reached`);
		expect(points.filter((p) => !reached.has(p)), "never reached").toEqual([]);
		// the model starts NR_THREADS threads in all: once they have ended,
		// a check no provide could start a thread for stays queued (the
		// model asserts that the last start for it failed)
		expect(reached).toContain("a check left queued for good");
	});
});

/**
 * What spin must report for each mutant, and in which run. A DEAD stored
 * before the thread has ended breaks several properties (DEAD while the
 * worker runs, a third thread, pthread_cancel() on an exited thread): spin
 * reports the first it meets. A lost wake-up leaves a thread waiting for
 * ever: an invalid end state, the trail ending with where each process is
 * stuck. A pool whose counts no longer match what its threads do fails an
 * assertion as the lock is left.
 */
const EXPECTED: Record<string, { search: SpinMode; error: RegExp; step: RegExp }> = {
	"refcount starts at 1": { search: "safety", error: /assertion violated \(?alive\[/, step: /put, freed/ },
	"state change without compare-and-swap": { search: "safety", error: /assertion violated/, step: /plain store/ },
	"DEAD at the cancel request (upstream 0.15)": { search: "safety", error: /assertion violated \(?(left_worker\[|nthreads)/, step: /CANCELLED → DEAD right after pthread_cancel/ },
	"cancel in RUNNING goes straight to DEAD": { search: "safety", error: /assertion violated \(?(left_worker\[|\s*!\(exited\[|nthreads)/, step: /cancel in RUNNING → DEAD/ },
	"a cancelled thread finishes in DONE": { search: "safety", error: /assertion violated .*(timed_out|data\[)/, step: /finish in CANCELLED → DONE/ },
	"cancel before the thread started (upstream 0.15)": { search: "progress", error: /non-progress cycle/, step: /finish in CANCELLED: waits/ },
	// the pool thread that takes the cancelled check spins in runner_finish()
	"persistent: cancel before the check started (upstream 0.15)": { search: "progress", error: /non-progress cycle/, step: /thread t\d r\d: finish in CANCELLED: waits/ },
	// the claimed thread sleeps for ever: in its wait (its idle time passes only with no check queued), or, its wait timed out, waiting for the post owed
	"persistent: a claimed thread not posted": { search: "safety", error: /invalid end state/, step: /stuck for ever: pool_thread, in (sem_wait|await_owed_post)/ },
	"persistent: a sleeping thread counted on without a claim": { search: "safety", error: /assertion violated .*qlen==0\)\|\|\(awake>0/, step: /provide \[threadAsleep\], returns PROVIDED/ },
	"persistent: take without the provide": { search: "safety", error: /assertion violated .*qlen==0\)\|\|\(awake>0/, step: /take \[checkQueued\] \/ takeCheck, returns CHECK/ },
	// the shortest trail: t0 takes r0 and cannot start a thread for r1; r0 is cancelled in its worker, t0 ends
	"persistent: a thread that ends leaves the queue without a provide": {
		search: "safety",
		error: /assertion violated .*qlen==0\)\|\|\(awake>0\)\)\|\|starved/,
		step: /end \[checkCancelled\] \/ endThread, returns EXIT/,
	},
	// unwinding from the worker the thread exits with the lock held; or it takes the next check with a cancellation request pending
	"persistent: a thread cancelled in its check takes the next": { search: "safety", error: /invalid end state|assertion violated \(?\s*!\(cancel_pending/, step: /end \/ rejoin, returns NEXT/ },
	"persistent: retire without counting down": { search: "safety", error: /assertion violated .*(g_awake|g_busy)/, step: /take \[(noUsers|idleExpired)\], returns EXIT/ },
	"persistent: release does not wake the sleepers": { search: "safety", error: /invalid end state/, step: /release \[noUsers\]$/ },
	"persistent: idle end with a check queued": { search: "safety", error: /assertion violated .*qlen==0\)\|\|\(awake>0/, step: /take \[idleExpired\] \/ retire, returns EXIT/ },
};

describe("seeded faults are found", () => {
	it("each mutant has its expectation", () => {
		expect(MUTANTS.map((m) => m.name).sort()).toEqual(Object.keys(EXPECTED).sort());
	});
	it.each(MUTANTS.map((m) => [m.name, m] as const))("%s", (name, mutant) => {
		const want = EXPECTED[name];
		const { r } = check(name, mutant.model(model), mutant.options, want.search);
		expect(r.errors).toBeGreaterThan(0);
		expect(r.error).toMatch(want.error);
		expect(r.trail.length).toBeGreaterThan(3);
		expect(r.trail.some((l) => want.step.test(l)), r.trail.join("\n")).toBe(true);
	});
});
