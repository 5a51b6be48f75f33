// spin verifies the Promela model emitted from the runner spec's model
// (generator/emit/promela.ts): the protocol as the spec writes it holds
// every property, and each seeded fault of the model is found, its
// counterexample printed as caller/thread steps.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { emitPromela, type PromelaOptions } from "../../generator/emit/promela.ts";
import { loadSpec } from "../../generator/load.ts";
import type { RunnerModel } from "../../generator/model/types.ts";
import { ensureHostPackages } from "../support/host-packages.ts";
import { MUTANTS } from "./mutants.ts";
import { summary, verify, type SpinMode, type SpinResult } from "./spin.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const OUT = join(ROOT, "build/model");
export const SPIN_PACKAGES = ["spin", "gcc", "libc6-dev"] as const;

/** The bounds of each run: the safety run needs the kept runner (3 runners, 5 calls); the cycle run is the costlier. */
const BOUNDS: Record<SpinMode, PromelaOptions> = {
	safety: {}, // the emitter's defaults: what `mpcheckgen model` writes

	progress: { runners: 2, calls: 4, workerSteps: 1 },
};

let model: RunnerModel;
beforeAll(async () => {
	ensureHostPackages(SPIN_PACKAGES);
	const m = await loadSpec(join(ROOT, "specs/runner.ts"), ROOT);
	if (m.kind !== "runner") throw new Error("specs/runner.ts is not a runner spec");
	model = m;
});

function check(name: string, m: RunnerModel, options: PromelaOptions, mode: SpinMode): SpinResult {
	const dir = join(OUT, name.replace(/[^a-z0-9]+/gi, "-").toLowerCase(), mode);
	const r = verify(emitPromela(m, { ...BOUNDS[mode], ...options }), dir, mode);
	process.stdout.write(`${summary(name, r)}\n`);
	return r;
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

	it("mpcheckgen model writes the model the safety run verifies", () => {
		const dir = mkdtempSync(join(tmpdir(), "mpcg-model-"));
		try {
			const r = spawnSync(process.execPath, [join(ROOT, "bin/mpcheckgen.js"), "model", "--spec", "specs/runner.ts", "--out", dir], { cwd: ROOT, encoding: "utf8" });
			expect(r.stderr).toBe("");
			expect(r.status).toBe(0);
			expect(r.stdout).toContain(`wrote ${join(dir, "runner.pml")}`);
			expect(readFileSync(join(dir, "runner.pml"), "utf8")).toBe(emitPromela(model, BOUNDS.safety));
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it.each(["safety", "progress"] as const)("%s: no error in the whole state space", (mode) => {
		const r = check("runner spec", model, {}, mode);
		expect(r.error, r.trail.join("\n")).toBeUndefined();
		expect(r.errors).toBe(0);
		expect(r.complete).toBe(true);
		expect(r.statesStored).toBeGreaterThan(1000);
	});
});

/**
 * What spin must report for each mutant, and in which run. A DEAD stored
 * before the thread has ended breaks several properties (DEAD while the
 * worker runs, a third thread, pthread_cancel() on an exited thread): spin
 * reports the first it meets.
 */
const EXPECTED: Record<string, { mode: SpinMode; error: RegExp; step: RegExp }> = {
	"refcount starts at 1": { mode: "safety", error: /assertion violated \(?alive\[/, step: /put, freed/ },
	"state change without compare-and-swap": { mode: "safety", error: /assertion violated/, step: /plain store/ },
	"DEAD at the cancel request (upstream 0.15)": { mode: "safety", error: /assertion violated \(?(left_worker\[|nthreads)/, step: /CANCELLED → DEAD right after pthread_cancel/ },
	"cancel in RUNNING goes straight to DEAD": { mode: "safety", error: /assertion violated \(?(left_worker\[|\s*!\(exited\[|nthreads)/, step: /cancel in RUNNING → DEAD/ },
	"a cancelled thread finishes in DONE": { mode: "safety", error: /assertion violated .*(timed_out|data\[)/, step: /finish in CANCELLED → DONE/ },
	"cancel before the thread started (upstream 0.15)": { mode: "progress", error: /non-progress cycle/, step: /finish in CANCELLED: waits/ },
};

describe("seeded faults are found", () => {
	it.each(MUTANTS.map((m) => [m.name, m] as const))("%s", (name, mutant) => {
		const want = EXPECTED[name];
		const r = check(name, mutant.model(model), mutant.options, want.mode);
		expect(r.errors).toBeGreaterThan(0);
		expect(r.error).toMatch(want.error);
		expect(r.trail.length).toBeGreaterThan(3);
		expect(r.trail.some((l) => want.step.test(l)), r.trail.join("\n")).toBe(true);
	});
});
