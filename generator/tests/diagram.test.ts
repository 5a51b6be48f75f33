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
import { DOMParser, type Element } from "@xmldom/xmldom";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diagramDot, diagramPath } from "../emit/diagram.ts";
import { embeddedSpecs } from "../generate.ts";
import { loadSpecs } from "../load.ts";
import type { CheckerModel, RunnerModel, SpecModel } from "../model/types.ts";

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

/** Parses an SVG strictly: any warning or error of the parser fails. */
export function parseSvg(text: string): Element {
	const doc = new DOMParser({
		onError: (level, message) => {
			throw new Error(`${level}: ${message}`);
		},
	}).parseFromString(text, "image/svg+xml");
	const root = doc.documentElement;
	if (!root || root.tagName !== "svg") throw new Error(`the root element is ${root?.tagName}, not svg`);
	return root;
}

/** The Graphviz objects of an SVG: node or edge id (its <title>) → the texts drawn for it. */
export function svgObjects(root: Element, kind: "node" | "edge"): Map<string, string> {
	const out = new Map<string, string>();
	const groups = Array.from(root.getElementsByTagName("g")).filter((g) => g.getAttribute("class") === kind);
	for (const g of groups) {
		const title = g.getElementsByTagName("title")[0]?.textContent ?? "";
		const texts = Array.from(g.getElementsByTagName("text")).map((t) => t.textContent ?? "");
		const key = out.has(title) ? `${title}#${out.size}` : title;
		out.set(key, texts.join("\n"));
	}
	return out;
}

/** Renders an SVG with resvg: its size in pixels and the share of pixels that are not white. */
export function renderSvg(text: string): { width: number; height: number; inked: number } {
	const png = new Resvg(text, { background: "white", fitTo: { mode: "original" } }).render();
	const px = png.pixels;
	let inked = 0;
	for (let i = 0; i < px.length; i += 4) if (px[i] < 250 || px[i + 1] < 250 || px[i + 2] < 250) inked++;
	return { width: png.width, height: png.height, inked: inked / (png.width * png.height) };
}

/** The node and edge counts a diagram must have, from the model alone. */
function expectedShape(m: SpecModel): { states: string[]; edges: number } {
	if (m.kind === "runner") {
		const cases = m.operations.reduce((n, o) => n + o.byState.reduce((k, s) => k + s.cases.length, 0), 0);
		return { states: m.states.map((s) => `state_${s.key}`), edges: cases + 1 };
	}
	// a rule is one edge; a retry three (to its budget node, again, spent)
	const edges = m.states.reduce((n, s) => n + s.rules.reduce((k, r) => k + (r.outcome.kind === "retry" ? 3 : 1), 0), 0);
	return { states: m.states.map((s) => `state_${s.key}`), edges: edges + 1 };
}

/** Checks one diagram against its model; returns its rendered size. */
export function checkDiagram(m: SpecModel, svg: string): { width: number; height: number } {
	const root = parseSvg(svg);
	const nodes = svgObjects(root, "node");
	const edges = svgObjects(root, "edge");
	const { states, edges: edgeCount } = expectedShape(m);
	for (const [i, id] of states.entries()) {
		expect(nodes.has(id), `${m.specFile}: node ${id}`).toBe(true);
		expect(nodes.get(id)!.split("\n")[0], `${m.specFile}: ${id}'s name`).toBe(m.states[i].key);
	}
	expect(edges.size, `${m.specFile}: edges`).toBe(edgeCount);
	if (m.kind === "checker") checkCheckerDiagram(m, nodes, edges);
	else checkRunnerDiagram(m, edges);
	const w = Number(/^([\d.]+)pt$/.exec(root.getAttribute("width") ?? "")?.[1]);
	const h = Number(/^([\d.]+)pt$/.exec(root.getAttribute("height") ?? "")?.[1]);
	const r = renderSvg(svg);
	// points at 96 dpi
	expect(Math.abs(r.width - Math.ceil((w * 96) / 72)), `${m.specFile}: width`).toBeLessThanOrEqual(1);
	expect(Math.abs(r.height - Math.ceil((h * 96) / 72)), `${m.specFile}: height`).toBeLessThanOrEqual(1);
	expect(r.inked, `${m.specFile}: not blank`).toBeGreaterThan(0.01);
	expect(r.inked, `${m.specFile}: not a filled box`).toBeLessThan(0.6);
	return { width: r.width, height: r.height };
}

function checkCheckerDiagram(m: CheckerModel, nodes: Map<string, string>, edges: Map<string, string>): void {
	for (const s of m.states) {
		if (s.kind === "command") expect(nodes.get(`state_${s.key}`), `${s.key}'s command`).toContain(`sends ${s.command.name}`);
		for (const r of s.rules) {
			const o = r.outcome;
			const final = o.kind === "retry" ? o.exhausted : o;
			if (final?.kind === "report") expect(nodes.get(`ps_${final.pathState.name}`), final.pathState.name).toBe(final.pathState.name);
			// the rule's edge starts with its number
			const labels = [...edges.entries()].filter(([t]) => t.startsWith(`state_${s.key}->`)).map(([, l]) => l);
			expect(labels.some((l) => l.startsWith(`${r.index + 1}. `)), `${s.key} rule ${r.index + 1}`).toBe(true);
			if (o.kind === "retry") {
				const node = nodes.get(`retry_${s.key}_${r.index + 1}`);
				expect(node, `${s.key} rule ${r.index + 1}'s retry`).toContain(`retry ${o.budget.key}\nat most ${o.budget.maxRetries}`);
			}
		}
	}
}

function checkRunnerDiagram(m: RunnerModel, edges: Map<string, string>): void {
	const labels = [...edges.values()].join("\n");
	for (const op of m.operations) expect(labels, op.key).toContain(`${op.actor}: ${op.key}`);
	for (const e of new Set(m.operations.flatMap((o) => o.byState.flatMap((s) => s.cases.flatMap((c) => c.effects.map((x) => x.key)))))) {
		expect(labels, e).toContain(e);
	}
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
		expect(sizes).toHaveLength(3);
	});
	it("the checks fail on a broken diagram: truncated, or missing a state", () => {
		const m = models.find((x) => x.kind === "checker" && x.name === "tur")!;
		const svg = readFileSync(join(ROOT, "generated/diagrams/tur.svg"), "utf8");
		expect(() => parseSvg(svg.slice(0, svg.length - 20))).toThrow();
		expect(() => new Resvg(svg.slice(0, svg.length - 20))).toThrow();
		expect(() => checkDiagram(m, svg.replace("<title>state_testUnitReady</title>", "<title>state_other</title>"))).toThrow(/node state_testUnitReady/);
	});
	it("the DOT text is a pure function of the model: the same on every call, every state and rule in it", () => {
		for (const m of models) {
			const dot = diagramDot(m);
			expect(diagramDot(m)).toBe(dot);
			for (const s of m.states) expect(dot).toContain(`state_${s.key} [`);
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
