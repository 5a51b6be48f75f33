// The tree layout: the files a multipath-tools release's own tree expects,
// placed, named and written as that tree writes them, with its real headers
// and helpers, and targeted edits of its Makefiles, version script and man
// page. Pure like the plugin layout: the tree's relevant files come in as
// text, the files to write go out (path relative to the tree → content).
import { abiProfile, type AbiProfile } from "../abi/profiles.ts";
import { SpecError } from "../model/diagnostics.ts";
import type { CheckerModel, RunnerModel, SpecModel } from "../model/types.ts";
import { formatC } from "./format.ts";
import {
	asyncCheckerSources,
	checkerFile,
	RUNNER_SYMBOLS,
	runnerSources,
	runnerTestSources,
	sgHelperFiles,
	TREE_LAYOUT,
	type Header,
} from "./index.ts";

/**
 * Checkers the series (and generate --tree of the embedded specs) rewrites
 * on the runner framework where the tree has them (0.9.4's tur has thread
 * handling of its own). In a 0.15 tree the checkers already run on runners:
 * the series fixes their defects with targeted edits (emit/fixes.ts)
 * instead, and adds only new checkers.
 */
export const REPLACED_CHECKERS: Record<string, readonly string[]> = { "0.9.4": ["tur"] };

/**
 * The checkers a release ships (checkers-behaviour.md); a checker of
 * another name in the tree is someone else's. The embedded specs of these
 * (readsector0, directio, …) stay out of a tree by default: the tree keeps
 * its own, which its unit tests (tests/directio.c) build against.
 */
const UPSTREAM_CHECKERS = ["tur", "directio", "readsector0", "hp_sw", "rdac", "emc_clariion", "cciss_tur"] as const;
export const RELEASE_CHECKERS: Record<string, readonly string[]> = { "0.9.4": UPSTREAM_CHECKERS, "0.15.0": UPSTREAM_CHECKERS };

/** Whether generating the embedded specs into a tree of this release writes checker `name`. */
export function treeTakesChecker(release: string, name: string): boolean {
	return (REPLACED_CHECKERS[release] ?? []).includes(name) || !(RELEASE_CHECKERS[release] ?? []).includes(name);
}

/** A release the tree layout knows, as read from a tree. */
export interface TreeRelease {
	/** "0.9.4", "0.15.0"… from VERSION_CODE. */
	readonly release: string;
	/** The mpcheckgen target of that release. */
	readonly target: string;
	readonly versionCode: number;
	/** The tree has libmpathutil/runner.c already (0.15). */
	readonly hasRunner: boolean;
	/** The tree has libmultipath/async_checker.c already (0.15). */
	readonly hasAsyncChecker: boolean;
}

/** The files of a tree the layout reads (to detect the release, to edit, for the names headers declare). */
export const TREE_INPUTS = [
	"libmultipath/version.h",
	"libmpathutil/libmpathutil.version",
	"libmpathutil/Makefile",
	"libmultipath/checkers/Makefile",
	"multipath/multipath.conf.5",
	"multipath/multipath.conf.5.in",
	"libmultipath/checkers.h",
	"libmultipath/async_checker.h",
	"libmpathutil/runner.h",
	"libmultipath/sg_include.h",
	"libmultipath/unaligned.h",
	"libmpathutil/debug.h",
	"libmpathutil/runner.c",
	"libmultipath/async_checker.c",
	"tests/Makefile",
	"tests/runner.c",
] as const;

/** The releases the tree layout writes for, by VERSION_CODE. */
const RELEASES: Record<number, { release: string; target: string }> = {
	0x000904: { release: "0.9.4", target: "0.9" },
	0x000f00: { release: "0.15.0", target: "0.15" },
};

/** Which release a tree is, or why the tree layout cannot write into it. */
export function detectRelease(files: ReadonlyMap<string, string>): TreeRelease | { error: string } {
	const versionH = files.get("libmultipath/version.h");
	if (versionH === undefined) return { error: "no libmultipath/version.h: not a multipath-tools tree" };
	const m = /#define\s+VERSION_CODE\s+(0x[0-9a-fA-F]+)/.exec(versionH);
	if (!m) return { error: "libmultipath/version.h has no VERSION_CODE" };
	const code = parseInt(m[1], 16);
	const version = `${code >> 16}.${(code >> 8) & 0xff}.${code & 0xff}`;
	const known = RELEASES[code];
	if (!known) {
		const list = Object.values(RELEASES)
			.map((r) => r.release)
			.join(", ");
		return { error: `multipath-tools ${version} (VERSION_CODE ${m[1]}) is not a release the tree layout knows (known: ${list})` };
	}
	const script = files.get("libmpathutil/libmpathutil.version");
	if (script === undefined) return { error: "no libmpathutil/libmpathutil.version: the tree is incomplete" };
	for (const f of ["libmpathutil/Makefile", "libmultipath/checkers/Makefile", "libmultipath/checkers.h", "libmultipath/sg_include.h"]) {
		if (!files.has(f)) return { error: `no ${f}: the tree is incomplete` };
	}
	return {
		...known,
		versionCode: code,
		hasRunner: files.has("libmpathutil/runner.c"),
		hasAsyncChecker: files.has("libmultipath/async_checker.c"),
	};
}

/** Appends `obj` to the `OBJS :=` assignment of a Makefile (its continuation lines included), unless it is there. */
export function addObject(makefile: string, obj: string): string {
	const lines = makefile.split("\n");
	const start = lines.findIndex((l) => /^OBJS\s*:?=/.test(l));
	if (start < 0) throw new Error(`no OBJS assignment to add ${obj} to`);
	let end = start;
	while (lines[end].endsWith("\\")) end++;
	if (lines.slice(start, end + 1).some((l) => l.split(/\s+/).includes(obj))) return makefile;
	lines[end] = `${lines[end]} ${obj}`;
	return lines.join("\n");
}

/**
 * Adds the runner's symbols to a libmpathutil version script as its policy
 * says: additions go into a new MINOR node inheriting the last one. Symbols
 * already listed are not listed again.
 */
export function addVersionNode(script: string, symbols: readonly string[]): string {
	const listed = new Set([...script.matchAll(/^\s+(\w+);/gm)].map((m) => m[1]));
	const missing = symbols.filter((s) => !listed.has(s)).sort();
	if (missing.length === 0) return script;
	const nodes = [...script.matchAll(/^(LIBMPATHUTIL_(\d+)\.(\d+))\s*\{/gm)];
	if (nodes.length === 0) throw new Error("the version script has no LIBMPATHUTIL_X.Y node");
	const last = nodes.reduce((a, b) => (+b[2] > +a[2] || (+b[2] === +a[2] && +b[3] > +a[3]) ? b : a));
	const next = `LIBMPATHUTIL_${last[2]}.${+last[3] + 1}`;
	const node = [`${next} {`, "global:", ...missing.map((s) => `\t${s};`), `} ${last[1]};`].join("\n");
	return `${script.replace(/\n*$/, "")}\n\n${node}\n`;
}

/**
 * Adds plugins to the checkers Makefile: each to LIBS, and the objects the
 * generated plugins link besides their own.
 */
export function addCheckerPlugins(makefile: string, names: readonly string[], generated: readonly string[], objects: readonly string[]): string {
	const lines = makefile.split("\n");
	const start = lines.findIndex((l) => /^LIBS\s*:?=/.test(l));
	if (start < 0) throw new Error("the checkers Makefile has no LIBS list");
	let end = start;
	while (lines[end].endsWith("\\")) end++;
	const present = new Set(lines.slice(start, end + 1).flatMap((l) => l.split(/[\s\\=]+/)));
	const added = names.map((n) => `libcheck${n}.so`).filter((l) => !present.has(l));
	if (added.length > 0) {
		lines[end] = `${lines[end]} \\`;
		lines.splice(end + 1, 0, ...added.map((l, i) => `\t${l}${i === added.length - 1 ? "" : " \\"}`));
	}
	const rule = `${generated.map((n) => `libcheck${n}.so`).join(" ")}: ${objects.join(" ")}`;
	if (!lines.includes(rule)) {
		const pattern = lines.findIndex((l) => l.startsWith("libcheck%.so:"));
		if (pattern < 0) throw new Error("the checkers Makefile has no libcheck%.so rule");
		let after = pattern + 1;
		while (after < lines.length && lines[after].startsWith("\t")) after++;
		lines.splice(after, 0, "", "# the generated checkers run their checks in runner threads", rule);
	}
	const objs = lines.findIndex((l) => /^OBJS\s*:=/.test(l));
	const extra = `OBJS += ${objects.join(" ")}`;
	if (objs >= 0 && !lines.includes(extra)) lines.splice(objs + 1, 0, extra);
	return lines.join("\n");
}

/** The end (inclusive) of the Makefile assignment or rule recipe starting at `start`. */
function continued(lines: readonly string[], start: number): number {
	let end = start;
	while (lines[end].endsWith("\\")) end++;
	return end;
}

/**
 * Hooks the runner's race test into the tree's tests Makefile: \`runner\` in
 * TESTS (the program, run with its defaults as runner.out), its link flags,
 * and runner-test.out / runner-test.vgr, which run runner-test.sh plain and
 * under valgrind; \`make test\` runs runner-test.out too. Unchanged if the
 * Makefile has it.
 */
export function addRunnerTest(makefile: string): string {
	const lines = makefile.split("\n");
	const tests = lines.findIndex((l) => /^TESTS\s*:?=/.test(l));
	if (tests < 0) throw new Error("the tests Makefile has no TESTS list");
	const end = continued(lines, tests);
	if (lines.slice(tests, end + 1).some((l) => l.split(/[\s\\=]+/).includes("runner"))) return makefile;
	lines[end] = `${lines[end]} runner`;
	const all = lines.findIndex((l) => /^all:\s*\$\(TESTS:%=%\.out\)\s*$/.test(l));
	if (all < 0) throw new Error("the tests Makefile has no \"all: $(TESTS:%=%.out)\" rule");
	lines[all] = `${lines[all]} runner-test.out`;
	const flags = lines.reduce((last, l, i) => (/^[\w-]+-test_[A-Z]+\s*:?=/.test(l) ? i : last), -1);
	if (flags < 0) throw new Error("the tests Makefile has no XYZ-test_LIBDEPS assignments");
	lines.splice(continued(lines, flags) + 1, 0, "runner-test_LIBDEPS := -lpthread");
	const vgr = lines.findIndex((l) => l.startsWith("%.vgr:"));
	if (vgr < 0) throw new Error("the tests Makefile has no %.vgr rule");
	let after = vgr + 1;
	while (after < lines.length && lines[after].startsWith("\t")) after++;
	lines.splice(
		after,
		0,
		"",
		"runner-test.out: runner-test",
		"\t@echo == running runner-test.sh ==",
		'\t$(Q)./runner-test.sh >$@ 2>&1 || { cat "$@"; false; }',
		"",
		"runner-test.vgr: runner-test",
		"\t@echo == running runner-test.sh under valgrind ==",
		'\t$(Q)VALGRIND=1 ./runner-test.sh >$@ 2>&1 || { cat "$@"; false; }',
	);
	const clean = lines.indexOf("test_clean:");
	if (clean >= 0) lines.splice(clean + 1, 0, "\t$(Q)$(RM) runner-test.out runner-test.vgr");
	return lines.join("\n");
}

/** Adds a checker to the path_checker list of multipath.conf.5, after tur's entry, unless the list has it. */
export function addManEntry(man: string, name: string, text: string): string {
	const lines = man.split("\n");
	const section = lines.indexOf(".B path_checker");
	const end = section < 0 ? -1 : lines.indexOf(".RE", section);
	if (section < 0 || end < 0) throw new Error("multipath.conf.5 has no path_checker list");
	const list = lines.slice(section, end);
	if (list.includes(`.I ${name}`)) return man;
	const tur = list.indexOf(".I tur");
	if (tur < 0) throw new Error("the path_checker list of multipath.conf.5 has no entry for tur");
	let next = section + tur + 1;
	while (next < end && lines[next] !== ".TP") next++;
	lines.splice(next, 0, ".TP", `.I ${name}`, text);
	return lines.join("\n");
}

/** The copyright lines of a file's first comment, kept when the file is rewritten. */
export function copyrightLines(text: string | undefined): string[] {
	if (text === undefined) return [];
	const m = /^\s*(?:\/\/[^\n]*\n)*\s*\/\*([\s\S]*?)\*\//.exec(text);
	if (!m) return [];
	return m[1]
		.split("\n")
		.map((l) => l.replace(/^\s*\*?\s?/, "").trimEnd())
		.filter((l) => /copyright/i.test(l));
}

/** A man page line for a checker: its description as a sentence. */
function manText(m: CheckerModel): string {
	const d = m.description.replace(/\.$/, "");
	return `${d.charAt(0).toUpperCase()}${d.slice(1)}.`;
}

function treeHeader(copyright: string, kept: readonly string[]): Header & { copyrightLines: string[] } {
	const ours = `Copyright (c) ${copyright}`;
	return { copyright, source: "", command: "", copyrightLines: [...kept.filter((l) => l !== ours), ours] };
}

/**
 * The files to write into a tree of `tree.release` for the checkers (and the
 * runner spec, where the release has no runner). `files` holds the tree's
 * TREE_INPUTS and the existing files of the checkers by path. Throws
 * SpecError for a checker that does not list the release's target.
 */
/** Choices of the tree layout that the patch series makes commit by commit. */
export interface TreeOptions {
	/** The async checker glue with the ASYNC_TEST_MAJOR test build option (default true). */
	readonly asyncTestOption?: boolean;
}

export function emitTree(
	models: readonly SpecModel[],
	tree: TreeRelease,
	files: ReadonlyMap<string, string>,
	options: TreeOptions = {},
): Map<string, string> {
	const p: AbiProfile = abiProfile(tree.target)!;
	const checkers = models.filter((m): m is CheckerModel => m.kind === "checker");
	const runner = models.find((m): m is RunnerModel => m.kind === "runner");
	const wrong = checkers.filter((m) => !m.targets.includes(tree.target));
	if (wrong.length > 0) {
		throw new SpecError(
			wrong.map((m) => ({
				loc: m.loc,
				severity: "error" as const,
				message: `checker ${m.name} does not list target ${tree.target} (multipath-tools ${tree.release}) in its targets`,
			})),
		);
	}
	const out = new Map<string, string>();
	const set = (path: string, text: string) => out.set(path, /\.[ch]$/.test(path) ? formatC(text, path) : text);
	const header = (copyright: string, path: string) => treeHeader(copyright, copyrightLines(files.get(path)));
	const dir = "libmultipath/checkers";
	const copyright = runner?.copyright ?? checkers[0]?.copyright ?? "";
	// plugin ABI A (0.9.4): the release has no runner, so it goes into
	// libmpathutil, and the ABI A glue next to the checkers. (With a runner
	// there already, from an earlier generation, the files are written
	// again and the edits are no-ops.) Plugin ABI C (0.15): the tree has
	// the runner and the async checker framework; only checkers are added.
	const glue = p.pluginAbi === "A";
	if (glue) {
		if (!runner) throw new Error(`the tree has no runner: the runner spec is needed for ${tree.release}`);
		for (const [path, text] of runnerSources(runner, TREE_LAYOUT, header(runner.copyright, "libmpathutil/runner.c"))) set(path, text);
		set("libmpathutil/Makefile", addObject(files.get("libmpathutil/Makefile")!, "runner.o"));
		set("libmpathutil/libmpathutil.version", addVersionNode(files.get("libmpathutil/libmpathutil.version")!, RUNNER_SYMBOLS));
		for (const [path, text] of asyncCheckerSources(runner, p, TREE_LAYOUT, header(runner.copyright, `${dir}/async_checker.c`), dir, options.asyncTestOption ?? true)) {
			set(path, text);
		}
		if (files.has("tests/Makefile")) {
			for (const [path, text] of runnerTestSources(TREE_LAYOUT, header(runner.copyright, "tests/runner.c"))) set(path, text);
			set("tests/Makefile", addRunnerTest(files.get("tests/Makefile")!));
		}
	} else if (!tree.hasRunner || !tree.hasAsyncChecker) {
		throw new Error(`multipath-tools ${tree.release} should have libmpathutil/runner.c and libmultipath/async_checker.c`);
	}
	const sense = checkers[0]?.senseLength ?? 32;
	for (const [path, text] of sgHelperFiles(tree.target, sense, TREE_LAYOUT, header(copyright, `${dir}/sg_answer.c`))) set(path, text);
	const headers = [
		...["libmultipath/checkers.h", "libmultipath/sg_include.h", "libmultipath/unaligned.h", "libmpathutil/debug.h"].map((f) => files.get(f) ?? ""),
		out.get(`${dir}/sg_answer.h`)!,
		out.get(`${dir}/async_checker.h`) ?? files.get("libmultipath/async_checker.h") ?? "",
		out.get("libmpathutil/runner.h") ?? files.get("libmpathutil/runner.h") ?? "",
	];
	const errors: SpecError[] = [];
	for (const m of checkers) {
		const path = `${dir}/${m.name}.c`;
		try {
			const [, text] = checkerFile(m, p, headers, TREE_LAYOUT, header(m.copyright, path), { byteOrder: "unaligned" });
			set(path, text);
		} catch (e) {
			if (e instanceof SpecError) errors.push(e);
			else throw e;
		}
	}
	if (errors.length > 0) throw new SpecError(errors.flatMap((e) => e.diagnostics));
	set(
		`${dir}/Makefile`,
		addCheckerPlugins(
			files.get(`${dir}/Makefile`)!,
			checkers.map((m) => m.name),
			checkers.map((m) => m.name),
			glue ? ["async_checker.o", "sg_answer.o"] : ["sg_answer.o"],
		),
	);
	const manPath = ["multipath/multipath.conf.5", "multipath/multipath.conf.5.in"].find((f) => files.has(f));
	if (manPath !== undefined) {
		let man = files.get(manPath)!;
		for (const m of checkers) man = addManEntry(man, m.name, manText(m));
		out.set(manPath, man);
	}
	return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
