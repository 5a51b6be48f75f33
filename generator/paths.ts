// Where this package's files are, from the sources (generator/) and from the
// compiled CLI (dist/generator/) alike: the nearest directory above with
// mpcheckgen's package.json.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function packageRoot(): string {
	let dir = dirname(fileURLToPath(import.meta.url));
	for (;;) {
		const pkg = join(dir, "package.json");
		if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "mpcheckgen") return dir;
		const up = dirname(dir);
		if (up === dir) throw new Error("mpcheckgen: cannot find the package's own package.json");
		dir = up;
	}
}

export const PACKAGE_ROOT = packageRoot();
export const EMBEDDED_SPEC_DIR = join(PACKAGE_ROOT, "specs");
/** The embedded runner spec: the runner framework every async checker needs. */
export const EMBEDDED_RUNNER_SPEC = join(EMBEDDED_SPEC_DIR, "runner.ts");
/** What `import … from "mpcheckgen/spec"` means. */
export const SPEC_LANGUAGE_ENTRY = join(PACKAGE_ROOT, "generator", "spec", "index.ts");
/** Caches that only make runs faster: node_modules/.cache/mpcheckgen, or $MPCHECKGEN_CACHE. */
export const CACHE_ROOT = process.env.MPCHECKGEN_CACHE
	? join(process.env.MPCHECKGEN_CACHE, "generator")
	: join(PACKAGE_ROOT, "node_modules", ".cache", "mpcheckgen");
