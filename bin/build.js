// Compiles the CLI (generator/cli.ts and what it imports) into dist/generator/
// with esbuild, so that `mpcheckgen` starts as plain JavaScript, and the spec
// language's declarations into dist/types/ (what `mpcheckgen/spec` gives
// TypeScript). npm runs it
// at install (the `prepare` script); bin/mpcheckgen.js runs it again when a
// source changed since (see isCurrent). dist/ is git-ignored.
//
// The bundle sits at the depth of generator/emit/ (dist/generator/*.js), so
// the paths the sources compute from import.meta.url (../../templates,
// ../../.clang-format) name the same files. Dependencies stay external and
// the code that needs TypeScript (ts-morph) is split into chunks that load
// only when a command needs them.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DIST = join(ROOT, "dist", "generator");
export const STAMP = join(DIST, "stamp.json");
/** The declarations of the spec language, what `mpcheckgen/spec` gives TypeScript. */
export const TYPES = join(ROOT, "dist", "types");
const TYPES_STAMP = join(TYPES, "stamp.json");
const ENTRY = "generator/cli.ts";
const SPEC_LANGUAGE = "generator/spec/index.ts";

function hashOf(path) {
	return createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 16);
}

function stampIsCurrent(file) {
	let stamp;
	try {
		stamp = JSON.parse(readFileSync(file, "utf8"));
	} catch {
		return false;
	}
	if (stamp.node !== process.versions.node.split(".")[0]) return false;
	try {
		for (const [path, hash] of Object.entries(stamp.inputs)) if (hashOf(join(ROOT, path)) !== hash) return false;
	} catch {
		return false;
	}
	return true;
}

function writeStamp(file, paths) {
	const inputs = {};
	for (const path of [...paths].sort()) inputs[path] = hashOf(join(ROOT, path));
	// the build script itself and the package file shape the output too
	for (const path of ["bin/build.js", "package.json"]) inputs[path] = hashOf(join(ROOT, path));
	writeFileSync(file, `${JSON.stringify({ node: process.versions.node.split(".")[0], inputs }, null, "\t")}\n`);
}

/** True when dist/ was built from the sources as they are now (the CLI and the spec language's declarations). */
export function isCurrent() {
	return stampIsCurrent(STAMP) && stampIsCurrent(TYPES_STAMP);
}

/** Moves a freshly built directory into place; a concurrent build may have done the same. */
function swapIn(tmp, dest) {
	mkdirSync(dirname(dest), { recursive: true });
	const old = `${dest}.old-${process.pid}`;
	try {
		renameSync(dest, old);
	} catch {
		// no previous build
	}
	try {
		renameSync(tmp, dest);
	} catch {
		rmSync(tmp, { recursive: true, force: true });
	}
	rmSync(old, { recursive: true, force: true });
}

/**
 * The spec language's .d.ts files (dist/types/), for editors and tsc in an
 * author's project: the sources import each other with .ts extensions,
 * which a consumer's tsconfig would need allowImportingTsExtensions for;
 * declaration files may.
 */
async function buildTypes() {
	const { default: ts } = await import("typescript");
	const tmp = `${TYPES}.tmp-${process.pid}`;
	rmSync(tmp, { recursive: true, force: true });
	const program = ts.createProgram([join(ROOT, SPEC_LANGUAGE)], {
		target: ts.ScriptTarget.ES2022,
		module: ts.ModuleKind.NodeNext,
		moduleResolution: ts.ModuleResolutionKind.NodeNext,
		strict: true,
		declaration: true,
		emitDeclarationOnly: true,
		allowImportingTsExtensions: true,
		skipLibCheck: true,
		types: [],
		lib: ["lib.es2022.d.ts"],
		rootDir: join(ROOT, "generator"),
		outDir: tmp,
	});
	const r = program.emit();
	const errors = ts.getPreEmitDiagnostics(program).concat(r.diagnostics);
	if (r.emitSkipped || errors.length > 0) {
		throw new Error(
			`the spec language's declarations: ${ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => "\n" })}`,
		);
	}
	const inputs = program
		.getSourceFiles()
		.map((f) => relative(ROOT, f.fileName))
		.filter((f) => !f.startsWith("..") && !f.startsWith("node_modules"));
	writeStamp(join(tmp, "stamp.json"), inputs);
	swapIn(tmp, TYPES);
}

/**
 * The big CommonJS packages: in the bundle their imports go through
 * generator/compile-cache.ts (loaded on first use, through a V8 code cache,
 * and no ESM named-export scan of 10 MB of JavaScript on each run).
 */
const CACHED_CJS = ["ts-morph", "handlebars"];

const cjsThroughCodeCache = {
	name: "cjs-through-code-cache",
	setup(b) {
		const filter = new RegExp(`^(${CACHED_CJS.join("|")})$`);
		b.onResolve({ filter }, (a) => ({ path: a.path, namespace: "cached-cjs" }));
		b.onLoad({ filter: /.*/, namespace: "cached-cjs" }, (a) => {
			const names = Object.keys(createRequire(import.meta.url)(a.path)).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== "default");
			// each export is a stand-in that loads the package on first use,
			// so a chunk that imports it (the source index) costs nothing
			// until it parses (a cached index needs no parser)
			return {
				resolveDir: join(ROOT, "generator"),
				loader: "js",
				contents:
					`import { lazyExport, requireCached } from "./compile-cache.ts";\n` +
					`const load = () => requireCached(${JSON.stringify(a.path)});\n` +
					`export default lazyExport(load, null);\n` +
					names.map((n) => `export const ${n} = lazyExport(load, ${JSON.stringify(n)});\n`).join(""),
			};
		});
	},
};

/** Builds what is not current in dist/ from the sources; returns the number of files of the CLI. */
export async function build() {
	if (!stampIsCurrent(TYPES_STAMP)) await buildTypes();
	if (!stampIsCurrent(STAMP)) await buildCli();
	return readdirSync(DIST).length;
}

async function buildCli() {
	const esbuild = await import("esbuild");
	const tmp = `${DIST}.tmp-${process.pid}`;
	rmSync(tmp, { recursive: true, force: true });
	const r = await esbuild.build({
		absWorkingDir: ROOT,
		entryPoints: [ENTRY],
		outdir: tmp,
		bundle: true,
		splitting: true,
		format: "esm",
		platform: "node",
		target: "node20",
		packages: "external",
		sourcemap: "linked",
		metafile: true,
		logLevel: "silent",
		legalComments: "none",
		banner: { js: "// Compiled by bin/build.js from generator/; do not edit." },
		plugins: [cjsThroughCodeCache],
	});
	writeStamp(
		join(tmp, "stamp.json"),
		Object.keys(r.metafile.inputs).filter((p) => !p.includes(":")),
	);
	swapIn(tmp, DIST);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const t0 = performance.now();
	// npm run build: everything, current or not
	rmSync(STAMP, { force: true });
	rmSync(TYPES_STAMP, { force: true });
	const n = await build();
	process.stdout.write(
		`mpcheckgen: compiled ${ENTRY} into ${relative(process.cwd(), DIST) || "."}/ (${n} files) and the declarations of ` +
			`${SPEC_LANGUAGE} into ${relative(process.cwd(), TYPES) || "."}/ in ${Math.round(performance.now() - t0)} ms\n`,
	);
}
