// Checks of a state diagram against its model, for the diagram test and the
// spec fuzzer: the SVG parsed by a strict XML parser (@xmldom/xmldom, every
// warning an error) and rendered by resvg; well-formed, its stated size, not
// blank, and every state, path state, rule and retry (for the runner: every
// operation and effect) of the model in it.
import { Resvg } from "@resvg/resvg-js";
import { DOMParser, type Element } from "@xmldom/xmldom";
import { expect } from "vitest";
import type { CheckerModel, RunnerModel, SpecModel } from "../model/types.ts";

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
		const count = (ops: readonly { byState: readonly { cases: readonly unknown[] }[] }[]) => ops.reduce((n, o) => n + o.byState.reduce((k, s) => k + s.cases.length, 0), 0);
		// each case of the machine, the edge from its entry point, and each case of the pool
		return { states: m.states.map((s) => `state_${s.key}`), edges: count(m.operations) + 1 + m.pool.operations.reduce((n, o) => n + o.cases.length, 0) };
	}
	// a rule is one edge; a retry three (to its budget node, again, spent)
	const edges = m.states.reduce((n, s) => n + s.rules.reduce((k, r) => k + (r.outcome.kind === "retry" ? 3 : 1), 0), 0);
	// and the edges from the check's entry point and the init's
	return { states: m.states.map((s) => `state_${s.key}`), edges: edges + 1 + (m.init ? 1 : 0) };
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
	else checkRunnerDiagram(m, nodes, edges);
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
	// the init states are marked, and each done is an edge to "init done"
	const init = new Set(m.init?.states ?? []);
	for (const s of m.states) expect(nodes.get(`state_${s.key}`)?.endsWith("\n(init)"), `${s.key} marked as an init state`).toBe(init.has(s));
	if (m.init) expect(edges.has(`init->state_${m.init.initial.key}`), "the init's entry").toBe(true);
	for (const s of m.states) {
		if (s.kind === "command") {
			expect(nodes.get(`state_${s.key}`), `${s.key}'s command`).toContain(s.command.transport === "directRead" ? "with O_DIRECT" : `sends ${s.command.name}`);
		}
		for (const r of s.rules) {
			const o = r.outcome;
			const final = o.kind === "retry" ? o.exhausted : o;
			if (final?.kind === "report") expect(nodes.get(`ps_${final.pathState.name}`), final.pathState.name).toBe(final.pathState.name);
			if (final?.kind === "done") expect(nodes.get("init_done"), "init done").toMatch(/^init done\n/);
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

function checkRunnerDiagram(m: RunnerModel, nodes: Map<string, string>, edges: Map<string, string>): void {
	const labels = [...edges.values()].join("\n");
	for (const op of m.operations) expect(labels, op.key).toContain(`${op.actor}: ${op.key}`);
	for (const e of new Set(m.operations.flatMap((o) => o.byState.flatMap((s) => s.cases.flatMap((c) => c.effects.map((x) => x.key)))))) {
		expect(labels, e).toContain(e);
	}
	// the pool: every operation a node, each case an edge from it to its outcome (itself: a wait) with its actor, effects and condition
	const p = m.pool;
	for (const op of p.operations) expect(nodes.get(`pool_${op.key}`)?.split("\n")[0], `pool operation ${op.key}`).toBe(`pool_${op.key}()`);
	for (const op of p.operations) {
		for (const c of op.cases) {
			const to = c.await ? `pool_${op.key}` : `outcome_${c.returns?.key ?? "none"}`;
			const from = [...edges.entries()].filter(([t]) => t === `pool_${op.key}->${to}` || t.startsWith(`pool_${op.key}->${to}#`)).map(([, l]) => l);
			const want = [`${op.actor}: ${op.key}`, ...c.effects.map((e) => e.key), ...(c.when ? [c.when.key] : []), ...(c.await ? [c.await.key] : [])];
			expect(
				from.some((l) => want.every((w) => l.includes(w))),
				`pool ${op.key}${c.when ? ` [${c.when.key}]` : ""}: an edge to ${to} with ${want.join(", ")}`,
			).toBe(true);
		}
	}
}
