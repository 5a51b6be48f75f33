// The generated output in real multipath-tools: the tree layout written into
// a copy of Debian's 0.9.4 tree by `mpcheckgen generate --tree` builds with
// the tree's own make and flags (no warning in the generated files), the
// tree's own make test passes (with the runner race test the layout adds to
// tests/, which also runs under valgrind against the tree's libmpathutil),
// libmpathutil exports the runner in its new node, and the generated plugins dlopen RTLD_NOW against the tree's
// libraries; the 0.9 plugin layout builds against Debian's own binaries and
// loads against them the same way. And the refusals: an unknown tree,
// uncommitted changes, conflicting options. The tree is copied, generated
// and built once for the file.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNNER_SYMBOLS } from "../../generator/emit/index.ts";
import {
	buildTree,
	compilerDiagnostics,
	dlcheck,
	ensureDebianBinaries,
	listTreeTests,
	makeTreeTests,
	prepareTree,
	runTreeTests,
	treeArtifacts,
	type MakeResult,
	type PreparedTree,
	type TreeTestResult,
} from "./index.ts";
import { buildPlugin09 } from "./plugin09.ts";

const cli = (args: string[], cwd = process.cwd()) =>
	spawnSync("node", [join(process.cwd(), "bin/mpcheckgen.js"), ...args], { encoding: "utf8", cwd });

interface Generated {
	tree: PreparedTree;
	generate: ReturnType<typeof cli>;
	build: MakeResult;
}

let tree: PreparedTree | undefined;
let generated: Promise<Generated> | undefined;
let tested: Promise<TreeTestResult> | undefined;
const scratch = mkdtempSync(join(tmpdir(), "mpcheckgen-gen-tree-"));

function generatedTree(): Promise<Generated> {
	generated ??= (async () => {
		tree = await prepareTree("0.9.4");
		const generate = cli(["generate", "--tree", tree.dir]);
		if (generate.status !== 0) throw new Error(`mpcheckgen generate --tree failed:\n${generate.stdout}${generate.stderr}`);
		return { tree, generate, build: await buildTree(tree.dir) };
	})();
	return generated;
}

beforeAll(async () => {
	await generatedTree().catch(() => undefined);
});
afterAll(() => {
	tree?.remove();
	rmSync(scratch, { recursive: true, force: true });
});

const GENERATED_FILES = [
	"libmpathutil/Makefile",
	"libmpathutil/libmpathutil.version",
	"libmpathutil/runner.c",
	"libmpathutil/runner.h",
	"libmultipath/checkers/Makefile",
	"libmultipath/checkers/alua.c",
	"libmultipath/checkers/async_checker.c",
	"libmultipath/checkers/async_checker.h",
	"libmultipath/checkers/sg_answer.c",
	"libmultipath/checkers/sg_answer.h",
	"libmultipath/checkers/tur.c",
	"multipath/multipath.conf.5",
	"tests/Makefile",
	"tests/runner-test.sh",
	"tests/runner.c",
];

/** The SUMMARY lines of race-test output (one per program run), parsed. */
function raceSummaries(text: string): { failed_runs: number; exit: number; runs: number; valgrind: boolean }[] {
	return [...text.matchAll(/^SUMMARY (\{.*\})$/gm)].map((m) => JSON.parse(m[1]));
}

describe("the tree layout in Debian's multipath-tools 0.9.4", () => {
	it("generate --tree detects 0.9.4 and writes the files the tree expects", async () => {
		const { generate } = await generatedTree();
		expect(generate.stdout).toContain("multipath-tools 0.9.4 (target 0.9)");
		for (const f of GENERATED_FILES) expect(generate.stdout, f).toContain(`wrote ${f}\n`);
		expect(generate.stdout).toMatch(new RegExp(`mpcheckgen: ${GENERATED_FILES.length} written, 0 unchanged in .*\\(tree layout`));
	});

	it("the files read as the tree's own: no generated banner, the tree's headers, copyright lines kept", async () => {
		const { tree } = await generatedTree();
		const tur = readFileSync(join(tree.dir, "libmultipath/checkers/tur.c"), "utf8");
		expect(tur).not.toContain("DO NOT EDIT");
		expect(tur).toMatch(/^\/\/ SPDX-License-Identifier: GPL-2.0-or-later\n\/\*\n \* Copyright \(c\) 2004 Christophe Varoqui\n \* Copyright \(c\) 2026 The mpcheckgen authors\n \*\/\n/);
		const alua = readFileSync(join(tree.dir, "libmultipath/checkers/alua.c"), "utf8");
		expect(alua).toContain('#include "unaligned.h"');
		expect(alua).toContain("get_unaligned_be16(");
		expect(alua).not.toMatch(/static unsigned int get_be16/);
		const runner = readFileSync(join(tree.dir, "libmpathutil/runner.c"), "utf8");
		expect(runner).toContain('#include "time-util.h"');
		expect(runner).toContain("get_monotonic_time(&ts);");
		expect(runner).toContain("setup_thread_attr(&attr, RUNNER_STACK_SIZE, 1);");
	});

	it("builds with the tree's own make and flags, without a warning", async () => {
		const { build, tree } = await generatedTree();
		expect(build.status).toBe(0);
		expect(compilerDiagnostics(build.output)).toEqual([]);
		for (const f of ["runner.c", "tur.c", "alua.c", "async_checker.c", "sg_answer.c"]) {
			expect(build.output, f).toMatch(new RegExp(`-Werror=cast-qual .*-c -o \\w+\\.o ${f.replace(".", "\\.")}`));
		}
		const a = treeArtifacts(tree.dir);
		expect(Object.keys(a.checkers)).toEqual(["alua", "cciss_tur", "directio", "emc_clariion", "hp_sw", "rdac", "readsector0", "tur"]);
	});

	it("its own make test passes: every program, every cmocka group", async () => {
		const { tree } = await generatedTree();
		tested ??= runTreeTests(tree.dir);
		const t = await tested;
		expect(t.status).toBe(0);
		expect(t.programs.map((p) => p.name).sort()).toEqual([...listTreeTests(tree.dir)].sort());
		// the runner race test is a program of its own, not a cmocka suite (next test)
		for (const p of t.programs.filter((x) => x.name !== "runner")) {
			expect(p.groups.length, p.name).toBeGreaterThan(0);
			for (const g of p.groups) expect(g.failed, `${p.name}: ${g.failedNames.join(", ")}`).toBe(0);
		}
		expect(t.totals.passed).toBeGreaterThan(500);
	});

	it("make test runs the runner race test it adds: the program with its defaults, then runner-test.sh's six scenarios", async () => {
		const { tree } = await generatedTree();
		tested ??= runTreeTests(tree.dir);
		const t = await tested;
		expect(t.output).toContain("== running runner-test ==");
		expect(t.output).toContain("== running runner-test.sh ==");
		const own = raceSummaries(readFileSync(join(tree.dir, "tests/runner.out"), "utf8"));
		expect(own.map((x) => [x.runs, x.failed_runs, x.exit])).toEqual([[10, 0, 0]]);
		const script = readFileSync(join(tree.dir, "tests/runner-test.out"), "utf8");
		expect(script.match(/^== runner-test -N .*==$/gm)?.length, script).toBe(6);
		expect(raceSummaries(script).map((x) => x.exit)).toEqual([0, 0, 0, 0, 0, 0]);
		expect(script.trimEnd().split("\n").at(-1)).toBe("runner-test: 0 failed scenarios");
	});

	it("make -C tests runner-test.vgr: the six scenarios under valgrind against the tree's libmpathutil, no error, nothing lost", async () => {
		const { tree } = await generatedTree();
		await (tested ??= runTreeTests(tree.dir)); // the program is built
		const r = await makeTreeTests(tree.dir, ["runner-test.vgr"]);
		expect(r.output).toContain("== running runner-test.sh under valgrind ==");
		const out = readFileSync(join(tree.dir, "tests/runner-test.vgr"), "utf8");
		const summaries = raceSummaries(out);
		expect(summaries.map((x) => [x.valgrind, x.exit]), out.slice(-3000)).toEqual(Array(6).fill([true, 0]));
		// parent and child of each scenario
		const errors = [...out.matchAll(/^==\d+== ERROR SUMMARY: (\d+) errors/gm)].map((m) => +m[1]);
		expect(errors.length).toBeGreaterThanOrEqual(12);
		expect(errors.every((e) => e === 0)).toBe(true);
		expect(out).not.toMatch(/definitely lost: [1-9]|indirectly lost: [1-9]|possibly lost: [1-9]/);
		expect(out.trimEnd().split("\n").at(-1)).toBe("runner-test: 0 failed scenarios");
	});

	it("libmpathutil exports the runner in LIBMPATHUTIL_1.2, inheriting 1.1", async () => {
		const { tree } = await generatedTree();
		const dyn = spawnSync("objdump", ["-T", treeArtifacts(tree.dir).libmpathutil], { encoding: "utf8" }).stdout;
		const inNode = [...dyn.matchAll(/\bLIBMPATHUTIL_1\.2\s+(\w+)$/gm)].map((m) => m[1]).sort();
		expect(inNode).toEqual([...RUNNER_SYMBOLS].sort());
		expect(readFileSync(join(tree.dir, "libmpathutil/libmpathutil.version"), "utf8")).toMatch(/\} LIBMPATHUTIL_1\.1;\n$/);
	});

	it("the generated tur and alua dlopen RTLD_NOW against the tree's libraries, exporting plugin ABI A", async () => {
		const { tree } = await generatedTree();
		const a = treeArtifacts(tree.dir);
		for (const name of ["tur", "alua"]) {
			const r = dlcheck(a.checkers[name], { libDirs: a.libDirs });
			expect(r.error, name).toBeUndefined();
			expect(r.loaded, name).toBe(true);
			expect(r.defined, name).toEqual(["libcheck_check", "libcheck_init", "libcheck_free", "libcheck_msgtable"]);
			expect(r.msgtable?.slice(0, 2), name).toEqual([" still running", " timed out"]);
		}
		expect(dlcheck(a.checkers.tur, { libDirs: a.libDirs }).msgtable).toEqual([" still running", " timed out", " reports path is transitioning"]);
	});

	it("generating again into the same tree changes nothing", async () => {
		const { tree } = await generatedTree();
		const again = cli(["generate", "--tree", tree.dir, "--check"]);
		expect(again.stderr).toBe("");
		expect(again.status).toBe(0);
		expect(again.stdout).toContain(`0 would be written, ${GENERATED_FILES.length} unchanged`);
	});
});

describe("the 0.9 plugin layout against Debian's own 0.9.4 binaries", () => {
	it.each(["tur", "alua", "emc_clariion"])("libcheck%s.so links with -z defs against Debian's libraries, dlopens RTLD_NOW and is never unloaded", async (name) => {
		const deb = await ensureDebianBinaries("0.9.4");
		for (const compiler of ["gcc", "clang"] as const) {
			const so = buildPlugin09(name, deb, compiler);
			const r = dlcheck(so, { libDirs: [deb.libDir] });
			expect(r.error, `${name} ${compiler}`).toBeUndefined();
			expect(r.loaded).toBe(true);
			// emc_clariion has a map context: libcheck_mp_init allocates it, as upstream's does
			const mpInit = name === "emc_clariion" ? ["libcheck_mp_init"] : [];
			expect(r.defined).toEqual(["libcheck_check", "libcheck_init", "libcheck_free", ...mpInit, "libcheck_msgtable"]);
			// bound to the version nodes Debian's stock plugins bind to
			const dyn = spawnSync("objdump", ["-T", so], { encoding: "utf8" }).stdout;
			expect(dyn).toMatch(/\(LIBMULTIPATH_17\.0\.0\)\s+checker_is_sync$/m);
			expect(dyn).toMatch(/\(LIBMULTIPATH_16\.0\.0\)\s+dlog$/m);
			// never unmapped by dlclose(): its runner threads may outlive the class
			expect(spawnSync("readelf", ["-d", so], { encoding: "utf8" }).stdout).toMatch(/\(FLAGS_1\)\s+Flags:.*\bNODELETE\b/);
		}
	});
});

describe("generate --tree refuses", () => {
	it("a directory that is not a multipath-tools tree, writing nothing", () => {
		const dir = mkdtempSync(join(scratch, "empty-"));
		const r = cli(["generate", "--tree", dir]);
		expect(r.status).toBe(1);
		expect(r.stderr).toContain("no libmultipath/version.h: not a multipath-tools tree; nothing written");
	});
	it("a release it does not know, naming it", async () => {
		const t = await prepareTree("0.9.4");
		try {
			const v = join(t.dir, "libmultipath/version.h");
			writeFileSync(v, readFileSync(v, "utf8").replace("0x000904", "0x000B01"));
			const r = cli(["generate", "--tree", t.dir]);
			expect(r.status).toBe(1);
			expect(r.stderr).toContain("multipath-tools 0.11.1 (VERSION_CODE 0x000B01) is not a release the tree layout knows (known: 0.9.4, 0.15.0)");
			expect(existsSync(join(t.dir, "libmpathutil/runner.c"))).toBe(false);
		} finally {
			t.remove();
		}
	});
	it("a file it would overwrite with uncommitted changes, naming it", async () => {
		const t = await prepareTree("0.9.4");
		try {
			const git = (...args: string[]) => spawnSync("git", ["-C", t.dir, "-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { encoding: "utf8" });
			expect(git("init", "-q").status).toBe(0);
			expect(git("add", "-A").status).toBe(0);
			expect(git("commit", "-qm", "base").status).toBe(0);
			const tur = join(t.dir, "libmultipath/checkers/tur.c");
			writeFileSync(tur, `${readFileSync(tur, "utf8")}/* local change */\n`);
			const r = cli(["generate", "--tree", t.dir]);
			expect(r.status).toBe(1);
			expect(r.stderr).toContain("uncommitted changes in files it would overwrite: libmultipath/checkers/tur.c");
			expect(existsSync(join(t.dir, "libmpathutil/runner.c"))).toBe(false);
			expect(readFileSync(tur, "utf8")).toContain("/* local change */");
		} finally {
			t.remove();
		}
	});
	it("conflicting options: exit 2", () => {
		expect(cli(["generate", "--tree", "/nonexistent", "--target", "0.15"]).status).toBe(2);
		expect(cli(["generate", "--layout", "tree"]).stderr).toContain("--layout tree needs --tree DIR");
	});
});
