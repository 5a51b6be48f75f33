// The C writer, one construct at a time, with the exact lines it must
// write: braces only around more than one statement (kernel style), else
// and else-if chains, switch with shared labels and default, initialisers,
// comments filled to 79 columns, and the items of a file.
import { describe, expect, it } from "vitest";
import { comment, item, stmt } from "../emit/c-writer.ts";
import type { CItem, CStmt } from "../lower/c-ir.ts";

const ret = (v: string): CStmt => ({ kind: "return", value: v });
const expr = (t: string): CStmt => ({ kind: "expr", text: t });
const noFragments = () => {
	throw new Error("no fragment expected");
};
const lines = (s: CStmt, level = 1) => stmt(s, level);

describe("statements", () => {
	it("an if with one statement has no braces", () => {
		expect(lines({ kind: "if", cond: ["a == 1"], then: [ret("PATH_UP")] })).toEqual(["\tif (a == 1)", "\t\treturn PATH_UP;"]);
	});
	it("an if with two statements has braces", () => {
		expect(lines({ kind: "if", cond: ["a", "b"], then: [expr("x++"), ret("0")] })).toEqual([
			"\tif (a && b) {",
			"\t\tx++;",
			"\t\treturn 0;",
			"\t}",
		]);
	});
	it("a term holding || is parenthesised among && terms, not alone", () => {
		expect(lines({ kind: "if", cond: ["a || b", "c"], then: [ret("1")] })[0]).toBe("\tif ((a || b) && c)");
		expect(lines({ kind: "if", cond: ["a || b"], then: [ret("1")] })[0]).toBe("\tif (a || b)");
	});
	it("if/else without braces, and with braces on both sides when one needs them", () => {
		expect(lines({ kind: "if", cond: ["v > MAX"], then: [expr("x = MAX")], else: [expr("x = v")] })).toEqual([
			"\tif (v > MAX)",
			"\t\tx = MAX;",
			"\telse",
			"\t\tx = v;",
		]);
		expect(lines({ kind: "if", cond: ["a"], then: [expr("x = 1")], else: [expr("y = 2"), ret("0")] })).toEqual([
			"\tif (a) {",
			"\t\tx = 1;",
			"\t} else {",
			"\t\ty = 2;",
			"\t\treturn 0;",
			"\t}",
		]);
	});
	it("else-if chains", () => {
		const chain: CStmt = {
			kind: "if",
			cond: ["a"],
			then: [ret("1")],
			else: [{ kind: "if", cond: ["b"], then: [ret("2")], else: [ret("3")] }],
		};
		expect(lines(chain)).toEqual(["\tif (a)", "\t\treturn 1;", "\telse if (b)", "\t\treturn 2;", "\telse", "\t\treturn 3;"]);
	});
	it("a switch: labels at the switch's level, shared labels, default", () => {
		const sw: CStmt = {
			kind: "switch",
			on: "ans.sense_key",
			cases: [
				{ labels: ["NOT_READY"], doc: "not ready", body: [] },
				{ labels: ["UNIT_ATTENTION"], body: [ret("1")] },
				{ labels: ["default"], body: [{ kind: "break" }] },
			],
		};
		expect(lines(sw)).toEqual([
			"\tswitch (ans.sense_key) {",
			"\t/* not ready */",
			"\tcase NOT_READY:",
			"\tcase UNIT_ATTENTION:",
			"\t\treturn 1;",
			"\tdefault:",
			"\t\tbreak;",
			"\t}",
		]);
	});
	it("labels at column 0, goto, loops", () => {
		expect(lines({ kind: "label", name: "retry" })).toEqual(["retry:"]);
		expect(lines({ kind: "goto", label: "retry" })).toEqual(["\tgoto retry;"]);
		expect(lines({ kind: "while", cond: "step != DONE", body: [expr("f()")] })).toEqual(["\twhile (step != DONE) {", "\t\tf();", "\t}"]);
		expect(lines({ kind: "forever", body: [expr("f()")] })).toEqual(["\tfor (;;) {", "\t\tf();", "\t}"]);
	});
	it("declarations with list and designated initialisers", () => {
		expect(lines({ kind: "decl", decl: "unsigned char cdb[6]", init: { kind: "list", values: ["INQUIRY", "0x01"] } })).toEqual([
			"\tunsigned char cdb[6] = { INQUIRY, 0x01 };",
		]);
		expect(
			lines({
				kind: "decl",
				decl: "struct x_check chk",
				init: { kind: "designated", entries: [{ designator: ".rdata", value: "rdata" }, { designator: "", value: "NULL" }] },
			}),
		).toEqual(["\tstruct x_check chk = {", "\t\t.rdata = rdata,", "\t\tNULL,", "\t};"]);
	});
});

describe("comments", () => {
	it("one line when it fits in 79 columns", () => {
		expect(comment("short", 2)).toEqual(["\t\t/* short */"]);
	});
	it("filled to 79 columns (tabs count 8) in the multi-line form", () => {
		const text = "word ".repeat(30).trim();
		const out = comment(text, 1);
		expect(out[0]).toBe("\t/*");
		expect(out[out.length - 1]).toBe("\t */");
		for (const l of out) expect(l.replace(/\t/g, "        ").length).toBeLessThanOrEqual(79);
		expect(out.slice(1, -1).map((l) => l.replace("\t * ", "")).join(" ")).toBe(text);
	});
	it("keeps paragraphs apart", () => {
		expect(comment("one\n\ntwo", 0)).toEqual(["/*", " * one", " *", " * two", " */"]);
	});
});

describe("items", () => {
	const it1 = (i: CItem) => item(i, noFragments);
	it("define, enum, struct", () => {
		expect(it1({ kind: "define", name: "X_MAX", value: "4", doc: "the bound" })).toEqual(["/* the bound */", "#define X_MAX 4"]);
		expect(it1({ kind: "enum", tag: "x_step", members: [{ name: "A", value: "1" }, { name: "B", doc: "b" }] })).toEqual([
			"enum x_step {",
			"\tA = 1,",
			"\t/* b */",
			"\tB,",
			"};",
		]);
		expect(it1({ kind: "struct", tag: "x", members: [{ decl: "int a" }] })).toEqual(["struct x {", "\tint a;", "};"]);
	});
	it("functions: static, pointer return types, (void) for no parameters", () => {
		expect(it1({ kind: "function", isStatic: true, returns: "int", name: "f", params: [], body: [ret("0")] })).toEqual([
			"static int f(void)",
			"{",
			"\treturn 0;",
			"}",
		]);
		expect(it1({ kind: "function", isStatic: false, returns: "const char *", name: "g", params: ["int s"], body: [ret('"x"')] })[0]).toBe(
			"const char *g(int s)",
		);
	});
	it("a verbatim table is fenced from clang-format", () => {
		expect(it1({ kind: "variable", decl: "const char *t[]", verbatim: true, init: { kind: "list", values: ['"a"'] } })).toEqual([
			"// clang-format off",
			'const char *t[] = { "a" };',
			"// clang-format on",
		]);
	});
	it("a fragment is the template's text, with the names given", () => {
		expect(item({ kind: "fragment", template: "t.hbs", names: { fn: "decode_x" } }, (t, n) => `/* ${t} */\nvoid ${n.fn}(void);\n`)).toEqual([
			"/* t.hbs */",
			"void decode_x(void);",
		]);
	});
});
