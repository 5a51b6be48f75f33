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
