// A state's command → the CommandModel: the CDB byte by byte (constants with
// the names the command gives them, bytes chosen by context fields, the
// allocation length), the data direction and the data length.
import { didYouMean } from "./diagnostics.ts";
import { CDB_SYMBOLS, DXFER } from "../spec/vocabulary.ts";
import type { CheckerScope } from "./checker-scope.ts";
import { isRecord } from "./input.ts";
import type { ValuePath } from "./source-index.ts";
import type { CdbByteModel, CdbSymbolModel, CommandModel } from "./types.ts";

const symbolModels = new Map<string, CdbSymbolModel>(
	Object.entries(CDB_SYMBOLS).map(([name, s]) => [name, { name, value: s.value, header: "header" in s ? s.header : undefined, doc: s.doc }]),
);

/** The symbols a byte is named with; an error unless they OR to the byte. */
function symbolsOf(cx: CheckerScope, raw: unknown, value: number, path: ValuePath): CdbSymbolModel[] | undefined {
	if (raw === undefined) return [];
	if (!Array.isArray(raw)) {
		cx.input.error(path, "CDB symbols are a list of names");
		return undefined;
	}
	const out: CdbSymbolModel[] = [];
	for (const n of raw as unknown[]) {
		const s = typeof n === "string" ? symbolModels.get(n) : undefined;
		if (!s) {
			cx.input.error(path, `unknown CDB symbol ${JSON.stringify(n)}${didYouMean(String(n), symbolModels.keys())} (known: ${[...symbolModels.keys()].join(", ")})`);
			return undefined;
		}
		out.push(s);
	}
	const or = out.reduce((v, s) => v | s.value, 0);
	if (out.length > 0 && or !== value) {
		cx.input.error(path, `CDB symbols ${out.map((s) => s.name).join(" | ")} make 0x${or.toString(16)}, not the byte's 0x${value.toString(16)}`);
		return undefined;
	}
	return out;
}

export function buildCommand(cx: CheckerScope, raw: unknown, path: ValuePath): CommandModel | undefined {
	const { input } = cx;
	if (!isRecord(raw) || !Array.isArray(raw.cdb) || typeof raw.name !== "string") {
		input.error(path, "command must be a CommandSpec, e.g. testUnitReady()");
		return undefined;
	}
	input.onlyKeys(raw, ["name", "cdb", "direction", "dataLength", "allocationLength", "symbols"], path, "command property");
	if (![6, 10, 12, 16].includes(raw.cdb.length)) {
		input.error([...path, "cdb"], `a CDB is 6, 10, 12 or 16 bytes, not ${raw.cdb.length}`);
		return undefined;
	}
	const direction = raw.direction as string;
	if (!(direction in DXFER)) {
		input.error([...path, "direction"], `direction must be one of ${Object.keys(DXFER).join(", ")}`);
		return undefined;
	}
	let dataLength: CommandModel["dataLength"];
	let maxDataLength: number;
	if (typeof raw.dataLength === "number") {
		if (!Number.isInteger(raw.dataLength) || raw.dataLength < 0 || raw.dataLength > 0x10000) {
			input.error([...path, "dataLength"], "dataLength must be an integer in 0..65536");
			return undefined;
		}
		dataLength = { kind: "const", value: raw.dataLength };
		maxDataLength = raw.dataLength;
	} else if (isRecord(raw.dataLength) && typeof raw.dataLength.context === "string") {
		const f = cx.context.get(raw.dataLength.context);
		if (!f || f.type === "bool" || f.type === "u8") {
			input.error([...path, "dataLength"], `dataLength must name a u16 or u32 context field, not '${raw.dataLength.context}'`);
			return undefined;
		}
		if (f.max > 0x10000) {
			input.error([...path, "dataLength"], `context field '${f.key}' sizes a buffer: give it a max of at most 65536 (it has ${f.max})`);
			return undefined;
		}
		cx.used.fields.add(f.key);
		dataLength = { kind: "context", field: f };
		maxDataLength = f.max;
	} else {
		input.error([...path, "dataLength"], "dataLength is a number or { context: FIELD }");
		return undefined;
	}
	if ((direction === "none") !== (maxDataLength === 0)) {
		input.error(path, direction === "none" ? "a command without data has dataLength 0" : "a command with data needs a dataLength");
		return undefined;
	}
	const alloc = raw.allocationLength as { offset: number; size: number } | undefined;
	if (alloc !== undefined) {
		if (
			!isRecord(alloc) ||
			![1, 2, 4].includes(alloc.size) ||
			!Number.isInteger(alloc.offset) ||
			alloc.offset < 1 ||
			alloc.offset + alloc.size > raw.cdb.length
		) {
			input.error([...path, "allocationLength"], "allocationLength must be { offset, size: 1|2|4 } inside the CDB");
			return undefined;
		}
		if (maxDataLength >= 2 ** (8 * alloc.size)) {
			input.error([...path, "allocationLength"], `a ${alloc.size}-byte allocation length cannot hold ${maxDataLength}`);
			return undefined;
		}
	}
	const symbols = isRecord(raw.symbols) ? raw.symbols : {};
	const cdb: CdbByteModel[] = [];
	for (const [i, byte] of (raw.cdb as unknown[]).entries()) {
		const bpath = [...path, "cdb", i];
		if (alloc && i >= alloc.offset && i < alloc.offset + alloc.size) {
			cdb.push({ kind: "allocationLength", shift: 8 * (alloc.offset + alloc.size - 1 - i) });
		} else if (typeof byte === "number") {
			if (!Number.isInteger(byte) || byte < 0 || byte > 255) {
				input.error(bpath, `CDB byte ${i} must be 0..255`);
				return undefined;
			}
			const named = symbolsOf(cx, symbols[i], byte, [...path, "symbols"]);
			if (!named) return undefined;
			cdb.push({ kind: "const", value: byte, symbols: named });
		} else if (isRecord(byte) && typeof byte.context === "string") {
			const f = cx.context.get(byte.context);
			if (!f || f.type !== "bool") {
				input.error(bpath, `CDB byte ${i} is chosen by '${byte.context}', which must be a bool context field`);
				return undefined;
			}
			const ifSet = byte.ifSet as number;
			const ifClear = byte.ifClear as number;
			if (![ifSet, ifClear].every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
				input.error(bpath, `CDB byte ${i}: ifSet and ifClear must be 0..255`);
				return undefined;
			}
			const ifSetSymbols = symbolsOf(cx, byte.ifSetSymbols, ifSet, bpath);
			const ifClearSymbols = symbolsOf(cx, byte.ifClearSymbols, ifClear, bpath);
			if (!ifSetSymbols || !ifClearSymbols) return undefined;
			cx.used.fields.add(f.key);
			cdb.push({ kind: "context", field: f, ifSet, ifSetSymbols, ifClear, ifClearSymbols });
		} else {
			input.error(bpath, `CDB byte ${i} must be a number or { context, ifSet, ifClear }`);
			return undefined;
		}
	}
	return {
		name: raw.name,
		cdb,
		direction: direction as CommandModel["direction"],
		dxferValue: DXFER[direction as keyof typeof DXFER].value,
		dataLength,
		maxDataLength,
	};
}
