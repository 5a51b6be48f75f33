// A state's command → the CommandModel: the CDB byte by byte (constants with
// the names the command gives them, bytes chosen by context fields, the
// allocation length, bytes of numeric context fields), the data direction,
// the data length and what a command that sends data sends.
import { didYouMean } from "./diagnostics.ts";
import { CDB_SYMBOLS, DXFER } from "../spec/vocabulary.ts";
import type { CheckerScope } from "./checker-scope.ts";
import { isRecord } from "./input.ts";
import type { ValuePath } from "./source-index.ts";
import { TRANSPORT_FACTS, type CdbByteModel, type CdbSymbolModel, type CommandModel, type CommandStateModel, type ContextFieldModel, type PayloadByteModel, type PayloadModel, type StateModel, type TransportModel } from "./types.ts";

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
	input.onlyKeys(raw, ["name", "cdb", "direction", "dataLength", "allocationLength", "symbols", "payload", "transport", "offset"], path, "command property");
	const transport = (raw.transport ?? "sgio") as string;
	if (!(transport in TRANSPORT_FACTS)) {
		input.error([...path, "transport"], `transport must be one of ${Object.keys(TRANSPORT_FACTS).join(", ")}${didYouMean(transport, Object.keys(TRANSPORT_FACTS))}`);
		return undefined;
	}
	if (transport === "directRead") return buildDirectRead(cx, raw, path);
	if (raw.offset !== undefined) {
		input.error([...path, "offset"], "only an O_DIRECT read (transport directRead) has an offset");
		return undefined;
	}
	if (![6, 10, 12, 16].includes(raw.cdb.length)) {
		input.error([...path, "cdb"], `a CDB is 6, 10, 12 or 16 bytes, not ${raw.cdb.length}`);
		return undefined;
	}
	if (!checkGroup(cx, raw.name, raw.cdb, [...path, "cdb"])) return undefined;
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
		if (!f || f.type === "bool" || f.type === "u8" || f.type === "bytes") {
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
	if (transport === "cciss" && maxDataLength > 0xffff) {
		input.error([...path, "dataLength"], `the cciss passthrough moves at most 65535 bytes (its buf_size is 16 bits), not ${maxDataLength}`);
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
		} else if (isRecord(byte) && typeof byte.context === "string" && "shift" in byte) {
			const f = contextByte(cx, byte, bpath, `CDB byte ${i}`);
			if (!f) return undefined;
			cdb.push({ kind: "contextByte", field: f, shift: byte.shift as number });
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
	let payload: PayloadModel | null = null;
	if (direction === "toDevice") {
		if (raw.payload === undefined) {
			input.error(path, `command "${raw.name}" sends data: give it a payload ({ from: "zeros" | "dataReadEarlier", set })`);
			return undefined;
		}
		const p = buildPayload(cx, raw.payload, maxDataLength, [...path, "payload"]);
		if (!p) return undefined;
		payload = p;
	} else if (raw.payload !== undefined) {
		input.error([...path, "payload"], `command "${raw.name}" does not send data (its direction is ${direction}): a payload is for "toDevice"`);
		return undefined;
	}
	return {
		name: raw.name,
		cdb,
		direction: direction as CommandModel["direction"],
		dxferValue: DXFER[direction as keyof typeof DXFER].value,
		dataLength,
		maxDataLength,
		payload,
		transport: transport as TransportModel,
		offset: 0,
	};
}

/** The largest logical block size: an O_DIRECT read's length, offset and buffer alignment are multiples of it. */
export const DIRECT_READ_ALIGN = 4096;

/** An O_DIRECT read: no CDB, data from the device, an aligned length and offset. */
function buildDirectRead(cx: CheckerScope, raw: Record<string, unknown>, path: ValuePath): CommandModel | undefined {
	const { input } = cx;
	const name = String(raw.name);
	if ((raw.cdb as unknown[]).length !== 0 || raw.direction !== "fromDevice" || raw.payload !== undefined || raw.allocationLength !== undefined) {
		input.error(path, `command "${name}" is an O_DIRECT read: no CDB, direction fromDevice, no payload or allocation length`);
		return undefined;
	}
	const len = raw.dataLength;
	if (typeof len !== "number" || !Number.isInteger(len) || len <= 0 || len % DIRECT_READ_ALIGN !== 0 || len > 0x10000) {
		input.error([...path, "dataLength"], `an O_DIRECT read's length must be a multiple of ${DIRECT_READ_ALIGN} (the largest logical block size) up to 65536, not ${JSON.stringify(len)}`);
		return undefined;
	}
	const offset = raw.offset ?? 0;
	if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0 || offset % DIRECT_READ_ALIGN !== 0) {
		input.error([...path, "offset"], `an O_DIRECT read's offset must be a multiple of ${DIRECT_READ_ALIGN}, not ${JSON.stringify(offset)}`);
		return undefined;
	}
	return {
		name,
		cdb: [],
		direction: "fromDevice",
		dxferValue: DXFER.fromDevice.value,
		dataLength: { kind: "const", value: len },
		maxDataLength: len,
		payload: null,
		transport: "directRead",
		offset,
	};
}

const FACT_NAMES: Record<string, string> = {
	errno: "errno",
	status: "status",
	sgInfo: "sgInfo",
	hostStatus: "hostStatus",
	driverStatus: "driverStatus",
	senseKey: "sense",
	senseCode: "sense",
};

/** A rule of a state may test only the answer facts its transport gives. */
export function checkTransportFacts(cx: CheckerScope, states: readonly StateModel[]): void {
	for (const s of states) {
		if (s.kind !== "command" || s.command.transport === "sgio") continue;
		const allowed = TRANSPORT_FACTS[s.command.transport];
		for (const r of s.rules) {
			const bad = [...new Set(r.conditions.filter((c) => !c.implied && c.fact.kind in FACT_NAMES && !allowed.includes(c.fact.kind as never)).map((c) => FACT_NAMES[c.fact.kind]))];
			if (bad.length > 0) {
				const over = s.command.transport === "cciss" ? "the cciss passthrough" : "an O_DIRECT read";
				cx.input.error(
					["states", s.key, "rules", r.index, "when"],
					`rule ${r.index + 1} of state '${s.key}' tests ${bad.join(" and ")}, which ${over} does not give (it gives ${[...new Set(allowed.map((k) => FACT_NAMES[k]))].join(", ")})`,
				);
			}
		}
	}
}
/**
 * The CDB length an opcode's group code (its top three bits) fixes (SPC-4
 * 4.2.5.1): group 0 is 6 bytes, 1 and 2 are 10, 4 is 16, 5 is 12; group 3
 * is reserved (0x7F: variable length, which a checker cannot send), 6 and 7
 * are vendor specific (any length).
 */
export function cdbLengthOfGroup(opcode: number): number | "reserved" | "vendor" {
	const group = opcode >> 5;
	return ([6, 10, 10, "reserved", 16, 12, "vendor", "vendor"] as const)[group];
}

/** The opcode (byte 0, or both bytes a bool field chooses) must be of the group the CDB length is. */
function checkGroup(cx: CheckerScope, name: string, cdb: unknown[], path: ValuePath): boolean {
	const b0 = cdb[0];
	const opcodes = typeof b0 === "number" ? [b0] : isRecord(b0) && "ifSet" in b0 ? [b0.ifSet, b0.ifClear] : undefined;
	if (!opcodes) {
		cx.input.error([...path, 0], `command "${name}": the opcode (CDB byte 0) must be a constant or chosen by a bool context field`);
		return false;
	}
	for (const op of opcodes) {
		if (typeof op !== "number" || !Number.isInteger(op) || op < 0 || op > 255) continue; // the byte checks report it
		const want = cdbLengthOfGroup(op);
		const group = op >> 5;
		if (want === "reserved") {
			cx.input.error([...path, 0], `command "${name}": opcode 0x${hex2(op)} is in group 3, which is reserved (variable-length CDBs cannot be sent)`);
			return false;
		}
		if (want !== "vendor" && want !== cdb.length) {
			cx.input.error(path, `command "${name}": opcode 0x${hex2(op)} is in group ${group}, whose CDBs are ${want} bytes, not ${cdb.length}`);
			return false;
		}
	}
	return true;
}

const hex2 = (v: number) => v.toString(16).padStart(2, "0");

/** A `{ context, shift }` byte: a numeric field, and a shift inside its width. */
function contextByte(cx: CheckerScope, byte: Record<string, unknown>, path: ValuePath, what: string): ContextFieldModel | undefined {
	const f = cx.context.get(byte.context as string);
	if (!f || f.type === "bool" || f.type === "bytes") {
		cx.input.error(path, `${what} is a byte of '${String(byte.context)}', which must be a u8, u16 or u32 context field${f ? (f.type === "bytes" ? " (a bytes field is not a number)" : "") : didYouMean(String(byte.context), cx.context.keys())}`);
		return undefined;
	}
	const width = { u8: 8, u16: 16, u32: 32 }[f.type];
	const shift = byte.shift;
	if (typeof shift !== "number" || ![0, 8, 16, 24].includes(shift)) {
		cx.input.error(path, `${what}: shift must be 0, 8, 16 or 24`);
		return undefined;
	}
	if (shift >= width) {
		cx.input.error(path, `${what}: a ${f.type} context field ('${f.key}') has no byte ${shift / 8}`);
		return undefined;
	}
	cx.used.fields.add(f.key);
	return f;
}

function buildPayload(cx: CheckerScope, raw: unknown, maxDataLength: number, path: ValuePath): PayloadModel | undefined {
	const { input } = cx;
	if (!isRecord(raw) || (raw.from !== "zeros" && raw.from !== "dataReadEarlier" && raw.from !== "dataReadIn")) {
		input.error(path, 'a payload is { from: "zeros" | "dataReadEarlier", set?: { OFFSET: BYTE } } or { from: "dataReadIn", state: STATE, set? }');
		return undefined;
	}
	input.onlyKeys(raw, raw.from === "dataReadIn" ? ["from", "state", "set"] : ["from", "set"], path, "payload property");
	if (raw.from === "dataReadIn" && typeof raw.state !== "string") {
		input.error(path, 'a payload { from: "dataReadIn" } names the state whose data it sends: state: STATE');
		return undefined;
	}
	const bytes: PayloadModel["bytes"][number][] = [];
	const set = raw.set === undefined ? {} : raw.set;
	if (!isRecord(set)) {
		input.error([...path, "set"], "set maps byte offsets to bytes");
		return undefined;
	}
	for (const [k, v] of Object.entries(set)) {
		const bpath = [...path, "set", k];
		const offset = Number(k);
		if (!Number.isInteger(offset) || offset < 0 || offset >= maxDataLength) {
			input.error(bpath, `payload byte ${k} is outside the data sent (at most ${maxDataLength} bytes)`);
			return undefined;
		}
		let value: PayloadByteModel;
		if (typeof v === "number") {
			if (!Number.isInteger(v) || v < 0 || v > 255) {
				input.error(bpath, `payload byte ${k} must be 0..255`);
				return undefined;
			}
			value = { kind: "const", value: v };
		} else if (isRecord(v) && typeof v.context === "string") {
			const f = contextByte(cx, v, bpath, `payload byte ${k}`);
			if (!f) return undefined;
			value = { kind: "contextByte", field: f, shift: v.shift as number };
		} else if (isRecord(v) && ("and" in v || "or" in v)) {
			if (raw.from === "zeros") {
				input.error(bpath, `payload byte ${k} changes the byte read earlier, but the payload is from zeros`);
				return undefined;
			}
			const and = v.and ?? 0xff;
			const or = v.or ?? 0;
			if (![and, or].every((x) => typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= 255)) {
				input.error(bpath, `payload byte ${k}: and and or must be 0..255`);
				return undefined;
			}
			value = { kind: "earlier", and: and as number, or: or as number };
		} else {
			input.error(bpath, `payload byte ${k} must be a number, { context, shift } or { and, or }`);
			return undefined;
		}
		bytes.push({ offset, value });
	}
	bytes.sort((a, b) => a.offset - b.offset);
	const payload: PayloadModel = { from: raw.from, bytes };
	if (raw.from === "dataReadIn") SOURCE_KEYS.set(payload, { key: raw.state as string, path: [...path, "state"] });
	return payload;
}

/** The state a "dataReadIn" payload names, until every state is declared. */
const SOURCE_KEYS = new WeakMap<PayloadModel, { key: string; path: ValuePath }>();

/**
 * Resolves the state each "dataReadIn" payload names: a command state that
 * reads at least as many bytes as are sent, over SG_IO or cciss (its own
 * buffer is not aligned for an O_DIRECT read).
 */
export function resolvePayloadSources(cx: CheckerScope, states: readonly StateModel[]): void {
	for (const s of states) {
		if (s.kind !== "command" || s.command.payload?.from !== "dataReadIn") continue;
		const p = s.command.payload;
		const ref = SOURCE_KEYS.get(p);
		if (!ref) continue;
		const src = cx.states.get(ref.key);
		if (!src) {
			cx.input.error(ref.path, `payload from the data read in unknown state ${JSON.stringify(ref.key)}${didYouMean(ref.key, cx.states.keys())}`);
			continue;
		}
		if (src.kind !== "command" || src.command.direction !== "fromDevice" || src.command.transport === "directRead") {
			cx.input.error(ref.path, `state '${src.key}' ${src.kind === "command" ? `(${src.command.name})` : "(a decision)"} reads no data a payload can send: name a state whose SG_IO or cciss command reads from the device`);
			continue;
		}
		if (src === s) {
			cx.input.error(ref.path, `state '${s.key}' cannot send the data it reads itself`);
			continue;
		}
		if (src.command.maxDataLength < s.command.maxDataLength) {
			cx.input.error(ref.path, `state '${src.key}' reads at most ${src.command.maxDataLength} bytes, fewer than the ${s.command.maxDataLength} state '${s.key}' sends`);
			continue;
		}
		(p as { source?: CommandStateModel }).source = src;
	}
}

/**
 * A payload from the data read earlier needs, on every way into its state,
 * a command that read at least as many bytes into the data buffer: the
 * state before it (through decisions) is a fromDevice command state whose
 * data length covers this one's, or the state itself (a retry resends the
 * same bytes). The check's start has read nothing.
 */
export function checkPayloadSources(cx: CheckerScope, states: readonly StateModel[], starts: readonly StateModel[]): void {
	const initial = starts[0];
	const preds = new Map<StateModel, Set<StateModel>>(states.map((s) => [s, new Set()]));
	for (const s of states) {
		for (const r of s.rules) {
			const o = r.outcome;
			const targets = o.kind === "retry" ? [o.target, o.exhausted?.kind === "goto" ? o.exhausted.target : undefined] : [o.kind === "goto" ? o.target : undefined];
			for (const t of targets) if (t) preds.get(t)?.add(s);
		}
	}
	for (const s of states) {
		if (s.kind !== "command" || s.command.payload?.from !== "dataReadEarlier") continue;
		const need = s.command.maxDataLength;
		const seen = new Set<StateModel>();
		const bad: string[] = [];
		const walk = (t: StateModel): void => {
			if (t === initial) bad.push("the start of the check");
			else if (starts.includes(t)) bad.push("the start of the init");
			for (const p of preds.get(t) ?? []) {
				// a retry of the state itself sends the same bytes again (a
				// command sending data leaves the buffer as it was)
				if (p === s || seen.has(p)) continue;
				seen.add(p);
				if (p.kind === "decision") walk(p);
				else if (p.command.direction !== "fromDevice") bad.push(`state '${p.key}' (${p.command.name} reads no data)`);
				else if (p.command.dataLength.kind !== "const" || p.command.dataLength.value < need) {
					bad.push(
						`state '${p.key}' (${p.command.name} reads ${p.command.dataLength.kind === "const" ? p.command.dataLength.value : "a context-given number of"} bytes, fewer than the ${need} sent)`,
					);
				}
			}
		};
		walk(s);
		if (bad.length > 0) {
			cx.input.error(
				["states", s.key, "command", "payload"],
				`state '${s.key}' sends the data read earlier, but it can be reached from ${[...new Set(bad)].join(", ")}`,
			);
		}
	}
	// a payload from the data read in a state: every way into the sending
	// state passes through that state (its buffer is written in this run)
	for (const s of states) {
		const src = s.kind === "command" ? s.command.payload?.source : undefined;
		if (!src) continue;
		for (const start of starts) {
			if (start === src) continue;
			const seen = new Set<StateModel>([start]);
			const queue: StateModel[] = [start];
			while (queue.length > 0) {
				const t = queue.shift()!;
				for (const r of t.rules) {
					const o = r.outcome;
					const next = o.kind === "retry" ? [o.target, o.exhausted?.kind === "goto" ? o.exhausted.target : undefined] : [o.kind === "goto" ? o.target : undefined];
					for (const x of next) {
						if (x && x !== src && !seen.has(x)) {
							seen.add(x);
							queue.push(x);
						}
					}
				}
			}
			if (seen.has(s)) {
				cx.input.error(
					["states", s.key, "command", "payload", "state"],
					`state '${s.key}' sends the data read in state '${src.key}', but it can be reached from ${start === initial ? "the start of the check" : "the start of the init"} without passing through '${src.key}'`,
				);
			}
		}
	}
}
