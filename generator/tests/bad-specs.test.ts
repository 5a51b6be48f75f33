// Every broken spec in native-tests/fixtures/bad-specs is rejected with the
// located message its first line expects ("// expect: LINE:COL: message").
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
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
		const m = /^\/\/ expect: (\d+):(\d+): (.*)$/.exec(first);
		if (!m) throw new Error(`${f}: the first line must be "// expect: LINE:COL: message"`);
		return { file: f, expected: `${DIR}/${f}:${m[1]}:${m[2]}: error: ${m[3]}` };
	});

describe("bad specs are rejected with located messages", () => {
	it("the corpus covers the required kinds of mistakes", () => {
		expect(fixtures.length).toBeGreaterThanOrEqual(15);
	});
	it.each(fixtures)("$file", async ({ file, expected }) => {
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
	it("--help exits 0", () => {
		const r = cli(["generate", "--help"]);
		expect(r.status).toBe(0);
		expect(r.stdout).toContain("--target <abi>");
	});
});
