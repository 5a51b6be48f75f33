// A V8 code cache for the big CommonJS dependencies (ts-morph with its copy
// of the TypeScript compiler: 10 MB of JavaScript that V8 would otherwise
// parse on every run). Node 22 has this built in (module.enableCompileCache);
// on Node 20 the compiled code is kept the way v8-compile-cache does it: the
// module is compiled with vm.Script and its cachedData, and the cache is
// written at exit, when it holds the functions the run compiled.
// The cache lives in node_modules/.cache/mpcheckgen/v8 (or
// $MPCHECKGEN_CACHE/v8); if it cannot be written, nothing is cached.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname, join } from "node:path";
import vm from "node:vm";
import { CACHE_ROOT } from "./paths.ts";

/** Files smaller than this compile fast enough without a cache. */
const MIN_SIZE = 1_000_000;

function cacheDir(): string {
	return join(CACHE_ROOT, "v8");
}

interface CjsModule {
	exports: unknown;
	require(id: string): unknown;
}

interface ModuleInternals {
	prototype: { _compile(this: CjsModule, content: string, filename: string): unknown };
	_resolveFilename(request: string, parent: CjsModule, isMain: boolean, options?: unknown): string;
	_extensions: unknown;
	_cache: unknown;
	wrap(content: string): string;
}

let pending: { file: string; script: vm.Script }[] | undefined;

function writeCaches(): void {
	for (const { file, script } of pending ?? []) {
		try {
			mkdirSync(dirname(file), { recursive: true });
			const tmp = `${file}.${process.pid}`;
			writeFileSync(tmp, script.createCachedData());
			renameSync(tmp, file);
		} catch {
			// a read-only install: no cache
		}
	}
	pending = [];
}

function makeRequire(mod: CjsModule, M: ModuleInternals): NodeJS.Require {
	const require = ((id: string) => mod.require(id)) as NodeJS.Require;
	require.resolve = ((request: string, options?: unknown) => M._resolveFilename(request, mod, false, options)) as NodeJS.RequireResolve;
	require.main = process.mainModule;
	require.extensions = M._extensions as NodeJS.Require["extensions"];
	require.cache = M._cache as NodeJS.Require["cache"];
	return require;
}

/**
 * A stand-in for export `name` of a package (the package itself when null)
 * that loads it on first use: property reads, calls and `new` go to the
 * real value. (Identity differs: not for instanceof or ===.)
 */
export function lazyExport(load: () => Record<string, unknown>, name: string | null): unknown {
	const real = () => (name === null ? load() : load()[name]) as object;
	return new Proxy(function lazy() {}, {
		get: (_t, key) => Reflect.get(real(), key),
		has: (_t, key) => Reflect.has(real(), key),
		apply: (_t, self, args) => Reflect.apply(real() as (...a: unknown[]) => unknown, self, args),
		construct: (_t, args) => Reflect.construct(real() as new (...a: unknown[]) => object, args),
	});
}

const loaded = new Map<string, unknown>();

/** require() of a CommonJS package, its big files compiled through the code cache. */
export function requireCached<T>(id: string): T {
	if (loaded.has(id)) return loaded.get(id) as T;
	const m = requireThroughCache<T>(id);
	loaded.set(id, m);
	return m;
}

function requireThroughCache<T>(id: string): T {
	const req = createRequire(import.meta.url);
	const native = (Module as unknown as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache;
	if (native) {
		native(cacheDir());
		return req(id) as T;
	}
	const M = Module as unknown as ModuleInternals;
	const proto = M.prototype;
	const original = proto._compile;
	proto._compile = function (this: CjsModule, content: string, filename: string) {
		if (content.length < MIN_SIZE) return original.call(this, content, filename);
		const st = statSync(filename);
		const key = createHash("sha256")
			.update(`${process.version}\0${filename}\0${st.size}\0${st.mtimeMs}`)
			.digest("hex")
			.slice(0, 24);
		const file = join(cacheDir(), `${key}.bin`);
		let cachedData: Buffer | undefined;
		try {
			cachedData = readFileSync(file);
		} catch {
			cachedData = undefined;
		}
		const script = new vm.Script(M.wrap(content), { filename, cachedData });
		if (cachedData === undefined || script.cachedDataRejected) {
			if (pending === undefined) {
				pending = [];
				process.once("exit", writeCaches);
			}
			pending.push({ file, script });
		}
		const fn = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
		return fn.call(this.exports, this.exports, makeRequire(this, M), this, filename, dirname(filename));
	};
	try {
		return req(id) as T;
	} finally {
		proto._compile = original;
	}
}
