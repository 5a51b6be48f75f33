// C names from spec names: one function per kind, so the same word becomes
// the same identifier in every emitted file.

/** camelCase → snake_case ("testUnitReady" → "test_unit_ready", "readVPD" → "read_vpd"). */
export function snakeCase(name: string): string {
	return name
		.replace(/([a-z0-9])([A-Z])/g, "$1_$2")
		.replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
		.replace(/[^A-Za-z0-9]+/g, "_")
		.toLowerCase();
}

export function macroCase(name: string): string {
	return snakeCase(name).toUpperCase();
}

/** Identifiers spec authors may use for states, messages, budgets and fields. */
export const SPEC_IDENTIFIER = /^[a-z][A-Za-z0-9]*$/;

/** Checker names: what `libcheck<name>.so` and C prefixes allow. */
export const CHECKER_NAME = /^[a-z][a-z0-9_]*$/;

/** C keywords and names a generated identifier must not collide with. */
export const C_RESERVED = new Set([
	"auto",
	"break",
	"case",
	"char",
	"const",
	"continue",
	"default",
	"do",
	"double",
	"else",
	"enum",
	"extern",
	"float",
	"for",
	"goto",
	"if",
	"inline",
	"int",
	"long",
	"register",
	"restrict",
	"return",
	"short",
	"signed",
	"sizeof",
	"static",
	"struct",
	"switch",
	"typedef",
	"union",
	"unsigned",
	"void",
	"volatile",
	"while",
	"bool",
]);
