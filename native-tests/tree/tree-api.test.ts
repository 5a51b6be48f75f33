// The parts of the tree harness that need no download: the private apt
// configuration (read from the host's sources, pinned to bookworm, the
// host's setup untouched), tree edits that write nothing on a bad input,
// and the cmocka summary parser.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
	applyToTree,
	collectTestPrograms,
	compilerDiagnostics,
	listTreeTests,
	mirrorFromDeb822,
	mirrorFromSourcesList,
	parseCmocka,
	privateApt,
	privateSourcesList,
	treeRelease,
} from "./index.ts";

const scratch = mkdtempSync(join(tmpdir(), "mpcheckgen-tree-api-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const TRIXIE_SOURCES = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: trixie trixie-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

describe("private apt configuration", () => {
	it("takes the main archive's URI and keyring from a deb822 file, skipping security and disabled stanzas", () => {
		const m = mirrorFromDeb822(TRIXIE_SOURCES, "debian.sources", scratch);
		expect(m).toEqual({ uri: "http://mirror.example/debian", signedBy: "/usr/share/keyrings/debian-archive-keyring.gpg", from: "debian.sources" });
		const disabled = `Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n\n${TRIXIE_SOURCES}`;
		expect(mirrorFromDeb822(disabled, "x", scratch).uri).toBe("http://mirror.example/debian");
		const securityFirst = TRIXIE_SOURCES.split("\n\n").reverse().join("\n\n");
		expect(mirrorFromDeb822(securityFirst, "x", scratch).uri).toBe("http://mirror.example/debian");
	});

	it("writes an inline Signed-By key to a file of its own", () => {
		const text = [
			"Types: deb",
			"URIs: http://mirror.example/debian",
			"Suites: bookworm",
			"Components: main",
			"Signed-By:",
			" -----BEGIN PGP PUBLIC KEY BLOCK-----",
			" .",
			" mQINBGPL0BUBEADmW5NdOOHwPIJlgPu6JDcKw/NZJPR8lsD3K87ZM18gzyQZJD+w",
			" -----END PGP PUBLIC KEY BLOCK-----",
			"",
		].join("\n");
		const m = mirrorFromDeb822(text, "inline", join(scratch, "keys"));
		expect(m.signedBy).toBe(join(scratch, "keys", "signed-by.asc"));
		expect(readFileSync(m.signedBy, "utf8")).toBe(
			"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGPL0BUBEADmW5NdOOHwPIJlgPu6JDcKw/NZJPR8lsD3K87ZM18gzyQZJD+w\n-----END PGP PUBLIC KEY BLOCK-----\n",
		);
	});

	it("reads one-line sources.list too, and refuses a file without a main archive", () => {
		const m = mirrorFromSourcesList(
			"deb http://deb.example/debian-security bookworm-security main\ndeb [arch=amd64 signed-by=/k.gpg] http://deb.example/debian bookworm main\n",
			"sources.list",
			scratch,
		);
		expect(m).toEqual({ uri: "http://deb.example/debian", signedBy: "/k.gpg", from: "sources.list" });
		expect(() => mirrorFromDeb822(TRIXIE_SOURCES.replace(/main/g, "contrib"), "bad.sources", scratch)).toThrow(
			/bad\.sources names no Debian main archive/,
		);
	});

	it("is pinned to bookworm main (deb-src and deb) whatever the host's release is", () => {
		const text = privateSourcesList(mirrorFromDeb822(TRIXIE_SOURCES, "debian.sources", scratch), treeRelease("0.9.4").suite);
		const lines = text.split("\n").filter((l) => l && !l.startsWith("#"));
		expect(lines).toEqual([
			"deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian bookworm main",
			"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian bookworm main",
		]);
	});

	it("lives under the cache, passes its own four -o options, and leaves the host's apt setup alone", () => {
		const hostFiles = () =>
			["/etc/apt/sources.list.d", "/etc/apt"].flatMap((d) =>
				existsSync(d)
					? readdirSync(d)
							.map((f) => join(d, f))
							.filter((f) => statSync(f).isFile())
							.map((f) => `${f} ${createHash("sha256").update(readFileSync(f)).digest("hex")}`)
					: [],
			);
		const before = hostFiles();
		const apt = privateApt("bookworm");
		expect(hostFiles()).toEqual(before);
		expect(apt.options).toEqual([
			"-o",
			`Dir::Etc::SourceList=${apt.sourcesList}`,
			"-o",
			"Dir::Etc::SourceParts=/dev/null",
			"-o",
			`Dir::State::Lists=${apt.lists}`,
			"-o",
			`Dir::Cache=${apt.cache}`,
		]);
		expect(apt.dir).toMatch(/\/tree\/apt-bookworm$/);
		expect(readFileSync(apt.sourcesList, "utf8")).toMatch(/^deb-src \[signed-by=\S+\] \S+ bookworm main$/m);
		expect(existsSync(apt.mirror.signedBy)).toBe(true);
		expect(() => privateApt("bookworm; rm")).toThrow(/invalid suite/);
	});

	it("knows only 0.9.4, and says so for another release", () => {
		expect(treeRelease("0.9.4").debVersion).toBe("0.9.4-3+deb12u2");
		expect(() => treeRelease("0.15")).toThrow(/no Debian multipath-tools tree for release "0\.15"; known: 0\.9\.4/);
	});
});

describe("applyToTree", () => {
	const tree = join(scratch, "tree");
	mkdirSync(join(tree, "libmultipath", "checkers"), { recursive: true });
	writeFileSync(join(tree, "libmultipath", "checkers", "Makefile"), "LIBS= \\\n\tlibcheckcciss_tur.so \\\n\tlibchecktur.so\n");

	it("writes new files (creating folders) and applies edits that match once", () => {
		applyToTree(tree, {
			files: new Map([["libmultipath/checkers/foo.c", "// foo\n"]]),
			edits: [{ path: "libmultipath/checkers/Makefile", find: "\tlibchecktur.so\n", replace: "\tlibchecktur.so \\\n\tlibcheckfoo.so\n" }],
		});
		expect(readFileSync(join(tree, "libmultipath/checkers/foo.c"), "utf8")).toBe("// foo\n");
		expect(readFileSync(join(tree, "libmultipath/checkers/Makefile"), "utf8")).toMatch(/libchecktur\.so \\\n\tlibcheckfoo\.so\n$/);
		// an edit sees a file written in the same call
		applyToTree(tree, { files: { "new/x.h": "a\n" }, edits: [{ path: "new/x.h", find: "a", replace: "b" }] });
		expect(readFileSync(join(tree, "new/x.h"), "utf8")).toBe("b\n");
	});

	it("writes nothing and lists every problem: paths leaving the tree, missing files, text found 0 or 2 times", () => {
		const makefile = readFileSync(join(tree, "libmultipath/checkers/Makefile"), "utf8");
		expect(() =>
			applyToTree(tree, {
				files: { "ok.c": "x", "../escape.c": "x", "/abs.c": "x" },
				edits: [
					{ path: "libmultipath/checkers/Makefile", find: "libcheck", replace: "" },
					{ path: "libmultipath/checkers/Makefile", find: "not there", replace: "" },
					{ path: "no/such/file", find: "x", replace: "y" },
				],
			}),
		).toThrow(/nothing written[\s\S]*"\.\.\/escape\.c" leaves the tree[\s\S]*"\/abs\.c" is not a tree-relative path[\s\S]*occurs 3 times[\s\S]*occurs 0 times[\s\S]*no\/such\/file: no such file/);
		expect(existsSync(join(tree, "ok.c"))).toBe(false);
		expect(existsSync(join(scratch, "escape.c"))).toBe(false);
		expect(readFileSync(join(tree, "libmultipath/checkers/Makefile"), "utf8")).toBe(makefile);
	});
});

describe("cmocka summaries", () => {
	const out = [
		"[==========] Running 3 test(s).",
		"[ RUN      ] test_a",
		"[       OK ] test_a",
		"[ RUN      ] test_b",
		"[  FAILED  ] test_b",
		"[ RUN      ] test_c",
		"[  SKIPPED ] test_c",
		"[==========] 3 test(s) run.",
		"[  PASSED  ] 1 test(s).",
		"[  SKIPPED ] 1 test(s), listed below:",
		"[  SKIPPED ] test_c",
		"[  FAILED  ] 1 test(s), listed below:",
		"[  FAILED  ] test_b",
		"",
		" 1 FAILED TEST(S)",
		"[==========] Running 1 test(s).",
		"[ RUN      ] test_d",
		"[       OK ] test_d",
		"[==========] 1 test(s) run.",
		"[  PASSED  ] 1 test(s).",
		"",
	].join("\n");

	it("parses every group's counts and names", () => {
		expect(parseCmocka(out)).toEqual([
			{ planned: 3, run: 3, passed: 1, failed: 1, skipped: 1, passedNames: ["test_a"], failedNames: ["test_b"], skippedNames: ["test_c"] },
			{ planned: 1, run: 1, passed: 1, failed: 0, skipped: 0, passedNames: ["test_d"], failedNames: [], skippedNames: [] },
		]);
		expect(parseCmocka("no summary here\n")).toEqual([]);
	});

	it("collects the programs make test announced, from tests/<name>.out, and TESTS from tests/Makefile", () => {
		const dir = join(scratch, "ct");
		mkdirSync(join(dir, "tests"), { recursive: true });
		writeFileSync(join(dir, "tests", "alpha.out"), out);
		writeFileSync(join(dir, "tests", "Makefile"), "include ../Makefile.inc\nTESTS := alpha \\\n\t beta\nHELPERS := x.o\n");
		const p = collectTestPrograms(dir, "make[1]: Entering directory\n== running alpha-test ==\n== running beta-test ==\n");
		expect(p.map((x) => [x.name, x.run, x.passed, x.failed, x.skipped, x.groups.length])).toEqual([
			["alpha", 4, 2, 1, 1, 2],
			["beta", 0, 0, 0, 0, 0],
		]);
		expect(listTreeTests(dir)).toEqual(["alpha", "beta"]);
	});
});

describe("compiler diagnostics", () => {
	it("finds gcc's and clang's warnings and errors in a make output, and nothing in a clean one", () => {
		const out = [
			"building tur.o because of tur.c",
			"cc -c -o tur.o tur.c",
			"tur.c:42:9: warning: unused variable 'x' [-Wunused-variable]",
			"   42 |         int x;",
			"../checkers.h:7:1: error: unknown type name 'foo'",
			"make[1]: *** [Makefile:25: tur.o] Error 1",
			"In file included from tur.c:3:",
		].join("\n");
		expect(compilerDiagnostics(out)).toEqual([
			{ file: "tur.c", line: 42, column: 9, kind: "warning", message: "unused variable 'x' [-Wunused-variable]" },
			{ file: "../checkers.h", line: 7, column: 1, kind: "error", message: "unknown type name 'foo'" },
		]);
		expect(compilerDiagnostics("cc -Wall -c -o a.o a.c\nmake: Nothing to be done for 'all'.\n")).toEqual([]);
	});
});
