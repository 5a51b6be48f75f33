// The pure core of generation: validated models in, file texts out
// (path relative to the output directory → content). No file is written
// here; generator/generate.ts does that.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { ABI_015_DETAILS, abiProfile, type AbiProfile } from "../abi/profiles.ts";
import type { CheckerModel, RunnerModel, SpecModel } from "../model/types.ts";
import { HOST_STATUS } from "../spec/vocabulary.ts";
import { checkerView } from "./checker-view.ts";
import { formatC } from "./format.ts";
import { runnerView } from "./runner-view.ts";

export const TEMPLATE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../templates");
/** The ABI profile file, named in the headers of the stand-in files. */
export const ABI_PROFILE_SOURCE = "generator/abi/profiles.ts";

/** The exported functions runner.c defines: the version node lists exactly these. */
export const RUNNER_SYMBOLS = ["check_runner", "get_runner", "release_runner", "runner_state_name"] as const;

let engine: typeof Handlebars | undefined;
const compiled = new Map<string, Handlebars.TemplateDelegate>();

function templates(): typeof Handlebars {
	if (engine) return engine;
	const hb = Handlebars.create();
	for (const dir of ["partials", "decoders"]) {
		const abs = join(TEMPLATE_DIR, dir);
		for (const f of readdirSync(abs).sort()) {
			if (!f.endsWith(".hbs")) continue;
			const name = dir === "partials" ? f.replace(/\.hbs$/, "") : `${dir}/${f}`;
			hb.registerPartial(name, readFileSync(join(abs, f), "utf8"));
		}
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

export interface Header {
	copyright: string;
	source: string;
	command: string;
}

/** The one command that regenerates a file, as its header states it. */
export function regenerateCommand(target: string, spec?: string): string {
	return spec ? `npx mpcheckgen generate --spec ${spec} --target ${target}` : `npx mpcheckgen generate --target ${target}`;
}

function checkerFiles(m: CheckerModel, target: string): [string, string][] {
	const header: Header = { copyright: m.copyright, source: m.specFile, command: regenerateCommand(target, m.specFile) };
	const view = { ...checkerView(m), header };
	return [[`libmultipath/checkers/${m.name}.c`, render("checker.c.hbs", view)]];
}

function runnerFiles(m: RunnerModel, target: string): [string, string][] {
	const header: Header = { copyright: m.copyright, source: m.specFile, command: regenerateCommand(target, m.specFile) };
	const view = { ...runnerView(m), header };
	const runnerData = {
		...ABI_015_DETAILS.runnerData,
		members: ABI_015_DETAILS.runnerData.members.map((mb) => ({ ...mb, doc: "doc" in mb ? mb.doc : "" })),
	};
	const glue = {
		header,
		runnerData,
		maxContextSize: ABI_015_DETAILS.maxContextSize,
		maxNrTimeouts: m.maxNrTimeouts,
	};
	const { previous, next } = ABI_015_DETAILS.libmpathutil;
	return [
		["libmpathutil/runner.h", render("runner.h.hbs", view)],
		["libmpathutil/runner.c", render("runner.c.hbs", view)],
		["libmpathutil/libmpathutil.version", render("libmpathutil.version.hbs", { header, previous, next, symbols: [...RUNNER_SYMBOLS].sort() })],
		["libmultipath/async_checker.h", render("async_checker.h.hbs", glue)],
		["libmultipath/async_checker.c", render("async_checker.c.hbs", glue)],
	];
}

function targetAbiFiles(p: AbiProfile, copyright: string): [string, string][] {
	const header: Header = { copyright, source: ABI_PROFILE_SOURCE, command: regenerateCommand(p.id) };
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
		hostStatus: Object.entries(HOST_STATUS).map(([name, value]) => ({
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

/** Copyright of the files generated from the ABI profile. */
export const GENERATOR_COPYRIGHT = "2026 The mpcheckgen authors";

/**
 * Renders every file for `target` (call initFormatter() first), keyed by path relative to the output
 * directory (`<target>/…`). The stand-in ABI headers are always included.
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
	add(targetAbiFiles(p, GENERATOR_COPYRIGHT));
	for (const m of models) add(m.kind === "checker" ? checkerFiles(m, target) : runnerFiles(m, target));
	for (const [path, text] of out) if (/\.[ch]$/.test(path)) out.set(path, formatC(text, path));
	return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
