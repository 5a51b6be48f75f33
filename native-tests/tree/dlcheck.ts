// Builds and runs dlcheck (dlcheck.c): dlopen() of a checker plugin with
// RTLD_NOW against a given set of multipath-tools libraries, reporting which
// plugin ABI symbols it defines.
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { compile, ROOT, type Compiler } from "../support/cc.ts";

export const DLCHECK_SOURCE = join(ROOT, "native-tests/tree/dlcheck.c");

/** The symbols dlcheck looks up, in its output order. */
export const ABI_SYMBOLS = [
	"libcheck_check",
	"libcheck_init",
	"libcheck_free",
	"libcheck_mp_init",
	"libcheck_reset",
	"libcheck_thread",
	"libcheck_pending",
	"libcheck_need_wait",
	"libcheck_msgtable",
	"libcheck_async_func",
	"libcheck_async_init",
	"libcheck_async_context_size",
] as const;
export type AbiSymbol = (typeof ABI_SYMBOLS)[number];

/** dlcheck's JSON line, plus how it ran. */
export interface DlcheckResult {
	plugin: string;
	preload: string[];
	loaded: boolean;
	/** when loaded is false: the library whose dlopen failed, and dlerror() */
	failed?: string;
	error?: string;
	/** when loaded: each ABI symbol → defined by the plugin itself */
	symbols?: Record<AbiSymbol, boolean>;
	/** ABI symbols that resolve, but into another object than the plugin */
	foreign?: string[];
	/** libcheck_msgtable's strings up to the NULL (at most 100) */
	msgtable?: string[];
	async_context_size?: number;
	/** the ABI symbols the plugin defines, in ABI_SYMBOLS order */
	defined: AbiSymbol[];
	exitStatus: number;
	stderr: string;
	/** the LD_LIBRARY_PATH it ran with */
	libraryPath: string;
}

export interface DlcheckOptions {
	/** directories for LD_LIBRARY_PATH (replacing the inherited one), searched for the plugin's NEEDED libraries */
	libDirs: string[];
	/**
	 * libraries dlopen()ed RTLD_NOW | RTLD_GLOBAL first, as multipathd has
	 * them loaded; default ["libmultipath.so.0"], which brings libmpathutil
	 * and libmpathcmd along. [] opens the plugin alone.
	 */
	preload?: string[];
	compiler?: Compiler;
}

/** Builds dlcheck (cached by input hash under build/native/). */
export function buildDlcheck(compiler: Compiler = "gcc"): string {
	return compile({ compiler, kind: "executable", name: "dlcheck", sources: [DLCHECK_SOURCE], ldflags: ["-ldl"] }).output;
}

/** Runs dlcheck on `plugin`; a failed dlopen is a result (loaded: false), not an exception. */
export function dlcheck(plugin: string, opts: DlcheckOptions): DlcheckResult {
	const bin = buildDlcheck(opts.compiler);
	const preload = opts.preload ?? ["libmultipath.so.0"];
	const libraryPath = opts.libDirs.map((d) => resolve(d)).join(":");
	const args = [...preload.flatMap((p) => ["-p", p]), resolve(plugin)];
	const r = spawnSync(bin, args, {
		encoding: "utf8",
		env: { ...process.env, LD_LIBRARY_PATH: libraryPath },
		timeout: 60_000,
	});
	if (r.error) throw new Error(`mpcheckgen tree: cannot run dlcheck: ${r.error.message}`);
	const line = r.stdout.trim();
	let parsed: Omit<DlcheckResult, "defined" | "exitStatus" | "stderr" | "libraryPath">;
	try {
		parsed = JSON.parse(line);
	} catch {
		throw new Error(
			`mpcheckgen tree: dlcheck ${args.join(" ")} (exit ${r.status}${r.signal ? `, signal ${r.signal}` : ""}) ` +
				`printed no JSON:\n${r.stdout}${r.stderr}`,
		);
	}
	const defined = ABI_SYMBOLS.filter((s) => parsed.symbols?.[s] === true);
	return { ...parsed, defined, exitStatus: r.status ?? -1, stderr: r.stderr, libraryPath };
}
