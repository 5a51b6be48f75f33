// The pure core of generation: validated models in, file texts out
// (path relative to the output directory → content). The lowering stage
// (generator/lower/) turns each model into the C IR of its files, claiming
// every identifier; the C writer lays the IR out; handlebars templates are
// the file skeletons (header, includes, section order) and the fixed C of
// the frameworks; clang-format settles the line breaks. No file is written
// here; generator/generate.ts does that.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { ABI_015_DETAILS, abiProfile, type AbiProfile } from "../abi/profiles.ts";
import { lowerChecker } from "../lower/checker.ts";
import { headerNames } from "../lower/headers.ts";
import { lowerRunner } from "../lower/runner.ts";
import { SpecError } from "../model/diagnostics.ts";
import type { CheckerModel, RunnerModel, SpecModel } from "../model/types.ts";
import { fileParts, item, type FragmentRenderer } from "./c-writer.ts";
import { formatC } from "./format.ts";

export const TEMPLATE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../templates");
/** The ABI profile file, named in the headers of the stand-in files. */
export const ABI_PROFILE_SOURCE = "generator/abi/profiles.ts";

/** The exported functions runner.c defines: the version node lists exactly these. */
export const RUNNER_SYMBOLS = ["check_runner", "get_runner", "release_runner", "runner_state_name"] as const;

/** The SG_IO helper every generated checker links (as upstream's checkers link libsg.o). */
export const SG_HELPER = { header: "libmultipath/checkers/sg_answer.h", source: "libmultipath/checkers/sg_answer.c" } as const;

let engine: typeof Handlebars | undefined;
const compiled = new Map<string, Handlebars.TemplateDelegate>();

function templates(): typeof Handlebars {
	if (engine) return engine;
	const hb = Handlebars.create();
	for (const f of readdirSync(join(TEMPLATE_DIR, "partials")).sort()) {
		if (f.endsWith(".hbs")) hb.registerPartial(f.replace(/\.hbs$/, ""), readFileSync(join(TEMPLATE_DIR, "partials", f), "utf8"));
	}
	engine = hb;
	return hb;
}

function render(name: string, view: object): string {
	let t = compiled.get(name);
	if (!t) {
		const source = readFileSync(join(TEMPLATE_DIR, name), "utf8");
		t = templates().compile(source, { noEscape: true, strict: true, knownHelpersOnly: true });
		compiled.set(name, t);
	}
	return t(view);
}

const fragment: FragmentRenderer = (template, names) => render(template, { c: names });

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

/** The view of async_checker.{h,c}: the runner data of the ABI and the runner spec's knobs. */
function asyncCheckerView(header: Header, maxNrTimeouts: number) {
	return {
		header,
		runnerData: {
			...ABI_015_DETAILS.runnerData,
			members: ABI_015_DETAILS.runnerData.members.map((mb) => ({ ...mb, doc: "doc" in mb ? mb.doc : "" })),
		},
		maxContextSize: ABI_015_DETAILS.maxContextSize,
		maxNrTimeouts,
	};
}

function targetAbiFiles(p: AbiProfile): [string, string][] {
	const header = frameworkHeader(p.id);
	const withDoc = <T extends { members: readonly object[] }>(s: T) => ({
		...s,
		members: s.members.map((mb) => ({ ...mb, doc: "doc" in mb ? (mb as { doc: string }).doc : "" })),
	});
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
		checker: withDoc(ABI_015_DETAILS.checker),
		hostStatus: Object.entries(ABI_015_DETAILS.hostStatus).map(([name, value]) => ({
			name,
			value: `0x${value.toString(16).padStart(2, "0")}`,
		})),
	};
	return [
		["target-abi/checkers.h", render("target-abi/checkers.h.hbs", view)],
		["target-abi/debug.h", render("target-abi/debug.h.hbs", view)],
		["target-abi/sg_include.h", render("target-abi/sg_include.h.hbs", view)],
	];
}

function sgHelperFiles(target: string, senseLength: number): [string, string][] {
	const view = { header: frameworkHeader(target), senseLength };
	return [
		[SG_HELPER.header, render("sg_answer.h.hbs", view)],
		[SG_HELPER.source, render("sg_answer.c.hbs", view)],
	];
}

function checkerFile(m: CheckerModel, target: string, headers: readonly string[]): [string, string] {
	const file = lowerChecker(m, headerNames(headers));
	const header: Header = { copyright: m.copyright, source: m.specFile, command: regenerateCommand(target, m.specFile) };
	return [file.path, render("checker.c.hbs", { header, ...fileParts(file, fragment) })];
}

function runnerFiles(m: RunnerModel, target: string): [string, string][] {
	const header: Header = { copyright: m.copyright, source: m.specFile, command: regenerateCommand(target, m.specFile) };
	const r = lowerRunner(m);
	const view = {
		header,
		statusEnum: item(r.statusEnum, fragment).join("\n"),
		stateNameFunction: item(r.stateNameFunction, fragment).join("\n"),
		operations: r.operations.map((o) => item(o, fragment).join("\n")),
		stackSize: r.stackSize,
	};
	const glue = asyncCheckerView(header, r.maxNrTimeouts);
	const { previous, next } = ABI_015_DETAILS.libmpathutil;
	return [
		["libmpathutil/runner.h", render("runner.h.hbs", view)],
		["libmpathutil/runner.c", render("runner.c.hbs", view)],
		["libmpathutil/libmpathutil.version", render("libmpathutil.version.hbs", { header, previous, next, symbols: [...RUNNER_SYMBOLS].sort() })],
		["libmultipath/async_checker.h", render("async_checker.h.hbs", glue)],
		["libmultipath/async_checker.c", render("async_checker.c.hbs", glue)],
	];
}

/** The texts of the headers a generated checker includes, for the names they declare. */
function checkerHeaderTexts(abi: [string, string][], sg: [string, string][], target: string): string[] {
	const glue = asyncCheckerView(frameworkHeader(target), 0);
	const runnerH = render("runner.h.hbs", { header: frameworkHeader(target), statusEnum: "", stackSize: 0 });
	return [...abi.map(([, t]) => t), sg[0][1], render("async_checker.h.hbs", glue), runnerH];
}

/**
 * Lowers every checker model for `target`, without rendering: the C-name
 * checks of the lowering stage, for `validate`. Throws SpecError.
 */
export function checkCNames(models: readonly SpecModel[], target: string): void {
	const p = abiProfile(target);
	if (!p || !p.emitter) return;
	const sense = models.find((m): m is CheckerModel => m.kind === "checker")?.senseLength ?? 32;
	const headers = checkerHeaderTexts(targetAbiFiles(p), sgHelperFiles(target, sense), target);
	const errors = models.flatMap((m) => {
		if (m.kind !== "checker") return [];
		try {
			lowerChecker(m, headerNames(headers));
			return [];
		} catch (e) {
			if (e instanceof SpecError) return e.diagnostics;
			throw e;
		}
	});
	if (errors.length > 0) throw new SpecError(errors);
}

/**
 * Renders every file for `target` (call initFormatter() first), keyed by path relative to the output
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
	const headers = checkerHeaderTexts(abi, sg, target);
	const errors: SpecError[] = [];
	for (const m of models) {
		try {
			add(m.kind === "checker" ? [checkerFile(m, target, headers)] : runnerFiles(m, target));
		} catch (e) {
			if (e instanceof SpecError) errors.push(e);
			else throw e;
		}
	}
	if (errors.length > 0) throw new SpecError(errors.flatMap((e) => e.diagnostics));
	for (const [path, text] of out) if (/\.[ch]$/.test(path)) out.set(path, formatC(text, path));
	return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
