// Every broken spec in native-tests/fixtures/bad-specs is rejected with the
// located message its first line expects ("// expect: LINE:COL: message").
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSpec } from "../load.ts";
import { formatDiagnostic, SpecError } from "../model/diagnostics.ts";

const DIR = "native-tests/fixtures/bad-specs";
const fixtures = readdirSync(DIR)
	.filter((f) => f.endsWith(".ts"))
	.sort()
	.map((f) => {
		const first = readFileSync(join(DIR, f), "utf8").split("\n")[0];
		const m = /^\/\/ expect(-warning)?: (\d+):(\d+): (.*)$/.exec(first);
		if (!m) throw new Error(`${f}: the first line must be "// expect: LINE:COL: message" (or "// expect-warning: …")`);
		const severity = m[1] ? "warning" : "error";
		return { file: f, severity, expected: `${DIR}/${f}:${m[2]}:${m[3]}: ${severity}: ${m[4]}` };
	});
const errors = fixtures.filter((f) => f.severity === "error");
const warnings = fixtures.filter((f) => f.severity === "warning");

describe("bad specs are rejected with located messages", () => {
	it("the corpus covers the required kinds of mistakes", () => {
		expect(errors.length).toBeGreaterThanOrEqual(15);
		expect(warnings.map((w) => w.file).sort()).toEqual(
			["repeats-default.ts", "union-shadowed.ts", "unused-budget.ts", "unused-field.ts", "unused-message.ts"],
		);
	});
	it("the shared checker the bytes fixtures each break in one place loads without an error or a warning", async () => {
		const m = await loadSpec("native-tests/fixtures/shared/wwn-page.ts");
		expect(m.kind).toBe("checker");
		expect(m.kind === "checker" ? m.warnings.map(formatDiagnostic) : []).toEqual([]);
	});
	it.each(warnings)("$file: loads, with the warning", async ({ file, expected }) => {
		const m = await loadSpec(join(DIR, file));
		expect(m.kind).toBe("checker");
		const got = m.kind === "checker" ? m.warnings.map(formatDiagnostic) : [];
		expect(got).toEqual([expected]);
	});
	it.each(errors)("$file", async ({ file, expected }) => {
		let error: unknown;
		try {
			await loadSpec(join(DIR, file));
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(SpecError);
		const got = (error as SpecError).diagnostics.map(formatDiagnostic);
		expect(got.find((d) => d.startsWith(expected)) ?? got).toEqual(expect.stringContaining(expected));
	});
});

describe("the CLI on bad input", () => {
	const cli = (args: string[]) => spawnSync("node", ["bin/mpcheckgen.js", ...args], { encoding: "utf8" });
	it("a bad spec: exit 1, the located error, nothing written", () => {
		const out = mkdtempSync(join(tmpdir(), "mpcg-"));
		const r = cli(["generate", "--spec", `${DIR}/shadowed-rule.ts`, "--out", out]);
		expect(r.status).toBe(1);
		expect(r.stderr).toContain(`${DIR}/shadowed-rule.ts:16:5: error: rule 3 of state 'tur' can never match`);
		expect(r.stderr).toContain("nothing written");
		expect(readdirSync(out)).toEqual([]);
	});
	it("one bad spec among good ones: nothing written", () => {
		const out = mkdtempSync(join(tmpdir(), "mpcg-"));
		const r = cli(["generate", "--spec", "specs/tur.ts", `${DIR}/goto-cycle.ts`, "--out", out]);
		expect(r.status).toBe(1);
		expect(existsSync(join(out, "0.15"))).toBe(false);
	});
	it.each([
		[["generate", "--frobnicate"], "unknown option '--frobnicate'"],
		[["generate", "--spec", "specs/nosuch.ts"], "no such spec file: specs/nosuch.ts"],
		[["generate", "--target", "0.16"], "unknown target '0.16'"],
		[["generate", "--target", "0.14"], "target 0.14: mpcheckgen cannot emit C for this ABI yet"],
		[["validate"], "missing required argument 'file'"],
		[["frobnicate"], "unknown command 'frobnicate'"],
	])("usage error %j: exit 2", (args, message) => {
		const r = cli(args);
		expect(r.status).toBe(2);
		expect(r.stderr).toContain(message);
	});
	it("validate runs the TypeScript type check: a goto to an unknown state is a type error", () => {
		const r = cli(["validate", `${DIR}/goto-cycle.ts`, "specs/tur.ts"]);
		expect(r.status).toBe(1);
		expect(r.stderr).toContain("goto cycle without a retry budget");
	});
	it("validate accepts the embedded specs", () => {
		const r = cli(["validate", "specs/tur.ts", "specs/runner.ts"]);
		expect(r.stderr).toBe("");
		expect(r.status).toBe(0);
		expect(r.stdout).toContain("specs/tur.ts: ok (checker tur: 1 state, 10 rules, 1 messages)");
	});
	it("generate --check: 0 when up to date, 1 with the drifted file named", () => {
		const out = mkdtempSync(join(tmpdir(), "mpcg-"));
		expect(cli(["generate", "--out", out]).status).toBe(0);
		const ok = cli(["generate", "--out", out, "--check"]);
		expect(ok.status).toBe(0);
		expect(ok.stdout).toContain("are up to date");
		writeFileSync(join(out, "0.15/libmultipath/checkers/tur.c"), "// edited by hand\n");
		writeFileSync(join(out, "0.15/libmultipath/checkers/stale.c"), "// Code generated by mpcheckgen from specs/old.ts. DO NOT EDIT.\n");
		const drift = cli(["generate", "--out", out, "--check"]);
		expect(drift.status).toBe(1);
		expect(drift.stdout).toContain("would write 0.15/libmultipath/checkers/tur.c");
		expect(drift.stdout).toContain("would remove 0.15/libmultipath/checkers/stale.c");
		// a real run repairs both
		expect(cli(["generate", "--out", out]).status).toBe(0);
		expect(existsSync(join(out, "0.15/libmultipath/checkers/stale.c"))).toBe(false);
		expect(cli(["generate", "--out", out, "--check"]).status).toBe(0);
	});
	it("--help exits 0", () => {
		const r = cli(["generate", "--help"]);
		expect(r.status).toBe(0);
		expect(r.stdout).toContain("--target <abi>");
	});
});

describe("warnings are not raised on good specs", () => {
	it("the embedded specs have none (tur's 'any other ioctl error' is a guard, not a repeat of the default)", async () => {
		const { embeddedSpecs } = await import("../generate.ts");
		for (const f of embeddedSpecs()) {
			const m = await loadSpec(f);
			expect(m.kind === "checker" ? m.warnings.map(formatDiagnostic) : [], f).toEqual([]);
		}
	});
	it("did you mean: by case, then by a small edit distance, else nothing", async () => {
		const { didYouMean } = await import("../model/diagnostics.ts");
		expect(didYouMean("enotty", ["ENOTTY", "EIO"])).toBe(" (did you mean 'ENOTTY'?)");
		expect(didYouMean("readCapcity", ["tur", "readCapacity"])).toBe(" (did you mean 'readCapacity'?)");
		expect(didYouMean("transitioning", ["transitioning"])).toBe("");
		expect(didYouMean("frobnicate", ["tur", "readCapacity"])).toBe("");
	});
});
