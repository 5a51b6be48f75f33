// `mpcheckgen patch` on Debian's 0.9.4 tree imported into a git repository
// with one commit: the series (subjects, Signed-off-by, the Generated-by
// trailer), its checks (git am reproduces every commit's tree, every commit
// builds with the tree's make, the last passes make test, clang-format and
// the 80 columns), the worktree left alone, byte-identical patches when run
// again, the cover letter of a v2 and v3, and the refusals (exit 1, the
// reason, nothing written) and usage errors (exit 2). One base tree; the
// checked run builds once in the command's own clone, the other runs are
// --no-check.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addedLines, longLines } from "../../generator/patch.ts";
import { prepareTree, type PreparedTree } from "./index.ts";

const VERSION = (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version;
const DATE = "2026-12-01T12:00:00Z";
const SUBJECTS = [
	"libmpathutil: add a generic framework for asynchronous checker threads",
	"multipath-tools tests: add a race test for the runner framework",
	"libmultipath: checkers: run the tur checker on runners",
	"libmultipath: async checkers: add the ASYNC_TEST_MAJOR test build option",
	"libmultipath: checkers: add the alua checker",
];
const N = SUBJECTS.length;
const AUTHOR = "Test Author <test@example.org>";

// the user's own git configuration plays no part: identity comes from the tree's
const gitEnv = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
const cli = (args: string[]) => spawnSync("node", [join(process.cwd(), "bin/mpcheckgen.js"), ...args], { encoding: "utf8", env: gitEnv });
const git = (dir: string, ...args: string[]) => {
	const r = spawnSync("git", ["-C", dir, ...args], { encoding: "utf8", env: gitEnv });
	if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
	return r.stdout.trim();
};
const gitOk = (dir: string, ...args: string[]) => spawnSync("git", ["-C", dir, ...args], { encoding: "utf8", env: gitEnv }).status === 0;

const scratch = mkdtempSync(join(tmpdir(), "mpcheckgen-patch-test-"));
let tree: PreparedTree | undefined;
let base = "";
let first: ReturnType<typeof cli> & { ms: number };

function patches(dir: string): Map<string, string> {
	return new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f), "utf8")]));
}

/** A clone of the base repository, with the tree's identity, for a refusal. */
function cloneOfBase(name: string): string {
	const dir = join(scratch, name);
	git(scratch, "clone", "-q", tree!.dir, dir);
	git(dir, "config", "user.name", "Test Author");
	git(dir, "config", "user.email", "test@example.org");
	return dir;
}

beforeAll(async () => {
	tree = await prepareTree("0.9.4");
	git(tree.dir, "init", "-q");
	git(tree.dir, "add", "-A");
	git(tree.dir, "-c", "user.name=Base", "-c", "user.email=base@example.org", "commit", "-qm", "multipath-tools 0.9.4 (Debian 0.9.4-3+deb12u2)");
	git(tree.dir, "config", "user.name", "Test Author");
	git(tree.dir, "config", "user.email", "test@example.org");
	base = git(tree.dir, "rev-parse", "HEAD");
	const t0 = Date.now();
	const r = cli(["patch", "--tree", tree.dir, "--out", join(scratch, "p1"), "--date", DATE]);
	first = { ...r, ms: Date.now() - t0 };
	process.stderr.write(`mpcheckgen patch (checked) took ${(first.ms / 1000).toFixed(1)} s\n`);
});
afterAll(() => {
	tree?.remove();
	rmSync(scratch, { recursive: true, force: true });
});

describe("mpcheckgen patch on Debian's 0.9.4 tree", () => {
	it("writes the five-patch series and a cover letter, and says where", () => {
		expect(first.stderr).not.toContain("check failed");
		expect(first.status, first.stderr).toBe(0);
		expect(first.stdout).toContain("multipath-tools 0.9.4 (target 0.9)");
		SUBJECTS.forEach((s, i) => expect(first.stdout).toContain(`[PATCH ${i + 1}/${N}] ${s}\n`));
		expect(first.stdout).toMatch(/libmpathutil\/runner\.c +\| +\d+ \+/);
		expect(first.stdout).toContain("mpcheckgen: 6 patches in");
		const p = patches(join(scratch, "p1"));
		expect([...p.keys()]).toEqual([
			"0000-cover-letter.patch",
			"0001-libmpathutil-add-a-generic-framework-for-asynchronou.patch",
			"0002-multipath-tools-tests-add-a-race-test-for-the-runner.patch",
			"0003-libmultipath-checkers-run-the-tur-checker-on-runners.patch",
			"0004-libmultipath-async-checkers-add-the-ASYNC_TEST_MAJOR.patch",
			"0005-libmultipath-checkers-add-the-alua-checker.patch",
		]);
	});

	it("commits the series on mpcheckgen/series on top of HEAD, leaving the worktree, index and HEAD alone", () => {
		const d = tree!.dir;
		expect(git(d, "log", "--format=%s", `${base}..mpcheckgen/series`).split("\n").reverse()).toEqual(SUBJECTS);
		expect(git(d, "rev-parse", "HEAD")).toBe(base);
		expect(git(d, "status", "--porcelain")).toBe("");
		expect(existsSync(join(d, "libmpathutil/runner.c"))).toBe(false);
		expect(git(d, "log", "-1", "--format=%an <%ae> %aI %cI", "mpcheckgen/series")).toBe(`${AUTHOR} 2026-12-01T12:00:00+00:00 2026-12-01T12:00:00+00:00`);
		// every file of the tree layout, in the commit that owns it
		const files = (i: number) => git(d, "diff", "--name-only", `mpcheckgen/series~${N - i}`, `mpcheckgen/series~${N - 1 - i}`).split("\n");
		expect(files(0)).toEqual(["libmpathutil/Makefile", "libmpathutil/libmpathutil.version", "libmpathutil/runner.c", "libmpathutil/runner.h"]);
		expect(files(1)).toEqual(["tests/Makefile", "tests/runner-test.sh", "tests/runner.c"]);
		expect(files(2)).toEqual([
			"libmultipath/checkers/Makefile",
			"libmultipath/checkers/async_checker.c",
			"libmultipath/checkers/async_checker.h",
			"libmultipath/checkers/sg_answer.c",
			"libmultipath/checkers/sg_answer.h",
			"libmultipath/checkers/tur.c",
		]);
		expect(files(3)).toEqual(["libmultipath/checkers/async_checker.c"]);
		expect(files(4)).toEqual(["libmultipath/checkers/Makefile", "libmultipath/checkers/alua.c", "multipath/multipath.conf.5"]);
		// the script is executable: the tests Makefile runs it as ./runner-test.sh
		expect(git(d, "ls-tree", "mpcheckgen/series", "tests/runner-test.sh")).toMatch(/^100755 blob /);
		// the test build option is a commit of its own
		expect(git(d, "show", "mpcheckgen/series~2:libmultipath/checkers/async_checker.c")).not.toContain("ASYNC_TEST_MAJOR");
		expect(git(d, "show", "mpcheckgen/series~1:libmultipath/checkers/async_checker.c")).toContain("#ifdef ASYNC_TEST_MAJOR\n");
		expect(git(d, "show", "mpcheckgen/series~1:libmultipath/checkers/Makefile")).toContain("\nlibchecktur.so: async_checker.o sg_answer.o\n");
		expect(git(d, "show", "mpcheckgen/series:libmultipath/checkers/Makefile")).toContain("\nlibchecktur.so libcheckalua.so: async_checker.o sg_answer.o\n");
	});

	it("every patch: [PATCH k/3] subject, a body, the Generated-by trailer naming its specs, Signed-off-by from git config", () => {
		const p = [...patches(join(scratch, "p1")).values()].slice(1);
		const specs = ["specs/runner.ts", "specs/runner.ts", "specs/runner.ts, specs/tur.ts", "specs/runner.ts", "specs/alua.ts"];
		p.forEach((text, i) => {
			// format-patch folds a long Subject: header
			const headers = text.slice(0, text.indexOf("\n\n")).replace(/\n /g, " ");
			expect(headers).toContain(`\nSubject: [PATCH ${i + 1}/${N}] ${SUBJECTS[i]}`);
			expect(text).toContain(`\nFrom: ${AUTHOR}\n`);
			const msg = text.slice(text.indexOf("\n\n") + 2, text.indexOf("\n---\n"));
			expect(msg.split("\n\n").length, `body of ${i + 1}`).toBeGreaterThanOrEqual(3);
			expect(msg.endsWith(`\n\nGenerated-by: mpcheckgen ${VERSION} from ${specs[i]}\nSigned-off-by: ${AUTHOR}`), msg).toBe(true);
			for (const l of msg.split("\n")) expect(l.length, l).toBeLessThanOrEqual(75);
		});
		expect(p[0]).toContain("LIBMPATHUTIL_1.2");
	});

	it("the cover letter: what and why, one line per patch, the diffstat, the base commit", () => {
		const c = patches(join(scratch, "p1")).get("0000-cover-letter.patch")!;
		expect(c).not.toContain("***");
		expect(c.replace(/\n /g, " ")).toContain("Subject: [PATCH 0/5] multipath-tools: checker threads on a generic runner framework (tur, alua)\n");
		expect(c.replace(/\n/g, " ")).toContain("This series adds a generic framework for running path checker commands in detached threads");
		SUBJECTS.forEach((s, i) => expect(c).toContain(`\n0${i + 1}: ${s}\n`));
		expect(c).toMatch(/ 15 files changed, \d+ insertions\(\+\), \d+ deletions\(-\)/);
		expect(c).toContain(`base-commit: ${base}`);
		expect(c).not.toContain("Changes v1");
	});

	it("checked the series: git am reproduces every commit's tree, every commit builds, the last passes make test, clang-format", () => {
		for (let k = 1; k <= N; k++) {
			expect(first.stdout).toMatch(new RegExp(`check: ${k}/${N} git am onto the base reproduces the commit's tree: ok`));
			expect(first.stdout).toMatch(new RegExp(`check: ${k}/${N} builds \\(make -j2\\): ok, compiled [^(]+\\(\\d+\\.\\d s\\)`));
			expect(first.stdout).toMatch(new RegExp(`check: ${k}/${N} clang-format \\(mpcheckgen's \\.clang-format\\) leaves the added C lines as they are: ok`));
			expect(first.stdout).toMatch(new RegExp(`check: ${k}/${N} added lines fit in 80 columns \\(string literals aside\\): ok \\(`));
		}
		expect(first.stdout).toMatch(/check: 5\/5 passes make test: ok \(\d+\.\d s\)/);
		// each build compiled the commit's own C files (a test program with the tests Makefile)
		expect(first.stdout).toContain("check: 1/5 builds (make -j2): ok, compiled libmpathutil/runner.c (");
		expect(first.stdout).toContain("check: 2/5 builds (make -j2): ok, compiled tests/runner.c (");
		expect(first.stdout).toContain(
			"check: 3/5 builds (make -j2): ok, compiled libmultipath/checkers/async_checker.c, libmultipath/checkers/sg_answer.c, libmultipath/checkers/tur.c (",
		);
		expect(first.stdout).toContain("check: 4/5 builds (make -j2): ok, compiled libmultipath/checkers/async_checker.c (");
		expect(first.stdout).toContain("check: 5/5 builds (make -j2): ok, compiled libmultipath/checkers/alua.c (");
	});

	it("git am of the written series onto the base (done here again, independently) gives the branch's tree", () => {
		const dir = cloneOfBase("am");
		git(dir, "checkout", "-q", "--detach", base);
		const files = [...patches(join(scratch, "p1")).keys()].slice(1).map((f) => join(scratch, "p1", f));
		git(dir, "am", "-q", ...files);
		expect(git(dir, "rev-parse", "HEAD^{tree}")).toBe(git(tree!.dir, "rev-parse", "mpcheckgen/series^{tree}"));
		expect(git(dir, "log", "--format=%s", `${base}..HEAD`).split("\n").reverse()).toEqual(SUBJECTS);
	});

	it("no added line of any patch is over 80 columns (string literals aside), as the check said", () => {
		const p = [...patches(join(scratch, "p1")).values()].slice(1);
		expect(p.length).toBe(N);
		p.forEach((text) => expect(longLines(text)).toEqual([]));
		expect(first.stdout).not.toContain("with a warning");
	});

	it("run again with the same options: byte-identical patches, the same commits", () => {
		const tip = git(tree!.dir, "rev-parse", "mpcheckgen/series");
		const r = cli(["patch", "--tree", tree!.dir, "--out", join(scratch, "p2"), "--date", DATE, "--no-check"]);
		expect(r.status, r.stderr).toBe(0);
		expect(r.stdout).toContain("checks: skipped (--no-check)");
		expect(patches(join(scratch, "p2"))).toEqual(patches(join(scratch, "p1")));
		expect(git(tree!.dir, "rev-parse", "mpcheckgen/series")).toBe(tip);
		// into the same directory again: the old patches replaced, the same bytes
		const again = cli(["patch", "--tree", tree!.dir, "--out", join(scratch, "p2"), "--date", DATE, "--no-check"]);
		expect(again.status, again.stderr).toBe(0);
		expect(patches(join(scratch, "p2"))).toEqual(patches(join(scratch, "p1")));
	});

	it("without --date the commits take the base commit's date", () => {
		const r = cli(["patch", "--tree", tree!.dir, "--out", join(scratch, "p3"), "--no-check", "--branch", "mpcheckgen/undated"]);
		expect(r.status, r.stderr).toBe(0);
		expect(git(tree!.dir, "log", "-1", "--format=%aI %cI", "mpcheckgen/undated")).toBe(
			`${git(tree!.dir, "log", "-1", "--format=%cI", base)} ${git(tree!.dir, "log", "-1", "--format=%cI", base)}`,
		);
	});

	it("--checkers alua: the runner and its race test, then alua with the glue, then the test build option; tur untouched", () => {
		const r = cli(["patch", "--tree", tree!.dir, "--checkers", "alua", "--out", join(scratch, "p4"), "--no-check", "--branch", "mpcheckgen/alua"]);
		expect(r.status, r.stderr).toBe(0);
		expect(git(tree!.dir, "log", "--format=%s", `${base}..mpcheckgen/alua`).split("\n").reverse()).toEqual([SUBJECTS[0], SUBJECTS[1], SUBJECTS[4], SUBJECTS[3]]);
		expect(git(tree!.dir, "diff", "--name-only", base, "mpcheckgen/alua")).not.toContain("tur.c");
		expect(git(tree!.dir, "diff", "--name-only", "mpcheckgen/alua~2", "mpcheckgen/alua~1")).toContain("libmultipath/checkers/async_checker.c");
		expect(git(tree!.dir, "diff", "--name-only", "mpcheckgen/alua~1", "mpcheckgen/alua")).toBe("libmultipath/checkers/async_checker.c");
	});

	it("v2 with --changes: [PATCH v2 k/5] and a Changes v1 -> v2 section; v3 without: a placeholder and a warning", () => {
		const changes = join(scratch, "changes.txt");
		writeFileSync(changes, "03/05: tur: keep the transitioning message (based on the review by Ben Marzinski)\n");
		const v2 = cli(["patch", "--tree", tree!.dir, "--out", join(scratch, "v2"), "--date", DATE, "--no-check", "--subject-prefix", "PATCH v2", "--changes", changes]);
		expect(v2.status, v2.stderr).toBe(0);
		const p = patches(join(scratch, "v2"));
		expect(p.get("0000-cover-letter.patch")).toContain("\nSubject: [PATCH v2 0/5] ");
		expect(p.get("0000-cover-letter.patch")).toContain("\nChanges v1 -> v2:\n\n03/05: tur: keep the transitioning message (based on the review by Ben Marzinski)\n");
		expect(p.get("0003-libmultipath-checkers-run-the-tur-checker-on-runners.patch")!.replace(/\n /g, " ")).toContain(`Subject: [PATCH v2 3/5] ${SUBJECTS[2]}`);
		expect(v2.stderr).not.toContain("warning");
		const v3 = cli(["patch", "--tree", tree!.dir, "--out", join(scratch, "v3"), "--date", DATE, "--no-check", "--subject-prefix", "PATCH v3"]);
		expect(v3.status, v3.stderr).toBe(0);
		expect(v3.stderr).toContain("mpcheckgen: warning: v3 without --changes FILE");
		expect(patches(join(scratch, "v3")).get("0000-cover-letter.patch")).toContain("\nChanges v1 -> v3:\n\n*** CHANGES SINCE THE LAST VERSION HERE ***\n");
	});
});

describe("mpcheckgen patch refuses, writing nothing", () => {
	function refused(dir: string, args: string[], message: string) {
		const out = join(scratch, `refused-${Math.random().toString(36).slice(2)}`);
		const r = cli(["patch", "--tree", dir, "--out", out, "--no-check", ...args]);
		expect(r.stderr).toContain(message);
		expect(r.stderr).toContain("nothing written");
		expect(r.status).toBe(1);
		expect(existsSync(out)).toBe(false);
		if (gitOk(dir, "rev-parse", "--git-dir")) expect(gitOk(dir, "rev-parse", "--verify", "-q", "refs/heads/mpcheckgen/series")).toBe(false);
		return r;
	}
	it("a directory that is not a git worktree", async () => {
		const t = await prepareTree("0.9.4");
		try {
			refused(t.dir, [], "not a git worktree");
		} finally {
			t.remove();
		}
	});
	it("a release it does not know", () => {
		const d = cloneOfBase("release");
		const v = join(d, "libmultipath/version.h");
		writeFileSync(v, readFileSync(v, "utf8").replace("0x000904", "0x000B01"));
		git(d, "commit", "-qam", "0.11.1");
		refused(d, [], "multipath-tools 0.11.1 (VERSION_CODE 0x000B01) is not a release the tree layout knows");
	});
	it("uncommitted changes in the tree", () => {
		const d = cloneOfBase("dirty");
		writeFileSync(join(d, "README.md"), "local change\n");
		refused(d, [], "uncommitted changes in README.md");
	});
	it("git user.name or user.email unset", () => {
		const d = cloneOfBase("noname");
		git(d, "config", "--unset", "user.name");
		refused(d, [], "git user.name is not set (needed for the author and Signed-off-by");
		git(d, "config", "user.name", "Test Author");
		git(d, "config", "--unset", "user.email");
		refused(d, [], "git user.email is not set");
	});
	it("a new checker the tree already has under that name (alua); tur is the one the series replaces", () => {
		const d = cloneOfBase("alua");
		writeFileSync(join(d, "libmultipath/checkers/alua.c"), "/* someone else's alua */\n");
		git(d, "add", "libmultipath/checkers/alua.c");
		git(d, "commit", "-qm", "alua");
		refused(d, [], "the tree already has a checker named alua (libmultipath/checkers/alua.c)");
		const onlyTur = cli(["patch", "--tree", d, "--checkers", "tur", "--out", join(scratch, "only-tur"), "--no-check"]);
		expect(onlyTur.status, onlyTur.stderr).toBe(0);
	});
	it("a series whose checks fail: every failure printed with what failed, exit 1, no branch, no patches", () => {
		const d = cloneOfBase("broken");
		// the tree's make fails at once: every build check and make test fail
		writeFileSync(join(d, "Makefile"), `$(error broken on purpose)\n${readFileSync(join(d, "Makefile"), "utf8")}`);
		git(d, "commit", "-qam", "break the build");
		const out = join(scratch, "broken-out");
		const r = cli(["patch", "--tree", d, "--out", out, "--date", DATE]);
		expect(r.status).toBe(1);
		for (let k = 1; k <= N; k++) {
			expect(r.stderr).toContain(`mpcheckgen: check failed: ${k}/${N} builds (make -j2): make -j2 exited 2:`);
			expect(r.stderr).not.toContain(`check failed: ${k}/${N} git am`);
		}
		expect(r.stderr).toContain("mpcheckgen: check failed: 5/5 passes make test: make -j2 test exited 2:");
		expect(r.stderr).toContain("Makefile:1: *** broken on purpose.  Stop.");
		expect(r.stderr).toMatch(/mpcheckgen: \d+ checks of the series failed; nothing written \(no branch, no patches\)/);
		expect(existsSync(out)).toBe(false);
		expect(gitOk(d, "rev-parse", "--verify", "-q", "refs/heads/mpcheckgen/series")).toBe(false);
	});
	it("usage errors exit 2", () => {
		const d = tree!.dir;
		const usage = (args: string[], message: string) => {
			const r = cli(["patch", ...args]);
			expect(r.stderr).toContain(message);
			expect(r.status).toBe(2);
		};
		usage(["--out", join(scratch, "u")], "required option '--tree <dir>' not specified");
		usage(["--tree", d, "--checkers", "nosuch", "--out", join(scratch, "u")], "--checkers: no embedded checker spec for 0.9 named nosuch (known: alua, cciss_tur, directio, emc_clariion, hp_sw, rdac, readsector0, tur)");
		usage(["--tree", d, "--date", "yesterday", "--out", join(scratch, "u")], "--date yesterday: not an ISO 8601 date");
		usage(["--tree", d, "--changes", "/dev/null", "--out", join(scratch, "u")], '--changes goes with --subject-prefix "PATCH vN", N ≥ 2');
		usage(["--tree", d, "--long-lines", "maybe"], "argument 'maybe' is invalid");
		expect(existsSync(join(scratch, "u"))).toBe(false);
	});
});

describe("the column and added-line parsers", () => {
	it("counts tabs as 8 columns, skips string literals and the signature", () => {
		const patch = [
			"diff --git a/x.c b/x.c",
			"--- a/x.c",
			"+++ b/x.c",
			"@@ -1,2 +10,3 @@",
			" kept",
			`+\t\t\t${"a".repeat(57)}`,
			`+\t\t\t${"a".repeat(56)}`,
			`+\tcondlog(2, "${"b".repeat(80)}");`,
			"-removed",
			"-- ",
			`+${"c".repeat(100)}`,
		].join("\n");
		expect([...addedLines(patch).get("x.c")!.map((l) => l.line)]).toEqual([11, 12, 13]);
		expect(longLines(patch)).toEqual(["x.c:11: 81 columns"]);
	});
});
