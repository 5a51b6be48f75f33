// The state diagrams (generated/diagrams/*.svg, `mpcheckgen diagram`): each
// committed SVG is parsed by a strict XML parser (@xmldom/xmldom, every
// warning an error) and rendered by a real SVG renderer (resvg); it must be
// well-formed, render to a picture of its stated size that is not blank,
// and hold every state of its spec, every path state a checker reports,
// every rule and every retry with its budget, the runner's every case. The
// CLI writes the same bytes, and refuses bad arguments and bad specs with
// nothing written.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diagramDot, diagramPath } from "../emit/diagram.ts";
import { embeddedSpecs } from "../generate.ts";
import { loadSpecs } from "../load.ts";
import type { SpecModel } from "../model/types.ts";
import { checkDiagram, parseSvg } from "./diagram-check.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/mpcheckgen.js");
const temps: string[] = [];
afterAll(() => {
	for (const t of temps) rmSync(t, { recursive: true, force: true });
});
function tempDir(): string {
	const d = mkdtempSync(join(tmpdir(), "mpcg-diagram-"));
	temps.push(d);
	return d;
}
function cli(args: string[], cwd = ROOT) {
	return spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd });
}

let models: SpecModel[];
beforeAll(async () => {
	models = await loadSpecs(embeddedSpecs());
});

describe("the committed diagrams", () => {
	it("each parses as XML, renders to a non-blank picture of its size and holds every state, rule and retry of its spec", () => {
		const sizes: string[] = [];
		for (const m of models) {
			const file = join(ROOT, "generated/diagrams", diagramPath(m));
			const svg = readFileSync(file, "utf8");
			const { width, height } = checkDiagram(m, svg);
			sizes.push(`${diagramPath(m)}: ${width}×${height} px, ${(svg.length / 1024).toFixed(1)} KiB`);
		}
		console.log(`diagrams: ${sizes.join("; ")}`);
		expect(sizes).toHaveLength(models.length);
		expect(models.length).toBeGreaterThanOrEqual(6);
	});
	it("the checks fail on a broken diagram: truncated, or missing a state (or a pool operation)", () => {
		const m = models.find((x) => x.kind === "checker" && x.name === "tur")!;
		const svg = readFileSync(join(ROOT, "generated/diagrams/tur.svg"), "utf8");
		expect(() => parseSvg(svg.slice(0, svg.length - 20))).toThrow();
		expect(() => new Resvg(svg.slice(0, svg.length - 20))).toThrow();
		expect(() => checkDiagram(m, svg.replace("<title>state_testUnitReady</title>", "<title>state_other</title>"))).toThrow(/node state_testUnitReady/);
		const runner = models.find((x) => x.kind === "runner")!;
		const rsvg = readFileSync(join(ROOT, "generated/diagrams/runner.svg"), "utf8");
		expect(rsvg).toContain("<title>pool_take</title>");
		expect(() => checkDiagram(runner, rsvg.replace("<title>pool_take</title>", "<title>pool_other</title>"))).toThrow(/pool operation take/);
	});
	it("the DOT text is a pure function of the model: the same on every call, every state and rule in it", () => {
		for (const m of models) {
			const dot = diagramDot(m);
			expect(diagramDot(m)).toBe(dot);
			for (const s of m.states) expect(dot).toContain(`state_${s.key} [`);
			if (m.kind === "runner") for (const o of m.pool.operations) expect(dot).toContain(`pool_${o.key} [`);
		}
	});
});

describe("mpcheckgen diagram", () => {
	it("writes one SVG per spec, the bytes of the committed ones", () => {
		const out = tempDir();
		const r = cli(["diagram", "--spec", "specs/tur.ts", "specs/runner.ts", "--out", out]);
		expect(r.stderr).toBe("");
		expect(r.status).toBe(0);
		expect(r.stdout).toMatch(/^wrote .*tur\.svg \(specs\/tur\.ts: checker tur: 1 state, 10 rules, .*; [\d.]+×[\d.]+ pt, [\d.]+ KiB\)$/m);
		expect(r.stdout).toMatch(/^mpcheckgen: 2 written, 0 unchanged in .* \(\d+ ms\)$/m);
		for (const f of ["tur.svg", "runner.svg"]) {
			expect(readFileSync(join(out, f), "utf8")).toBe(readFileSync(join(ROOT, "generated/diagrams", f), "utf8"));
		}
		const again = cli(["diagram", "-s", "specs/tur.ts", "-o", out]);
		expect(again.stdout).toMatch(/^mpcheckgen: 0 written, 1 unchanged/m);
	});
	it("a bad spec among good ones: its located errors, exit 1, nothing written", () => {
		const out = join(tempDir(), "d");
		const r = cli(["diagram", "-s", "specs/tur.ts", "native-tests/fixtures/bad-specs/goto-cycle.ts", "-o", out]);
		expect(r.status).toBe(1);
		expect(r.stderr).toMatch(/^native-tests\/fixtures\/bad-specs\/goto-cycle\.ts:\d+:\d+: error: goto cycle/m);
		expect(r.stderr).toContain("nothing written");
		expect(existsSync(out)).toBe(false);
	});
	it.each([
		[["-s", "no-such.ts"], "no such spec file: no-such.ts"],
		[["-s", "package.json"], "a spec is a TypeScript file (.ts): package.json"],
		[["-o", "package.json"], "--out package.json: exists and is not a directory"],
		[["--colour"], "unknown option '--colour'"],
	])("%j: exit 2, a clear message, nothing written", (args, message) => {
		const r = cli(["diagram", ...args]);
		expect(r.status).toBe(2);
		expect(r.stderr).toContain(message);
		expect(r.stdout).toBe("");
	});
	it("a checker named runner beside the runner spec: the diagrams would collide, exit 1", () => {
		const dir = tempDir();
		const spec = readFileSync(join(ROOT, "specs/tur.ts"), "utf8")
			.replace('name: "tur"', 'name: "runner"')
			.replace("../generator/spec/index.ts", join(ROOT, "generator/spec/index.ts"));
		writeFileSync(join(dir, "runner.ts"), spec);
		const r = cli(["diagram", "-s", join(dir, "runner.ts"), "specs/runner.ts", "-o", join(dir, "out")]);
		expect(r.stderr).toContain("its diagram runner.svg would overwrite that of");
		expect(r.status).toBe(1);
		expect(existsSync(join(dir, "out"))).toBe(false);
	});
});
