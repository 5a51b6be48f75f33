// The names a file's headers declare, read from the headers' text: the
// symbol table of a generated file reserves them, so no generated name can
// redefine or shadow one.

export interface HeaderNames {
	/** Functions, variables, enumerators, typedefs, macros and parameter names. */
	readonly ordinary: ReadonlySet<string>;
	/** struct, union and enum tags. */
	readonly tags: ReadonlySet<string>;
}

/** The identifiers declared in C header texts (comments and string literals left out). */
export function headerNames(texts: readonly string[]): HeaderNames {
	const ordinary = new Set<string>();
	const tags = new Set<string>();
	for (const text of texts) {
		const code = text
			.replace(/\/\*[\s\S]*?\*\//g, " ")
			.replace(/\/\/.*$/gm, " ")
			.replace(/"(?:[^"\\]|\\.)*"/g, " ")
			.replace(/^\s*#\s*include.*$/gm, " ");
		for (const m of code.matchAll(/\b(struct|union|enum)\s+([A-Za-z_]\w*)/g)) tags.add(m[2]);
		for (const m of code.matchAll(/\b[A-Za-z_]\w*\b/g)) {
			const before = code.slice(Math.max(0, (m.index ?? 0) - 8), m.index).trimEnd();
			if (/\b(struct|union|enum)$/.test(before)) continue;
			ordinary.add(m[0]);
		}
	}
	return { ordinary, tags };
}
