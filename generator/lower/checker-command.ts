// A command state's CDB in C: constant bytes by name, bytes chosen by the
// context, the allocation length, and the byte-order helpers they need.
import type {
	CdbByteModel,
	CdbSymbolModel,
	CheckerModel,
	CommandModel,
	CommandStateModel,
	ContextFieldModel,
} from "../model/types.ts";
import type { CItem, CStmt } from "./c-ir.ts";
import { hex, type CheckerNames } from "./checker-names.ts";
import type { StateEnv } from "./checker-rules.ts";

function symbolic(value: number, symbols: readonly CdbSymbolModel[]): string {
	return symbols.length > 0 ? symbols.map((s) => s.name).join(" | ") : hex(value);
}

/** Where the CDB carries the allocation length, if it does: its first byte and its size. */
export function allocationLength(cmd: CommandModel): { offset: number; size: number } | undefined {
	const offset = cmd.cdb.findIndex((b) => b.kind === "allocationLength");
	if (offset < 0) return undefined;
	return { offset, size: cmd.cdb.filter((b) => b.kind === "allocationLength").length };
}

/** The CDB declaration (constant bytes, trailing zeros left to C), and the statements that set the rest. */
export function cdbStmts(s: CommandStateModel, env: StateEnv, len: string): { decl: CStmt; setup: CStmt[] } {
	const cmd = s.command;
	const bytes = cmd.cdb.map((b: CdbByteModel) => {
		if (b.kind === "const") return b.value === 0 && b.symbols.length === 0 ? "0" : symbolic(b.value, b.symbols);
		if (b.kind === "context") return symbolic(b.ifClear, b.ifClearSymbols);
		return "0";
	});
	const ctxByte = (field: string, shift: number, type: string) =>
		shift === 0 ? (type === "u8" ? field : `${field} & 0xff`) : `(${field} >> ${shift}) & 0xff`;
	while (bytes.length > 1 && bytes[bytes.length - 1] === "0") bytes.pop();
	const setup: CStmt[] = [];
	cmd.cdb.forEach((b, i) => {
		if (b.kind === "context") {
			setup.push({
				kind: "if",
				cond: [env.n.ref(b.field)],
				then: [{ kind: "expr", text: `cdb[${i}] = ${symbolic(b.ifSet, b.ifSetSymbols)}` }],
			});
		} else if (b.kind === "contextByte") {
			setup.push({ kind: "expr", text: `cdb[${i}] = ${ctxByte(env.n.ref(b.field), b.shift, b.field.type)}` });
		}
	});
	const alloc = allocationLength(cmd);
	if (alloc) {
		setup.push({
			kind: "expr",
			text:
				alloc.size === 1
					? `cdb[${alloc.offset}] = ${len}`
					: `${env.n.target.byteOrder === "unaligned" ? "put_unaligned_be" : "put_be"}${alloc.size * 8}(${len}, cdb + ${alloc.offset})`,
		});
	}
	return { decl: { kind: "decl", decl: `unsigned char cdb[${cmd.cdb.length}]`, init: { kind: "list", values: bytes } }, setup };
}

/** The big-endian readers the decoders use and the writers the allocation lengths use. */
export function allocationSizes(m: CheckerModel): Set<number> {
	return new Set(m.states.flatMap((s) => (s.kind === "command" ? [allocationLength(s.command)?.size ?? 0] : [])));
}

export function byteOrderHelpers(m: CheckerModel, n: CheckerNames): CItem[] {
	const sizes = allocationSizes(m);
	const items: CItem[] = [];
	if (n.target.byteOrder === "unaligned") return items;
	const origin = { what: "a byte-order helper" };
	// only the readers some decoder calls: another would be an unused static
	// function (-Werror=unused-function)
	const readers = new Set(m.decoders.flatMap((d) => d.readSizes.filter((x) => x > 1).map((x) => x * 8)));
	if (readers.has(16)) {
		items.push({
			kind: "function",
			isStatic: true,
			returns: "unsigned int",
			name: n.t.ordinary.claim("get_be16", origin),
			params: ["const unsigned char *p"],
			body: [{ kind: "return", value: "p[0] << 8 | p[1]" }],
		});
	}
	if (readers.has(32)) {
		items.push({
			kind: "function",
			isStatic: true,
			returns: "unsigned int",
			name: n.t.ordinary.claim("get_be32", origin),
			params: ["const unsigned char *p"],
			body: [{ kind: "return", value: "(unsigned int)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]" }],
		});
	}
	if (sizes.has(2)) {
		items.push({
			kind: "function",
			isStatic: true,
			returns: "void",
			name: n.t.ordinary.claim("put_be16", origin),
			params: ["unsigned int v", "unsigned char *p"],
			body: [
				{ kind: "expr", text: "p[0] = (v >> 8) & 0xff" },
				{ kind: "expr", text: "p[1] = v & 0xff" },
			],
		});
	}
	if (sizes.has(4)) {
		items.push({
			kind: "function",
			isStatic: true,
			returns: "void",
			name: n.t.ordinary.claim("put_be32", origin),
			params: ["unsigned int v", "unsigned char *p"],
			body: [
				{ kind: "expr", text: "p[0] = (v >> 24) & 0xff" },
				{ kind: "expr", text: "p[1] = (v >> 16) & 0xff" },
				{ kind: "expr", text: "p[2] = (v >> 8) & 0xff" },
				{ kind: "expr", text: "p[3] = v & 0xff" },
			],
		});
	}
	return items;
}


/** Whether a command state reads a context field for its CDB or payload. */
/** Whether some command sends the data read earlier: then every read starts from zeroed bytes. */
export function sendsDataReadEarlier(m: CheckerModel): boolean {
	return m.states.some((s) => s.kind === "command" && s.command.payload?.from === "dataReadEarlier");
}

/** Whether some command sends the data a named state read (kept in that state's own buffer). */
export function sendsDataReadIn(m: CheckerModel): boolean {
	return m.states.some((s) => s.kind === "command" && s.command.payload?.from === "dataReadIn");
}

/**
 * The statements before a command's SG_IO that fill the data buffer: a
 * payload (from zeros, or the bytes read earlier changed in place), or, in
 * a checker that sends data read earlier, zeros under a read (the device
 * may send fewer bytes than asked for, and the payload then sends zeros
 * rather than what an older command left).
 */
export function payloadStmts(s: CommandStateModel, env: StateEnv, buf: string, len: string): CStmt[] {
	const cmd = s.command;
	if (cmd.direction === "fromDevice") {
		// a state whose data a payload sends keeps it in its own buffer, zeroed before each read
		const zero = sendsDataReadEarlier(env.n.m) || env.n.kept.has(s);
		return zero ? [{ kind: "expr", text: `memset(${buf}, 0, ${len})` }] : [];
	}
	const p = cmd.payload;
	if (!p) return [];
	const out: CStmt[] = p.from === "zeros" ? [{ kind: "expr", text: `memset(${buf}, 0, ${len})` }] : [];
	for (const { offset, value: v } of p.bytes) {
		const at = `${buf}[${offset}]`;
		if (v.kind === "const") out.push({ kind: "expr", text: `${at} = ${hex(v.value)}` });
		else if (v.kind === "contextByte") {
			const f = env.n.ref(v.field);
			out.push({ kind: "expr", text: `${at} = ${v.shift === 0 ? (v.field.type === "u8" ? f : `${f} & 0xff`) : `(${f} >> ${v.shift}) & 0xff`}` });
		} else if (v.and === 0xff) out.push({ kind: "expr", text: `${at} |= ${hex(v.or)}` });
		else if (v.or === 0) out.push({ kind: "expr", text: `${at} &= ${hex(v.and)}` });
		else out.push({ kind: "expr", text: `${at} = (${at} & ${hex(v.and)}) | ${hex(v.or)}` });
	}
	return out;
}
