// dlcheck itself: upstream style (clang-format-19 clean under the project's
// .clang-format, warning-free with clang and gcc), and it reports what small
// synthetic plugins really define, foreign symbols, msgtables and RTLD_NOW
// failures. Needs no Debian download.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUILD_DIR, compile, COMPILERS, UPSTREAM_CFLAGS } from "../support/cc.ts";
import { ABI_SYMBOLS, buildDlcheck, dlcheck } from "./index.ts";
import { DLCHECK_SOURCE } from "./dlcheck.ts";

const FIX = join(BUILD_DIR, "tree", "dlcheck-fixtures");

function fixture(name: string, src: string, ldflags: string[] = []): string {
	mkdirSync(FIX, { recursive: true });
	const file = join(FIX, `${name}.c`);
	writeFileSync(file, src);
	return compile({ compiler: "gcc", kind: "shared", name, sources: [file], ldflags }).output;
}

describe("dlcheck.c", () => {
	it("is clang-format-19 clean", () => {
		const r = spawnSync("clang-format-19", ["--dry-run", "--Werror", DLCHECK_SOURCE], { encoding: "utf8" });
		expect(r.stderr).toBe("");
		expect(r.status).toBe(0);
	});

	it.each(["clang", "gcc"] as const)("builds with %s under upstream's flags, -Werror, gnu99 and gnu11", (compiler) => {
		for (const std of ["-std=gnu99", "-std=gnu11"]) {
			const r = spawnSync(COMPILERS[compiler], [...UPSTREAM_CFLAGS, std, "-c", DLCHECK_SOURCE, "-o", "/dev/null"], { encoding: "utf8" });
			expect(r.stderr).toBe("");
			expect(r.status).toBe(0);
		}
		expect(buildDlcheck(compiler)).toMatch(/dlcheck$/);
	});

	it("prints usage and exits 2 without a plugin", () => {
		const r = spawnSync(buildDlcheck(), [], { encoding: "utf8" });
		expect(r.status).toBe(2);
		expect(r.stderr).toMatch(/usage: .*dlcheck \[-p LIBRARY\]\.\.\. PLUGIN/);
		expect(r.stdout).toBe("");
	});
});

describe("dlcheck on synthetic plugins", () => {
	it("reports an async-ABI plugin's symbols, its msgtable (escaped, up to the NULL) and its context size", () => {
		const so = fixture(
			"async-plugin",
			[
				"#include <stddef.h>",
				"struct runner_data;",
				"int libcheck_async_func(struct runner_data *rd);",
				'const char *libcheck_msgtable[] = { " first", ": \\"quoted\\"\\tand \\\\", NULL, " after" };',
				"int libcheck_async_context_size = 24;",
				"int libcheck_async_func(struct runner_data *rd)",
				"{",
				"\t(void)rd;",
				"\treturn 3;",
				"}",
				"",
			].join("\n"),
		);
		const r = dlcheck(so, { libDirs: [], preload: [] });
		expect(r.loaded).toBe(true);
		expect(r.exitStatus).toBe(0);
		expect(r.defined).toEqual(["libcheck_msgtable", "libcheck_async_func", "libcheck_async_context_size"]);
		expect(Object.keys(r.symbols ?? {})).toEqual([...ABI_SYMBOLS]);
		expect(r.msgtable).toEqual([" first", ': "quoted"\tand \\']);
		expect(r.async_context_size).toBe(24);
		expect(r.foreign).toEqual([]);
	});

	it("tells a symbol the plugin defines from one that resolves into a library it links", () => {
		const dep = fixture("libdepreset", "void libcheck_reset(void);\nvoid libcheck_reset(void)\n{\n}\n", ["-Wl,-soname,libdepreset.so"]);
		const so = fixture(
			"legacy-plugin",
			"struct checker;\nint libcheck_check(struct checker *c);\nint libcheck_check(struct checker *c)\n{\n\t(void)c;\n\treturn 3;\n}\n",
			["-Wl,--no-as-needed", `-L${join(dep, "..")}`, "-ldepreset"],
		);
		const r = dlcheck(so, { libDirs: [join(dep, "..")], preload: [] });
		expect(r.loaded).toBe(true);
		expect(r.defined).toEqual(["libcheck_check"]);
		expect(r.symbols?.libcheck_reset).toBe(false);
		expect(r.foreign).toEqual(["libcheck_reset"]);
	});

	it("fails with dlerror's text and exit 1 when RTLD_NOW cannot bind an undefined function", () => {
		const so = fixture(
			"unbound-plugin",
			"int no_such_function(void);\nint libcheck_init(void *c);\nint libcheck_init(void *c)\n{\n\t(void)c;\n\treturn no_such_function();\n}\n",
		);
		const r = dlcheck(so, { libDirs: [], preload: [] });
		expect(r.loaded).toBe(false);
		expect(r.exitStatus).toBe(1);
		expect(r.failed).toBe(so);
		expect(r.error).toMatch(/undefined symbol: no_such_function/);
		expect(r.symbols).toBeUndefined();
	});
});
