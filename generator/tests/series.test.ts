// The patch layout's pure core: planSeries splits the tree layout's files
// into commits whose files, applied in order, give the layout's whole
// output; the shared files take the layout's output for the checkers so
// far; the messages wrap at 72 columns and end with the trailers.
import { describe, expect, it } from "vitest";
import { commitMessage, coverLetter, planSeries, wrap } from "../emit/series.ts";
import type { TreeRelease } from "../emit/tree.ts";
import type { SpecModel } from "../model/types.ts";

const release: TreeRelease = { release: "0.9.4", target: "0.9", versionCode: 0x904, hasRunner: false, hasAsyncChecker: false };
const runner = {
	kind: "runner",
	description: "detached checker threads with timeouts and cancellation",
	specFile: "specs/runner.ts",
	states: [
		{ key: "IDLE", name: "idle", doc: "not started" },
		{ key: "DEAD", name: "dead", doc: "finished" },
	],
	pool: { doc: "threads kept alive between checks" },
	idleTimeoutMs: 60000,
} as unknown as SpecModel;
const checker = (name: string, messages: string[] = []) =>
	({ kind: "checker", name, description: `checks ${name}`, specFile: `specs/${name}.ts`, messages: messages.map((text) => ({ text })) }) as unknown as SpecModel;
const tur = checker("tur", [" reports path is transitioning"]);
const alua = checker("alua");

/** A stand-in for emitTree: the runner files, the glue, one file per checker, a Makefile and man page listing the checkers. */
function emit(models: readonly SpecModel[]): Map<string, string> {
	const names = models.flatMap((m) => (m.kind === "checker" ? [m.name] : []));
	const out = new Map<string, string>([
		["libmpathutil/runner.c", "runner"],
		["libmpathutil/Makefile", "OBJS = runner.o"],
		["libmultipath/checkers/async_checker.c", "glue"],
		["libmultipath/checkers/sg_answer.c", "sg"],
		["libmultipath/checkers/Makefile", `LIBS = rdac; runners: ${names.join(" ")}`],
		["multipath/multipath.conf.5", `checkers: tur ${names.filter((n) => n !== "tur").join(" ")}`.trim()],
	]);
	for (const n of names) out.set(`libmultipath/checkers/${n}.c`, `${n} generated`);
	return out;
}
const base = new Map([
	["libmpathutil/Makefile", "OBJS ="],
	["libmultipath/checkers/Makefile", "LIBS = rdac"],
	["libmultipath/checkers/tur.c", "old tur"],
	["multipath/multipath.conf.5", "checkers: tur"],
]);

describe("planSeries", () => {
	const series = planSeries({ models: [runner, alua, tur], release, base, emit });

	it("runner first, then the checkers the tree has, then the new ones", () => {
		expect(series.map((c) => c.subject)).toEqual([
			"libmpathutil: add a generic framework for asynchronous checker threads",
			"libmultipath: checkers: run the tur checker on runners",
			"libmultipath: checkers: add the alua checker",
		]);
		expect(series.map((c) => c.specs)).toEqual([["specs/runner.ts"], ["specs/runner.ts", "specs/tur.ts"], ["specs/alua.ts"]]);
	});

	it("each file in the commit that owns it; shared files as the layout writes them for the checkers so far", () => {
		expect([...series[0].files.keys()]).toEqual(["libmpathutil/Makefile", "libmpathutil/runner.c"]);
		expect(Object.fromEntries(series[1].files)).toEqual({
			"libmultipath/checkers/Makefile": "LIBS = rdac; runners: tur",
			"libmultipath/checkers/async_checker.c": "glue",
			"libmultipath/checkers/sg_answer.c": "sg",
			"libmultipath/checkers/tur.c": "tur generated",
		});
		expect(Object.fromEntries(series[2].files)).toEqual({
			"libmultipath/checkers/Makefile": "LIBS = rdac; runners: tur alua",
			"libmultipath/checkers/alua.c": "alua generated",
			"multipath/multipath.conf.5": "checkers: tur alua",
		});
	});

	it("applied in order, the commits give the layout's whole output for the checkers in series order", () => {
		const state = new Map(base);
		for (const c of series) for (const [p, t] of c.files) state.set(p, t);
		for (const [p, t] of emit([runner, tur, alua])) expect(state.get(p), p).toBe(t);
	});

	it("a file the series would leave out is an error, not a silent drop", () => {
		const extra = (ms: readonly SpecModel[]) => new Map([...emit(ms), ["kpartx/other.c", "x"]]);
		expect(() => planSeries({ models: [runner, tur], release, base, emit: extra })).toThrow("the series leaves out files the tree layout writes: kpartx/other.c");
	});

	it("the messages: wrapped at 72, the Generated-by and Signed-off-by trailers last", () => {
		const msg = commitMessage(series[1], { generator: "mpcheckgen 0.1.0", signedOffBy: "A <a@example.org>" });
		expect(msg.startsWith("libmultipath: checkers: run the tur checker on runners\n\n")).toBe(true);
		expect(msg.endsWith("\n\nGenerated-by: mpcheckgen 0.1.0 from specs/runner.ts, specs/tur.ts\nSigned-off-by: A <a@example.org>\n")).toBe(true);
		for (const l of msg.split("\n")) expect(l.length, l).toBeLessThanOrEqual(72);
		expect(msg).toContain('"reports path is transitioning"');
	});

	it("wrap never breaks a word", () => {
		expect(wrap("aaa bbb ccc", 7)).toBe("aaa bbb\nccc");
		expect(wrap("a-very-long-word b", 5)).toBe("a-very-long-word\nb");
	});

	it("the cover letter: one line per patch; a changes section for v2 with the text, a placeholder without", () => {
		const v1 = coverLetter(series, [runner, alua, tur], release);
		expect(v1.subject).toBe("multipath-tools: checker threads on a generic runner framework (tur, alua)");
		expect(v1.blurb).toContain("\n01: libmpathutil: add a generic framework for asynchronous checker threads\n02: ");
		expect(v1.blurb).not.toContain("Changes");
		expect(coverLetter(series, [runner, alua, tur], release, { version: 2, text: "01/03: new\n" }).blurb).toMatch(/\nChanges v1 -> v2:\n\n01\/03: new$/);
		expect(coverLetter(series, [runner, alua, tur], release, { version: 4, text: undefined }).blurb).toMatch(/\nChanges v1 -> v4:\n\n\*\*\* CHANGES SINCE THE LAST VERSION HERE \*\*\*$/);
	});
});
