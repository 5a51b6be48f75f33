// The mutation catalogue of `npm run mutate` against the current sources: the
// slow run is not part of npm test, so this is where a catalogue entry that
// no longer applies (its search text edited away, or now ambiguous) fails
// cheaply. Also the catalogue's shape: what issue 15 asks of it.
//
// Run: npx vitest run native-tests/mutate/catalogue.test.ts
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/cc.ts";
import { applyEdit, MUTABLE_DIRS, MUTANTS, mutatedFiles, TESTS } from "./catalogue.ts";

describe("the mutation catalogue", () => {
	it.each(MUTANTS.map((m) => [m.name, m] as const))("%s applies exactly once to the current sources", (_n, m) => {
		const files = mutatedFiles(m, ROOT);
		for (const [f, text] of files) expect(text, f).not.toBe(readFileSync(join(ROOT, f), "utf8"));
		for (const e of m.edits) {
			expect(MUTABLE_DIRS.some((d) => e.file.startsWith(d)), e.file).toBe(true);
			expect(e.replace).not.toBe(e.search);
		}
		expect(m.tests.length).toBeGreaterThan(0);
		expect(m.what.trim()).not.toBe("");
	});

	it("an edit whose search text is missing or ambiguous is refused", () => {
		const edit = { file: "x.c", search: "a;", replace: "b;" };
		expect(applyEdit("x a; y", edit, "m")).toBe("x b; y");
		expect(() => applyEdit("x y", edit, "m")).toThrow(/occurs 0 times in x.c/);
		expect(() => applyEdit("a; a;", edit, "m")).toThrow(/occurs 2 times in x.c/);
	});

	it("has at least 30 mutants with unique names, covering the areas issue 15 names", () => {
		expect(MUTANTS.length).toBeGreaterThanOrEqual(30);
		const names = MUTANTS.map((m) => m.name);
		expect(new Set(names).size).toBe(names.length);
		const areas = new Set(MUTANTS.map((m) => m.area));
		for (const a of ["runner", "async checker", "sense decoding", "decoders", "rule emission", "retries", "interpreter"] as const) {
			expect(areas, a).toContain(a);
		}
		// the mutants issue 15 describes
		for (const n of [
			"runner-cas-returns",
			"runner-mark-before-cancel",
			"runner-refcount-1",
			"async-pending-after-stall",
			"sense-fixed-14-both",
			"rtpg-descriptor-bound-c",
		]) {
			expect(names).toContain(n);
		}
		// a mutant made the same way in the C and in the interpreter exists for sense (both edited) and
		// decoders (their declaration, both back ends are generated from)
		const both = MUTANTS.filter((m) => m.edits.some((e) => e.file.startsWith("templates/")) && m.edits.some((e) => e.file.startsWith("generator/interp/")));
		expect(new Set(both.map((m) => m.area))).toEqual(new Set(["sense decoding"]));
		const declared = MUTANTS.filter((m) => m.edits.every((e) => e.file === "generator/spec/decoders.ts"));
		expect(new Set(declared.map((m) => m.area))).toEqual(new Set(["decoders"]));
	});

	it("the tests named exist, and the golden test is not among them", () => {
		for (const t of Object.values(TESTS)) {
			expect(existsSync(join(ROOT, t.file)), t.file).toBe(true);
			expect(t.file).not.toMatch(/golden/);
		}
		for (const m of MUTANTS) for (const t of m.tests) expect(Object.values(TESTS)).toContain(t);
	});
});
