// Working copies of Debian's multipath-tools tree: a fresh copy of the
// cached pristine tree per test file, files and edits applied to it, the
// tree's own `make` and `make test`, and the cmocka summaries of the latter.
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from "node:path";
import { ensureHostPackages } from "../support/host-packages.ts";
import { ensureSourceTree, readVersionCode, TREE_BUILD_PACKAGES, type TreeRelease } from "./debian.ts";
import { CommandError, fmtSeconds, progress, runChecked, type CommandResult } from "./exec.ts";

export interface PreparedTree {
	/** the working copy: build, edit and test here */
	dir: string;
	release: TreeRelease;
	/** VERSION_CODE of libmultipath/version.h */
	versionCode: number;
	/** deletes the working copy (kept when MPCHECKGEN_KEEP_TREES=1) */
	remove(): void;
}

/**
 * A fresh working copy of the pristine Debian tree of `release` (fetched and
 * cached on first use), in a new directory under the system temp dir. Copying
 * takes well under a second; the copy shares nothing with the cache, so
 * writing into it never alters the pristine tree.
 */
export async function prepareTree(release: string = "0.9.4"): Promise<PreparedTree> {
	const src = await ensureSourceTree(release);
	const dir = mkdtempSync(join(tmpdir(), `mpcheckgen-tree-${src.release.release}-`));
	await runChecked("cp", ["-a", "--", `${src.pristine}/.`, dir], { what: "copying the pristine tree" });
	const keep = process.env.MPCHECKGEN_KEEP_TREES === "1";
	return {
		dir,
		release: src.release,
		versionCode: readVersionCode(dir),
		remove() {
			if (keep) progress(`keeping ${dir} (MPCHECKGEN_KEEP_TREES=1)`);
			else rmSync(dir, { recursive: true, force: true });
		},
	};
}

/** A textual edit of one tree file: `find` must occur exactly once. */
export interface TreeEdit {
	path: string;
	find: string;
	replace: string;
}

export interface TreeChanges {
	/** tree-relative path → new content (new files or replacements) */
	files?: Map<string, string | Buffer> | Record<string, string | Buffer>;
	/** edits of existing files, applied in order after `files` are written */
	edits?: readonly TreeEdit[];
}

/** The absolute path of `rel` inside `dir`; throws for absolute paths and paths leaving the tree. */
export function treePath(dir: string, rel: string): string {
	if (rel === "" || isAbsolute(rel)) throw new Error(`mpcheckgen tree: ${JSON.stringify(rel)} is not a tree-relative path`);
	const p = resolve(dir, normalize(rel));
	const r = relative(dir, p);
	if (r === "" || r.startsWith(`..${sep}`) || r === ".." || isAbsolute(r)) {
		throw new Error(`mpcheckgen tree: ${JSON.stringify(rel)} leaves the tree`);
	}
	return p;
}

function occurrences(text: string, find: string): number {
	let n = 0;
	for (let i = text.indexOf(find); i >= 0; i = text.indexOf(find, i + find.length)) n++;
	return n;
}

/**
 * Writes files into a tree and applies edits. Everything is checked first
 * (paths inside the tree, every edit's `find` occurring exactly once, counting
 * earlier edits and written files); on any problem nothing is written and the
 * error lists every problem.
 */
export function applyToTree(dir: string, changes: TreeChanges): void {
	const files = changes.files instanceof Map ? [...changes.files] : Object.entries(changes.files ?? {});
	const problems: string[] = [];
	const next = new Map<string, string | Buffer>(); // absolute path → content to write
	for (const [rel, content] of files) {
		try {
			next.set(treePath(dir, rel), content);
		} catch (e) {
			problems.push((e as Error).message);
		}
	}
	for (const e of changes.edits ?? []) {
		let p: string;
		try {
			p = treePath(dir, e.path);
		} catch (err) {
			problems.push((err as Error).message);
			continue;
		}
		const pending = next.get(p);
		const text = pending !== undefined ? pending.toString() : existsSync(p) ? readFileSync(p, "utf8") : undefined;
		if (text === undefined) {
			problems.push(`edit of ${e.path}: no such file in the tree`);
			continue;
		}
		const n = occurrences(text, e.find);
		if (e.find === "" || n !== 1) {
			problems.push(`edit of ${e.path}: the text to replace occurs ${e.find === "" ? "(empty)" : `${n} times`}, not once: ${JSON.stringify(e.find.slice(0, 80))}`);
			continue;
		}
		next.set(p, text.replace(e.find, () => e.replace));
	}
	if (problems.length > 0) throw new Error(`mpcheckgen tree: nothing written to ${dir}:\n  ${problems.join("\n  ")}`);
	for (const [p, content] of next) {
		mkdirSync(dirname(p), { recursive: true });
		writeFileSync(p, content);
	}
}

export interface MakeOptions {
	/** make -jN (default 2: the machines have 2 cores) */
	jobs?: number;
	/** extra make arguments, e.g. ["CC=clang-19"] */
	makeArgs?: string[];
	/** environment additions; CFLAGS, CPPFLAGS, LDFLAGS and make's own variables are dropped from the inherited one */
	env?: Record<string, string>;
}

export interface MakeResult extends CommandResult {
	/** the make command line */
	command: string[];
}

function makeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = { ...process.env };
	for (const k of ["MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "CFLAGS", "CPPFLAGS", "LDFLAGS"]) delete env[k];
	return { ...env, LC_ALL: "C", ...extra };
}

async function make(dir: string, targets: string[], what: string, opts: MakeOptions): Promise<MakeResult> {
	ensureHostPackages(TREE_BUILD_PACKAGES);
	const jobs = opts.jobs ?? 2;
	if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`mpcheckgen tree: invalid job count ${jobs}`);
	const args = [`-j${jobs}`, ...(opts.makeArgs ?? []), ...targets];
	progress(`${what}: make ${args.join(" ")} in ${dir}`);
	const r = await runChecked("make", args, { cwd: dir, env: makeEnv(opts.env), what, tailLines: 80 });
	progress(`${what}: done in ${fmtSeconds(r.ms)}`);
	return { ...r, command: ["make", ...args] };
}

/** Makes `targets` of a built tree's tests Makefile (e.g. runner-test.vgr); throws with the tail of the output on failure. */
export function makeTreeTests(dir: string, targets: string[], opts: MakeOptions = {}): Promise<MakeResult> {
	return make(join(dir, "tests"), targets, `tree make -C tests ${targets.join(" ")}`, opts);
}

/** Builds a tree with its own top-level make (`make -j2`); throws with the tail of the output on failure. */
export function buildTree(dir: string, opts: MakeOptions = {}): Promise<MakeResult> {
	return make(dir, [], "tree build", opts);
}

/**
 * prepareTree + applyToTree + buildTree in one: a fresh copy of `release`
 * with `changes` applied, built with its own make. When applying or building
 * fails the copy is removed (unless MPCHECKGEN_KEEP_TREES=1) and the error
 * is passed on; otherwise the caller removes it (tree.remove()).
 */
export async function buildTreeWith(
	changes: TreeChanges,
	opts: MakeOptions & { release?: string } = {},
): Promise<{ tree: PreparedTree; build: MakeResult }> {
	const tree = await prepareTree(opts.release ?? "0.9.4");
	try {
		applyToTree(tree.dir, changes);
		return { tree, build: await buildTree(tree.dir, opts) };
	} catch (e) {
		tree.remove();
		throw e;
	}
}

/** One compiler diagnostic in a make output ("file:line:col: warning: text [-Wflag]"). */
export interface CompilerDiagnostic {
	file: string;
	line: number;
	column: number;
	kind: "warning" | "error";
	message: string;
}

/**
 * The gcc/clang warnings and errors in a make output. The tree's flags make
 * only some warnings errors (-Werror=cast-qual …), so a build can succeed
 * with warnings: check this list too.
 */
export function compilerDiagnostics(output: string): CompilerDiagnostic[] {
	return [...output.matchAll(/^([^\s:][^:\n]*):(\d+):(\d+): (warning|error): (.*)$/gm)].map((m) => ({
		file: m[1],
		line: +m[2],
		column: +m[3],
		kind: m[4] as "warning" | "error",
		message: m[5],
	}));
}

/** One cmocka_run_group_tests() summary. */
export interface CmockaGroup {
	/** "Running N test(s)." */
	planned: number;
	/** "N test(s) run." */
	run: number;
	passed: number;
	failed: number;
	skipped: number;
	passedNames: string[];
	failedNames: string[];
	skippedNames: string[];
}

export interface TestProgram {
	/** e.g. "uevent" for tests/uevent-test */
	name: string;
	/** tests/<name>.out, where the tree's make test writes the program's output */
	outFile: string;
	groups: CmockaGroup[];
	run: number;
	passed: number;
	failed: number;
	skipped: number;
}

export interface TreeTestResult extends MakeResult {
	/** the programs make test ran, in the order it announced them */
	programs: TestProgram[];
	totals: { programs: number; groups: number; run: number; passed: number; failed: number; skipped: number };
}

const COUNT = (tag: string) => new RegExp(`^\\[  ${tag}\\s*\\] (\\d+) test\\(s\\)`);

/** Parses cmocka's output: one entry per test group, from its summary lines. */
export function parseCmocka(text: string): CmockaGroup[] {
	const groups: CmockaGroup[] = [];
	let g: CmockaGroup | undefined;
	let summary = false;
	for (const line of text.split("\n")) {
		let m = /^\[==========\] Running (\d+) test\(s\)\./.exec(line);
		if (m) {
			g = { planned: +m[1], run: 0, passed: 0, failed: 0, skipped: 0, passedNames: [], failedNames: [], skippedNames: [] };
			groups.push(g);
			summary = false;
			continue;
		}
		if (!g) continue;
		if ((m = /^\[==========\] (\d+) test\(s\) run\./.exec(line))) {
			g.run = +m[1];
			summary = true;
		} else if ((m = COUNT("PASSED").exec(line)) && summary) g.passed = +m[1];
		else if ((m = COUNT("FAILED").exec(line)) && summary) g.failed = +m[1];
		else if ((m = COUNT("SKIPPED").exec(line)) && summary) g.skipped = +m[1];
		else if ((m = /^\[       OK \] (\S+)/.exec(line)) && !summary) g.passedNames.push(m[1]);
		else if ((m = /^\[  FAILED  \] (\S+)$/.exec(line)) && summary) g.failedNames.push(m[1]);
		else if ((m = /^\[  SKIPPED \] (\S+)$/.exec(line)) && summary) g.skippedNames.push(m[1]);
	}
	return groups;
}

function sum<T>(xs: T[], f: (x: T) => number): number {
	return xs.reduce((a, x) => a + f(x), 0);
}

/** The programs a make test output announced ("== running X-test =="), with their parsed .out files. */
export function collectTestPrograms(dir: string, makeOutput: string): TestProgram[] {
	const names = [...makeOutput.matchAll(/^== running (\S+)-test ==$/gm)].map((m) => m[1]);
	return names.map((name) => {
		const outFile = join(dir, "tests", `${name}.out`);
		const groups = existsSync(outFile) ? parseCmocka(readFileSync(outFile, "utf8")) : [];
		return {
			name,
			outFile,
			groups,
			run: sum(groups, (g) => g.run),
			passed: sum(groups, (g) => g.passed),
			failed: sum(groups, (g) => g.failed),
			skipped: sum(groups, (g) => g.skipped),
		};
	});
}

/** The test programs tests/Makefile lists in TESTS (what make test should run). */
export function listTreeTests(dir: string): string[] {
	const text = readFileSync(join(dir, "tests", "Makefile"), "utf8").replace(/\\\n/g, " ");
	const m = /^TESTS\s*:?=(.*)$/m.exec(text);
	if (!m) throw new Error(`mpcheckgen tree: ${join(dir, "tests", "Makefile")} sets no TESTS`);
	return m[1].trim().split(/\s+/);
}

/**
 * Runs the tree's own `make test` (cmocka unit tests; builds what is missing
 * first). Resolves with the make output and every program's cmocka summaries;
 * throws with the tail of the output (make prints a failing program's .out)
 * when a test fails.
 */
export async function runTreeTests(dir: string, opts: MakeOptions = {}): Promise<TreeTestResult> {
	let r: MakeResult;
	try {
		r = await make(dir, ["test"], "tree make test", opts);
	} catch (e) {
		if (e instanceof CommandError) {
			const bad = collectTestPrograms(dir, e.result.output).filter((p) => p.failed > 0 || p.groups.length === 0);
			if (bad.length > 0) e.message += `\n--- programs with failures or no summary: ${bad.map((p) => p.name).join(", ")}`;
		}
		throw e;
	}
	const programs = collectTestPrograms(dir, r.output);
	const groups = programs.flatMap((p) => p.groups);
	return {
		...r,
		programs,
		totals: {
			programs: programs.length,
			groups: groups.length,
			run: sum(groups, (g) => g.run),
			passed: sum(groups, (g) => g.passed),
			failed: sum(groups, (g) => g.failed),
			skipped: sum(groups, (g) => g.skipped),
		},
	};
}

export interface TreeArtifacts {
	/** libmultipath, libmpathutil and libmpathcmd build directories, for LD_LIBRARY_PATH */
	libDirs: string[];
	libmultipath: string;
	libmpathutil: string;
	/** checker name → libmultipath/checkers/libcheck<name>.so */
	checkers: Record<string, string>;
}

/** Where a built tree keeps its libraries and checker plugins. */
export function treeArtifacts(dir: string): TreeArtifacts {
	const real = realpathSync(dir);
	const checkersDir = join(real, "libmultipath", "checkers");
	const checkers: Record<string, string> = {};
	for (const f of readdirSync(checkersDir).sort()) {
		const m = /^libcheck(\w+)\.so$/.exec(f);
		if (m) checkers[m[1]] = join(checkersDir, f);
	}
	const a = {
		libDirs: ["libmultipath", "libmpathutil", "libmpathcmd"].map((d) => join(real, d)),
		libmultipath: join(real, "libmultipath", "libmultipath.so.0"),
		libmpathutil: join(real, "libmpathutil", "libmpathutil.so.0"),
		checkers,
	};
	for (const f of [a.libmultipath, a.libmpathutil]) {
		if (!existsSync(f)) throw new Error(`mpcheckgen tree: ${f} is missing: was the tree built (buildTree)?`);
	}
	return a;
}
