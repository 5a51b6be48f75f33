// Builds the native test set from generated/: libmpathutil (the generated
// runner, linked with the generated version script), the checker host (with
// the generated async checker framework), checker plugins for real devices
// and, linked against simulated SG_IO, for the outcome tables.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BUILD_DIR, compile, GENERATED_015, ROOT, type Compiler, type Sanitizer } from "./cc.ts";

export interface Toolchain {
	compiler: Compiler;
	sanitize?: Sanitizer;
	/** Extra defines for every unit (e.g. RUNNER_START_DELAY_US). */
	defines?: Record<string, string | number>;
}

export interface NativeSet {
	toolchain: Toolchain;
	/** Directory of libmpathutil.so. */
	libDir: string;
	libmpathutil: string;
	sgsim: string;
	host: string;
	/** libcheck<name>.so for real devices. */
	plugin(name: string): string;
	/** libcheck<name>.so answering from simulated SG_IO. */
	simPlugin(name: string): string;
	/** The same, built from another checker source (a fixture spec's generated C). */
	simPluginFrom(name: string, source: string): string;
}

/** The files of a 0.15 plugin-layout output directory (generated/0.15, or an author's own). */
export function generatedFiles(dir: string) {
	return {
		dir,
		abi: join(dir, "target-abi"),
		mpathutil: join(dir, "libmpathutil"),
		multipath: join(dir, "libmultipath"),
		runner: join(dir, "libmpathutil/runner.c"),
		version: join(dir, "libmpathutil/libmpathutil.version"),
		glue: join(dir, "libmultipath/async_checker.c"),
		checker: (name: string) => join(dir, `libmultipath/checkers/${name}.c`),
		/** The SG_IO helper every checker plugin links (as upstream's link libsg.o). */
		sgHelper: join(dir, "libmultipath/checkers/sg_answer.c"),
	};
}
export type GeneratedFiles = ReturnType<typeof generatedFiles>;
/** This repository's committed output for 0.15. */
export const GEN = generatedFiles(GENERATED_015);
const HOST_DIR = join(ROOT, "native-tests/host");
/** What libsgsim stands in for: SG_IO and the cciss passthrough (ioctl), O_DIRECT reads (pread, fcntl; their 64-bit names under _FILE_OFFSET_BITS=64). */
export const SIM_WRAPS = ["ioctl", "pread", "pread64", "fcntl", "fcntl64"] as const;
const SUPPORT_DIR = join(ROOT, "native-tests/support");

/** The version script libmpathutil is linked with: the test base node plus the generated node. */
export function combinedVersionScript(gen: GeneratedFiles = GEN): string {
	const text =
		readFileSync(join(SUPPORT_DIR, "libmpathutil-base.version"), "utf8") + "\n" + readFileSync(gen.version, "utf8");
	// one file per content: builds from different output directories may run at once
	const dir = join(BUILD_DIR, "version", createHash("sha256").update(text).digest("hex").slice(0, 16));
	mkdirSync(dir, { recursive: true });
	const file = join(dir, "libmpathutil.version");
	writeFileSync(file, text);
	return file;
}

/** Builds the set from `gen` (default: this repository's generated/0.15). */
export function buildNativeSet(tc: Toolchain, gen: GeneratedFiles = GEN): NativeSet {
	const GEN = gen;
	const INCLUDES = [GEN.abi, GEN.mpathutil, GEN.multipath, HOST_DIR];
	const sanitized = (tc.sanitize ?? "none") !== "none";
	// sanitizer runtimes live in the executable: shared objects cannot be
	// linked with -z defs then
	const defs = sanitized ? [] : ["-Wl,-z,defs"];
	const base = { compiler: tc.compiler, sanitize: tc.sanitize, defines: tc.defines, includeDirs: INCLUDES };
	const version = combinedVersionScript(gen);
	const mpathutil = compile({
		...base,
		kind: "shared",
		name: "libmpathutil",
		sources: [GEN.runner, join(SUPPORT_DIR, "dlog.c")],
		ldflags: [`-Wl,--version-script=${version}`, "-Wl,--no-undefined-version", "-Wl,-soname,libmpathutil.so", ...defs],
		extraInputs: [version],
	}).output;
	const libDir = dirname(mpathutil);
	const sgsim = compile({
		...base,
		kind: "shared",
		name: "libsgsim",
		sources: [join(HOST_DIR, "sgsim.c")],
		ldflags: ["-Wl,-soname,libsgsim.so", ...defs],
	}).output;
	const link = (dir: string, lib: string) => [`-L${dir}`, `-l${lib}`, `-Wl,-rpath,${dir}`];
	const host = compile({
		...base,
		kind: "executable",
		name: "checker-host",
		// the glue through glue-peek.c, which adds the context accessor
		sources: [join(HOST_DIR, "checker-host.c"), join(HOST_DIR, "glue-peek.c")],
		defines: { ...tc.defines, ASYNC_C: JSON.stringify(GEN.glue) },
		ldflags: [...link(libDir, "mpathutil"), "-ldl", "-rdynamic"],
		extraInputs: [mpathutil, GEN.glue],
	}).output;
	const plugins = new Map<string, string>();
	const plugin = (name: string, sim: boolean, source = GEN.checker(name)): string => {
		const key = `${name}:${sim}:${source}`;
		let out = plugins.get(key);
		if (!out) {
			out = compile({
				...base,
				kind: "shared",
				name: `libcheck${name}`,
				sources: [source, GEN.sgHelper],
				ldflags: [
					...link(libDir, "mpathutil"),
					...(sim ? [...SIM_WRAPS.map((f) => `-Wl,--wrap=${f}`), ...link(dirname(sgsim), "sgsim")] : []),
					...defs,
				],
				extraInputs: sim ? [mpathutil, sgsim] : [mpathutil],
			}).output;
			plugins.set(key, out);
		}
		return out;
	};
	return {
		toolchain: tc,
		libDir,
		libmpathutil: mpathutil,
		sgsim,
		host,
		plugin: (name) => plugin(name, false),
		simPlugin: (name) => plugin(name, true),
		simPluginFrom: (name, source) => plugin(name, true, source),
	};
}
