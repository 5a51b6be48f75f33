// spin verifies the Promela models emitted from the runner spec's model
// (generator/emit/promela.ts), with a thread per check and with persistent
// runners: the protocol as the spec writes it holds every property, every
// case of the persistent worker's machine is reached, and each seeded fault
// of the model is found, its counterexample printed as caller/thread steps.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { emitPromela, persistentCaseText, PROMELA_FILES, REACHED_PREFIX, type PromelaMode, type PromelaOptions } from "../../generator/emit/promela.ts";
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
 * `mpcheckgen model` writes: 3 runners and 5 calls reach the kept runner
 * and, with persistent runners, the third thread); the cycle run, the
 * costlier, fewer.
 */
const BOUNDS: Record<PromelaMode, Record<SpinMode, PromelaOptions>> = {
	threadPerCheck: { safety: {}, progress: { runners: 2, calls: 4, workerSteps: 1 } },
	persistent: { safety: {}, progress: { runners: 2, calls: 3 } },
};

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

	it.each([
		["threadPerCheck", "safety"],
		["threadPerCheck", "progress"],
		["persistent", "safety"],
		["persistent", "progress"],
	] as const)("%s, %s: no error in the whole state space", (mode, search) => {
		const { r, pml } = check(`runner spec, ${mode}`, model, { mode }, search);
		expect(r.error, r.trail.join("\n")).toBeUndefined();
		expect(r.errors).toBe(0);
		expect(r.complete).toBe(true);
		expect(r.statesStored).toBeGreaterThan(1000);
		if (mode !== "persistent" || search !== "safety") return;
		// not verified vacuously: every case of the worker's machine, and the
		// events around it, happen somewhere in the state space (pan prints
		// each coverage point the first time it reaches it)
		const reached = new Set(r.panOutput.split("\n").flatMap((l) => (l.startsWith(REACHED_PREFIX) ? [l.slice(REACHED_PREFIX.length)] : [])));
		const points = [...pml.matchAll(/^\t"(.*)",$/gm)].map((x) => x[1]);
		const missed = points.filter((p) => !reached.has(p));
		for (const op of model.persistent.operations) {
			for (const g of op.byState) for (const c of g.cases) expect(points, "a coverage point per worker case").toContain(persistentCaseText(op, c));
		}
		console.log(`persistent: ${reached.size} of ${points.length} coverage points reached`);
		// the bounds (3 threads in 5 calls) never leave a check without a thread
		expect(missed, "never reached").toEqual(["cannot start a thread"]);
	});
});

/**
 * What spin must report for each mutant, and in which run. A DEAD stored
 * before the thread has ended breaks several properties (DEAD while the
 * worker runs, a third thread, pthread_cancel() on an exited thread): spin
 * reports the first it meets. A lost wake-up leaves a thread waiting for
 * ever: an invalid end state, the trail ending with where each process is
 * stuck.
 */
const EXPECTED: Record<string, { search: SpinMode; error: RegExp; step: RegExp }> = {
	"refcount starts at 1": { search: "safety", error: /assertion violated \(?alive\[/, step: /put, freed/ },
	"state change without compare-and-swap": { search: "safety", error: /assertion violated/, step: /plain store/ },
	"DEAD at the cancel request (upstream 0.15)": { search: "safety", error: /assertion violated \(?(left_worker\[|nthreads)/, step: /CANCELLED → DEAD right after pthread_cancel/ },
	"cancel in RUNNING goes straight to DEAD": { search: "safety", error: /assertion violated \(?(left_worker\[|\s*!\(exited\[|nthreads)/, step: /cancel in RUNNING → DEAD/ },
	"a cancelled thread finishes in DONE": { search: "safety", error: /assertion violated .*(timed_out|data\[)/, step: /finish in CANCELLED → DONE/ },
	"cancel before the thread started (upstream 0.15)": { search: "progress", error: /non-progress cycle/, step: /finish in CANCELLED: waits/ },
	"persistent: cancel before the check started (upstream 0.15)": { search: "progress", error: /non-progress cycle/, step: /takes the lock, the check's cleanup/ },
	"persistent: a waiting worker not woken": { search: "safety", error: /invalid end state/, step: /stuck for ever: worker_thread, in p_take/ },
	// the thread ends (its idle time passed) between the submit's load of WAITING and its change to QUEUED: the check is never run
	"persistent: submit without the lock": { search: "safety", error: /assertion violated \(?freed\[|invalid end state/, step: /submit without the lock: loads PERSISTENT_WAITING/ },
	"persistent: submit without a state check": { search: "safety", error: /assertion violated|invalid end state/, step: /submit in BUSY → QUEUED/ },
	"persistent: the worker freed while BUSY": { search: "safety", error: /assertion violated \(?(walive|wlock)/, step: /release in BUSY, returns NONE/ },
	"persistent: idle end with a check queued": { search: "safety", error: /assertion violated \(?freed\[/, step: /take in QUEUED \[idleExpired\] → NONE/ },
	"persistent: a thread cancelled in its check takes the next": { search: "safety", error: /invalid end state|assertion violated/, step: /end in BUSY → WAITING/ },
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
