// `mpcheckgen patch`: the tree layout as a patch series. The commits are
// made with git plumbing (a private index, hash-object, commit-tree), so the
// worktree, its index and its HEAD are never touched; the series is checked
// in a temporary clone (git am of every patch, the same tree as the commit,
// make at each step, make test at the end) and only then are the branch
// and the patch files written. Same specs, tree and options: the same
// commits (dates from --date or the base commit) and byte-identical patches.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import type { SeriesCommit } from "./emit/series.ts";
import type { TreeOptions, TreeRelease } from "./emit/tree.ts";
import { embeddedSpecs, TreeError } from "./generate.ts";
import { loadSpecs } from "./load.ts";
import type { CheckerModel, SpecModel } from "./model/types.ts";
import { EMBEDDED_RUNNER_SPEC, PACKAGE_ROOT } from "./paths.ts";

export const DEFAULT_PATCH_DIR = "patches";
export const DEFAULT_BRANCH = "mpcheckgen/series";
export { RELEASE_CHECKERS, REPLACED_CHECKERS } from "./emit/tree.ts";
import { RELEASE_CHECKERS, REPLACED_CHECKERS } from "./emit/tree.ts";

/** Bad options found only once the specs are loaded (an unknown checker): a usage error, exit 2. */
export class PatchUsageError extends Error {
	override name = "PatchUsageError";
}

/** One or more checks of the series failed: each failure says what. Nothing is written. */
export class PatchCheckError extends Error {
	override name = "PatchCheckError";
	constructor(
		readonly failures: readonly string[],
		readonly checks: readonly PatchCheck[],
	) {
		super(`${failures.length} check${failures.length === 1 ? "" : "s"} of the series failed`);
	}
}

export interface PatchOptions {
	tree: string;
	/** Checker names among the embedded specs (default: every embedded checker for the release). */
	checkers?: string[];
	out?: string;
	branch?: string;
	/** e.g. "PATCH v2" (default "PATCH"). */
	subjectPrefix?: string;
	/** A file with the changes since v1 (for a prefix with vN, N ≥ 2). */
	changes?: string;
	/** ISO 8601 date for every commit and the cover letter (default: the base commit's committer date). */
	date?: string;
	/** Run the checks (default true). */
	check?: boolean;
	/** Added lines over 80 columns: a failure (default) or a warning. */
	longLines?: "fail" | "warn";
	cwd?: string;
	/** Progress lines (default: none). */
	progress?: (msg: string) => void;
}

export interface PatchCheck {
	/** What was checked, e.g. "1/3 builds (make -j2)". */
	readonly what: string;
	readonly ok: boolean;
	readonly ms: number;
	readonly detail?: string;
	/** Passed, but with this warning (long lines with --long-lines warn). */
	readonly warning?: string;
	/** What a passed check saw, e.g. the files a build compiled. */
	readonly note?: string;
}

export interface PatchCommit {
	readonly hash: string;
	readonly subject: string;
	readonly files: readonly string[];
	/** git diff --stat of the commit. */
	readonly diffstat: string;
	/** The patch file's name in the output directory. */
	readonly patch: string;
}

export interface PatchResult {
	release: TreeRelease;
	base: string;
	baseSubject: string;
	branch: string;
	tip: string;
	commits: PatchCommit[];
	cover: string;
	outDir: string;
	models: SpecModel[];
	checks: PatchCheck[];
	warnings: string[];
	/** Fixes of the release's known defects that are not in the series, each with the reason. */
	skippedFixes: string[];
}

function sh(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): SpawnSyncReturns<string> {
	return spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 512 * 1024 * 1024, ...opts });
}

function git(dir: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): string {
	const r = sh("git", ["-C", dir, ...args], opts);
	if (r.error) throw new Error(`cannot run git: ${r.error.message}`);
	if (r.status !== 0) throw new Error(`git ${args.join(" ")} failed in ${dir} (exit ${r.status}): ${r.stderr.trim()}`);
	return r.stdout;
}

function gitTry(dir: string, args: readonly string[]): string | undefined {
	const r = sh("git", ["-C", dir, ...args]);
	return r.status === 0 ? r.stdout.trim() : undefined;
}

function packageVersion(): string {
	return (JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;
}

/** The version N of a subject prefix "PATCH vN" (1 without a vN). */
export function prefixVersion(prefix: string): number {
	const m = /(?:^|\s)v(\d+)(?:\s|$)/.exec(prefix);
	return m ? parseInt(m[1], 10) : 1;
}

/** make's environment: the inherited flags dropped (the tree's own decide), LC_ALL=C. */
function makeEnv(): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: "C" };
	for (const k of ["CFLAGS", "CPPFLAGS", "LDFLAGS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"]) delete env[k];
	return env;
}

function tailOf(text: string, n: number): string {
	const l = text.replace(/\n$/, "").split("\n");
	return l.slice(Math.max(0, l.length - n)).join("\n");
}

/** Display width of a line, tabs to 8. */
function columns(line: string): number {
	let col = 0;
	for (const ch of line) col = ch === "\t" ? (Math.floor(col / 8) + 1) * 8 : col + 1;
	return col;
}

/** The added lines of a patch, by file. */
export function addedLines(patch: string): Map<string, { line: number; text: string }[]> {
	const out = new Map<string, { line: number; text: string }[]>();
	let file: string | undefined;
	let n = 0;
	for (const l of patch.split("\n")) {
		const d = /^diff --git a\/(\S+) b\/(\S+)$/.exec(l);
		if (d) {
			file = d[2];
			continue;
		}
		const h = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(l);
		if (h) {
			n = parseInt(h[1], 10);
			continue;
		}
		if (file === undefined || l.startsWith("+++ ") || l.startsWith("--- ")) continue;
		if (l.startsWith("+")) {
			if (!out.has(file)) out.set(file, []);
			out.get(file)!.push({ line: n, text: l.slice(1) });
			n++;
		} else if (l.startsWith(" ")) n++;
		else if (l === "-- ") file = undefined; // the signature
	}
	return out;
}

/** Added lines over 80 columns that hold no string literal. */
export function longLines(patch: string): string[] {
	const out: string[] = [];
	for (const [file, lines] of addedLines(patch)) {
		for (const { line, text } of lines) {
			if (columns(text) > 80 && !text.includes('"')) out.push(`${file}:${line}: ${columns(text)} columns`);
		}
	}
	return out;
}

/** Generates the series, checks it, then writes the branch and the patches. */
export async function generatePatches(opts: PatchOptions): Promise<PatchResult> {
	const cwd = opts.cwd ?? process.cwd();
	const say = opts.progress ?? (() => undefined);
	const tree = resolve(cwd, opts.tree);
	if (!existsSync(tree) || !statSync(tree).isDirectory()) throw new TreeError(`${opts.tree}: no such directory`);
	const top = gitTry(tree, ["rev-parse", "--show-toplevel"]);
	if (top === undefined) throw new TreeError(`${opts.tree}: not a git worktree (the series is committed on top of its HEAD: git init, add and commit it first)`);
	if (realpathSync(top) !== realpathSync(tree)) throw new TreeError(`${opts.tree}: not the top of its git worktree (that is ${top})`);
	const base = gitTry(tree, ["rev-parse", "--verify", "-q", "HEAD^{commit}"]);
	if (base === undefined) throw new TreeError(`${opts.tree}: the git repository has no commit yet`);
	const baseRev: string = base;

	const { detectRelease, emitTree, TREE_INPUTS } = await import("./emit/tree.ts");
	const inputs = new Map<string, string>();
	for (const f of TREE_INPUTS) if (existsSync(join(tree, f))) inputs.set(f, readFileSync(join(tree, f), "utf8"));
	const release = detectRelease(inputs);
	if ("error" in release) throw new TreeError(`${opts.tree}: ${release.error}`);

	const dirty = git(tree, ["status", "--porcelain", "--untracked-files=no"]).split("\n").filter(Boolean);
	if (dirty.length > 0) {
		const list = dirty.map((l) => l.slice(3));
		throw new TreeError(`${opts.tree}: uncommitted changes in ${list.slice(0, 5).join(", ")}${list.length > 5 ? ` and ${list.length - 5} more` : ""} (the series goes on top of HEAD: commit or stash them first)`);
	}
	const name = gitTry(tree, ["config", "user.name"]) ?? "";
	const email = gitTry(tree, ["config", "user.email"]) ?? "";
	if (name === "" || email === "") {
		const unset = [name === "" ? "user.name" : "", email === "" ? "user.email" : ""].filter(Boolean).join(" and ");
		throw new TreeError(`${opts.tree}: git ${unset} ${unset.includes(" and ") ? "are" : "is"} not set (needed for the author and Signed-off-by: git config ${unset.split(" and ")[0]} …)`);
	}
	const branch = opts.branch ?? DEFAULT_BRANCH;
	if (gitTry(tree, ["check-ref-format", "--branch", branch]) === undefined) throw new PatchUsageError(`--branch ${branch}: not a valid branch name`);
	if (gitTry(tree, ["symbolic-ref", "-q", "--short", "HEAD"]) === branch) {
		throw new TreeError(`${opts.tree}: HEAD is on ${branch}, the branch the series is written to (check out its base first)`);
	}

	// the specs: the embedded runner and checkers, those named by --checkers
	const specs = embeddedSpecs();
	let models = await loadSpecs(specs, cwd);
	const available = models.filter((m): m is CheckerModel => m.kind === "checker" && m.targets.includes(release.target));
	let chosen: CheckerModel[];
	if (opts.checkers !== undefined) {
		const unknown = opts.checkers.filter((c) => !available.some((m) => m.name === c));
		if (unknown.length > 0) throw new PatchUsageError(`--checkers: no embedded checker spec for ${release.target} named ${unknown.join(", ")} (known: ${available.map((m) => m.name).join(", ")})`);
		chosen = opts.checkers.map((c) => available.find((m) => m.name === c)!);
	} else {
		// by default every embedded checker but those the release ships and the series does not rewrite
		const rewritten = REPLACED_CHECKERS[release.release] ?? [];
		const shipped = RELEASE_CHECKERS[release.release] ?? [];
		chosen = available.filter((m) => rewritten.includes(m.name) || !shipped.includes(m.name));
	}
	models = [...models.filter((m) => m.kind === "runner" && !release.hasRunner), ...chosen];
	if (!release.hasRunner && !models.some((m) => m.kind === "runner")) models.unshift(...(await loadSpecs([EMBEDDED_RUNNER_SPEC], cwd)));
	const replaced = REPLACED_CHECKERS[release.release] ?? [];
	for (const m of chosen) {
		const path = `libmultipath/checkers/${m.name}.c`;
		if (!existsSync(join(tree, path))) continue;
		if (!replaced.includes(m.name)) {
			throw new TreeError(`${opts.tree}: the tree already has a checker named ${m.name} (${path}); the series would add a new one under that name`);
		}
		inputs.set(path, readFileSync(join(tree, path), "utf8"));
	}

	const [{ initFormatter, formatCWithStyle, CLANG_FORMAT_FILE }, { planSeries, commitMessage, coverLetter }] = await Promise.all([
		import("./emit/format.ts"),
		import("./emit/series.ts"),
	]);
	await initFormatter();
	const emit = (ms: readonly SpecModel[], options?: TreeOptions) => emitTree(ms, release, inputs, options);
	const full = emit(models);
	const baseFiles = new Map<string, string>();
	for (const p of full.keys()) if (existsSync(join(tree, p))) baseFiles.set(p, readFileSync(join(tree, p), "utf8"));
	const untracked = git(tree, ["status", "--porcelain", "--", ...full.keys()]).split("\n").filter((l) => l.startsWith("??"));
	if (untracked.length > 0) throw new TreeError(`${opts.tree}: untracked files the series would write: ${untracked.map((l) => l.slice(3)).join(", ")}`);
	const { FIX_INPUTS, treeFixes } = await import("./emit/fixes.ts");
	const fixInputs = new Map<string, string>();
	for (const f of FIX_INPUTS) if (existsSync(join(tree, f))) fixInputs.set(f, readFileSync(join(tree, f), "utf8"));
	const fixes = treeFixes(release, fixInputs);
	const series = planSeries({ models, release, base: baseFiles, emit, fixes: fixes.commits });

	// out, changes, date: checked before anything is made
	const outDir = resolve(cwd, opts.out ?? DEFAULT_PATCH_DIR);
	if (existsSync(outDir)) {
		if (!statSync(outDir).isDirectory()) throw new TreeError(`${opts.out ?? DEFAULT_PATCH_DIR}: exists and is not a directory`);
		const other = readdirSync(outDir).filter((f) => !f.endsWith(".patch"));
		if (other.length > 0) throw new TreeError(`${opts.out ?? DEFAULT_PATCH_DIR}: holds files other than patches (${other.slice(0, 3).join(", ")}); give an empty or new directory`);
	}
	const prefix = opts.subjectPrefix ?? "PATCH";
	const version = prefixVersion(prefix);
	const warnings: string[] = [];
	let changesText: string | undefined;
	if (opts.changes !== undefined) {
		if (version < 2) throw new PatchUsageError(`--changes goes with --subject-prefix "PATCH vN", N ≥ 2 (the prefix is "${prefix}")`);
		const f = resolve(cwd, opts.changes);
		if (!existsSync(f)) throw new PatchUsageError(`--changes ${opts.changes}: no such file`);
		changesText = readFileSync(f, "utf8");
	} else if (version >= 2) {
		warnings.push(`v${version} without --changes FILE: the cover letter has a placeholder for the changes since v1; fill it in before sending`);
	}
	let date: string;
	if (opts.date !== undefined) {
		const t = Date.parse(opts.date);
		if (Number.isNaN(t)) throw new PatchUsageError(`--date ${opts.date}: not an ISO 8601 date`);
		date = `${Math.floor(t / 1000)} +0000`;
	} else date = git(tree, ["log", "-1", "--format=%cd", "--date=raw", base]).trim();

	// the commits, with a private index: the worktree is never touched
	const ident = {
		GIT_AUTHOR_NAME: name,
		GIT_AUTHOR_EMAIL: email,
		GIT_AUTHOR_DATE: date,
		GIT_COMMITTER_NAME: name,
		GIT_COMMITTER_EMAIL: email,
		GIT_COMMITTER_DATE: date,
	};
	const scratch = mkdtempSync(join(tmpdir(), "mpcheckgen-patch-"));
	try {
		const env = { ...process.env, ...ident, GIT_INDEX_FILE: join(scratch, "index") };
		git(tree, ["read-tree", base], { env });
		const generator = `mpcheckgen ${packageVersion()}`;
		const specName = (f: string) => {
			const abs = resolve(cwd, f);
			const rel = relative(PACKAGE_ROOT, abs);
			return rel.startsWith("..") || isAbsolute(rel) ? basename(abs) : rel;
		};
		let parent = base;
		const made: { hash: string; tree: string; c: SeriesCommit }[] = [];
		for (const c of series) {
			const info: string[] = [];
			for (const [path, text] of c.files) {
				const blob = git(tree, ["hash-object", "-w", "--no-filters", "--stdin"], { input: text }).trim();
				// a new script (tests/runner-test.sh) is executable, as the tree's Makefile runs it
				const mode = git(tree, ["ls-tree", parent, "--", path]).split(/\s/)[0] || (text.startsWith("#!") ? "100755" : "100644");
				info.push(`${mode} ${blob}\t${path}`);
			}
			git(tree, ["update-index", "--add", "--index-info"], { env, input: `${info.join("\n")}\n` });
			const t = git(tree, ["write-tree"], { env }).trim();
			const msg = commitMessage(c, { generator, signedOffBy: `${name} <${email}>` }, specName);
			const hash = git(tree, ["commit-tree", t, "-p", parent, "-F", "-"], { env, input: msg }).trim();
			made.push({ hash, tree: t, c });
			parent = hash;
		}
		const tip = parent;

		// the patches, into the scratch directory first
		const pdir = join(scratch, "patches");
		const fp = [
			"-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false", "-c", "format.signOff=false",
			"-c", "format.coverLetter=false", "-c", "format.thread=false", "-c", "core.abbrev=12",
			"format-patch", "--cover-letter", "--numbered", `--subject-prefix=${prefix}`, `--base=${base}`,
			`--signature=${generator}`, "--no-binary", "-o", pdir, `${base}..${tip}`,
		];
		const names = git(tree, fp, { env: { ...process.env, ...ident } })
			.split("\n")
			.filter(Boolean)
			.map((p) => basename(p));
		const coverName = names.find((n) => n.startsWith("0000-"))!;
		const cover = coverLetter(series, models, release, version >= 2 ? { version, text: changesText } : undefined);
		const coverPath = join(pdir, coverName);
		writeFileSync(
			coverPath,
			readFileSync(coverPath, "utf8").replace("*** SUBJECT HERE ***", cover.subject).replace("*** BLURB HERE ***", cover.blurb),
		);
		const patchNames = names.filter((n) => n !== coverName);
		const commits: PatchCommit[] = made.map((m, i) => ({
			hash: m.hash,
			subject: m.c.subject,
			files: [...m.c.files.keys()],
			diffstat: git(tree, ["diff", "--stat=72", `${m.hash}^`, m.hash]).replace(/\n$/, ""),
			patch: patchNames[i],
		}));

		const checks: PatchCheck[] = [];
		if (opts.check !== false) checks.push(...runChecks());
		const failures = checks.filter((c) => !c.ok).map((c) => `${c.what}: ${c.detail ?? "failed"}`);
		if (failures.length > 0) throw new PatchCheckError(failures, checks);

		// all good: the branch, then the patches
		git(tree, ["update-ref", "-m", `mpcheckgen patch: ${series.length} commits on ${base.slice(0, 12)}`, `refs/heads/${branch}`, tip]);
		mkdirSync(outDir, { recursive: true });
		for (const f of readdirSync(outDir)) if (f.endsWith(".patch")) rmSync(join(outDir, f));
		for (const n of names) writeFileSync(join(outDir, n), readFileSync(join(pdir, n)));
		return {
			release,
			base,
			baseSubject: git(tree, ["log", "-1", "--format=%s", base]).trim(),
			branch,
			tip,
			commits,
			cover: coverName,
			outDir,
			models,
			checks,
			warnings,
			skippedFixes: [...fixes.skipped],
		};

		function runChecks(): PatchCheck[] {
			const out: PatchCheck[] = [];
			const timed = (what: string, f: () => { ok: boolean; detail?: string; warning?: string; note?: string }) => {
				const t0 = performance.now();
				const r = f();
				out.push({ what, ...r, ms: Math.round(performance.now() - t0) });
				return r.ok;
			};
			const n = made.length;
			// style: 80 columns, clang-format of the tree (or ours)
			const treeStyle = join(tree, ".clang-format");
			const styleFile = existsSync(treeStyle) ? treeStyle : CLANG_FORMAT_FILE;
			// clang-format 19 (the pinned formatter) knows ReflowComments only as a
			// boolean; upstream 0.15's "Never" is its "false"
			const styleText = readFileSync(styleFile, "utf8").replace(/^(ReflowComments:\s*)Never\s*$/m, "$1false");
			made.forEach((m, i) => {
				const text = readFileSync(join(pdir, patchNames[i]), "utf8");
				timed(`${i + 1}/${n} added lines fit in 80 columns (string literals aside)`, () => {
					const long = longLines(text);
					if (long.length === 0) return { ok: true };
					return opts.longLines === "warn" ? { ok: true, warning: long.join("; ") } : { ok: false, detail: long.join("; ") };
				});
				timed(`${i + 1}/${n} clang-format (${existsSync(treeStyle) ? "the tree's" : "mpcheckgen's"} .clang-format) leaves the added C lines as they are`, () => {
					const bad: string[] = [];
					const added = addedLines(text);
					for (const [path, content] of m.c.files) {
						if (!/\.[ch]$/.test(path)) continue;
						let formatted: string;
						try {
							formatted = formatCWithStyle(content, path, styleText);
						} catch (e) {
							return { ok: false, detail: `clang-format refused ${styleFile}: ${(e as Error).message}` };
						}
						if (formatted === content) continue;
						const kept = new Set(formatted.split("\n"));
						const changed = (added.get(path) ?? []).filter((l) => !kept.has(l.text)).map((l) => `${path}:${l.line}`);
						if (changed.length > 0) bad.push(`${changed.slice(0, 5).join(", ")}${changed.length > 5 ? ` and ${changed.length - 5} more lines` : ""}`);
					}
					return bad.length === 0 ? { ok: true } : { ok: false, detail: `clang-format changes ${bad.join("; ")}` };
				});
			});
			// git am onto the base in a clone, the commit's tree, make at each step
			const clone = join(scratch, "am");
			say(`cloning the base into ${clone}`);
			git(tree, ["clone", "-q", "--shared", "--no-checkout", tree, clone]);
			git(clone, ["checkout", "-q", "--detach", baseRev]);
			for (let i = 0; i < n; i++) {
				const applied = timed(`${i + 1}/${n} git am onto the base reproduces the commit's tree`, () => {
					const r = sh("git", ["-C", clone, "-c", `user.name=${name}`, "-c", `user.email=${email}`, "am", "-q", join(pdir, patchNames[i])]);
					if (r.status !== 0) return { ok: false, detail: `git am failed: ${tailOf(r.stdout + r.stderr, 10)}` };
					const t = git(clone, ["rev-parse", "HEAD^{tree}"]).trim();
					return t === made[i].tree ? { ok: true } : { ok: false, detail: `tree ${t} after git am, the commit has ${made[i].tree}` };
				});
				if (!applied) return out;
				say(`building ${i + 1}/${n}: ${made[i].c.subject}`);
				timed(`${i + 1}/${n} builds (make -j2)`, () => {
					// V=1: trees since 0.10 print "building X.o because of X.c" and hide the compiler line otherwise
					const r = sh("nice", ["make", "-j2", "V=1"], { cwd: clone, env: makeEnv() });
					if (r.status !== 0) return { ok: false, detail: `make -j2 exited ${r.status}:\n${tailOf(r.stdout + r.stderr, 40)}` };
					const mine = [...made[i].c.files.keys()].filter((p) => p.endsWith(".c"));
					// a test program of the commit is built by the tests Makefile (tests/X.c → X-test)
					const progs = mine.filter((p) => p.startsWith("tests/")).map((p) => `${basename(p, ".c")}-test`);
					const t = progs.length > 0 ? sh("nice", ["make", "-j2", "V=1", "-C", "tests", ...progs], { cwd: clone, env: makeEnv() }) : undefined;
					if (t && t.status !== 0) return { ok: false, detail: `make -j2 -C tests ${progs.join(" ")} exited ${t.status}:\n${tailOf(t.stdout + t.stderr, 40)}` };
					// the commit's C files were compiled by this build
					const compiled = new Set([...(r.stdout + (t?.stdout ?? "")).matchAll(/ -c -o \S+\.o (\S+\.c)$/gm)].map((x) => x[1]));
					const missed = mine.filter((p) => !compiled.has(basename(p)));
					if (missed.length > 0) return { ok: false, detail: `make -j2 did not compile ${missed.join(", ")}` };
					return { ok: true, note: `compiled ${mine.join(", ") || "no C file of the commit"}` };
				});
			}
			say(`make test on ${n}/${n}`);
			timed(`${n}/${n} passes make test`, () => {
				const r = sh("nice", ["make", "-j2", "test"], { cwd: clone, env: makeEnv() });
				return r.status === 0 ? { ok: true } : { ok: false, detail: `make -j2 test exited ${r.status}:\n${tailOf(r.stdout + r.stderr, 40)}` };
			});
			return out;
		}
	} finally {
		rmSync(scratch, { recursive: true, force: true });
	}
}
