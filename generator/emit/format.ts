// Formats emitted C with clang-format 19.1.7 (the WebAssembly build pinned in
// package.json, byte-identical to Debian's clang-format-19) and the
// project's .clang-format, which carries upstream multipath-tools' settings.
// The emitters already write upstream layout; the formatter settles the
// places where clang-format's line-breaking penalties decide (upstream's
// low PenaltyExcessCharacter lets some lines run past column 79).
//
// Loading the WebAssembly is most of what a generation costs, so formatted
// output is kept in a content-addressed cache (CACHE_ROOT/format/, keyed by
// the formatter's version, the style, the file name and the text): a file
// formatted once before is read back, and withFormatter() loads the
// WebAssembly only when some file is not in the cache. The cache only makes
// runs faster; if it cannot be written, nothing is cached.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import init, { format } from "@wasm-fmt/clang-format";
import { CACHE_ROOT } from "../paths.ts";

export const CLANG_FORMAT_FILE = resolve(dirname(fileURLToPath(import.meta.url)), "../../.clang-format");

let loaded: Promise<void> | undefined;
let wasmReady = false;
let style: string | undefined;
let formatterVersion: string | undefined;

/** Thrown by formatC when the text is not cached and the WebAssembly is not loaded. */
class FormatterNotLoaded extends Error {}

function readStyle(): void {
	style ??= readFileSync(CLANG_FORMAT_FILE, "utf8");
	formatterVersion ??= (createRequire(import.meta.url)("@wasm-fmt/clang-format/package.json") as { version: string }).version;
}

/** Loads the formatter (the WebAssembly too); emit() may then format anything. */
export function initFormatter(): Promise<void> {
	readStyle();
	loaded ??= init().then(() => {
		wasmReady = true;
	});
	return loaded;
}

/**
 * Runs `render` (which formats through formatC) with the cached output
 * alone; only if some text is not in the cache, loads the WebAssembly and
 * runs it again.
 */
export async function withFormatter<T>(render: () => T): Promise<T> {
	readStyle();
	if (!wasmReady) {
		try {
			return render();
		} catch (e) {
			if (!(e instanceof FormatterNotLoaded)) throw e;
		}
		await initFormatter();
	}
	return render();
}

const CACHE_DIR = join(CACHE_ROOT, "format");

function cached(text: string, fileName: string, styleText: string): string {
	const key = createHash("sha256").update(`clang-format ${formatterVersion}\0${styleText}\0${fileName}\0${text}`).digest("hex").slice(0, 40);
	const file = join(CACHE_DIR, key.slice(0, 2), `${key}.out`);
	try {
		return readFileSync(file, "utf8");
	} catch {
		// not cached
	}
	if (!wasmReady) throw new FormatterNotLoaded(`${fileName} is not in the format cache`);
	const out = format(text, fileName, styleText);
	try {
		mkdirSync(dirname(file), { recursive: true });
		const tmp = `${file}.${process.pid}`;
		writeFileSync(tmp, out);
		renameSync(tmp, file);
	} catch {
		// a read-only install: no cache
	}
	return out;
}

export function formatC(text: string, fileName: string): string {
	if (style === undefined) throw new Error("initFormatter() or withFormatter() must run before C is formatted");
	return cached(text, fileName, style);
}

/** Formats with another .clang-format's text (a tree's own), for checks. */
export function formatCWithStyle(text: string, fileName: string, styleText: string): string {
	if (style === undefined) throw new Error("initFormatter() or withFormatter() must run before C is formatted");
	return cached(text, fileName, styleText);
}
