// The pure core of generation: validated models in, file texts out
// (path relative to the output directory → content). The lowering stage
// (generator/lower/) turns each model into the C IR of its files, claiming
// every identifier; the C writer lays the IR out; handlebars templates are
// the file skeletons (header, includes, section order) and the fixed C of
// the frameworks; clang-format settles the line breaks. No file is written
// here; generator/generate.ts does that.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import HandlebarsRuntimeModule from "handlebars/runtime.js";
import { CACHE_ROOT } from "../paths.ts";
import { ABI_015_DETAILS, ABI_094_DETAILS, abiProfile, type AbiProfile } from "../abi/profiles.ts";
import { lowerChecker, type CheckerTarget } from "../lower/checker.ts";
import { headerNames } from "../lower/headers.ts";
import { lowerRunner } from "../lower/runner.ts";
import { SpecError } from "../model/diagnostics.ts";
import { checkerForTarget } from "../model/init-view.ts";
import type { CheckerModel, RunnerModel, SpecModel } from "../model/types.ts";
import { fileParts, item, type FragmentRenderer } from "./c-writer.ts";
import { formatC } from "./format.ts";
import { runnerTestScriptView } from "./runner-test.ts";

export const TEMPLATE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../templates");
/** The ABI profile file, named in the headers of the stand-in files. */
export const ABI_PROFILE_SOURCE = "generator/abi/profiles.ts";
/** Where the runner's race-test program comes from (it is not derived from a spec). */
export const RUNNER_TEST_SOURCE = "templates/runner-test.c.hbs";
const RUNNER_TEST_SCRIPT_SOURCE = "templates/runner-test.sh.hbs";

/** The exported functions runner.c defines: the version node lists exactly these. */
export const RUNNER_SYMBOLS = [
	"check_runner",
	"get_persistent_runner",
	"get_runner",
	"release_persistent_runner",
	"release_runner",
	"runner_state_name",
] as const;

/** The SG_IO helper every generated checker links (as upstream's checkers link libsg.o). */
export const SG_HELPER = { header: "libmultipath/checkers/sg_answer.h", source: "libmultipath/checkers/sg_answer.c" } as const;

// The templates and partials are compiled with these options (a partial
// with the options of the template that includes it, as handlebars does),
// precompiled once into a cache by content (CACHE_ROOT/templates/), so a
// run needs only handlebars' runtime: its compiler loads only for a template
// that changed. The cache only makes runs faster.
const TEMPLATE_OPTIONS = { noEscape: true, strict: true, knownHelpersOnly: true } as const;
/** The runtime alone (its declarations name no members: it has those of the full package, less the compiler). */
const HandlebarsRuntime = HandlebarsRuntimeModule as unknown as typeof Handlebars;
let handlebarsVersion: string | undefined;

type TemplateSpec = Parameters<typeof HandlebarsRuntime.template>[0];

function precompiled(source: string): TemplateSpec {
	handlebarsVersion ??= (createRequire(import.meta.url)("handlebars/package.json") as { version: string }).version;
	const key = createHash("sha256").update(`${handlebarsVersion}\0${JSON.stringify(TEMPLATE_OPTIONS)}\0${source}`).digest("hex").slice(0, 40);
	const file = join(CACHE_ROOT, "templates", `${key}.js`);
	let code: string | undefined;
	try {
		code = readFileSync(file, "utf8");
	} catch {
		code = Handlebars.precompile(source, TEMPLATE_OPTIONS) as string;
		try {
			mkdirSync(dirname(file), { recursive: true });
			const tmp = `${file}.${process.pid}`;
			writeFileSync(tmp, code);
			renameSync(tmp, file);
		} catch {
			// a read-only install: no cache
		}
	}
	return new Function(`return ${code};`)() as TemplateSpec;
}

let engine: typeof HandlebarsRuntime | undefined;
const compiled = new Map<string, Handlebars.TemplateDelegate>();

function templates(): typeof HandlebarsRuntime {
	if (engine) return engine;
	const hb = HandlebarsRuntime.create();
	for (const f of readdirSync(join(TEMPLATE_DIR, "partials")).sort()) {
		if (f.endsWith(".hbs")) hb.registerPartial(f.replace(/\.hbs$/, ""), hb.template(precompiled(readFileSync(join(TEMPLATE_DIR, "partials", f), "utf8"))));
	}
	engine = hb;
	return hb;
}

export function render(name: string, view: object): string {
	let t = compiled.get(name);
	if (!t) {
		const hb = templates();
		t = hb.template(precompiled(readFileSync(join(TEMPLATE_DIR, name), "utf8")));
		compiled.set(name, t);
	}
	return t(view);
}

export const fragment: FragmentRenderer = (template, names) => render(template, { c: names });

/** How a layout writes the files both layouts have: the file header, and the runner's clock and thread start. */
export interface LayoutView {
	header: "c-header" | "tree-header";
	clock: string;
	threadStart: string;
	systemIncludes: readonly string[];
	localIncludes: readonly string[];
}

const RUNNER_SYSTEM_INCLUDES = ["pthread.h", "sched.h", "semaphore.h", "stdbool.h", "stdint.h", "stdlib.h", "string.h", "time.h"];

/** Self-contained files with the generated-file banner; the runner brings its own clock and thread setup. */
export const PLUGIN_LAYOUT: LayoutView = {
	header: "c-header",
	clock: "runner-clock-plugin",
	threadStart: "runner-thread-plugin",
	systemIncludes: ["limits.h", ...RUNNER_SYSTEM_INCLUDES],
	localIncludes: ["debug.h", "runner.h"],
};

/** Files as a multipath-tools tree writes them: its header style, libmpathutil's time and thread helpers. */
export const TREE_LAYOUT: LayoutView = {
	header: "tree-header",
	clock: "runner-clock-tree",
	threadStart: "runner-thread-tree",
	systemIncludes: RUNNER_SYSTEM_INCLUDES,
	localIncludes: ["debug.h", "time-util.h", "util.h", "runner.h"],
};

export interface Header {
	copyright: string;
	source: string;
	command: string;
}

/** The one command that regenerates a file, as its header states it. */
export function regenerateCommand(target: string, spec?: string): string {
	return spec ? `npx mpcheckgen generate --spec ${spec} --target ${target}` : `npx mpcheckgen generate --target ${target}`;
}

/** Copyright of the files generated from the ABI profile. */
export const GENERATOR_COPYRIGHT = "2026 The mpcheckgen authors";

function frameworkHeader(target: string): Header {
	return { copyright: GENERATOR_COPYRIGHT, source: ABI_PROFILE_SOURCE, command: regenerateCommand(target) };
}

const withDocs = <T extends { members: readonly object[] }>(s: T) => ({
	...s,
	members: s.members.map((mb) => ({ ...mb, doc: "doc" in mb ? (mb as { doc: string }).doc : "" })),
});

/** The names the async framework of plugin ABI A gives its messages. */
function frameworkMessages(p: AbiProfile): { name: string; text: string }[] {
	return p.frameworkMessages.map(([n, text]) => ({ name: `ASYNC_MSGID_${n}`, text }));
}

/** What the lowering of a checker needs to know of the target. */
export function checkerTarget(p: AbiProfile): CheckerTarget {
	return {
		substitutes: p.substitutes,
		messageSubstitutes: p.messageSubstitutes,
		frameworkMessages: frameworkMessages(p),
		firstMessage: p.frameworkMessages.length > 0 ? "ASYNC_FIRST_MSGID" : "CHECKER_FIRST_MSGID",
		byteOrder: "own",
		mapInit: p.pluginAbi !== "C",
	};
}

/** The skeletons of the async framework of each plugin ABI. */
const ASYNC_TEMPLATES = {
	A: { header: "async_checker.abi-a.h.hbs", source: "async_checker.abi-a.c.hbs" },
	C: { header: "async_checker.h.hbs", source: "async_checker.c.hbs" },
} as const;

export function asyncTemplates(p: AbiProfile): { header: string; source: string } {
	if (p.pluginAbi === "B") throw new Error(`no async framework for plugin ABI B (target ${p.id})`);
	return ASYNC_TEMPLATES[p.pluginAbi];
}

/** The view of async_checker.{h,c}: the runner data of the ABI and the runner spec's knobs. */
export function asyncCheckerView(p: AbiProfile, header: Header, maxNrTimeouts: number, asyncTestOption = true) {
	const details = p.pluginAbi === "A" ? ABI_094_DETAILS : ABI_015_DETAILS;
	return {
		header,
		/** The ASYNC_TEST_MAJOR test build option (a check of that device stalls). */
		asyncTestOption,
		release: p.release,
		runnerData: withDocs(details.runnerData),
		maxContextSize: details.maxContextSize,
		maxNrTimeouts,
		frameworkMessages: frameworkMessages(p),
		waitUsec: ABI_094_DETAILS.waitUsec,
		invalidMpcontext: ABI_015_DETAILS.invalidMpcontext,
	};
}

function targetAbiFiles(p: AbiProfile): [string, string][] {
	const header = frameworkHeader(p.id);
	const view = {
		header,
		release: p.release,
		pathStates: p.pathStates,
		genericMessages: p.genericMessages.map(([n], i) => (i === 0 ? `CHECKER_MSGID_${n} = 0` : `CHECKER_MSGID_${n}`)),
		firstMessageId: p.firstMessageId,
		messageTableSize: p.messageTableSize,
		checkerNameLength: ABI_015_DETAILS.checkerNameLength,
		mpcontext: ABI_015_DETAILS.mpcontext,
		invalidMpcontext: ABI_015_DETAILS.invalidMpcontext,
		checkerClass: ABI_015_DETAILS.checkerClass,
		checker: withDocs(p.pluginAbi === "A" ? ABI_094_DETAILS.checker : ABI_015_DETAILS.checker),
		hostStatus: Object.entries(ABI_015_DETAILS.hostStatus).map(([name, value]) => ({
			name,
			value: `0x${value.toString(16).padStart(2, "0")}`,
		})),
	};
	return [
		["target-abi/checkers.h", render(p.pluginAbi === "A" ? "target-abi/checkers.abi-a.h.hbs" : "target-abi/checkers.h.hbs", view)],
		["target-abi/debug.h", render("target-abi/debug.h.hbs", view)],
		["target-abi/sg_include.h", render("target-abi/sg_include.h.hbs", view)],
	];
}

export function sgHelperFiles(target: string, senseLength: number, layout: LayoutView = PLUGIN_LAYOUT, header?: Header): [string, string][] {
	const view = { header: header ?? frameworkHeader(target), senseLength, layout };
	return [
		[SG_HELPER.header, render("sg_answer.h.hbs", view)],
		[SG_HELPER.source, render("sg_answer.c.hbs", view)],
	];
}

export function checkerFile(
	m: CheckerModel,
	p: AbiProfile,
	headers: readonly string[],
	layout: LayoutView = PLUGIN_LAYOUT,
	treeHeader?: Header,
	tree?: Partial<CheckerTarget>,
): [string, string] {
	const file = lowerChecker(checkerForTarget(m, p.id), headerNames(headers), { ...checkerTarget(p), ...tree });
	const header: Header = treeHeader ?? { copyright: m.copyright, source: m.specFile, command: regenerateCommand(p.id, m.specFile) };
	return [file.path, render("checker.c.hbs", { header, layout, ...fileParts(file, fragment) })];
}

/** runner.{h,c} of a layout. */
export function runnerSources(m: RunnerModel, layout: LayoutView, header: Header): [string, string][] {
	const r = lowerRunner(m);
	const view = {
		header,
		layout,
		statusEnum: item(r.statusEnum, fragment).join("\n"),
		stateNameFunction: item(r.stateNameFunction, fragment).join("\n"),
		operations: r.operations.map((o) => item(o, fragment).join("\n")),
		poolOutcomeEnum: item(r.poolOutcomeEnum, fragment).join("\n"),
		poolOperations: r.poolOperations.map((o) => item(o, fragment).join("\n")),
		stackSize: r.stackSize,
		idleUsec: r.idleTimeoutMs * 1000,
		batchWorkers: r.batchWorkers ? 1 : 0,
	};
	return [
		["libmpathutil/runner.h", render("runner.h.hbs", view)],
		["libmpathutil/runner.c", render("runner.c.hbs", view)],
	];
}

/** The runner's race test: tests/runner.c and the script of its scenarios, tests/runner-test.sh. */
export function runnerTestSources(layout: LayoutView, header: Header & { copyrightLines?: readonly string[] }): [string, string][] {
	const script = {
		...runnerTestScriptView(),
		copyrightLines: header.copyrightLines ?? [`Copyright (c) ${header.copyright}`],
		// a standalone file says it is generated; a tree's file reads as the tree's own
		notice: header.command === "" ? [] : [`Code generated by mpcheckgen from ${RUNNER_TEST_SCRIPT_SOURCE}. DO NOT EDIT.`, "To regenerate run:", `  ${header.command}`],
	};
	return [
		["tests/runner.c", render("runner-test.c.hbs", { header, layout })],
		["tests/runner-test.sh", render("runner-test.sh.hbs", script)],
	];
}

/** async_checker.{h,c} of the target's plugin ABI. */
export function asyncCheckerSources(
	m: RunnerModel,
	p: AbiProfile,
	layout: LayoutView,
	header: Header,
	dir: string,
	asyncTestOption = true,
): [string, string][] {
	const glue = { ...asyncCheckerView(p, header, m.maxNrTimeouts, asyncTestOption), layout };
	const t = asyncTemplates(p);
	return [
		[`${dir}/async_checker.h`, render(t.header, glue)],
		[`${dir}/async_checker.c`, render(t.source, glue)],
	];
}

function runnerFiles(m: RunnerModel, p: AbiProfile): [string, string][] {
	const header: Header = { copyright: m.copyright, source: m.specFile, command: regenerateCommand(p.id, m.specFile) };
	const { previous, next } = ABI_015_DETAILS.libmpathutil;
	// ABI C: the runner goes into libmpathutil, with its version node; ABI
	// A: the runner is built into each plugin (the release has none)
	const version: [string, string][] =
		p.pluginAbi === "C"
			? [["libmpathutil/libmpathutil.version", render("libmpathutil.version.hbs", { header, previous, next, symbols: [...RUNNER_SYMBOLS].sort() })]]
			: [];
	return [
		...runnerSources(m, PLUGIN_LAYOUT, header),
		...version,
		...asyncCheckerSources(m, p, PLUGIN_LAYOUT, header, "libmultipath"),
		...runnerTestSources(PLUGIN_LAYOUT, { ...header, source: RUNNER_TEST_SOURCE }),
	];
}

/** The texts of the headers a generated checker includes, for the names they declare. */
function checkerHeaderTexts(p: AbiProfile, abi: [string, string][], sg: [string, string][]): string[] {
	const glue = { ...asyncCheckerView(p, frameworkHeader(p.id), 0), layout: PLUGIN_LAYOUT };
	const runnerH = render("runner.h.hbs", { header: frameworkHeader(p.id), layout: PLUGIN_LAYOUT, statusEnum: "", stackSize: 0 });
	return [...abi.map(([, t]) => t), sg[0][1], render(asyncTemplates(p).header, glue), runnerH];
}

/**
 * Lowers every checker model for `target`, without rendering: the C-name
 * checks of the lowering stage, for `validate`. Throws SpecError.
 */
const headerNamesMemo = new Map<string, ReturnType<typeof headerNames>>();

export function checkCNames(models: readonly SpecModel[], target: string): void {
	const p = abiProfile(target);
	if (!p || !p.emitter) return;
	const sense = models.find((m): m is CheckerModel => m.kind === "checker")?.senseLength ?? 32;
	// the names the headers declare depend on the target and the sense length only: rendered once per run
	const key = `${target}\0${sense}`;
	let names = headerNamesMemo.get(key);
	if (!names) {
		names = headerNames(checkerHeaderTexts(p, targetAbiFiles(p), sgHelperFiles(target, sense)));
		headerNamesMemo.set(key, names);
	}
	const errors = models.flatMap((m) => {
		if (m.kind !== "checker") return [];
		try {
			lowerChecker(checkerForTarget(m, p.id), names, checkerTarget(p));
			return [];
		} catch (e) {
			if (e instanceof SpecError) return e.diagnostics;
			throw e;
		}
	});
	if (errors.length > 0) throw new SpecError(errors);
}

/**
 * Renders every file for `target` (within withFormatter(), or after initFormatter()), keyed by path relative to the output
 * directory (`<target>/…`). The stand-in ABI headers are always included; the SG_IO helper when a
 * checker is generated.
 */
export function emit(models: readonly SpecModel[], target: string): Map<string, string> {
	const p = abiProfile(target);
	if (!p || !p.emitter) throw new Error(`no emitter for target ${target}`);
	const out = new Map<string, string>();
	const add = (files: [string, string][]) => {
		for (const [path, text] of files) {
			const key = `${target}/${path}`;
			if (out.has(key)) throw new Error(`two specs generate ${key}`);
			out.set(key, text);
		}
	};
	const abi = targetAbiFiles(p);
	const checkers = models.filter((m): m is CheckerModel => m.kind === "checker");
	const senseLengths = new Set(checkers.map((m) => m.senseLength));
	if (senseLengths.size > 1) throw new Error(`checkers disagree on the sense buffer length: ${[...senseLengths].join(", ")}`);
	const sg = sgHelperFiles(target, checkers[0]?.senseLength ?? 32);
	add(abi);
	if (checkers.length > 0) add(sg);
	const headers = checkerHeaderTexts(p, abi, sg);
	const errors: SpecError[] = [];
	for (const m of models) {
		try {
			add(m.kind === "checker" ? [checkerFile(m, p, headers)] : runnerFiles(m, p));
		} catch (e) {
			if (e instanceof SpecError) errors.push(e);
			else throw e;
		}
	}
	if (errors.length > 0) throw new SpecError(errors.flatMap((e) => e.diagnostics));
	for (const [path, text] of out) if (/\.[ch]$/.test(path)) out.set(path, formatC(text, path));
	return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
