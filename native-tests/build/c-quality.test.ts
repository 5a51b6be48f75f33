// The generated C as upstream would receive it: clang-format clean under the
// project's .clang-format (upstream's settings) with Debian's clang-format-19,
// warning-free with clang and gcc under upstream's flags, the stand-in ABI
// headers laid out as the 0.15 ABI says, and a version script that names
// only defined symbols (checked by lld, which refuses undefined ones).
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ABI_015_DETAILS, ABI_094_DETAILS } from "../../generator/abi/profiles.ts";
import { RUNNER_SYMBOLS } from "../../generator/emit/index.ts";
import { buildNativeSet, combinedVersionScript, GEN } from "../support/build.ts";
import { BUILD_DIR, COMPILERS, UPSTREAM_CFLAGS } from "../support/cc.ts";

function filesUnder(dir: string): string[] {
	return readdirSync(dir).flatMap((f) => {
		const p = join(dir, f);
		return statSync(p).isDirectory() ? filesUnder(p) : [p];
	});
}

/** The generated trees of every target, and the include path each compiles with. */
const TARGETS = ["0.15", "0.9"].map((t) => {
	const dir = join(GEN.dir, "..", t);
	return { target: t, dir, includes: ["target-abi", "libmpathutil", "libmultipath", "libmultipath/checkers"].map((d) => `-I${join(dir, d)}`) };
});
const ALL = TARGETS.flatMap((t) => filesUnder(t.dir).filter((f) => /\.[ch]$/.test(f)).map((file) => ({ ...t, file, name: `${t.target}/${file.slice(t.dir.length + 1)}` })));
const C_FILES = ALL.map((f) => f.file);
const SOURCES = ALL.filter((f) => f.file.endsWith(".c"));

function run(cmd: string, args: string[]) {
	return spawnSync(cmd, args, { encoding: "utf8" });
}

describe("style", () => {
	it.each(ALL.map((f) => [f.name, f.file]))("%s is clang-format-19 clean", (_name, file) => {
		const r = run("clang-format-19", ["--dry-run", "--Werror", file]);
		expect(r.stderr).toBe("");
		expect(r.status).toBe(0);
	});
	it("the formatter check can fail: a misformatted copy is caught", () => {
		const dir = join(BUILD_DIR, "style");
		mkdirSync(dir, { recursive: true });
		const bad = join(dir, "bad.c");
		writeFileSync(bad, readFileSync(GEN.runner, "utf8").replace("\tint state = get_state(rctx);", "    int state=get_state(rctx);"));
		writeFileSync(join(dir, ".clang-format"), readFileSync(".clang-format"));
		expect(run("clang-format-19", ["--dry-run", "--Werror", bad]).status).not.toBe(0);
	});
	it("lines stay within 79 columns except where clang-format itself allows more", () => {
		for (const f of C_FILES) {
			for (const [i, line] of readFileSync(f, "utf8").split("\n").entries()) {
				const width = line.replace(/\t/g, "        ").length;
				// upstream's PenaltyExcessCharacter lets clang-format keep a
				// few characters over; long string literals are never split
				if (width > 79) expect(width <= 84 || /"/.test(line), `${f}:${i + 1} is ${width} columns`).toBe(true);
			}
		}
	});
});

describe.each(["clang", "gcc"] as const)("%s -Wall -Wextra -Werror", (compiler) => {
	it.each(SOURCES.map((f) => [f.name, f]))("%s compiles without a warning", (_n, f) => {
		for (const std of ["-std=gnu99", "-std=gnu11"]) {
			const r = run(COMPILERS[compiler], [...UPSTREAM_CFLAGS, std, "-fPIC", ...f.includes, "-c", f.file, "-o", "/dev/null"]);
			expect(r.stderr).toBe("");
			expect(r.status).toBe(0);
		}
	});
	it.each(TARGETS.map((t) => [t.target, t]))("%s: the ASYNC_TEST_MAJOR test build of async_checker.c compiles without a warning", (_t, t) => {
		const file = join(t.dir, "libmultipath/async_checker.c");
		expect(readFileSync(file, "utf8")).toContain("stall_test_device(rdata);");
		const r = run(COMPILERS[compiler], [...UPSTREAM_CFLAGS, "-fPIC", "-DASYNC_TEST_MAJOR=8", "-DASYNC_TEST_MINOR=16", ...t.includes, "-c", file, "-o", "/dev/null"]);
		expect(r.stderr).toBe("");
		expect(r.status).toBe(0);
	});
	it.each(TARGETS.map((t) => [t.target, t]))("%s: the ASYNC_THREAD_PER_CHECK build of async_checker.c compiles without a warning", (_t, t) => {
		const file = join(t.dir, "libmultipath/async_checker.c");
		expect(readFileSync(file, "utf8")).toContain("#ifdef ASYNC_THREAD_PER_CHECK");
		for (const std of ["-std=gnu99", "-std=gnu11"]) {
			const r = run(COMPILERS[compiler], [...UPSTREAM_CFLAGS, std, "-fPIC", "-DASYNC_THREAD_PER_CHECK", ...t.includes, "-c", file, "-o", "/dev/null"]);
			expect(r.stderr).toBe("");
			expect(r.status).toBe(0);
		}
	});
	it("the whole native set builds and links with -z defs, also with ASYNC_THREAD_PER_CHECK", () => {
		const set = buildNativeSet({ compiler, defines: { ASYNC_THREAD_PER_CHECK: 1 } });
		expect(set.host).toBeTruthy();
	});
	it("the whole native set builds and links with -z defs", () => {
		const set = buildNativeSet({ compiler });
		expect(set.host).toBeTruthy();
		expect(set.plugin("tur")).toMatch(/libchecktur\.so$/);
	});
});

const INCLUDES = TARGETS[0].includes;

describe.each([
	{ target: "0.15", structs: [ABI_015_DETAILS.checker, ABI_015_DETAILS.checkerClass, ABI_015_DETAILS.runnerData, ABI_015_DETAILS.mpcontext], min: 25 },
	{ target: "0.9", structs: [ABI_094_DETAILS.checker, ABI_094_DETAILS.runnerData], min: 12 },
])("the stand-in ABI headers have the $target layout", ({ target, structs, min }) => {
	it("every member offset and struct size matches the ABI profile (clang and gcc)", () => {
		const asserts = structs.flatMap((s) => [
			`_Static_assert(sizeof(${s.tag}) == ${s.size}, "${s.tag} size");`,
			...s.members.map((m) => {
				const name = /(\w+)(\[[^\]]*\])?(\s*__attribute__.*)?$/.exec(m.decl.replace(/\(\*(\w+)\)\(.*\)$/, "$1"))![1];
				return `_Static_assert(offsetof(${s.tag}, ${name}) == ${m.offset}, "${s.tag}.${name}");`;
			}),
		]);
		const src = ["#include <stddef.h>", '#include "async_checker.h"', ...asserts, ""].join("\n");
		const dir = join(BUILD_DIR, "layout", target);
		mkdirSync(dir, { recursive: true });
		const file = join(dir, "layout.c");
		writeFileSync(file, src);
		expect(asserts.length).toBeGreaterThan(min);
		for (const cc of Object.values(COMPILERS)) {
			const r = run(cc, [...UPSTREAM_CFLAGS, ...TARGETS.find((t) => t.target === target)!.includes, "-c", file, "-o", "/dev/null"]);
			expect(r.stderr).toBe("");
			expect(r.status).toBe(0);
		}
	});
});

describe("libmpathutil.version with lld", () => {
	const link = (script: string) =>
		run(COMPILERS.clang, [
			...UPSTREAM_CFLAGS,
			"-fPIC",
			"-shared",
			"-fuse-ld=lld",
			"-Wl,--no-undefined-version",
			`-Wl,--version-script=${script}`,
			...INCLUDES,
			GEN.runner,
			"native-tests/support/dlog.c",
			"-pthread",
			"-o",
			join(BUILD_DIR, "version", "libmpathutil-lld.so"),
		]);
	it("links a shared library, and exports exactly the runner symbols in the new node", () => {
		const r = link(combinedVersionScript());
		expect(r.stderr).toBe("");
		expect(r.status).toBe(0);
		const syms = run("objdump", ["-T", join(BUILD_DIR, "version", "libmpathutil-lld.so")]).stdout;
		const inNode = [...syms.matchAll(/\bLIBMPATHUTIL_6\.2\s+(\w+)$/gm)].map((m) => m[1]).sort();
		expect(inNode).toEqual([...RUNNER_SYMBOLS].sort());
	});
	it("lld refuses a version script that names an undefined symbol", () => {
		const bad = join(BUILD_DIR, "version", "undefined.version");
		writeFileSync(bad, readFileSync(combinedVersionScript(), "utf8").replace("\tcheck_runner;", "\tcheck_runner;\n\tget_runner_pool;"));
		const r = link(bad);
		expect(r.status).not.toBe(0);
		expect(r.stderr).toMatch(/get_runner_pool.*(not defined|failed)|version script assignment/);
	});
});

describe("a checker plugin exports the 0.15 async ABI", () => {
	it("libchecktur.so defines libcheck_async_func and libcheck_msgtable, and no ABI A/B entry point", () => {
		const set = buildNativeSet({ compiler: "gcc" });
		const syms = run("nm", ["-D", "--defined-only", set.plugin("tur")]).stdout;
		const names = [...syms.matchAll(/ [TDBR] (\w+)$/gm)].map((m) => m[1]);
		expect(names).toContain("libcheck_async_func");
		expect(names).toContain("libcheck_msgtable");
		for (const old of ["libcheck_check", "libcheck_init", "libcheck_free", "libcheck_thread"]) expect(names).not.toContain(old);
	});
});
