// The one C writer: lays out the C IR in upstream multipath-tools style
// (tabs, kernel braces, no braces around a single statement, comments
// filled to 79 columns). It breaks no line of code: clang-format does that
// afterwards, with the project's (upstream's) settings. Comments are filled
// here because upstream's clang-format leaves comments alone.
import type { CCase, CFile, CInit, CItem, CSection, CStmt } from "../lower/c-ir.ts";

export const COLUMN_LIMIT = 79;
export const TAB = 8;

/** The display width of a line, tabs expanded to 8 columns. */
export function width(line: string): number {
	let col = 0;
	for (const ch of line) col = ch === "\t" ? (Math.floor(col / TAB) + 1) * TAB : col + 1;
	return col;
}

function indent(level: number): string {
	return "\t".repeat(level);
}

/** Words of `text` filled into lines of at most 79 columns after `prefix`; paragraphs kept apart. */
function fill(text: string, prefix: string): string[] {
	const out: string[] = [];
	for (const para of text.split(/\n\s*\n/)) {
		let line = "";
		for (const word of para.split(/\s+/).filter(Boolean)) {
			const next = line === "" ? word : `${line} ${word}`;
			if (line !== "" && width(prefix + next) > COLUMN_LIMIT) {
				out.push(prefix + line);
				line = word;
			} else line = next;
		}
		if (line !== "") out.push(prefix + line);
		out.push(prefix.trimEnd());
	}
	out.pop();
	return out;
}

/** A block comment at `level` tabs: one line when it fits, else the multi-line form with " * " prefixes. */
export function comment(text: string, level: number): string[] {
	const ind = indent(level);
	const one = `${ind}/* ${text.replace(/\s+/g, " ").trim()} */`;
	if (!text.includes("\n\n") && width(one) <= COLUMN_LIMIT) return [one];
	return [`${ind}/*`, ...fill(text, `${ind} * `), `${ind} */`];
}

/**
 * An initializer whose first line follows `head` at `level` tabs. A list
 * that does not fit on that line gets one continuation line and a trailing
 * comma, the form clang-format keeps (it would join the list into one line
 * over the limit otherwise).
 */
function init(i: string | CInit, level: number, head = ""): string[] {
	if (typeof i === "string") return [i];
	if (i.kind === "list") {
		const one = `{ ${i.values.join(", ")} }`;
		if (width(`${indent(level)}${head}${one};`) <= COLUMN_LIMIT) return [one];
		return ["{", `${indent(level + 1)}${i.values.join(", ")},`, `${indent(level)}}`];
	}
	const entry = (e: { designator: string; value: string }) => (e.designator === "" ? e.value : `${e.designator} = ${e.value}`);
	return ["{", ...i.entries.map((e) => `${indent(level + 1)}${entry(e)},`), `${indent(level)}}`];
}

/** `head` + the first line of `lines`, the rest as they are. */
function joinFirst(head: string, lines: string[], tail: string): string[] {
	const [first, ...rest] = lines;
	const all = [head + first, ...rest];
	all[all.length - 1] += tail;
	return all;
}

function condition(terms: readonly string[]): string {
	if (terms.length === 1) return terms[0];
	return terms.map((t) => (/ \|\| /.test(t) ? `(${t})` : t)).join(" && ");
}

/** Whether a body needs braces: more than one statement, or one that is not a plain statement. */
function needsBraces(body: readonly CStmt[]): boolean {
	if (body.length !== 1) return true;
	const s = body[0];
	return s.kind === "comment" || s.kind === "decl" || s.kind === "if" || s.kind === "switch" || s.kind === "while" || s.kind === "forever";
}

function stmts(list: readonly CStmt[], level: number): string[] {
	return list.flatMap((s) => stmt(s, level));
}

function ifStmt(s: Extract<CStmt, { kind: "if" }>, level: number, elsePrefix = ""): string[] {
	const ind = indent(level);
	const head = `${elsePrefix === "" ? ind : ""}${elsePrefix}if (${condition(s.cond)})`;
	const braces = needsBraces(s.then) || (s.else !== undefined && needsBraces(s.else) && !isElseIf(s.else));
	const out: string[] = [];
	if (braces) out.push(`${head} {`, ...stmts(s.then, level + 1), `${ind}}`);
	else out.push(head, ...stmts(s.then, level + 1));
	if (s.else === undefined) return out;
	if (isElseIf(s.else)) {
		const chained = ifStmt(s.else[0] as Extract<CStmt, { kind: "if" }>, level, braces ? " else " : "else ");
		if (braces) {
			out[out.length - 1] += chained[0];
			out.push(...chained.slice(1));
		} else out.push(ind + chained[0], ...chained.slice(1));
		return out;
	}
	if (braces) {
		out[out.length - 1] += " else {";
		out.push(...stmts(s.else, level + 1), `${ind}}`);
	} else out.push(`${ind}else`, ...stmts(s.else, level + 1));
	return out;
}

function isElseIf(body: readonly CStmt[]): boolean {
	return body.length === 1 && body[0].kind === "if";
}

function caseLines(c: CCase, level: number): string[] {
	const ind = indent(level);
	return [
		...(c.doc ? comment(c.doc, level) : []),
		...c.labels.map((l) => (l === "default" ? `${ind}default:` : `${ind}case ${l}:`)),
		...stmts(c.body, level + 1),
	];
}

export function stmt(s: CStmt, level: number): string[] {
	const ind = indent(level);
	switch (s.kind) {
		case "comment":
			return comment(s.text, level);
		case "blank":
			return [""];
		case "decl":
			return s.init === undefined ? [`${ind}${s.decl};`] : joinFirst(`${ind}${s.decl} = `, init(s.init, level, `${s.decl} = `), ";");
		case "expr":
			return [`${ind}${s.text};`];
		case "return":
			return [s.value === undefined ? `${ind}return;` : `${ind}return ${s.value};`];
		case "label":
			return [`${s.name}:`];
		case "goto":
			return [`${ind}goto ${s.label};`];
		case "break":
			return [`${ind}break;`];
		case "if":
			return ifStmt(s, level);
		case "switch":
			return [`${ind}switch (${s.on}) {`, ...s.cases.flatMap((c) => caseLines(c, level)), `${ind}}`];
		case "while":
			return [`${ind}while (${s.cond}) {`, ...stmts(s.body, level + 1), `${ind}}`];
		case "forever":
			return [`${ind}for (;;) {`, ...stmts(s.body, level + 1), `${ind}}`];
	}
}

/** Renders a template fragment with the names the lowering claimed for it. */
export type FragmentRenderer = (template: string, names: Readonly<Record<string, string>>) => string;

export function item(it: CItem, fragment: FragmentRenderer): string[] {
	const doc = (d: string | undefined, level = 0) => (d ? comment(d, level) : []);
	switch (it.kind) {
		case "comment":
			return comment(it.text, 0);
		case "fragment":
			return fragment(it.template, it.names).replace(/\n+$/, "").split("\n");
		case "define":
			return [...doc(it.doc), `#define ${it.name} ${it.value}`];
		case "enum":
			return [
				...doc(it.doc),
				it.tag ? `enum ${it.tag} {` : "enum {",
				...it.members.flatMap((m) => [...doc(m.doc, 1), `\t${m.name}${m.value === undefined ? "" : ` = ${m.value}`},`]),
				"};",
			];
		case "struct":
			return [...doc(it.doc), `struct ${it.tag} {`, ...it.members.flatMap((m) => [...doc(m.doc, 1), `\t${m.decl};`]), "};"];
		case "variable": {
			const body = it.init === undefined ? [`${it.decl};`] : joinFirst(`${it.decl} = `, init(it.init, 0, `${it.decl} = `), ";");
			return [...doc(it.doc), ...(it.verbatim ? ["// clang-format off", ...body, "// clang-format on"] : body)];
		}
		case "function":
			return [
				...doc(it.doc),
				`${it.isStatic ? "static " : ""}${it.returns}${it.returns.endsWith("*") ? "" : " "}${it.name}(${it.params.length === 0 ? "void" : it.params.join(", ")})`,
				"{",
				...stmts(it.body, 1),
				"}",
			];
	}
}

export function section(s: CSection, fragment: FragmentRenderer): string {
	return s.items.map((i) => item(i, fragment).join("\n")).join(s.tight ? "\n" : "\n\n");
}

/** The parts of a file the template places: its includes and its sections, each laid out. */
export function fileParts(
	f: CFile,
	fragment: FragmentRenderer,
): { summary: string; featureMacros: readonly string[]; systemIncludes: readonly string[]; localIncludes: readonly string[]; sections: string[] } {
	return {
		summary: comment(f.summary, 0).join("\n"),
		featureMacros: f.featureMacros ?? [],
		systemIncludes: f.systemIncludes,
		localIncludes: f.localIncludes,
		sections: f.sections.filter((s) => s.items.length > 0).map((s) => section(s, fragment)),
	};
}
