// Compiles the CLI (generator/cli.ts and what it imports) into dist/generator/
// with esbuild, so that `mpcheckgen` starts as plain JavaScript. npm runs it
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
const ENTRY = "generator/cli.ts";

function hashOf(path) {
	return createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 16);
}

/** True when dist/ was built from the sources as they are now. */
export function isCurrent() {
	let stamp;
	try {
		stamp = JSON.parse(readFileSync(STAMP, "utf8"));
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

/**
 * The big CommonJS packages: in the bundle their imports go through
 * generator/compile-cache.ts (a V8 code cache, and no ESM named-export
 * scan of 10 MB of JavaScript on each run).
 */
const CACHED_CJS = ["ts-morph"];

const cjsThroughCodeCache = {
	name: "cjs-through-code-cache",
	setup(b) {
		const filter = new RegExp(`^(${CACHED_CJS.join("|")})$`);
		b.onResolve({ filter }, (a) => ({ path: a.path, namespace: "cached-cjs" }));
		b.onLoad({ filter: /.*/, namespace: "cached-cjs" }, (a) => {
			const names = Object.keys(createRequire(import.meta.url)(a.path)).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== "default");
			return {
				resolveDir: join(ROOT, "generator"),
				loader: "js",
				contents:
					`import { requireCached } from "./compile-cache.ts";\n` +
					`const m = requireCached(${JSON.stringify(a.path)});\n` +
					`export default m;\n` +
					`export const { ${names.join(", ")} } = m;\n`,
			};
		});
	},
};

/** Builds dist/generator/ from the sources; returns the number of files. */
export async function build() {
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
	const inputs = {};
	for (const path of Object.keys(r.metafile.inputs).filter((p) => !p.includes(":")).sort()) inputs[path] = hashOf(join(ROOT, path));
	// the build script itself and the package file shape the output too
	for (const path of ["bin/build.js", "package.json"]) inputs[path] = hashOf(join(ROOT, path));
	writeFileSync(join(tmp, "stamp.json"), `${JSON.stringify({ node: process.versions.node.split(".")[0], inputs }, null, "\t")}\n`);
	// swap in the new build; a concurrent build may have done the same
	mkdirSync(dirname(DIST), { recursive: true });
	const old = `${DIST}.old-${process.pid}`;
	try {
		renameSync(DIST, old);
	} catch {
		// no previous build
	}
	try {
		renameSync(tmp, DIST);
	} catch {
		rmSync(tmp, { recursive: true, force: true });
	}
	rmSync(old, { recursive: true, force: true });
	return readdirSync(DIST).length;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const t0 = performance.now();
	const n = await build();
	process.stdout.write(
		`mpcheckgen: compiled ${ENTRY} into ${relative(process.cwd(), DIST) || "."}/ (${n} files, ${Math.round(performance.now() - t0)} ms)\n`,
	);
}
