// Compiles C for the native tests: one place that knows the compilers, the
// warning flags upstream multipath-tools builds with, the sanitizer variants,
// and where build products go (build/, outside git). Builds are cached by a
// hash of every input, so a test that needs a binary several times pays once.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const BUILD_DIR = join(ROOT, "build");
export const GENERATED_015 = join(ROOT, "generated/0.15");

export type Compiler = "clang" | "gcc";
export type Sanitizer = "none" | "address" | "undefined" | "address,undefined" | "thread";

/** The compiler binaries: Debian's clang-19 and the system gcc. */
export const COMPILERS: Record<Compiler, string> = {
	clang: "clang-19",
	gcc: "gcc",
};

/** Warning and code-generation flags of upstream multipath-tools (style.md §1). */
export const UPSTREAM_CFLAGS = [
	"-std=gnu99",
	"-O2",
	"-g",
	"-fstack-protector-strong",
	"-Wall",
	"-Wextra",
	"-Wformat=2",
	"-Werror",
	"-Werror=implicit-int",
	"-Werror=implicit-function-declaration",
	"-Werror=format-security",
	"-Werror=cast-qual",
	"-fexceptions",
	"-fno-strict-aliasing",
	"-D_FILE_OFFSET_BITS=64",
	"-D_GNU_SOURCE",
];

export interface CompileRequest {
	compiler: Compiler;
	sanitize?: Sanitizer;
	/** C sources (absolute or relative to the repo root). */
	sources: string[];
	includeDirs?: string[];
	defines?: Record<string, string | number>;
	/** Extra compiler flags (after the upstream ones). */
	cflags?: string[];
	/** Linker flags and libraries (after the sources). */
	ldflags?: string[];
	kind: "executable" | "shared" | "static-executable";
	/** A short name for the product, used in the output file name. */
	name: string;
	/** Files whose content changes the result though they are not sources (headers, version scripts). */
	extraInputs?: string[];
}

export interface CompileResult {
	output: string;
	command: string[];
	cached: boolean;
}

function abs(p: string): string {
	return resolve(ROOT, p);
}

/** The full argument vector for a request (without the output file). */
export function compileArgs(req: CompileRequest): string[] {
	const args = [...UPSTREAM_CFLAGS];
	const san = req.sanitize ?? "none";
	if (san !== "none") args.push(`-fsanitize=${san}`, "-fno-omit-frame-pointer", "-fno-sanitize-recover=all");
	if (req.kind === "shared") args.push("-fPIC", "-shared");
	if (req.kind === "static-executable") args.push("-static");
	for (const d of req.includeDirs ?? []) args.push(`-I${abs(d)}`);
	for (const [k, v] of Object.entries(req.defines ?? {})) args.push(`-D${k}=${v}`);
	args.push(...(req.cflags ?? []));
	args.push(...req.sources.map(abs));
	args.push("-Wl,-z,relro,-z,now", "-pthread");
	args.push(...(req.ldflags ?? []));
	return args;
}

function hashInputs(req: CompileRequest, args: string[]): string {
	const h = createHash("sha256");
	h.update(COMPILERS[req.compiler]);
	h.update(JSON.stringify(args));
	for (const f of [...req.sources, ...(req.extraInputs ?? [])]) {
		h.update(f);
		h.update(readFileSync(abs(f)));
	}
	// headers next to the sources and in include dirs can change the result
	const dirs = new Set([...(req.includeDirs ?? []).map(abs), ...req.sources.map((s) => dirname(abs(s)))]);
	for (const d of [...dirs].sort()) {
		if (!existsSync(d)) continue;
		for (const f of readdirSync(d).sort()) {
			if (!f.endsWith(".h")) continue;
			h.update(join(d, f));
			h.update(readFileSync(join(d, f)));
		}
	}
	return h.digest("hex").slice(0, 16);
}

/**
 * Compiles and links one product. Throws with the compiler's output when it
 * fails, so a test shows the diagnostics.
 */
export function compile(req: CompileRequest): CompileResult {
	const args = compileArgs(req);
	const tag = [req.name, req.compiler, req.sanitize && req.sanitize !== "none" ? req.sanitize.replace(",", "+") : ""]
		.filter(Boolean)
		.join("-");
	const dir = join(BUILD_DIR, "native", `${tag}-${hashInputs(req, args)}`);
	const output = join(dir, req.kind === "shared" ? `${req.name}.so` : req.name);
	const command = [COMPILERS[req.compiler], ...args, "-o", output];
	if (existsSync(output)) return { output, command, cached: true };
	mkdirSync(dir, { recursive: true });
	const tmp = `${output}.tmp`;
	const res = spawnSync(COMPILERS[req.compiler], [...args, "-o", tmp], { encoding: "utf8" });
	if (res.error) throw new Error(`cannot run ${COMPILERS[req.compiler]}: ${res.error.message}`);
	if (res.status !== 0) {
		throw new Error(`compile of ${req.name} failed (${command.join(" ")}):\n${res.stderr}${res.stdout}`);
	}
	renameSync(tmp, output);
	return { output, command, cached: false };
}

export interface ObjectBatch {
	compiler: Compiler;
	sanitize?: Sanitizer;
	/** C sources; their object files are named after them, so base names must differ. */
	sources: string[];
	includeDirs?: string[];
	/** Where the objects go (made if missing). */
	outDir: string;
}

/** The argument vector that compiles a batch into position-independent objects. */
export function objectArgs(b: ObjectBatch): string[] {
	const args = [...UPSTREAM_CFLAGS, "-fPIC", "-pthread"];
	const san = b.sanitize ?? "none";
	if (san !== "none") args.push(`-fsanitize=${san}`, "-fno-omit-frame-pointer", "-fno-sanitize-recover=all");
	for (const d of b.includeDirs ?? []) args.push(`-I${abs(d)}`);
	return [...args, "-c", ...b.sources.map(abs)];
}

/**
 * Compiles many sources into objects in one compiler invocation (not
 * cached), asynchronously so two batches can share the two cores. Resolves
 * with the compiler's status and output; the objects are <outDir>/<base>.o.
 */
export function compileObjects(b: ObjectBatch): Promise<{ status: number | null; output: string; ms: number; command: string }> {
	mkdirSync(b.outDir, { recursive: true });
	const args = objectArgs(b);
	const t0 = performance.now();
	return new Promise((done, fail) => {
		const child = spawn(COMPILERS[b.compiler], args, { cwd: b.outDir, stdio: ["ignore", "pipe", "pipe"] });
		let output = "";
		child.stdout.on("data", (d) => (output += d));
		child.stderr.on("data", (d) => (output += d));
		child.on("error", (e) => fail(new Error(`cannot run ${COMPILERS[b.compiler]}: ${e.message}`)));
		child.on("close", (status) =>
			done({ status, output, ms: performance.now() - t0, command: `${COMPILERS[b.compiler]} ${args.length} arguments, ${b.sources.length} sources` }),
		);
	});
}
