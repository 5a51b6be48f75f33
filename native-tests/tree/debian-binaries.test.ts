// Debian's own multipath-tools 0.9.4 binaries (multipath-tools_0.9.4-3+deb12u2_amd64.deb,
// extracted, never installed): the libraries and stock plugins a "plugin"
// layout must load against. What the stock plugins export is read with
// nm -D and must agree with dlcheck, which loads them RTLD_NOW as
// multipathd does.
// Needs: the Debian archive reachable on the first run; root or the runtime
// libraries installed (TREE_RUNTIME_PACKAGES). A missing part fails the tests.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUILD_DIR, compile } from "../support/cc.ts";
import { ABI_SYMBOLS, dlcheck, ensureDebianBinaries } from "./index.ts";

function tool(cmd: string, args: string[]): string {
	const r = spawnSync(cmd, args, { encoding: "utf8" });
	if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.error?.message ?? r.stderr}`);
	return r.stdout;
}

/** Dynamic symbols a shared object defines (nm -D --defined-only). */
function definedSymbols(so: string): string[] {
	return [...tool("nm", ["-D", "--defined-only", so]).matchAll(/^[0-9a-f]+ [A-Za-z] (\S+)$/gm)].map((m) => m[1]).sort();
}

/** The version nodes a library defines (readelf -V, .gnu.version_d), without the base (soname) entry. */
function versionNodes(so: string): string[] {
	const text = tool("readelf", ["-V", so]);
	const defs = text.slice(text.indexOf(".gnu.version_d"), text.indexOf(".gnu.version_r"));
	return [...defs.matchAll(/Flags: (\S+)\s+Index: \d+\s+Cnt: \d+\s+Name: (\S+)/g)].filter((m) => m[1] !== "BASE").map((m) => m[2]);
}

// What multipath-abi.md §4 says each 0.9.4 checker exports beyond check, init and free.
const STOCK_EXTRAS: Record<string, string[]> = {
	cciss_tur: [],
	directio: ["libcheck_msgtable", "libcheck_reset"],
	emc_clariion: ["libcheck_mp_init", "libcheck_msgtable"],
	hp_sw: [],
	rdac: ["libcheck_msgtable"],
	readsector0: [],
	tur: ["libcheck_msgtable", "libcheck_thread"],
};

describe("Debian's multipath-tools 0.9.4 binary package", () => {
	it("holds multipathd, multipath, libmultipath.so.0, libmpathutil.so.0 and the seven stock checkers", async () => {
		const b = await ensureDebianBinaries("0.9.4");
		expect(b.deb).toBe("multipath-tools_0.9.4-3+deb12u2_amd64.deb");
		expect(Object.keys(b.checkers).sort()).toEqual(Object.keys(STOCK_EXTRAS).sort());
		expect(tool("file", ["-b", b.multipathd])).toMatch(/^ELF 64-bit LSB pie executable, x86-64/);
		const needed = [...tool("readelf", ["-d", b.multipathd]).matchAll(/\(NEEDED\)\s+Shared library: \[(\S+)\]/g)].map((m) => m[1]);
		expect(needed).toEqual(expect.arrayContaining(["libmultipath.so.0", "libmpathutil.so.0", "libmpathcmd.so.0", "libsystemd.so.0"]));
		expect(tool("readelf", ["-d", b.libmultipath])).toMatch(/\(SONAME\)\s+Library soname: \[libmultipath\.so\.0\]/);
	});

	it("libmultipath and libmpathutil define the 0.9.4 version nodes (LIBMULTIPATH_17.0.0; 16.0.0 and LIBMPATHUTIL_1.x)", async () => {
		const b = await ensureDebianBinaries("0.9.4");
		expect(versionNodes(b.libmultipath)).toEqual(["LIBMPATHCOMMON_1.0.0", "LIBMULTIPATH_17.0.0"]);
		expect(versionNodes(b.libmpathutil)).toEqual(["LIBMPATHCOMMON_1.0.0", "LIBMULTIPATH_16.0.0", "LIBMPATHUTIL_1.0", "LIBMPATHUTIL_1.1"]);
		const dyn = tool("objdump", ["-T", b.libmultipath]);
		for (const s of ["checker_is_sync", "start_checker_thread", "sg_read"]) expect(dyn).toMatch(new RegExp(`LIBMULTIPATH_17\\.0\\.0\\s+${s}$`, "m"));
	});

	it("each stock checker exports check, init and free plus what the ABI notes say, and nm -D agrees with dlcheck", async () => {
		const b = await ensureDebianBinaries("0.9.4");
		for (const [name, so] of Object.entries(b.checkers)) {
			const nm = definedSymbols(so).filter((s) => s.startsWith("libcheck_"));
			expect(nm, name).toEqual(["libcheck_check", "libcheck_free", "libcheck_init", ...STOCK_EXTRAS[name]].sort());
			const r = dlcheck(so, { libDirs: [b.libDir] });
			expect(r.error, name).toBeUndefined();
			expect(r.loaded, name).toBe(true);
			expect([...r.defined].sort(), name).toEqual(nm);
			expect(r.foreign, name).toEqual([]);
		}
	});

	it("stock libchecktur.so: ABI A with its own thread; its msgtable; references bound to LIBMULTIPATH_17.0.0 and 16.0.0", async () => {
		const b = await ensureDebianBinaries("0.9.4");
		const r = dlcheck(b.checkers.tur, { libDirs: [b.libDir] });
		expect(r.loaded).toBe(true);
		expect(r.defined).toEqual(["libcheck_check", "libcheck_init", "libcheck_free", "libcheck_thread", "libcheck_msgtable"]);
		for (const s of ABI_SYMBOLS.filter((s) => /pending|need_wait|async|mp_init|reset/.test(s))) expect(r.symbols?.[s], s).toBe(false);
		expect(r.msgtable).toEqual([" still running", " timed out", " failed to initialize"]);
		expect(r.async_context_size).toBeUndefined();
		const undef = tool("nm", ["-D", "--undefined-only", b.checkers.tur]);
		expect(undef).toMatch(/ start_checker_thread@LIBMULTIPATH_17\.0\.0$/m);
		expect(undef).toMatch(/ checker_is_sync@LIBMULTIPATH_17\.0\.0$/m);
		expect(undef).toMatch(/ dlog@LIBMULTIPATH_16\.0\.0$/m);
		expect(undef).toMatch(/ libmp_verbosity@LIBMULTIPATH_16\.0\.0$/m);
		const dyn = tool("readelf", ["-d", b.checkers.tur]);
		expect(dyn).toMatch(/\(FLAGS\)\s+BIND_NOW/);
		expect(dyn).not.toMatch(/libaio/); // linked -laio, dropped by gcc's default --as-needed
	});

	it("loads with libmultipath opened RTLD_GLOBAL by path first, as well as by name through LD_LIBRARY_PATH", async () => {
		const b = await ensureDebianBinaries("0.9.4");
		const byPath = dlcheck(b.checkers.tur, { libDirs: [b.libDir], preload: [b.libmultipath] });
		const alone = dlcheck(b.checkers.tur, { libDirs: [b.libDir], preload: [] });
		expect(byPath.loaded).toBe(true);
		expect(alone.loaded).toBe(true);
		expect(byPath.defined).toEqual(alone.defined);
	});

	it("fails to load when a preload is missing, and against a libmpathutil.so.0 that lacks 0.9.4's version nodes", async () => {
		const b = await ensureDebianBinaries("0.9.4");
		const missing = join(BUILD_DIR, "tree", "no-such-dir", "libmultipath.so.0");
		const none = dlcheck(b.checkers.tur, { libDirs: [b.libDir], preload: [missing] });
		expect(none.loaded).toBe(false);
		expect(none.exitStatus).toBe(1);
		expect(none.failed).toBe(missing);
		expect(none.error).toMatch(/cannot open shared object file/);
		// a stand-in libmpathutil.so.0 from a later release: same soname, other nodes
		const dir = join(BUILD_DIR, "tree", "stub-mpathutil");
		mkdirSync(dir, { recursive: true });
		writeFileSync(join(dir, "stub.c"), "int libmp_verbosity;\nvoid dlog(int prio, const char *fmt, ...)\n{\n\t(void)prio;\n\t(void)fmt;\n}\n");
		writeFileSync(join(dir, "stub.version"), "LIBMPATHUTIL_6.0 {\nglobal:\n\tdlog;\n\tlibmp_verbosity;\nlocal:\n\t*;\n};\n");
		const stub = compile({
			compiler: "gcc",
			kind: "shared",
			name: "libmpathutil",
			sources: [join(dir, "stub.c")],
			ldflags: ["-Wl,-soname,libmpathutil.so.0", `-Wl,--version-script=${join(dir, "stub.version")}`],
			extraInputs: [join(dir, "stub.version")],
		}).output;
		const stubDir = join(dir, "lib");
		mkdirSync(stubDir, { recursive: true });
		tool("cp", [stub, join(stubDir, "libmpathutil.so.0")]);
		const wrong = dlcheck(b.checkers.tur, { libDirs: [stubDir, b.libDir], preload: [] });
		expect(wrong.loaded).toBe(false);
		expect(wrong.error).toMatch(/version `(LIBMULTIPATH_16\.0\.0|LIBMPATHUTIL_1\.[01]|LIBMPATHCOMMON_1\.0\.0)' not found/);
	});
});
