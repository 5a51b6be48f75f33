// Loads spec files: evaluates each and indexes its source with ts-morph,
// then builds the validated model. Every failure becomes a located SpecError.
//
// A spec is TypeScript and may live anywhere (specs/ here, or an author's
// own directory). It is bundled with esbuild into one ES module, the spec
// language included, and imported from memory: no loader hooks, no
// CommonJS/ESM interplay of the spec's directory (a spec outside a
// "type": "module" package used to fail with "Cannot require() ES Module
// … in a cycle"), nothing written. `mpcheckgen/spec` resolves to this
// package's spec language even where no node_modules provides it.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { SpecError, type Diagnostic } from "./model/diagnostics.ts";
import type { SourceIndex } from "./model/source-index.ts";
import type { SpecModel } from "./model/types.ts";
import { CACHE_ROOT, PACKAGE_ROOT, SPEC_LANGUAGE_ENTRY } from "./paths.ts";
import type { CheckerSpec } from "./spec/checker.ts";
import type { RunnerSpec } from "./spec/runner.ts";

/** The path a diagnostic names: relative to the working directory when inside it. */
export function displayPath(absPath: string, cwd = process.cwd()): string {
	const rel = relative(cwd, absPath);
	return rel.startsWith("..") ? absPath : rel;
}

function fail(file: string, message: string, line = 1, column = 1): never {
	throw new SpecError([{ loc: { file, line, column }, severity: "error", message }]);
}

/**
 * A spec that cannot be evaluated or read by the model rules at all (it
 * throws). `validate` leaves it out when the file has type errors: those
 * say what is wrong.
 */
export class SpecCrash extends SpecError {}

function crash(file: string, message: string, line = 1, column = 1): never {
	throw new SpecCrash([{ loc: { file, line, column }, severity: "error", message }]);
}

/** Bundles a spec into the text of one ES module. */
async function bundleSpec(absPath: string, file: string): Promise<string> {
	const esbuild = await import("esbuild");
	let r: import("esbuild").BuildResult<{ write: false; metafile: true }>;
	try {
		r = await esbuild.build({
			entryPoints: [absPath],
			bundle: true,
			write: false,
			format: "esm",
			platform: "node",
			target: "node20",
			logLevel: "silent",
			metafile: true,
			plugins: [
				{
					name: "mpcheckgen-spec",
					setup(b: import("esbuild").PluginBuild) {
						b.onResolve({ filter: /^mpcheckgen\/spec$/ }, () => ({ path: SPEC_LANGUAGE_ENTRY }));
					},
				},
			],
		});
	} catch (e) {
		const errors = (e as { errors?: import("esbuild").Message[] }).errors;
		if (!errors || errors.length === 0) throw e;
		throw new SpecError(
			errors.map((m) => ({
				loc: {
					file: m.location ? displayPath(resolve(m.location.file)) : file,
					line: m.location?.line ?? 1,
					column: (m.location?.column ?? 0) + 1,
				},
				severity: "error" as const,
				message: `cannot load the spec: ${m.text}`,
			})),
		);
	}
	const code = r.outputFiles[0].text;
	// the files it read, as absolute paths (esbuild names them relative to its working directory)
	storeBundle(absPath, Object.keys(r.metafile.inputs).filter((p) => !p.includes(":")).map((p) => resolve(p)), code);
	return code;
}

// A spec's bundle is kept with the hash of every file esbuild read for it,
// and used only while all of them are unchanged: an unchanged spec loads
// without starting esbuild.
interface CachedBundle {
	inputs: Record<string, string>;
	code: string;
}

function bundleCacheFile(absPath: string): string {
	const key = createHash("sha256").update(`${SPEC_LANGUAGE_ENTRY}\0${absPath}`).digest("hex").slice(0, 40);
	return join(CACHE_ROOT, "bundle", `${key}.json`);
}

function cachedBundle(absPath: string): string | undefined {
	try {
		const c = JSON.parse(readFileSync(bundleCacheFile(absPath), "utf8")) as CachedBundle;
		for (const [f, h] of Object.entries(c.inputs)) {
			if (createHash("sha256").update(readFileSync(f)).digest("hex") !== h) return undefined;
		}
		return c.code;
	} catch {
		return undefined;
	}
}

function storeBundle(absPath: string, inputs: readonly string[], code: string): void {
	try {
		const c: CachedBundle = { inputs: {}, code };
		for (const f of inputs) c.inputs[f] = createHash("sha256").update(readFileSync(f)).digest("hex");
		const file = bundleCacheFile(absPath);
		mkdirSync(dirname(file), { recursive: true });
		const tmp = `${file}.${process.pid}`;
		writeFileSync(tmp, JSON.stringify(c));
		renameSync(tmp, file);
	} catch {
		// a read-only install (or an input gone meanwhile): no cache
	}
}

async function evaluateSpec(absPath: string, file: string): Promise<{ default?: unknown }> {
	const code = cachedBundle(absPath) ?? (await bundleSpec(absPath, file));
	try {
		return (await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`)) as { default?: unknown };
	} catch (e) {
		crash(file, `cannot evaluate the spec: ${e instanceof Error ? e.message : String(e)}`);
	}
}

// ------------------------------------------------------------ source index cache
//
// Parsing a spec (ts-morph and its copy of the TypeScript compiler) is most
// of what loading it costs. The index depends only on the spec's text, the
// path diagnostics name and the indexer's code, so it is kept by a hash of
// the three (and ts-morph's version), as JSON. An index is cached only if
// it survives the round trip (every own field plain data or a Map of plain
// data; revived, it must serialize the same), so a change of SourceIndex
// never yields a wrong index from the cache, only no cache.

const INDEXER_SOURCE = join(PACKAGE_ROOT, "generator", "model", "source-index.ts");
let indexerHash: string | undefined;

function indexKey(text: string, file: string): string {
	indexerHash ??= createHash("sha256")
		.update(readFileSync(INDEXER_SOURCE))
		.update(readFileSync(createRequire(import.meta.url).resolve("ts-morph/package.json")))
		.digest("hex");
	return createHash("sha256").update(`${indexerHash}\0${file}\0${text}`).digest("hex").slice(0, 32);
}

type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

function toPlain(value: unknown): Plain {
	if (value instanceof Map) return { map: [...value.entries()].map(([k, v]) => [toPlain(k), toPlain(v)]) };
	if (value === null || typeof value === "boolean" || typeof value === "number" || typeof value === "string") return value;
	if (value === undefined) return { undef: true };
	if (Array.isArray(value)) return { array: value.map(toPlain) };
	if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
		return { object: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v)])) };
	}
	throw new Error("not plain data");
}

function fromPlain(p: Plain): unknown {
	if (p === null || typeof p !== "object" || Array.isArray(p)) return p;
	if ("map" in p) return new Map((p.map as Plain[][]).map(([k, v]) => [fromPlain(k), fromPlain(v)]));
	if ("undef" in p) return undefined;
	if ("array" in p) return (p.array as Plain[]).map(fromPlain);
	return Object.fromEntries(Object.entries(p.object as Record<string, Plain>).map(([k, v]) => [k, fromPlain(v)]));
}

function serializeIndex(index: SourceIndex): string {
	return JSON.stringify(Object.fromEntries(Object.entries(index).map(([k, v]) => [k, toPlain(v)])));
}

function reviveIndex(text: string, proto: object): SourceIndex {
	const fields = JSON.parse(text) as Record<string, Plain>;
	const index = Object.create(proto) as Record<string, unknown>;
	for (const [k, v] of Object.entries(fields)) index[k] = fromPlain(v);
	return index as unknown as SourceIndex;
}

/** Parses a spec's source (ts-morph, loaded only now), or takes its index from the cache. */
async function indexSource(absPath: string, file: string): Promise<SourceIndex> {
	const { indexSpecSource, SourceIndex } = await import("./model/source-index.ts");
	const text = readFileSync(absPath, "utf8");
	const cacheFile = join(CACHE_ROOT, "index", `${indexKey(text, file)}.json`);
	try {
		return reviveIndex(readFileSync(cacheFile, "utf8"), SourceIndex.prototype);
	} catch {
		// not cached (or unreadable): parse
	}
	const index = indexSpecSource(absPath, file, text);
	try {
		const data = serializeIndex(index);
		if (serializeIndex(reviveIndex(data, SourceIndex.prototype)) === data) {
			mkdirSync(dirname(cacheFile), { recursive: true });
			const tmp = `${cacheFile}.${process.pid}`;
			writeFileSync(tmp, data);
			renameSync(tmp, cacheFile);
		}
	} catch {
		// not plain data, or a read-only install: no cache
	}
	return index;
}

/**
 * The model builder for an evaluated spec value and its source index: the
 * model rules, then the C-name checks of every target. A spec error is a
 * SpecError; anything else it throws is a generator crash (loadSpec reports
 * it as a SpecCrash; the spec fuzzer counts it as a bug).
 */
export async function modelBuilder(): Promise<(value: unknown, index: SourceIndex) => SpecModel> {
	const [{ buildCheckerModel }, { buildRunnerModel }, { checkCNames }] = await Promise.all([
		import("./model/build-checker.ts"),
		import("./model/build-runner.ts"),
		import("./emit/index.ts"),
	]);
	return (value, index) => {
		if ((value as { kind?: unknown }).kind === "runner") return buildRunnerModel(value as RunnerSpec, index);
		const model = buildCheckerModel(value as CheckerSpec, index);
		// the names its C would have: a clash is a spec error like any other
		for (const t of model.targets) checkCNames([model], t);
		return model;
	};
}

/** Loads and validates one spec file. */
export async function loadSpec(path: string, cwd = process.cwd()): Promise<SpecModel> {
	const absPath = resolve(cwd, path);
	const file = displayPath(absPath, cwd);
	if (!existsSync(absPath)) fail(file, "no such file");
	const index = await indexSource(absPath, file);
	const syntax = index.syntaxErrors[0];
	if (syntax) fail(file, syntax.message, syntax.line, syntax.column);
	const mod = await evaluateSpec(absPath, file);
	const value = mod.default as { kind?: unknown } | undefined;
	if (typeof value !== "object" || value === null || (value.kind !== "checker" && value.kind !== "runner")) {
		fail(file, "the default export must be defineChecker({…}) or defineRunner({…})", index.root.line, index.root.column);
	}
	const build = await modelBuilder();
	try {
		return build(value, index);
	} catch (e) {
		if (e instanceof SpecError) throw e;
		// a spec the type check rejects may be too broken for the model rules
		crash(file, `the spec cannot be read: ${e instanceof Error ? e.message : String(e)}`, index.root.line, index.root.column);
	}
}

/** Diagnostics each once per location and message (with or without a TSnnnn code), sorted by file and position. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
	const seen = new Set<string>();
	const out: Diagnostic[] = [];
	for (const d of diagnostics) {
		// the type check and the source index both report a syntax error
		const key = `${d.loc.file}:${d.loc.line}:${d.loc.column}:${d.message.replace(/^TS\d+: /, "")}`;
		if (seen.has(key)) continue;
		seen.add(key);
		out.push(d);
	}
	return out.sort(
		(a, b) =>
			(a.loc.file < b.loc.file ? -1 : a.loc.file > b.loc.file ? 1 : 0) ||
			a.loc.line - b.loc.line ||
			a.loc.column - b.loc.column,
	);
}

/** Loads several specs, collecting the diagnostics of all of them. */
export async function loadSpecs(paths: readonly string[], cwd = process.cwd()): Promise<SpecModel[]> {
	const models: SpecModel[] = [];
	const errors: SpecError[] = [];
	for (const p of paths) {
		try {
			models.push(await loadSpec(p, cwd));
		} catch (e) {
			if (e instanceof SpecError) errors.push(e);
			else throw e;
		}
	}
	// with the errors, the other specs' warnings: everything is reported at once
	const warnings = models.flatMap((m) => (m.kind === "checker" ? m.warnings : []));
	if (errors.length > 0) throw new SpecError(sortDiagnostics([...errors.flatMap((e) => e.diagnostics), ...warnings]));
	return models;
}
