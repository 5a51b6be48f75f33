// The real-tree infrastructure on Debian's pristine multipath-tools 0.9.4
// tree: it is the release we think it is, it builds with its own make, its
// own make test passes, and the plugins it builds load RTLD_NOW against its
// libraries and against Debian's binary package. The tree is copied and
// built ONCE for this file (about 30 s on 2 quiet cores).
// Needs: root or the build packages installed (TREE_BUILD_PACKAGES), the
// Debian archive reachable on the first run. A missing part fails every test.
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	applyToTree,
	CommandError,
	compilerDiagnostics,
	dlcheck,
	ensureDebianBinaries,
	ensureSourceTree,
	buildTree,
	buildTreeWith,
	listTreeTests,
	readVersionCode,
	runTreeTests,
	treeArtifacts,
	type MakeResult,
	type PreparedTree,
	type TreeTestResult,
} from "./index.ts";

interface Built {
	tree: PreparedTree;
	build: MakeResult;
}

let prepared: PreparedTree | undefined;
// Every test awaits the same promise, so a failed fetch or build fails each
// of them with its message (never a skip).
let built: Promise<Built> | undefined;
let tested: Promise<TreeTestResult> | undefined;

function builtTree(): Promise<Built> {
	built ??= buildTreeWith({}).then((b) => {
		prepared = b.tree;
		return b;
	});
	return built;
}

function treeTests(): Promise<TreeTestResult> {
	tested ??= builtTree().then((b) => runTreeTests(b.tree.dir));
	return tested;
}

// The copy and build run here, so their time shows as the hook's; an error is
// kept for the tests, each of which then fails with it.
beforeAll(async () => {
	await builtTree().catch(() => undefined);
});
afterAll(() => prepared?.remove());

/** What libdevmapper needs for dmevents-test: an openable /dev/mapper/control (no dm driver in a container: ENODEV). */
function deviceMapperUsable(): boolean {
	try {
		closeSync(openSync("/dev/mapper/control", "r+"));
		return true;
	} catch {
		return false;
	}
}

/** A minimal ABI A checker of our own, to show the tree's make picks up a new plugin. */
const MPCGTREE_C = `// SPDX-License-Identifier: GPL-2.0-or-later
#include "checkers.h"

int libcheck_init(struct checker *c)
{
	(void)c;
	return 0;
}

void libcheck_free(struct checker *c)
{
	(void)c;
}

int libcheck_check(struct checker *c)
{
	c->msgid = CHECKER_MSGID_UP;
	return PATH_UP;
}
`;

const readelf = (args: string[]) => spawnSync("readelf", args, { encoding: "utf8" }).stdout;

describe("Debian's multipath-tools 0.9.4 source tree", () => {
	it("is 0.9.4: VERSION_CODE 0x000904 in libmultipath/version.h, with Debian's patches applied", async () => {
		const src = await ensureSourceTree("0.9.4");
		expect(src.versionCode).toBe(0x000904);
		expect(readVersionCode(src.pristine)).toBe(0x000904);
		expect(readFileSync(join(src.pristine, "debian", "changelog"), "utf8")).toMatch(/^multipath-tools \(0\.9\.4-3\+deb12u2\) bookworm/);
		expect(readFileSync(join(src.pristine, "debian", "patches", "series"), "utf8").trim().split("\n").length).toBeGreaterThan(5);
		// 0.9.4 has libmpathutil but no runner, and tur has its own thread
		expect(existsSync(join(src.pristine, "libmpathutil", "util.c"))).toBe(true);
		expect(existsSync(join(src.pristine, "libmpathutil", "runner.c"))).toBe(false);
		expect(readFileSync(join(src.pristine, "libmultipath", "checkers", "tur.c"), "utf8")).toMatch(/start_checker_thread\(/);
	});

	it("a working copy is a fresh directory with the same VERSION_CODE", async () => {
		const { tree } = await builtTree();
		const src = await ensureSourceTree("0.9.4");
		expect(tree.dir).not.toBe(src.pristine);
		expect(tree.versionCode).toBe(0x000904);
		expect(readVersionCode(tree.dir)).toBe(0x000904);
	});

	it("builds with its own make -j2 under its own flags without a warning, and the build leaves the cached tree pristine", async () => {
		const { tree, build } = await builtTree();
		expect(build.status).toBe(0);
		expect(build.command).toEqual(["make", "-j2"]);
		expect(build.output).toMatch(/--std=gnu99 .*-Wall -Wextra -Wformat=2 .*-Werror=implicit-function-declaration/);
		expect(build.output).toMatch(/-Werror=cast-qual -Werror=discarded-qualifiers/);
		// plugins: -z defs, linked to libmultipath and libmpathutil, plugindir /lib/multipath
		expect(compilerDiagnostics(build.output)).toEqual([]);
		const turLink = build.output.split("\n").find((l) => / -o libchecktur\.so /.test(l));
		expect(turLink).toMatch(/-Wl,-z,defs/);
		expect(turLink).toMatch(/-lmultipath -lmpathutil/);
		expect(build.output).toMatch(/-DMULTIPATH_DIR=\\"\/lib\/multipath\\"/);
		const a = treeArtifacts(tree.dir);
		expect(Object.keys(a.checkers)).toEqual(["cciss_tur", "directio", "emc_clariion", "hp_sw", "rdac", "readsector0", "tur"]);
		for (const f of [a.libmultipath, a.libmpathutil, join(tree.dir, "multipathd", "multipathd")]) expect(existsSync(f), f).toBe(true);
		const src = await ensureSourceTree("0.9.4");
		expect(existsSync(join(src.pristine, "libmultipath", "libmultipath.so.0"))).toBe(false);
		expect(existsSync(join(src.pristine, "libmultipath", "checkers", "tur.o"))).toBe(false);
	});

	it("its make test runs every program of tests/Makefile and every cmocka group passes", async () => {
		const { tree } = await builtTree();
		const t = await treeTests();
		const expected = listTreeTests(tree.dir);
		expect(expected.length).toBeGreaterThan(10);
		expect(expected).toContain("directio");
		expect(t.programs.map((p) => p.name).sort()).toEqual([...expected].sort());
		for (const p of t.programs) {
			expect(p.groups.length, `${p.name}: no cmocka summary in ${p.outFile}`).toBeGreaterThan(0);
			for (const g of p.groups) {
				expect(g.run, `${p.name}: tests run`).toBe(g.planned);
				expect(g.failed, `${p.name}: failed ${g.failedNames.join(", ")}`).toBe(0);
				expect(g.failedNames).toEqual([]);
				expect(g.passed + g.skipped, `${p.name}: passed + skipped`).toBe(g.run);
				expect(g.passedNames.length).toBe(g.passed);
			}
		}
		expect(t.totals.failed).toBe(0);
		expect(t.totals.passed).toBeGreaterThan(500);
		expect(compilerDiagnostics(t.output)).toEqual([]);
	});

	it("only dmevents skips, and only when the host's device-mapper cannot be opened (/dev/mapper/control)", async () => {
		const t = await treeTests();
		const skipping = t.programs.filter((p) => p.skipped > 0);
		if (deviceMapperUsable()) {
			expect(skipping.map((p) => p.name)).toEqual([]);
		} else {
			expect(skipping.map((p) => p.name)).toEqual(["dmevents"]);
			const dm = skipping[0];
			expect(dm.skipped).toBe(dm.run);
			expect(readFileSync(dm.outFile, "utf8")).toMatch(/\/dev\/mapper\/control: open failed|Failure to communicate with kernel device-mapper/);
		}
	});

	it("the plugins it builds are BIND_NOW, need libmultipath and libmpathutil, and dlopen RTLD_NOW against the tree's libraries", async () => {
		const { tree } = await builtTree();
		const a = treeArtifacts(tree.dir);
		const dyn = readelf(["-d", a.checkers.tur]);
		expect(dyn).toMatch(/\(NEEDED\)\s+Shared library: \[libmultipath\.so\.0\]/);
		expect(dyn).toMatch(/\(NEEDED\)\s+Shared library: \[libmpathutil\.so\.0\]/);
		expect(dyn).toMatch(/\(FLAGS\)\s+BIND_NOW/);
		for (const [name, so] of Object.entries(a.checkers)) {
			const r = dlcheck(so, { libDirs: a.libDirs });
			expect(r.error, name).toBeUndefined();
			expect(r.loaded, name).toBe(true);
			expect(r.exitStatus).toBe(0);
			// the ABI A entry points every 0.9.4 checker has; none of 0.15's
			expect(r.defined.slice(0, 3), name).toEqual(["libcheck_check", "libcheck_init", "libcheck_free"]);
			expect(r.symbols?.libcheck_async_func, name).toBe(false);
			expect(r.foreign).toEqual([]);
		}
		const tur = dlcheck(a.checkers.tur, { libDirs: a.libDirs });
		expect(tur.defined).toEqual(["libcheck_check", "libcheck_init", "libcheck_free", "libcheck_thread", "libcheck_msgtable"]);
	});

	it("the tree's tur also loads against Debian's own libmultipath and libmpathutil (same version nodes), and exports what the stock one does", async () => {
		const { tree } = await builtTree();
		const deb = await ensureDebianBinaries("0.9.4");
		const ours = dlcheck(treeArtifacts(tree.dir).checkers.tur, { libDirs: [deb.libDir] });
		const stock = dlcheck(deb.checkers.tur, { libDirs: [deb.libDir] });
		expect(ours.loaded).toBe(true);
		expect(ours.defined).toEqual(stock.defined);
		expect(ours.msgtable).toEqual(stock.msgtable);
	});

	it("a checker added with applyToTree is built by the tree's make and loads against the tree's and Debian's libraries", async () => {
		const { tree } = await builtTree();
		await treeTests(); // runs after make test: the tree stays pristine for it
		applyToTree(tree.dir, {
			files: new Map([["libmultipath/checkers/mpcgtree.c", MPCGTREE_C]]),
			edits: [{ path: "libmultipath/checkers/Makefile", find: "LIBS= \\\n", replace: "LIBS= \\\n\tlibcheckmpcgtree.so \\\n" }],
		});
		const again = await buildTree(tree.dir);
		expect(compilerDiagnostics(again.output)).toEqual([]);
		const link = again.output.split("\n").find((l) => / -o libcheckmpcgtree\.so /.test(l));
		expect(link).toMatch(/-Wl,-z,defs/);
		const a = treeArtifacts(tree.dir);
		expect(Object.keys(a.checkers)).toContain("mpcgtree");
		const deb = await ensureDebianBinaries("0.9.4");
		for (const libDirs of [a.libDirs, [deb.libDir]]) {
			const r = dlcheck(a.checkers.mpcgtree, { libDirs });
			expect(r.error).toBeUndefined();
			expect(r.defined).toEqual(["libcheck_check", "libcheck_init", "libcheck_free"]);
		}
	});

	it("a checker that does not compile fails buildTree with the compiler's error and the make command in the message", async () => {
		const { tree } = await builtTree();
		await treeTests();
		applyToTree(tree.dir, {
			edits: [{ path: "libmultipath/checkers/mpcgtree.c", find: "return PATH_UP;", replace: "return PATH_UP + no_such_name;" }],
		});
		const err = await buildTree(tree.dir).then(
			() => undefined,
			(e: unknown) => e,
		);
		expect(err).toBeInstanceOf(CommandError);
		const e = err as CommandError;
		expect(e.message).toMatch(/^mpcheckgen tree: tree build failed \(exit 2 in \S+\): make -j2\n/);
		expect(e.message).toMatch(/mpcgtree\.c:\d+:\d+: error: .no_such_name. undeclared/);
		expect(compilerDiagnostics(e.result.output).map((d) => [d.kind, d.file])).toContainEqual(["error", "mpcgtree.c"]);
	});

	it("buildTreeWith removes its copy when the changes cannot be applied, and writes nothing", async () => {
		// a temp dir of our own, so copies other processes make do not count
		const scratch = mkdtempSync(join(tmpdir(), "mpcheckgen-tmp-"));
		const saved = process.env.TMPDIR;
		process.env.TMPDIR = scratch;
		try {
			await expect(buildTreeWith({ edits: [{ path: "Makefile", find: "no such text in the Makefile", replace: "" }] })).rejects.toThrow(
				/nothing written[\s\S]*occurs 0 times/,
			);
			expect(readdirSync(scratch)).toEqual([]);
		} finally {
			if (saved === undefined) delete process.env.TMPDIR;
			else process.env.TMPDIR = saved;
			rmSync(scratch, { recursive: true, force: true });
		}
	});

});
