// `mpcheckgen test`: the examples format (parsed, printed back, refused with
// a located message) and the command on the embedded TUR spec: examples
// that hold pass, one that does not fails with the case printed, in the
// interpreter and in each build's C; a checker whose C disagrees with its
// spec (a patched generated file) fails with a case that reproduces.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ExamplesError, formatAnswer, parseExamples } from "../examples.ts";
import { testSpecs } from "../test.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "mpcg-test-cmd-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, "bin/mpcheckgen.js"), ...args], { encoding: "utf8", cwd: ROOT });

describe("the examples format", () => {
	it("answers, outcomes, paths, comments", () => {
		const ex = parseExamples(
			"# a comment\nok -> PATH_UP UP\nsense UNIT_ATTENTION 29/00; errno EIO -> PATH_DOWN # trailing\npath p1\nstatus 0x18 host DID_NO_CONNECT -> PATH_DOWN DOWN\n",
			"ex.txt",
		);
		expect(ex.map((e) => [e.line, e.path, e.pathState, e.message])).toEqual([
			[2, "example-2", "PATH_UP", "UP"],
			[3, "example-3", "PATH_DOWN", undefined],
			[5, "p1", "PATH_DOWN", "DOWN"],
		]);
		expect(ex[0].answers).toEqual([{}]);
		expect(ex[1].answers[0]).toMatchObject({ status: 2, info: 1, sense: [0x70, 0, 6, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x29, 0, 0, 0, 0, 0] });
		expect(ex[1].answers[1]).toEqual({ errno: 5 });
		expect(ex[2].answers[0]).toEqual({ status: 0x18, hostStatus: 1, info: 1 });
	});
	it("an answer printed in the format parses back to itself", () => {
		const answers = [{}, { errno: 25 }, { status: 2, info: 1, sense: [0x72, 6, 0x29, 0], sbLenWr: 3 }, { status: 0, info: 0, sense: [0x70], data: [1, 2] }, { hostStatus: 7, info: 0 }, { resid: 4 }];
		for (const a of answers) {
			const line = `${formatAnswer(a)} -> PATH_UP`;
			const back = parseExamples(line, "x")[0].answers[0];
			expect({ ...back, info: back.info ?? 0 }, line).toEqual({ ...a, info: (a as { info?: number }).info ?? 0 });
		}
	});
	it.each([
		["ok PATH_UP", "ex.txt:1: expected 'ANSWERS -> PATH_STATE [MESSAGE]'"],
		["sense UNIT_ATENTION -> PATH_UP", "ex.txt:1: unknown sense key 'UNIT_ATENTION'"],
		["errno enotty -> PATH_UP", "(did you mean ENOTTY?)"],
		["frob 1 -> PATH_UP", "unknown answer field 'frob'"],
		["ok -> UP", "after '->' a path state"],
		["; ok -> PATH_UP", "an empty answer"],
	])("%j is refused", (line, message) => {
		expect(() => parseExamples(line, "ex.txt")).toThrow(ExamplesError);
		expect(() => parseExamples(line, "ex.txt")).toThrow(message);
	});
});

describe("mpcheckgen test", () => {
	it("examples that hold pass; one that does not exits 1 with the case, from the interpreter and each build's C", () => {
		const good = join(dir, "good.txt");
		writeFileSync(good, "ok -> PATH_UP UP\nerrno ENOTTY -> PATH_WILD UNSUPPORTED\npath p\nsense NOT_READY 04/0A -> PATH_PENDING transitioning\nok -> PATH_UP\n");
		const r = cli(["test", "specs/tur.ts", "--examples", good, "--random", "30"]);
		expect(r.stdout).toMatch(/^mpcheckgen test: \d+ checks, all as expected/m);
		expect(r.status).toBe(0);
		expect(r.stdout).toContain("specs/tur.ts: gcc ASan: 4 examples through the C, 4 as expected");
		expect(r.stdout).toMatch(/specs\/tur\.ts: clang: \d+ rule-derived cases: C and spec agree/);
		expect(r.stderr).toContain("mpcheckgen test: gcc: building");

		const bad = join(dir, "bad.txt");
		writeFileSync(bad, "ok -> PATH_UP UP\nerrno EIO -> PATH_UP UP\n");
		const f = cli(["test", "specs/tur.ts", "--examples", bad, "--random", "30"]);
		expect(f.status).toBe(1);
		expect(f.stdout).toContain(`FAIL ${bad}:2: errno EIO -> PATH_UP UP\n  the spec (interpreter) reaches PATH_DOWN DOWN`);
		for (const b of ["clang", "gcc", "gcc ASan"]) expect(f.stdout).toContain(`FAIL ${bad}:2, ${b} build: errno EIO -> PATH_UP UP\n  the C reaches PATH_DOWN DOWN`);
		expect(f.stdout).toMatch(/^mpcheckgen test: 4 failures in \d+ checks/m);
	});
	it("an example with answers the check does not use: exit 1 before anything is built", () => {
		const extra = join(dir, "extra.txt");
		writeFileSync(extra, "ok; ok -> PATH_UP UP\n");
		const r = cli(["test", "specs/tur.ts", "--examples", extra]);
		expect(r.status).toBe(1);
		expect(r.stderr).toContain(`${extra}:1: the check ends after 1 command; the example gives 2 answers`);
		expect(r.stderr).not.toContain("building");
	});
	it.each([
		[["test", "specs/runner.ts"], 1, "a runner spec; mpcheckgen test tests checker specs"],
		[["test", "specs/tur.ts", "--examples", "nosuch.txt"], 2, "no such examples file: nosuch.txt"],
		[["test", "specs/tur.ts", "--random", "0"], 2, "--random 0: a positive number of checks"],
	])("%j: exit %i", (args, status, message) => {
		const r = cli(args);
		expect(r.stderr).toContain(message);
		expect(r.status).toBe(status);
	});
	it("C that disagrees with its spec (RESERVATION CONFLICT tested as BUSY): failures, the case as an examples line, the command that reproduces it", async () => {
		const lines: string[] = [];
		const r = await testSpecs({
			specs: ["specs/tur.ts"],
			random: 200,
			seed: 7,
			rerun: "mpcheckgen test specs/tur.ts",
			progress: () => {},
			out: (l) => lines.push(l),
			patch: (d) => {
				const f = join(d, "libmultipath/checkers/tur.c");
				const c = readFileSync(f, "utf8");
				expect(c).toContain("(ans.status & 0x7e) == 0x18");
				writeFileSync(f, c.replace("(ans.status & 0x7e) == 0x18", "(ans.status & 0x7e) == 0x08"));
			},
		});
		expect(r.failures).toBeGreaterThan(0);
		const text = lines.join("\n");
		for (const b of ["clang", "gcc", "gcc ASan"]) expect(text).toMatch(new RegExp(`^FAIL specs/tur\\.ts, ${b} build: rule-derived cases: case `, "m"));
		expect(text).toMatch(/^ {2}answers: {2}.*status 0x18/m);
		expect(text).toMatch(/^ {2}the spec: PATH_UP UP, commands /m);
		expect(text).toMatch(/^ {2}as an example line: .*status 0x18.* -> PATH_UP UP$/m);
		expect(text).toMatch(/^ {2}reproduce: mpcheckgen test specs\/tur\.ts --seed 7$/m);
		// the printed examples line is one an examples file takes
		const example = /^ {2}as an example line: (.*)$/m.exec(text)![1];
		const back = parseExamples(example, "x")[0];
		expect(back.pathState).toBe("PATH_UP");
	});
});
