// Formats emitted C with clang-format 19.1.7 (the WebAssembly build pinned in
// package.json, byte-identical to Debian's clang-format-19) and the
// project's .clang-format, which carries upstream multipath-tools' settings.
// The emitters already write upstream layout; the formatter settles the
// places where clang-format's line-breaking penalties decide (upstream's
// low PenaltyExcessCharacter lets some lines run past column 79).
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import init, { format } from "@wasm-fmt/clang-format";

export const CLANG_FORMAT_FILE = resolve(dirname(fileURLToPath(import.meta.url)), "../../.clang-format");

let ready: Promise<void> | undefined;
let style: string | undefined;

/** Loads the formatter; emit() needs it done. */
export function initFormatter(): Promise<void> {
	ready ??= init().then(() => {
		style = readFileSync(CLANG_FORMAT_FILE, "utf8");
	});
	return ready;
}

export function formatC(text: string, fileName: string): string {
	if (style === undefined) throw new Error("initFormatter() must complete before C is formatted");
	return format(text, fileName, style);
}

/** Formats with another .clang-format's text (a tree's own), for checks. */
export function formatCWithStyle(text: string, fileName: string, styleText: string): string {
	if (style === undefined) throw new Error("initFormatter() must complete before C is formatted");
	return format(text, fileName, styleText);
}
