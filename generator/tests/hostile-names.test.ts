// Valid specs with names chosen to break C: keywords, macros of the C
// library, names equal to helpers and ABI entry points, a state named done,
// names that differ only in case, 15-character names, underscores meeting
// the generated prefixes. Each either generates C that compiles with
// -Werror under clang and gcc, or is rejected with the located error its
// first line states ("// expect: compiles" or "// expect: LINE:COL: message").
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { COMPILERS, UPSTREAM_CFLAGS } from "../../native-tests/support/cc.ts";
import { emit } from "../emit/index.ts";
import { initFormatter } from "../emit/format.ts";
import { loadSpec } from "../load.ts";
import { formatDiagnostic, SpecError } from "../model/diagnostics.ts";

const DIR = "native-tests/fixtures/hostile-specs";
const fixtures = readdirSync(DIR)
	.filter((f) => f.endsWith(".ts"))
	.sort()
	.map((f) => {
		const m = /^\/\/ expect: (.*)$/.exec(readFileSync(join(DIR, f), "utf8").split("\n")[0]);
		if (!m) throw new Error(`${f}: the first line must be "// expect: compiles" or "// expect: LINE:COL: message"`);
		return { file: f, expect: m[1] };
	});
const compiles = fixtures.filter((f) => f.expect === "compiles");
const rejected = fixtures.filter((f) => f.expect !== "compiles");

beforeAll(() => initFormatter());

describe("hostile names", () => {
	it("the corpus has both kinds", () => {
		expect(compiles.length).toBeGreaterThanOrEqual(4);
		expect(rejected.length).toBeGreaterThanOrEqual(5);
	});

	it.each(compiles)("$file: the C compiles with -Werror under clang and gcc", async ({ file }) => {
		const model = await loadSpec(join(DIR, file));
		const files = emit([model], "0.15");
		const out = join("build", "hostile", file.replace(/\.ts$/, ""));
		mkdirSync(out, { recursive: true });
		const c = [...files.keys()].find((p) => p.endsWith(`checkers/${model.kind === "checker" ? model.name : ""}.c`))!;
		writeFileSync(join(out, "checker.c"), files.get(c)!);
		writeFileSync(join(out, "sg_answer.h"), files.get("0.15/libmultipath/checkers/sg_answer.h")!);
		const g = "generated/0.15";
		for (const cc of Object.values(COMPILERS)) {
			const r = spawnSync(
				cc,
				[...UPSTREAM_CFLAGS, `-I${g}/target-abi`, `-I${g}/libmpathutil`, `-I${g}/libmultipath`, "-fsyntax-only", join(out, "checker.c")],
				{ encoding: "utf8" },
			);
			expect(r.stderr, `${cc} ${file}`).toBe("");
			expect(r.status, `${cc} ${file}`).toBe(0);
		}
	});

	it.each(rejected)("$file: rejected with a located error", async ({ file, expect: message }) => {
		let error: unknown;
		try {
			await loadSpec(join(DIR, file));
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(SpecError);
		const got = (error as SpecError).diagnostics.map(formatDiagnostic);
		const [pos, ...rest] = message.split(": ");
		expect(got).toContain(`${DIR}/${file}:${pos}: error: ${rest.join(": ")}`);
	});
});
