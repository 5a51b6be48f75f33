// State diagrams of the specs: a pure function from the validated model to
// Graphviz DOT text, and its layout into SVG by Graphviz's WebAssembly build
// (@hpcc-js/wasm-graphviz, pinned in package.json, so the bytes are the same
// on every run and every machine). For a checker: its states and the command
// each sends, every rule as an edge labelled with its facts to the state it
// continues in or the path state it reports, retries with their budgets and
// what happens once a budget is spent. For the runner: its states and every
// case of every operation, coloured by actor (caller or thread), and beside
// them, in a box of its own, the pool's operations, each case an edge from
// its operation to the outcome it returns, coloured the same way.
import type {
	AssignmentModel,
	CheckerModel,
	CommandStateModel,
	ConditionModel,
	FinalOutcomeModel,
	PoolCaseModel,
	RuleModel,
	RunnerCaseModel,
	RunnerModel,
	SpecModel,
	StateModel,
} from "../model/types.ts";
import type { IntervalSet } from "../model/intervals.ts";

/** Where a model's diagram goes, relative to the diagram directory. */
export function diagramPath(m: SpecModel): string {
	return m.kind === "runner" ? "runner.svg" : `${m.name}.svg`;
}

/** The command that regenerates one diagram, as its header states it. */
export function diagramCommand(m: SpecModel): string {
	return `npx mpcheckgen diagram -s ${m.specFile}`;
}

/** Text for an XML comment, which may not hold "--" (escaped as Graphviz does). */
function commentText(s: string): string {
	return s.replace(/-(?=-)/g, "&#45;");
}

const FONT = "Helvetica";

/** Fill colours of the path states a checker reports (others stay white). */
const PATH_STATE_FILL: Readonly<Record<string, string>> = {
	PATH_UP: "#c8e6c9",
	PATH_DOWN: "#ffcdd2",
	PATH_GHOST: "#e0e0e0",
	PATH_PENDING: "#fff9c4",
	PATH_SHAKY: "#ffe0b2",
	PATH_WILD: "#e1bee7",
	PATH_DISCONNECTED: "#ffccbc",
	PATH_UNCHECKED: "#f5f5f5",
};

const ACTOR_COLOUR = { caller: "#a0522d", thread: "#1f5fa8" } as const;

/** A DOT string literal. */
function q(s: string): string {
	return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

function attrs(a: Record<string, string | number | undefined>): string {
	const parts = Object.entries(a)
		.filter(([, v]) => v !== undefined)
		.map(([k, v]) => `${k}=${typeof v === "number" ? v : q(v as string)}`);
	return parts.length > 0 ? ` [${parts.join(", ")}]` : "";
}

/** Joins items into lines of at most `width` characters. */
function wrap(items: readonly string[], sep: string, width = 44): string {
	const lines: string[] = [];
	let line = "";
	for (const [i, item] of items.entries()) {
		const piece = i < items.length - 1 ? `${item}${sep}` : item;
		if (line !== "" && line.length + piece.length > width) {
			lines.push(line.trimEnd());
			line = "";
		}
		line += piece;
	}
	if (line !== "") lines.push(line.trimEnd());
	return lines.join("\n");
}

const hex2 = (v: number) => v.toString(16).toUpperCase().padStart(2, "0");

function senseCodes(set: IntervalSet): string[] {
	const out: string[] = [];
	for (const [lo, hi] of set) {
		if ((lo & 0xff) === 0 && (hi & 0xff) === 0xff) {
			for (let asc = lo >> 8; asc <= hi >> 8; asc++) out.push(`${hex2(asc)}/*`);
		} else if (hi - lo < 8) {
			for (let v = lo; v <= hi; v++) out.push(`${hex2(v >> 8)}/${hex2(v & 0xff)}`);
		} else out.push(`${hex2(lo >> 8)}/${hex2(lo & 0xff)}–${hex2(hi >> 8)}/${hex2(hi & 0xff)}`);
	}
	return out;
}

function intervals(set: IntervalSet): string[] {
	return set.map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}–${hi}`));
}

/** One written condition as a diagram reads it, e.g. "sense key UNIT_ATTENTION". */
export function conditionText(c: ConditionModel): string {
	const named = c.written.length > 0 && c.written.every((w) => w.symbol !== undefined);
	const listed = named
		? c.written.map((w) => w.symbol!)
		: c.form?.kind === "bits"
			? [`& 0x${c.form.mask.toString(16)} ${c.negated ? "!=" : "=="} 0x${c.form.value.toString(16)}`]
			: c.negated && c.written.length > 0
				? c.written.map((w) => String(w.value))
				: intervals(c.allowed);
	if (c.form?.kind === "bits") {
		const name = c.fact.kind === "context" || c.fact.kind === "dataField" ? c.fact.field.key : c.fact.kind === "driverStatus" ? "driver" : c.fact.kind;
		return `${name} ${listed[0]}`;
	}
	const list = (name: string, items: readonly string[]) => wrap([`${name}${c.negated ? " not" : ""} ${items[0]}`, ...items.slice(1)], " | ");
	switch (c.fact.kind) {
		case "errno":
			if (c.written.length === 0) return "any errno";
			return list("errno", listed);
		case "status":
			return list("status", listed);
		case "sgInfo":
			return `sgInfo ${c.allowed[0][0] === 0 ? "ok" : "check"}`;
		case "hostStatus":
			return list("host", listed);
		case "driverStatus":
			return list("driver", listed);
		case "senseKey":
			return list("sense key", listed);
		case "senseCode":
			return list("sense", senseCodes(c.allowed));
		case "context":
			if (c.fact.field.type === "bool") return `${c.fact.field.key} is ${c.allowed[0][0] === 1 ? "set" : "clear"}`;
			return list(`${c.fact.field.key} =`, listed);
		case "dataOutcome":
			return list("data:", listed);
		case "dataField":
			if (c.fact.field.type === "bool") return `${c.fact.field.key} is ${c.allowed[0][0] === 1 ? "set" : "clear"}`;
			return list(`${c.fact.field.key} =`, listed);
	}
}

/** The facts a rule was written with (the implied ones left out); "otherwise" for none. */
function factsText(r: RuleModel): string {
	const written = r.conditions.filter((c) => !c.implied);
	return written.length === 0 ? "otherwise" : written.map(conditionText).join("\n");
}

function assignmentsText(as: readonly AssignmentModel[]): string | undefined {
	if (as.length === 0) return undefined;
	const one = (a: AssignmentModel) => {
		const v = a.value;
		const value =
			v.kind === "const" ? (a.field.type === "bool" ? (v.value ? "true" : "false") : String(v.value)) : v.kind === "data" ? `data.${v.field.key}` : v.field.key;
		return `${a.field.key} := ${value}`;
	};
	return wrap(as.map(one), ", ");
}

function commandText(s: CommandStateModel): string {
	const c = s.command;
	const length = c.dataLength.kind === "const" ? `${c.dataLength.value} bytes` : `${c.dataLength.field.key} bytes`;
	const data = c.direction === "none" ? "no data" : `${c.direction === "fromDevice" ? "reads" : "writes"} ${length}`;
	const lines =
		c.transport === "directRead"
			? [`reads ${length} at offset ${c.offset}`, "with O_DIRECT"]
			: [`sends ${c.name}${c.transport === "cciss" ? " via cciss" : ""}`, `(${c.cdb.length}-byte CDB, ${data})`];
	if (s.decoder) lines.push(`decodes ${s.decoder.decoder.name}`);
	return lines.join("\n");
}

const stateId = (s: StateModel) => `state_${s.key}`;
const pathStateId = (name: string) => `ps_${name}`;

/** The DOT text of a checker's state diagram. */
export function checkerDot(m: CheckerModel): string {
	const out: string[] = [];
	const budgets = m.budgets.map((b) => `${b.key}: ${b.maxRetries} ${b.maxRetries === 1 ? "retry" : "retries"}`);
	const title = [`checker ${m.name}: ${m.description}`, ...(budgets.length > 0 ? [wrap([`retry budgets (per check): ${budgets[0]}`, ...budgets.slice(1)], ", ", 90)] : [])];
	out.push(`digraph ${q(m.name)} {`);
	out.push(`\tgraph${attrs({ rankdir: "LR", label: title.join("\n"), labelloc: "t", fontname: FONT, fontsize: 16, nodesep: 0.3, ranksep: 0.6 })};`);
	out.push(`\tnode${attrs({ fontname: FONT, fontsize: 12, margin: "0.2,0.08" })};`);
	out.push(`\tedge${attrs({ fontname: FONT, fontsize: 10 })};`);
	out.push(`\tcheck${attrs({ shape: "point", width: 0.15, label: "", xlabel: "check" })};`);
	// the init states (libcheck_init's commands): green, marked "(init)"
	const initStates = new Set(m.init?.states ?? []);
	if (m.init) {
		const without = m.init.withoutInitIo === "atFirstCheck" ? "at the path's first check" : m.init.withoutInitIo === "skip" ? "not run" : "-";
		out.push(`\tinit${attrs({ shape: "point", width: 0.15, label: "", xlabel: "init" })};`);
		out.push(`\tinit_done${attrs({ shape: "ellipse", style: "filled", fillcolor: "#c8e6c9", label: `init done\n(where init has no I/O: ${without})` })};`);
	}
	for (const s of m.states) {
		const body = s.kind === "command" ? commandText(s) : "decides from the context";
		const inInit = initStates.has(s);
		out.push(
			`\t${stateId(s)}${attrs({
				shape: "box",
				style: s.kind === "command" ? "rounded,filled" : "rounded,filled,dashed",
				fillcolor: inInit ? "#e8f5e9" : s.kind === "command" ? "#e3f2fd" : "#fffde7",
				label: `${s.key}\n${body}${inInit ? "\n(init)" : ""}`,
			})};`,
		);
	}
	out.push(`\tcheck -> ${stateId(m.initial)};`);
	if (m.init) out.push(`\tinit -> ${stateId(m.init.initial)};`);
	// the path states reported, each once, in the order the rules first name them
	const reported: string[] = [];
	const report = (o: FinalOutcomeModel) => {
		if (o.kind === "report" && !reported.includes(o.pathState.name)) reported.push(o.pathState.name);
	};
	for (const s of m.states) {
		for (const r of s.rules) {
			if (r.outcome.kind === "retry") {
				if (r.outcome.exhausted) report(r.outcome.exhausted);
			} else report(r.outcome);
		}
	}
	for (const name of reported) {
		out.push(`\t${pathStateId(name)}${attrs({ shape: "ellipse", style: "filled", fillcolor: PATH_STATE_FILL[name] ?? "white", label: name })};`);
	}
	const finalEdge = (from: string, o: FinalOutcomeModel, label: string, style?: string) => {
		const set = assignmentsText(o.assignments);
		if (o.kind === "report") {
			const text = [label, `message ${o.message.key}`, ...(set ? [set] : [])].join("\n");
			out.push(`\t${from} -> ${pathStateId(o.pathState.name)}${attrs({ label: text, style })};`);
		} else if (o.kind === "done") {
			const text = [label, ...(set ? [set] : []), ...(o.log ? [wrap(`logs: ${o.log}`.split(" "), " ")] : [])].join("\n");
			out.push(`\t${from} -> init_done${attrs({ label: text, style, color: "#2e7d32" })};`);
		} else {
			const text = [label, ...(set ? [set] : [])].join("\n");
			out.push(`\t${from} -> ${stateId(o.target)}${attrs({ label: text, style, color: "#1565c0" })};`);
		}
	};
	for (const s of m.states) {
		for (const r of s.rules) {
			const head = `${r.index + 1}. ${factsText(r)}`;
			const o = r.outcome;
			if (o.kind !== "retry") {
				finalEdge(stateId(s), o, head);
				continue;
			}
			// a retry is a node of its own: the budget, then two ways out
			// (the retry while the budget lasts, and what follows once spent)
			const retry = `retry_${s.key}_${r.index + 1}`;
			const set = assignmentsText(o.assignments);
			const colour = "#6a1b9a";
			out.push(
				`\t${retry}${attrs({
					shape: "box",
					style: "rounded,dashed",
					color: colour,
					fontcolor: colour,
					fontsize: 10,
					label: [`retry ${o.budget.key}`, `at most ${o.budget.maxRetries}`, ...(set ? [set] : [])].join("\n"),
				})};`,
			);
			out.push(`\t${stateId(s)} -> ${retry}${attrs({ label: head, color: colour })};`);
			out.push(`\t${retry} -> ${stateId(o.target)}${attrs({ label: "again", color: colour, fontcolor: colour, style: "bold" })};`);
			if (o.exhausted) finalEdge(retry, o.exhausted, "spent", "dashed");
			else {
				out.push(`\t${retry}_spent${attrs({ shape: "note", fontsize: 10, label: "spent: the next\nrules decide" })};`);
				out.push(`\t${retry} -> ${retry}_spent${attrs({ style: "dashed" })};`);
			}
		}
	}
	out.push("}");
	return `${out.join("\n")}\n`;
}

function caseLabel(op: string, c: RunnerCaseModel | PoolCaseModel): string {
	const guards = [c.when ? `when ${c.when.key}` : undefined, c.await ? `after ${c.await.key}` : undefined].filter((g) => g !== undefined);
	const lines = [`${op}${guards.length > 0 ? ` [${guards.join(", ")}]` : ""}`];
	if (c.effects.length > 0) lines.push(`/ ${c.effects.map((e) => e.key).join(", ")}`);
	if ("call" in c && c.call) lines.push(`calls ${c.call}`);
	if ("from" in c && c.returns.key !== (c.to ?? c.from).key) lines.push(`returns ${c.returns.key}`);
	return lines.join("\n");
}

/** The DOT text of the runner's state diagram. */
export function runnerDot(m: RunnerModel): string {
	const out: string[] = [];
	const byActor = (a: "caller" | "thread") =>
		m.operations
			.filter((o) => o.actor === a)
			.map((o) => o.key)
			.join(", ");
	const p = m.pool;
	const poolByActor = (a: "caller" | "thread") =>
		p.operations
			.filter((o) => o.actor === a)
			.map((o) => o.key)
			.join(", ");
	const title = [
		`runner: ${m.description}`,
		`thread (blue): ${byActor("thread")}; caller (brown): ${byActor("caller")}; dotted: the state stays`,
		`pool (the box): thread ${poolByActor("thread")}; caller ${poolByActor("caller")}; each case in order, all under the pool's lock`,
	];
	out.push(`digraph "runner" {`);
	out.push(`\tgraph${attrs({ rankdir: "LR", label: title.join("\n"), labelloc: "t", fontname: FONT, fontsize: 16, nodesep: 0.5, ranksep: 1.2, pad: "1.4,0.2" })};`);
	out.push(`\tnode${attrs({ fontname: FONT, fontsize: 12, margin: "0.2,0.08" })};`);
	out.push(`\tedge${attrs({ fontname: FONT, fontsize: 10 })};`);
	out.push(`\tget_runner${attrs({ shape: "point", width: 0.15, label: "", xlabel: "get_runner" })};`);
	for (const s of m.states) {
		out.push(
			`\tstate_${s.key}${attrs({
				shape: "box",
				style: "rounded,filled",
				fillcolor: s.terminal ? "#eeeeee" : "#e3f2fd",
				peripheries: s.terminal ? 2 : undefined,
				label: `${s.key}\n"${s.name}"${s.terminal ? "\n(terminal)" : ""}`,
			})};`,
		);
	}
	out.push(`\tget_runner -> state_${m.initial};`);
	for (const op of m.operations) {
		for (const { state, cases } of op.byState) {
			for (const c of cases) {
				const to = c.to ?? state;
				const colour = ACTOR_COLOUR[op.actor];
				out.push(
					`\tstate_${state.key} -> state_${to.key}${attrs({
						label: `${op.actor}: ${caseLabel(op.key, c)}`,
						color: colour,
						fontcolor: colour,
						style: c.to ? "bold" : "dotted",
					})};`,
				);
			}
		}
	}
	// the pool's operations, in a box of their own: each case an edge to its outcome
	out.push(`\tsubgraph cluster_pool {`);
	out.push(`\t\tgraph${attrs({ label: `pool: ${p.doc}`, labeljust: "l", style: "rounded,dashed", color: "#607d8b", fontname: FONT, fontsize: 12 })};`);
	for (const op of p.operations) {
		out.push(`\t\tpool_${op.key}${attrs({ shape: "box", style: "rounded,filled", fillcolor: "#fff8e1", label: `pool_${op.key}()\n(${op.actor})` })};`);
	}
	for (const o of p.outcomes) out.push(`\t\toutcome_${o.key}${attrs({ shape: "ellipse", label: `POOL_${o.key}` })};`);
	out.push(`\t\toutcome_none${attrs({ shape: "ellipse", label: "(returns)" })};`);
	for (const op of p.operations) {
		for (const c of op.cases) {
			const to = c.await ? `pool_${op.key}` : `outcome_${c.returns?.key ?? "none"}`;
			const colour = ACTOR_COLOUR[op.actor];
			out.push(
				`\t\tpool_${op.key} -> ${to}${attrs({
					label: `${op.actor}: ${caseLabel(op.key, c)}`,
					color: colour,
					fontcolor: colour,
					style: c.await ? "dotted" : "bold",
				})};`,
			);
		}
	}
	out.push("\t}");
	out.push("}");
	return `${out.join("\n")}\n`;
}

/** The DOT text of a spec's diagram. */
export function diagramDot(m: SpecModel): string {
	return m.kind === "runner" ? runnerDot(m) : checkerDot(m);
}

// ------------------------------------------------------------------ layout

type GraphvizInstance = Awaited<ReturnType<(typeof import("@hpcc-js/wasm-graphviz"))["Graphviz"]["load"]>>;
let graphviz: Promise<GraphvizInstance> | undefined;
let loaded: GraphvizInstance | undefined;

/** Loads Graphviz's WebAssembly; the layout functions need it done. */
export function initDiagrams(): Promise<void> {
	graphviz ??= import("@hpcc-js/wasm-graphviz").then(async ({ Graphviz }) => {
		loaded = await Graphviz.load();
		return loaded;
	});
	return graphviz.then(() => undefined);
}

/** The SVG of a DOT text, laid out by dot. */
export function layoutSvg(dot: string): string {
	if (!loaded) throw new Error("initDiagrams() must complete before a diagram is laid out");
	return loaded.dot(dot, "svg");
}

/** A spec's diagram as a file: the SVG with the generated-file header after the XML declaration. */
export function diagramFile(m: SpecModel): string {
	const svg = layoutSvg(diagramDot(m));
	const header = commentText(
		`Code generated by mpcheckgen from ${m.specFile}. DO NOT EDIT.\n     To regenerate run:\n       ${diagramCommand(m)}`,
	);
	const decl = /^<\?xml[^>]*\?>\n/.exec(svg);
	const comment = `<!-- ${header} -->\n`;
	return decl ? `${decl[0]}${comment}${svg.slice(decl[0].length)}` : `${comment}${svg}`;
}

/** Each model's diagram: path relative to the diagram directory → SVG text. */
export function emitDiagrams(models: readonly SpecModel[]): Map<string, string> {
	const files = new Map<string, string>();
	for (const m of models) files.set(diagramPath(m), diagramFile(m));
	return files;
}
