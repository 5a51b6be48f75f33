// The CLI as a checker author uses it, outside this repository: `new` lays
// out a project in a temporary directory, its spec (importing
// "mpcheckgen/spec") validates and generates, and the generated C builds
// with cc -Werror and links with -z defs as README says. Also: what `new`
// refuses, the diagnostics of type errors next to the model's, and the
// bad-spec corpus through both `validate` and `generate`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { embeddedSpecs } from "../generate.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/mpcheckgen.js");
const BAD = join(ROOT, "native-tests/fixtures/bad-specs");
const temps: string[] = [];
afterAll(() => {
	for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function tempDir(): string {
	const d = mkdtempSync(join(tmpdir(), "mpcg-cli-"));
	temps.push(d);
	return d;
}

function cli(args: string[], cwd: string) {
	return spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd });
}

function filesUnder(dir: string): string[] {
	if (!existsSync(dir)) return [];
	return readdirSync(dir)
		.flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)).map((g) => `${f}/${g}`) : [f]))
		.sort();
}

/** The flags README gives for building by hand (upstream's, style.md §1). */
const CFLAGS = [
	"-std=gnu99",
	"-O2",
	"-Wall",
	"-Wextra",
	"-Wformat=2",
	"-Werror",
	"-Werror=implicit-function-declaration",
	"-Werror=format-security",
	"-Werror=cast-qual",
	"-fexceptions",
	"-D_FILE_OFFSET_BITS=64",
	"-D_GNU_SOURCE",
	"-fPIC",
	"-pthread",
];

function cc(args: string[], cwd: string): void {
	const r = spawnSync("cc", [...CFLAGS, ...args], { encoding: "utf8", cwd });
	expect(r.error).toBeUndefined();
	expect(`cc ${args.join(" ")}\n${r.stderr}`).toBe(`cc ${args.join(" ")}\n`);
	expect(r.status).toBe(0);
}

describe("mpcheckgen new → validate → generate → cc, outside the repository", () => {
	const dir = tempDir();
	const proj = join(dir, "proj");
	const TEMPLATES = ["blank", "tur", "alua"] as const;
	const names = TEMPLATES.map((t) => `my${t}`);
	it("new --dir lays out a project whose spec imports mpcheckgen/spec; new inside it adds specs from each template", () => {
		const r = cli(["new", "myblank", "--dir", "proj"], dir);
		expect(r.stderr).toBe("");
		expect(r.status).toBe(0);
		expect(r.stdout).toContain("wrote proj/specs/myblank.ts");
		for (const t of ["tur", "alua"]) {
			const more = cli(["new", `my${t}`, "--from", t], proj);
			expect(more.stderr).toBe("");
			expect(more.status).toBe(0);
			expect(more.stdout).toContain(`wrote specs/my${t}.ts`);
		}
		expect(filesUnder(proj)).toEqual(["package.json", ...names.map((n) => `specs/${n}.ts`).sort(), "tsconfig.json"]);
		for (const n of names) {
			const spec = readFileSync(join(proj, "specs", `${n}.ts`), "utf8");
			expect(spec).toContain(`from "mpcheckgen/spec"`);
			expect(spec).toContain(`name: "${n}",`);
		}
		const pkg = JSON.parse(readFileSync(join(proj, "package.json"), "utf8"));
		expect(pkg.devDependencies.mpcheckgen).toBe(`file:${ROOT}`);
	});
	it("the specs validate (type check and model rules)", () => {
		const r = cli(["validate", ...names.map((n) => `specs/${n}.ts`)], proj);
		expect(r.stderr).toBe("");
		expect(r.status).toBe(0);
		for (const n of names) expect(r.stdout).toContain(`specs/${n}.ts: ok (checker ${n}:`);
	});
	it("generate writes everything their C needs, the runner framework included", () => {
		const r = cli(["generate", "--spec", ...names.map((n) => `specs/${n}.ts`), "--out", "generated"], proj);
		expect(r.stderr).toBe("");
		expect(r.status).toBe(0);
		expect(filesUnder(join(proj, "generated/0.15"))).toEqual(
			[
				"libmpathutil/libmpathutil.version",
				"libmpathutil/runner.c",
				"libmpathutil/runner.h",
				"libmultipath/async_checker.c",
				"libmultipath/async_checker.h",
				...names.map((n) => `libmultipath/checkers/${n}.c`),
				"libmultipath/checkers/sg_answer.c",
				"libmultipath/checkers/sg_answer.h",
				"target-abi/checkers.h",
				"target-abi/debug.h",
				"target-abi/sg_include.h",
				// the runner framework comes with its race test
				"tests/runner-test.sh",
				"tests/runner.c",
			].sort(),
		);
		expect(r.stdout).toContain("embedded; the checkers' C needs the runner framework");
	});
	it("the C builds with cc -Werror; each plugin links with -z defs against a libmpathutil", () => {
		const g = join(proj, "generated/0.15");
		const inc = ["-I", join(g, "target-abi"), "-I", join(g, "libmpathutil"), "-I", join(g, "libmultipath"), "-I", join(g, "libmultipath/checkers")];
		// what multipath-tools' libmpathutil gives condlog(): dlog and libmp_verbosity
		writeFileSync(
			join(dir, "dlog.c"),
			'#include <stdarg.h>\n#include <stdio.h>\n#include "debug.h"\nint libmp_verbosity = 2;\n' +
				"void dlog(int prio, const char *fmt, ...)\n{\n\tva_list ap;\n\n\t(void)prio;\n" +
				"\tva_start(ap, fmt);\n\tvfprintf(stderr, fmt, ap);\n\tva_end(ap);\n}\n",
		);
		cc([...inc, "-shared", "-Wl,-z,defs", "-o", "libmpathutil.so", join(g, "libmpathutil/runner.c"), "dlog.c"], dir);
		cc([...inc, "-c", "-o", "async_checker.o", join(g, "libmultipath/async_checker.c")], dir);
		for (const n of names) {
			const sources = [join(g, `libmultipath/checkers/${n}.c`), join(g, "libmultipath/checkers/sg_answer.c")];
			cc([...inc, "-shared", "-Wl,-z,defs", "-o", `libcheck${n}.so`, ...sources, "-L.", "-lmpathutil"], dir);
			const nm = spawnSync("nm", ["-D", "--defined-only", join(dir, `libcheck${n}.so`)], { encoding: "utf8" });
			expect(nm.stdout).toMatch(/ T libcheck_async_func$/m);
			expect(nm.stdout).toMatch(/ D libcheck_msgtable$/m);
		}
	});
});

describe("mpcheckgen/spec for tsc and editors, as `npm install` of the file: dependency links it", () => {
	it("types a spec with the package's declarations, even under a tsconfig without allowImportingTsExtensions", () => {
		const dir = tempDir();
		expect(cli(["new", "typed", "--dir", "p"], dir).status).toBe(0);
		const p = join(dir, "p");
		mkdirSync(join(p, "node_modules"));
		symlinkSync(ROOT, join(p, "node_modules/mpcheckgen"));
		writeFileSync(
			join(p, "tsconfig.min.json"),
			JSON.stringify({
				compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, types: [], lib: ["ES2022"] },
				include: ["specs"],
			}),
		);
		const tsc = (config: string) =>
			spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", config], { encoding: "utf8", cwd: p });
		// (the project's own tsconfig.json is what `validate` above uses)
		const ok = tsc("tsconfig.min.json");
		expect(`${ok.stdout}${ok.stderr}`).toBe("");
		expect(ok.status).toBe(0);
		const spec = join(p, "specs/typed.ts");
		writeFileSync(spec, readFileSync(spec, "utf8").replace('report: "PATH_UP"', 'report: "PATH_UPP"'));
		const bad = tsc("tsconfig.min.json");
		expect(bad.status).not.toBe(0);
		expect(bad.stdout).toMatch(/^specs\/typed\.ts\(\d+,\d+\): error TS2820: Type '"PATH_UPP"' is not assignable/);
		expect(bad.stdout).toContain("Did you mean '\"PATH_UP\"'?");
	});
});

describe("a spec alone in a directory (no package.json, no node_modules)", () => {
	it("validates and generates: no CommonJS/ESM require cycle", () => {
		const dir = tempDir();
		expect(cli(["new", "lone"], dir).status).toBe(0);
		const v = cli(["validate", "lone.ts"], join(dir, "specs"));
		expect(v.stderr).toBe("");
		expect(v.status).toBe(0);
		const g = cli(["generate", "--spec", "lone.ts", "--out", "out"], join(dir, "specs"));
		expect(g.stderr).toBe("");
		expect(g.status).toBe(0);
		expect(existsSync(join(dir, "specs/out/0.15/libmultipath/checkers/lone.c"))).toBe(true);
	});
});

describe("the caches only make runs faster", () => {
	it("generate with cold and with warm caches writes the same files", () => {
		const cache = tempDir();
		const env = { ...process.env, MPCHECKGEN_CACHE: cache };
		const run = (out: string) => spawnSync(process.execPath, [BIN, "generate", "--out", out], { encoding: "utf8", cwd: ROOT, env });
		const [cold, warm] = [tempDir(), tempDir()];
		expect(run(cold).status).toBe(0);
		// one source index per embedded spec, kept by the hash of its text
		const specs = embeddedSpecs().length;
		expect(specs).toBeGreaterThanOrEqual(8);
		expect(readdirSync(join(cache, "generator/index")).filter((f) => f.endsWith(".json"))).toHaveLength(specs);
		// and one bundle per spec, kept with the hashes of the files it was made of
		expect(readdirSync(join(cache, "generator/bundle")).filter((f) => f.endsWith(".json"))).toHaveLength(specs);
		expect(run(warm).status).toBe(0);
		const files = filesUnder(cold);
		expect(files.length).toBeGreaterThan(0);
		expect(filesUnder(warm)).toEqual(files);
		for (const f of files) expect(readFileSync(join(warm, f), "utf8")).toBe(readFileSync(join(cold, f), "utf8"));
		// and the same as the committed output
		for (const f of files) expect(readFileSync(join(warm, f), "utf8")).toBe(readFileSync(join(ROOT, "generated", f), "utf8"));
		// the formatted C is kept by content: a warm run formats nothing anew
		const formatted = filesUnder(join(cache, "generator/format"));
		expect(formatted.length).toBeGreaterThan(0);
		expect(run(tempDir()).status).toBe(0);
		expect(filesUnder(join(cache, "generator/format"))).toEqual(formatted);
	});
	it("a cached type check and bundle hold only while the spec and what it imports are unchanged", () => {
		const cache = tempDir();
		const dir = tempDir();
		const env = { ...process.env, MPCHECKGEN_CACHE: cache };
		const validate = () => spawnSync(process.execPath, [BIN, "validate", "specs/mine.ts"], { encoding: "utf8", cwd: dir, env });
		expect(cli(["new", "mine"], dir).status).toBe(0);
		const spec = join(dir, "specs/mine.ts");
		// the spec takes its description from a module of its own
		writeFileSync(join(dir, "specs/text.ts"), 'export const DESCRIPTION: string = "checks a path";\n');
		writeFileSync(spec, `import { DESCRIPTION } from "./text.ts";\n${readFileSync(spec, "utf8").replace(/description: "[^"]*"/, "description: DESCRIPTION")}`);
		expect(validate().stderr).toBe("");
		expect(readdirSync(join(cache, "generator/typecheck"))).toHaveLength(1);
		expect(validate().status).toBe(0);
		// the imported module changes: the spec's type error is found, not the cached "ok"
		writeFileSync(join(dir, "specs/text.ts"), "export const DESCRIPTION = 42;\n");
		const r = validate();
		expect(r.status).toBe(1);
		expect(r.stderr).toContain("TS2322: Type 'number' is not assignable to type 'string'");
		// and the model sees the new value: the cached bundle of the spec is not used either
		expect(r.stderr).toContain("description must be one non-empty line");
		writeFileSync(join(dir, "specs/text.ts"), 'export const DESCRIPTION: string = "checks a path";\n');
		expect(validate().status).toBe(0);
		// the spec itself changes
		writeFileSync(spec, readFileSync(spec, "utf8").replace('report: "PATH_UP"', 'report: "PATH_UPP"'));
		expect(validate().stderr).toContain("TS2820");
	});
});

describe("mpcheckgen new refuses", () => {
	it("existing files: exit 1, nothing written", () => {
		const dir = tempDir();
		expect(cli(["new", "mine", "--dir", "p"], dir).status).toBe(0);
		writeFileSync(join(dir, "p/specs/mine.ts"), "// mine\n");
		const again = cli(["new", "mine", "--dir", "p"], dir);
		expect(again.status).toBe(1);
		expect(again.stderr).toContain("already exist");
		expect(again.stderr).toContain("nothing written");
		expect(readFileSync(join(dir, "p/specs/mine.ts"), "utf8")).toBe("// mine\n");
		// a second spec in the project's directory, without --dir
		const other = cli(["new", "other"], join(dir, "p"));
		expect(other.status).toBe(0);
		expect(filesUnder(join(dir, "p"))).toEqual(["package.json", "specs/mine.ts", "specs/other.ts", "tsconfig.json"]);
		expect(cli(["new", "other", "--dir", "q"], dir).status).toBe(0);
		const partly = cli(["new", "third", "--dir", "q"], dir);
		expect(partly.status).toBe(1);
		expect(partly.stderr).toContain("q/package.json, q/tsconfig.json already exist (to add a spec to an existing project, run mpcheckgen new third inside q)");
		expect(existsSync(join(dir, "q/specs/third.ts"))).toBe(false);
	});
	it.each([
		["Mine", "is not a checker name"],
		["sixteen_chars_xx", "longer than 15 characters"],
		["9lives", "is not a checker name"],
		["my-checker", "is not a checker name"],
		["int", "C keyword"],
	])("the name %j: exit 2, nothing written", (name, message) => {
		const dir = tempDir();
		const r = cli(["new", name, "--dir", "p"], dir);
		expect(r.status).toBe(2);
		expect(r.stderr).toContain(message);
		expect(readdirSync(dir)).toEqual([]);
	});
	it("an unknown template: exit 2", () => {
		const dir = tempDir();
		const r = cli(["new", "mine", "--from", "rdac"], dir);
		expect(r.status).toBe(2);
		expect(r.stderr).toContain("Allowed choices are blank, tur, alua");
		expect(readdirSync(dir)).toEqual([]);
	});
});

describe("diagnostics", () => {
	const spec = join(BAD, "missing-when-exhausted.ts");
	it("a type error keeps the compiler's nested message, and the model's message comes with it", () => {
		const r = cli(["validate", spec], ROOT);
		expect(r.status).toBe(1);
		const lines = r.stderr.trim().split("\n");
		expect(lines).toHaveLength(3);
		expect(lines[0]).toMatch(/^native-tests\/fixtures\/bad-specs\/missing-when-exhausted\.ts:19:6: error: TS2322: Type '\{ retry: "transient"; \}' is not assignable/);
		expect(lines[0]).toContain("Property 'whenExhausted' is missing in type '{ retry: \"transient\"; }'");
		expect(lines[0]).not.toContain("undefined");
		expect(lines[1]).toBe(
			'native-tests/fixtures/bad-specs/missing-when-exhausted.ts:19:6: error: a retry needs whenExhausted: "fallthrough" or the outcome once the budget is spent',
		);
		expect(lines[2]).toBe("mpcheckgen: 2 errors; nothing written");
	});
	it("a spec too broken to evaluate: its type errors, no crash; without the type check, why it cannot be evaluated", () => {
		const dir = tempDir();
		writeFileSync(
			join(dir, "broken.ts"),
			'import { defineChecker } from "mpcheckgen/spec";\nconst x: number = undefinedThing;\nexport default defineChecker(x);\n',
		);
		const r = cli(["validate", "broken.ts"], dir);
		expect(r.status).toBe(1);
		expect(r.stderr.trim().split("\n")).toEqual([
			"broken.ts:2:19: error: TS2304: Cannot find name 'undefinedThing'.",
			expect.stringMatching(/^broken\.ts:3:30: error: TS2345: Argument of type 'number' is not assignable to parameter of type 'CheckerSpecInput</),
			"mpcheckgen: 2 errors; nothing written",
		]);
		const untyped = cli(["validate", "--no-typecheck", "broken.ts"], dir);
		expect(untyped.status).toBe(1);
		expect(untyped.stderr).toContain("broken.ts:1:1: error: cannot evaluate the spec: undefinedThing is not defined");
	});
	it("a syntax error is reported once, and diagnostics of several files (errors and warnings) come sorted by file and position", () => {
		const files = ["unused-field.ts", "syntax-error.ts", "no-exit.ts"].map((f) => join(BAD, f));
		const r = cli(["validate", ...files], ROOT);
		expect(r.status).toBe(1);
		const located = r.stderr
			.trim()
			.split("\n")
			.slice(0, -1)
			.map((l) => /bad-specs\/([^:]+):(\d+):(\d+): (error|warning): (.*)$/.exec(l)?.slice(1, 5).join(":"));
		expect(located).toEqual(["no-exit.ts:12:3:error", "no-exit.ts:16:3:error", "no-exit.ts:16:3:error", "syntax-error.ts:9:2:error", "unused-field.ts:10:3:warning"]);
		expect(r.stderr.trim().split("\n").at(-1)).toBe("mpcheckgen: 4 errors, 1 warning; nothing written");
	});
});

describe("the bad-spec corpus through the CLI", () => {
	const fixtures = readdirSync(BAD)
		.filter((f) => f.endsWith(".ts"))
		.sort()
		.map((f) => {
			const m = /^\/\/ expect(-warning)?: (\d+):(\d+): (.*)$/.exec(readFileSync(join(BAD, f), "utf8").split("\n")[0]);
			if (!m) throw new Error(`${f}: no expect line`);
			return `native-tests/fixtures/bad-specs/${f}:${m[2]}:${m[3]}: ${m[1] ? "warning" : "error"}: ${m[4]}`;
		});
	const files = fixtures.map((f) => f.split(":")[0]);
	const warned = fixtures.filter((f) => f.includes(": warning: "));
	const warnedFiles = warned.map((f) => f.split(":")[0]);
	// one process for all of them: the CLI reports every spec's errors
	it.each(["validate", "generate"])("%s: every expected located message, exit 1, nothing written", (command) => {
		const out = tempDir();
		const r = cli(command === "validate" ? ["validate", ...files] : ["generate", "--out", out, "--spec", ...files], ROOT);
		expect(r.status).toBe(1);
		// a message the type check reports too carries its TSnnnn code
		const lines = r.stderr.split("\n").map((l) => l.replace(/: error: TS\d+: /, ": error: "));
		for (const expected of fixtures) expect(lines.find((l) => l.startsWith(expected)) ?? lines).toEqual(expect.stringContaining(expected));
		expect(r.stderr).toContain("nothing written");
		expect(readdirSync(out)).toEqual([]);
	});
	it.each(["validate", "generate"])("%s of the specs with warnings only: the warnings, exit 0; --strict: errors, exit 1, nothing written", (command) => {
		const out = tempDir();
		// one spec at a time: the fixtures share the checker name 'bad'
		for (const [i, f] of warnedFiles.entries()) {
			const args = command === "validate" ? ["validate", f] : ["generate", "--target", "0.15", "--out", out, "--spec", f];
			const r = cli(args, ROOT);
			expect(r.stderr).toContain(`${warned[i]}\n`);
			expect(r.stderr).toContain("mpcheckgen: 1 warning (--strict makes them errors)");
			expect(r.status).toBe(0);
			if (command === "generate") {
				// what a spec with warnings generates builds warning-free (an unused budget leaves no unused counter)
				const g = join(out, "0.15");
				const inc = ["-I", join(g, "target-abi"), "-I", join(g, "libmpathutil"), "-I", join(g, "libmultipath"), "-I", join(g, "libmultipath/checkers")];
				const sources = [join(g, "libmultipath/checkers/bad.c"), join(g, "libmultipath/checkers/sg_answer.c")];
				cc([...inc, "-shared", "-Wl,-z,defs", "-o", join(out, "libcheckbad.so"), ...sources], out);
			}
			const strict = cli([...args, "--strict", ...(command === "generate" ? ["--out", join(out, "strict")] : [])], ROOT);
			expect(strict.stderr).toContain(`${warned[i].replace(": warning: ", ": error: ")}\n`);
			expect(strict.stderr).toContain("mpcheckgen: 1 error; nothing written");
			expect(strict.status).toBe(1);
		}
		if (command === "generate") {
			expect(existsSync(join(out, "0.15/libmultipath/checkers/bad.c"))).toBe(true);
			expect(existsSync(join(out, "strict"))).toBe(false);
		}
	});
	it("generate: each bad spec alone is rejected too (with a good one: nothing written)", () => {
		const out = tempDir();
		for (const f of files.filter((f) => !warnedFiles.includes(f)).slice(0, 3)) {
			const r = cli(["generate", "--out", out, "--spec", "specs/tur.ts", f], ROOT);
			expect(r.status).toBe(1);
			expect(readdirSync(out)).toEqual([]);
		}
	});
});
