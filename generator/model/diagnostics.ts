// Located diagnostics: "specs/FILE.ts:LINE:COL: error: message", the format
// compilers use, so editors and terminals link straight to the spot.
import type { SourceLocation } from "./types.ts";

export interface Diagnostic {
	loc: SourceLocation;
	severity: "error" | "warning";
	message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
	return `${d.loc.file}:${d.loc.line}:${d.loc.column}: ${d.severity}: ${d.message}`;
}

/** Thrown when a spec cannot become a model; carries every diagnostic found. */
export class SpecError extends Error {
	readonly diagnostics: Diagnostic[];

	constructor(diagnostics: Diagnostic[]) {
		super(diagnostics.map(formatDiagnostic).join("\n"));
		this.name = "SpecError";
		this.diagnostics = diagnostics;
	}
}

function editDistance(a: string, b: string): number {
	const d = Array.from({ length: b.length + 1 }, (_, j) => j);
	for (let i = 1; i <= a.length; i++) {
		let prev = d[0];
		d[0] = i;
		for (let j = 1; j <= b.length; j++) {
			const keep = d[j];
			d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
			prev = keep;
		}
	}
	return d[b.length];
}

/**
 * " (did you mean 'X'?)" for the known name nearest `name` (by case, then
 * by edit distance within a third of its length), or "".
 */
export function didYouMean(name: string, known: Iterable<string>): string {
	const names = [...known];
	const byCase = names.find((n) => n.toLowerCase() === name.toLowerCase());
	if (byCase !== undefined && byCase !== name) return ` (did you mean '${byCase}'?)`;
	let best: string | undefined;
	let bestD = Math.max(1, Math.floor(name.length / 3)) + 1;
	for (const n of names) {
		const dist = editDistance(name.toLowerCase(), n.toLowerCase());
		if (dist < bestD) {
			best = n;
			bestD = dist;
		}
	}
	return best === undefined || best === name ? "" : ` (did you mean '${best}'?)`;
}

/** "2 errors, 1 warning". */
export function countText(diagnostics: readonly Diagnostic[]): string {
	const e = diagnostics.filter((d) => d.severity === "error").length;
	const w = diagnostics.length - e;
	const part = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
	return w === 0 ? part(e, "error") : e === 0 ? part(w, "warning") : `${part(e, "error")}, ${part(w, "warning")}`;
}
