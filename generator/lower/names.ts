// How spec names become C names: one function per kind, so the same word
// becomes the same identifier in every emitted file.

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
