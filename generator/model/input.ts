// What every model builder needs to read an evaluated spec it cannot trust
// (types can be bypassed): shape tests, unknown-key checks, and located
// diagnostics collected rather than thrown one at a time.
import { didYouMean, SpecError, type Diagnostic } from "./diagnostics.ts";
import type { SourceIndex, ValuePath } from "./source-index.ts";
import type { SourceLocation } from "./types.ts";

export function isRecord(v: unknown): v is Record<string, unknown> {
	return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function asList<T>(v: T | readonly T[]): readonly T[] {
	return Array.isArray(v) ? (v as readonly T[]) : [v as T];
}

/** Checker names: what `libcheck<name>.so` and C prefixes allow. */
export const CHECKER_NAME = /^[a-z][a-z0-9_]*$/;

/** Identifiers spec authors may use for states, messages, budgets and fields. */
export const SPEC_IDENTIFIER = /^[a-z][A-Za-z0-9]*$/;

/** Collects the diagnostics of one spec, each located through the source index. */
export class SpecInput {
	readonly diagnostics: Diagnostic[] = [];
	readonly index: SourceIndex;

	constructor(index: SourceIndex) {
		this.index = index;
	}

	get file(): string {
		return this.index.file;
	}

	locate(path: ValuePath): SourceLocation {
		return this.index.locate(path);
	}

	error(path: ValuePath, message: string): void {
		this.diagnostics.push({ loc: this.index.locate(path), severity: "error", message });
	}

	/** A warning: printed, the spec still generates (`--strict` makes it an error). */
	warn(path: ValuePath, message: string): void {
		this.diagnostics.push({ loc: this.index.locate(path), severity: "warning", message });
	}

	/** The warnings so far. */
	get warnings(): Diagnostic[] {
		return this.diagnostics.filter((d) => d.severity === "warning");
	}

	/** The doc of a spec item: an explicit `doc` property, else the JSDoc above it. */
	doc(path: ValuePath, explicit?: unknown): string | undefined {
		if (typeof explicit === "string" && explicit.trim() !== "") return explicit.trim();
		return this.index.doc(path);
	}

	/** Reports keys of `obj` not in `allowed`. */
	onlyKeys(obj: Record<string, unknown>, allowed: readonly string[], path: ValuePath, what: string): void {
		for (const k of Object.keys(obj)) {
			if (!allowed.includes(k)) {
				this.error([...path, k], `unknown ${what} '${k}'${didYouMean(k, allowed)} (expected one of: ${allowed.join(", ")})`);
			}
		}
	}

	/** Reports a key that is not a camelCase identifier; true when it is one. */
	identifier(key: string, path: ValuePath, what: string): boolean {
		if (!SPEC_IDENTIFIER.test(key)) {
			this.error(path, `${what} name '${key}' must be a camelCase identifier (letters and digits, starting lower-case)`);
			return false;
		}
		return true;
	}

	/** Any error (warnings aside). */
	get failed(): boolean {
		return this.diagnostics.some((d) => d.severity === "error");
	}

	/** Throws the collected diagnostics, if any. */
	throwIfFailed(): void {
		if (this.failed) throw new SpecError(this.diagnostics);
	}
}
