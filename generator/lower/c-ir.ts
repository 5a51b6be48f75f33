// The C IR: what the lowering stage hands the C writer for one output file.
// Every identifier in it was claimed from the file's symbol table
// (lower/symbols.ts); the writer (emit/c-writer.ts) only lays it out, and
// clang-format settles the line breaks.

/** A statement. Expressions are C text built by the lowering from claimed names. */
export type CStmt =
	| { readonly kind: "comment"; readonly text: string }
	| { readonly kind: "blank" }
	| { readonly kind: "decl"; readonly decl: string; readonly init?: string | CInit }
	| { readonly kind: "expr"; readonly text: string }
	| { readonly kind: "return"; readonly value?: string }
	| { readonly kind: "label"; readonly name: string }
	| { readonly kind: "goto"; readonly label: string }
	| { readonly kind: "break" }
	| {
			readonly kind: "if";
			/** Terms joined with &&; a term holding || gets parentheses. */
			readonly cond: readonly string[];
			readonly then: readonly CStmt[];
			readonly else?: readonly CStmt[];
	  }
	| { readonly kind: "switch"; readonly on: string; readonly cases: readonly CCase[] }
	| { readonly kind: "while"; readonly cond: string; readonly body: readonly CStmt[] }
	| { readonly kind: "forever"; readonly body: readonly CStmt[] };

export interface CCase {
	/** Case labels; "default" for the default label. */
	readonly labels: readonly string[];
	/** A comment above the labels. */
	readonly doc?: string;
	readonly body: readonly CStmt[];
}

/** A brace initialiser: a list of values, or designated entries (".field = v", "[i] = v"; "" for a positional one). */
export type CInit =
	| { readonly kind: "list"; readonly values: readonly string[] }
	| { readonly kind: "designated"; readonly entries: readonly { readonly designator: string; readonly value: string }[] };

export interface CMember {
	readonly decl: string;
	readonly doc?: string;
}

export type CItem =
	| { readonly kind: "comment"; readonly text: string }
	| { readonly kind: "define"; readonly name: string; readonly value: string; readonly doc?: string }
	| {
			readonly kind: "enum";
			readonly tag?: string;
			readonly doc?: string;
			readonly members: readonly { readonly name: string; readonly value?: string; readonly doc?: string }[];
	  }
	| { readonly kind: "struct"; readonly tag: string; readonly doc?: string; readonly members: readonly CMember[] }
	| {
			readonly kind: "variable";
			readonly doc?: string;
			readonly decl: string;
			readonly init?: string | CInit;
			/** Kept as written: clang-format is switched off around it (long string tables). */
			readonly verbatim?: boolean;
	  }
	| {
			readonly kind: "function";
			readonly doc?: string;
			readonly isStatic: boolean;
			readonly returns: string;
			readonly name: string;
			readonly params: readonly string[];
			readonly body: readonly CStmt[];
	  }
	/** A fixed C text from a template (decoder algorithms until specs declare them), with the names it uses. */
	| { readonly kind: "fragment"; readonly template: string; readonly names: Readonly<Record<string, string>> };

/** Items that belong together, printed without blank lines between them (#defines of one kind). */
export interface CSection {
	readonly items: readonly CItem[];
	/** Print the items one after the other (defines), not one blank line apart. */
	readonly tight?: boolean;
}

/** One output file as the lowering stage describes it; the template lays out its skeleton. */
export interface CFile {
	readonly path: string;
	/** The comment under the generated-file header: what the file is. */
	readonly summary: string;
	/** Feature-test macros defined (unless already) before the includes, e.g. _GNU_SOURCE for O_DIRECT. */
	readonly featureMacros?: readonly string[];
	readonly systemIncludes: readonly string[];
	readonly localIncludes: readonly string[];
	readonly sections: readonly CSection[];
}
