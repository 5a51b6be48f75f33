// A decoder declaration (spec/decoders.ts) → its validated model: outcomes,
// fields, inputs and the program both back ends are generated from. Every
// read is proven within the bytes received (a `need`, an `ifReceived` or the
// walk's descriptor header before it), every walk moves on (a descriptor is
// at least its header), every value stored fits its field, and every path
// through the program ends in a return; each problem is a diagnostic at the
// step it is about.
import { FIELD_TYPES } from "../abi/c-layout.ts";
import type { AnyDecoder } from "../spec/decoders.ts";
import { didYouMean } from "./diagnostics.ts";
import { isRecord, SPEC_IDENTIFIER } from "./input.ts";
import type { ValuePath } from "./source-index.ts";
import type {
	ContextFieldType,
	DecoderBytesReadModel,
	DecoderExprModel,
	DecoderFieldModel,
	DecoderInputModel,
	DecoderModel,
	DecoderOutcomeModel,
	DecoderStmtModel,
	DecoderVarModel,
} from "./types.ts";

export type DecoderError = (path: ValuePath, message: string) => void;

const BINARY = ["eq", "ne", "lt", "le", "gt", "ge"] as const;
const NARY = ["add", "min", "max", "and", "or"] as const;
const U32_MAX = 0xffffffff;
/** The longest bytes field, input or read. */
export const MAX_BYTES = 64;

interface Scope {
	readonly vars: Map<string, DecoderVarModel>;
	/** Bytes from the buffer's start known received. */
	readonly cov: number;
	/** Inside a walk: bytes from the descriptor's start known received; undefined outside. */
	readonly dcov?: number;
	readonly inWalk: boolean;
}

class ProgramBuilder {
	readonly vars: DecoderVarModel[] = [];
	readonly readSizes = new Set<number>();
	readonly names = new Set<string>();
	constructor(
		readonly name: string,
		readonly outcomes: readonly DecoderOutcomeModel[],
		readonly inputs: readonly DecoderInputModel[],
		readonly err: DecoderError,
	) {}

	outcome(raw: unknown, path: ValuePath): DecoderOutcomeModel | undefined {
		const o = this.outcomes.find((x) => x.key === raw);
		if (!o) {
			this.err(path, `decoder ${this.name} has no outcome ${JSON.stringify(raw)}${didYouMean(String(raw), this.outcomes.map((x) => x.key))}`);
		}
		return o;
	}

	/** Whether bytes `at`..`at + size - 1` are known received here (an error otherwise). */
	covered(at: number, size: number, sc: Scope, path: ValuePath): boolean {
		const known = sc.inWalk ? (sc.dcov ?? 0) : sc.cov;
		if (at + size <= known) return true;
		const where = sc.inWalk ? "of the descriptor" : "of the data";
		this.err(
			path,
			`decoder ${this.name} reads bytes ${at}..${at + size - 1} ${where}, but only ${known} are known received here: add { need: ${at + size}, else: OUTCOME } before it${sc.inWalk ? "" : " (or read it inside { ifReceived: " + (at + size) + " })"}`,
		);
		return false;
	}

	/** `{ bytes: OFFSET, length: N }`: bytes kept as they are, proven received. */
	bytesRead(raw: unknown, sc: Scope, path: ValuePath): DecoderBytesReadModel | undefined {
		if (!isRecord(raw) || !("bytes" in raw)) {
			this.err(path, "bytes are read with { bytes: OFFSET, length: N }");
			return undefined;
		}
		for (const k of Object.keys(raw)) if (!["bytes", "length"].includes(k)) this.err([...path, k], `unknown bytes read property '${k}' (bytes, length)`);
		const at = raw.bytes;
		const length = raw.length;
		if (typeof at !== "number" || !Number.isInteger(at) || at < 0) {
			this.err([...path, "bytes"], "bytes needs a byte offset (a non-negative integer)");
			return undefined;
		}
		if (typeof length !== "number" || !Number.isInteger(length) || length < 1 || length > MAX_BYTES) {
			this.err([...path, "length"], `length is a number of bytes, 1..${MAX_BYTES}`);
			return undefined;
		}
		if (!this.covered(at, length, sc, path)) return undefined;
		return { kind: "bytesRead", at, length, inWalk: sc.inWalk };
	}

	/** eq/ne of a bytes read and a bytes input, when either side is bytes; undefined when neither is. */
	bytesCompare(op: string, list: unknown[], sc: Scope, path: ValuePath): DecoderExprModel | undefined | "numbers" {
		const isBytesInput = (a: unknown) => isRecord(a) && typeof a.input === "string" && this.inputs.some((i) => i.key === a.input && i.type === "bytes");
		const isBytesRead = (a: unknown) => isRecord(a) && "bytes" in a;
		if (!list.some((a) => isBytesInput(a) || isBytesRead(a))) return "numbers";
		if (op !== "eq" && op !== "ne") {
			this.err([...path, op], `bytes are only compared with eq or ne, not ${op}`);
			return undefined;
		}
		const ri = list.findIndex(isBytesRead);
		const ii = list.findIndex(isBytesInput);
		if (ri < 0 || ii < 0) {
			this.err([...path, op], `${op} of bytes compares a bytes read { bytes: OFFSET, length: N } with a bytes input; not with a number`);
			return undefined;
		}
		const read = this.bytesRead(list[ri], sc, [...path, op, ri]);
		const inp = this.inputs.find((i) => i.key === (list[ii] as { input: string }).input)!;
		if (!read) return undefined;
		if (read.length !== inp.length) {
			this.err([...path, op, ri, "length"], `the bytes read are ${read.length} long; input '${inp.key}' is ${inp.length} bytes`);
			return undefined;
		}
		return { kind: "bytesCompare", op, read, input: { kind: "bytesInput", index: this.inputs.indexOf(inp), key: inp.key, length: inp.length } };
	}

	expr(raw: unknown, sc: Scope, path: ValuePath): DecoderExprModel | undefined {
		if (typeof raw === "number") {
			if (!Number.isInteger(raw) || raw < 0 || raw > U32_MAX) {
				this.err(path, `decoder values are unsigned 32-bit integers; ${raw} is not one`);
				return undefined;
			}
			return { kind: "const", value: raw };
		}
		if (raw === "received" || raw === "allocated") return { kind: raw };
		if (!isRecord(raw)) {
			this.err(path, `not a decoder value: ${JSON.stringify(raw)} (a number, "received", "allocated", { read }, { ref }, { input } or an operation)`);
			return undefined;
		}
		const keys = Object.keys(raw);
		if ("read" in raw) {
			const at = raw.read;
			const size = raw.size ?? 1;
			const shift = raw.shift ?? 0;
			const mask = raw.mask;
			for (const k of keys) if (!["read", "size", "shift", "mask"].includes(k)) this.err([...path, k], `unknown read property '${k}' (read, size, shift, mask)`);
			if (typeof at !== "number" || !Number.isInteger(at) || at < 0) {
				this.err([...path, "read"], "read needs a byte offset (a non-negative integer)");
				return undefined;
			}
			if (size !== 1 && size !== 2 && size !== 4) {
				this.err([...path, "size"], "size is 1, 2 or 4 bytes (big-endian)");
				return undefined;
			}
			if (typeof shift !== "number" || !Number.isInteger(shift) || shift < 0 || shift >= size * 8) {
				this.err([...path, "shift"], `shift is 0 to ${size * 8 - 1}`);
				return undefined;
			}
			if (mask !== undefined && (typeof mask !== "number" || !Number.isInteger(mask) || mask <= 0 || mask > U32_MAX)) {
				this.err([...path, "mask"], "mask is a positive integer");
				return undefined;
			}
			if (!this.covered(at, size, sc, path)) return undefined;
			this.readSizes.add(size);
			return { kind: "read", at, size, shift, mask: mask as number | undefined, inWalk: sc.inWalk };
		}
		if ("ref" in raw) {
			const v = sc.vars.get(raw.ref as string);
			if (!v) {
				this.err([...path, "ref"], `decoder ${this.name}: ${JSON.stringify(raw.ref)} is not bound here${didYouMean(String(raw.ref), [...sc.vars.keys()])}`);
				return undefined;
			}
			return { kind: "var", v };
		}
		if ("input" in raw) {
			const index = this.inputs.findIndex((i) => i.key === raw.input);
			if (index < 0) {
				this.err([...path, "input"], `decoder ${this.name} has no input ${JSON.stringify(raw.input)} (it has: ${this.inputs.map((i) => i.key).join(", ") || "none"})`);
				return undefined;
			}
			const t = this.inputs[index].type;
			if (t === "bytes") {
				this.err([...path, "input"], `input '${this.inputs[index].key}' is bytes, not a number: it can only be compared (eq, ne) with a bytes read { bytes: OFFSET, length: ${this.inputs[index].length} }`);
				return undefined;
			}
			return { kind: "input", index, key: this.inputs[index].key, max: FIELD_TYPES[t].max };
		}
		if ("bytes" in raw) {
			this.err(path, "a bytes read { bytes, length } is not a number: it is an outcome field of type bytes, or compared (eq, ne) with a bytes input");
			return undefined;
		}
		if (keys.length === 1 && (NARY as readonly string[]).includes(keys[0])) {
			const op = keys[0] as (typeof NARY)[number];
			const list = raw[op];
			if (!Array.isArray(list) || list.length < 1) {
				this.err([...path, op], `${op} takes a list of values`);
				return undefined;
			}
			const args = list.map((a, i) => this.expr(a, sc, [...path, op, i]));
			return args.every((a) => a) ? { kind: "op", op, args: args as DecoderExprModel[] } : undefined;
		}
		if (keys.length === 1 && (keys[0] === "mul" || (BINARY as readonly string[]).includes(keys[0]))) {
			const op = keys[0] as "mul" | (typeof BINARY)[number];
			const list = raw[op];
			if (!Array.isArray(list) || list.length !== 2) {
				this.err([...path, op], `${op} takes two values: [a, b]`);
				return undefined;
			}
			const b = this.bytesCompare(op, list, sc, path);
			if (b !== "numbers") return b;
			const args = list.map((a, i) => this.expr(a, sc, [...path, op, i]));
			return args.every((a) => a) ? { kind: "op", op, args: args as DecoderExprModel[] } : undefined;
		}
		if (keys.length === 1 && keys[0] === "not") {
			const arg = this.expr(raw.not, sc, [...path, "not"]);
			return arg && { kind: "not", arg };
		}
		if ("in" in raw) {
			const arg = this.expr(raw.in, sc, [...path, "in"]);
			const values = raw.values;
			if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === "number" && Number.isInteger(v) && v >= 0)) {
				this.err([...path, "values"], "in needs values: a non-empty list of integers");
				return undefined;
			}
			return arg && { kind: "in", arg, values };
		}
		if ("if" in raw) {
			const cond = this.expr(raw.if, sc, [...path, "if"]);
			const then = this.expr(raw.then, sc, [...path, "then"]);
			const els = this.expr(raw.else, sc, [...path, "else"]);
			return cond && then && els ? { kind: "if", cond, then, else: els } : undefined;
		}
		this.err(path, `not a decoder value: { ${keys.join(", ")} }`);
		return undefined;
	}

	bind(key: unknown, mutable: boolean, max: number, boolean: boolean, sc: Scope, path: ValuePath): DecoderVarModel | undefined {
		if (typeof key !== "string" || !SPEC_IDENTIFIER.test(key)) {
			this.err(path, `a decoder name must be a camelCase identifier; ${JSON.stringify(key)} is not one`);
			return undefined;
		}
		if (this.names.has(key) || this.inputs.some((i) => i.key === key)) {
			this.err(path, `decoder ${this.name} binds '${key}' twice: each name once`);
			return undefined;
		}
		this.names.add(key);
		const v: DecoderVarModel = { key, mutable, max, boolean, inWalk: sc.inWalk };
		this.vars.push(v);
		sc.vars.set(key, v);
		return v;
	}

	/** A block: its statements, and whether every path through it leaves it (return, or break in a walk). */
	block(raw: unknown, parent: Scope, path: ValuePath): { stmts: DecoderStmtModel[]; exits: boolean } | undefined {
		if (!Array.isArray(raw)) {
			this.err(path, "decoder steps are a list");
			return undefined;
		}
		let sc: Scope = { ...parent, vars: new Map(parent.vars) };
		const stmts: DecoderStmtModel[] = [];
		let exits = false;
		let ok = true;
		for (const [i, step] of raw.entries()) {
			const spath = [...path, i];
			if (exits) {
				this.err(spath, "this step can never run: the steps before it always leave");
				return undefined;
			}
			const r = this.step(step, sc, spath);
			if (!r) {
				ok = false;
				continue;
			}
			stmts.push(r.stmt);
			exits = r.exits;
			if (r.stmt.kind === "need") sc = r.stmt.inWalk ? { ...sc, dcov: Math.max(sc.dcov ?? 0, r.stmt.bytes) } : { ...sc, cov: Math.max(sc.cov, r.stmt.bytes) };
		}
		return ok ? { stmts, exits } : undefined;
	}

	step(raw: unknown, sc: Scope, path: ValuePath): { stmt: DecoderStmtModel; exits: boolean } | undefined {
		if (raw === "break") {
			if (!sc.inWalk) {
				this.err(path, "break ends a walk: it is only allowed inside one");
				return undefined;
			}
			return { stmt: { kind: "break" }, exits: true };
		}
		if (!isRecord(raw)) {
			this.err(path, `not a decoder step: ${JSON.stringify(raw)}`);
			return undefined;
		}
		if ("need" in raw) {
			const n = raw.need;
			if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
				this.err([...path, "need"], "need is a number of bytes (a positive integer)");
				return undefined;
			}
			const outcome = this.outcome(raw.else, [...path, "else"]);
			if (!outcome) return undefined;
			this.noFields(outcome, [...path, "else"]);
			return { stmt: { kind: "need", bytes: n, outcome, inWalk: sc.inWalk }, exits: false };
		}
		if ("ifReceived" in raw) {
			const n = raw.ifReceived;
			if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
				this.err([...path, "ifReceived"], "ifReceived is a number of bytes (a positive integer)");
				return undefined;
			}
			if (sc.inWalk) {
				this.err([...path, "ifReceived"], "inside a walk, use need: the descriptor's bytes are what counts");
				return undefined;
			}
			const then = this.block(raw.then, { ...sc, cov: Math.max(sc.cov, n) }, [...path, "then"]);
			const els = raw.else === undefined ? { stmts: [], exits: false } : this.block(raw.else, sc, [...path, "else"]);
			if (!then || !els) return undefined;
			return { stmt: { kind: "ifReceived", bytes: n, then: then.stmts, else: els.stmts }, exits: then.exits && els.exits };
		}
		if ("let" in raw) {
			const value = this.expr(raw.value, sc, [...path, "value"]);
			if (!value) return undefined;
			const v = this.bind(raw.let, false, exprMax(value), isBool(value), sc, [...path, "let"]);
			return v && { stmt: { kind: "set", v, value }, exits: false };
		}
		if ("var" in raw) {
			const value = this.expr(raw.init, sc, [...path, "init"]);
			if (!value) return undefined;
			const max = raw.max === undefined ? exprMax(value) : raw.max;
			if (typeof max !== "number" || !Number.isInteger(max) || max < 0 || max > U32_MAX) {
				this.err([...path, "max"], "max is an unsigned 32-bit integer");
				return undefined;
			}
			if (exprMax(value) > max) {
				this.err([...path, "init"], `the initial value may be ${exprMax(value)}, more than max ${max}`);
				return undefined;
			}
			const v = this.bind(raw.var, true, max, max === 1, sc, [...path, "var"]);
			return v && { stmt: { kind: "set", v, value }, exits: false };
		}
		if ("assign" in raw) {
			const v = sc.vars.get(raw.assign as string);
			if (!v || !v.mutable) {
				this.err([...path, "assign"], v ? `'${v.key}' is bound by let: declare it with var to change it` : `${JSON.stringify(raw.assign)} is not a var bound here${didYouMean(String(raw.assign), [...sc.vars.keys()])}`);
				return undefined;
			}
			const value = this.expr(raw.value, sc, [...path, "value"]);
			if (!value) return undefined;
			if (exprMax(value) > v.max) {
				this.err([...path, "value"], `'${v.key}' holds at most ${v.max}; this value may be ${exprMax(value)} (give the var a larger max, or bound the value with min)`);
				return undefined;
			}
			return { stmt: { kind: "set", v, value }, exits: false };
		}
		if ("when" in raw) {
			const cond = this.expr(raw.when, sc, [...path, "when"]);
			const then = this.block(raw.then, sc, [...path, "then"]);
			const els = raw.else === undefined ? { stmts: [], exits: false } : this.block(raw.else, sc, [...path, "else"]);
			if (!cond || !then || !els) return undefined;
			return { stmt: { kind: "when", cond, then: then.stmts, else: els.stmts }, exits: then.exits && els.exits };
		}
		if ("return" in raw) {
			const outcome = this.outcome(raw.return, [...path, "return"]);
			if (!outcome) return undefined;
			const given = isRecord(raw.fields) ? raw.fields : {};
			const fields: Extract<DecoderStmtModel, { kind: "return" }>["fields"][number][] = [];
			let ok = true;
			for (const k of Object.keys(given)) {
				if (!outcome.fields.some((f) => f.key === k)) {
					this.err([...path, "fields", k], `outcome '${outcome.key}' has no field '${k}'${didYouMean(k, outcome.fields.map((f) => f.key))}`);
					ok = false;
				}
			}
			for (const f of outcome.fields) {
				if (!(f.key in given)) {
					this.err([...path, "return"], `outcome '${outcome.key}' needs a value for its field '${f.key}'`);
					ok = false;
					continue;
				}
				if (f.type === "bytes") {
					const bytes = this.bytesRead(given[f.key], sc, [...path, "fields", f.key]);
					if (bytes && bytes.length !== f.length) {
						this.err([...path, "fields", f.key, "length"], `field '${f.key}' is ${f.length} bytes; this read is ${bytes.length}`);
						ok = false;
						continue;
					}
					if (bytes) fields.push({ field: f, bytes });
					else ok = false;
					continue;
				}
				const value = this.expr(given[f.key], sc, [...path, "fields", f.key]);
				if (!value) {
					ok = false;
					continue;
				}
				if (exprMax(value) > f.max) {
					this.err([...path, "fields", f.key], `field '${f.key}' (${f.type}) holds at most ${f.max}; this value may be ${exprMax(value)}`);
					ok = false;
					continue;
				}
				fields.push({ field: f, value });
			}
			return ok ? { stmt: { kind: "return", outcome, fields }, exits: true } : undefined;
		}
		if ("walk" in raw) return this.walk(raw.walk, sc, [...path, "walk"]);
		this.err(path, `not a decoder step: { ${Object.keys(raw).join(", ")} } (need, ifReceived, let, var, assign, when, return, walk, "break")`);
		return undefined;
	}

	noFields(o: DecoderOutcomeModel, path: ValuePath): void {
		if (o.fields.length > 0) this.err(path, `outcome '${o.key}' has fields: a need can only end in an outcome without fields`);
	}

	walk(raw: unknown, sc: Scope, path: ValuePath): { stmt: DecoderStmtModel; exits: boolean } | undefined {
		if (!isRecord(raw)) {
			this.err(path, "walk needs { from, to, header, length, headerPast, each }");
			return undefined;
		}
		if (sc.inWalk) {
			this.err(path, "walks do not nest");
			return undefined;
		}
		for (const k of Object.keys(raw)) {
			if (!["from", "to", "header", "length", "headerPast", "bodyPast", "each", "overrun"].includes(k)) this.err([...path, k], `unknown walk property '${k}'`);
		}
		const header = raw.header;
		if (typeof header !== "number" || !Number.isInteger(header) || header < 1) {
			this.err([...path, "header"], "header is the descriptor's fixed bytes (a positive integer)");
			return undefined;
		}
		const from = this.expr(raw.from, sc, [...path, "from"]);
		const to = this.expr(raw.to, sc, [...path, "to"]);
		const inner: Scope = { ...sc, vars: new Map(sc.vars), inWalk: true, dcov: header };
		const length = this.expr(raw.length, inner, [...path, "length"]);
		if (length && exprMin(length) < header) {
			this.err([...path, "length"], `a descriptor's length may be ${exprMin(length)}, less than its header (${header}): the walk must move on by at least the header`);
			return undefined;
		}
		const headerPast = this.block(raw.headerPast, { ...inner, dcov: 0 }, [...path, "headerPast"]);
		if (headerPast && !headerPast.exits) this.err([...path, "headerPast"], "headerPast must end the walk (break) or the decoder (return)");
		let bodyPast: { stmts: DecoderStmtModel[]; exits: boolean } | undefined | null = null;
		if (raw.bodyPast !== undefined) {
			bodyPast = this.block(raw.bodyPast, inner, [...path, "bodyPast"]);
			if (bodyPast && !bodyPast.exits) this.err([...path, "bodyPast"], "bodyPast must end the walk (break) or the decoder (return)");
		}
		const each = this.block(raw.each, inner, [...path, "each"]);
		const overrun = raw.overrun === undefined ? { stmts: [], exits: false } : this.block(raw.overrun, sc, [...path, "overrun"]);
		if (!from || !to || !length || !headerPast || bodyPast === undefined || !each || !overrun) return undefined;
		return {
			stmt: {
				kind: "walk",
				from,
				to,
				header,
				length,
				headerPast: headerPast.stmts,
				bodyPast: bodyPast === null ? null : bodyPast.stmts,
				each: each.stmts,
				overrun: overrun.stmts,
			},
			exits: false,
		};
	}
}

function readMax(e: Extract<DecoderExprModel, { kind: "read" }>): number {
	const all = Math.floor((2 ** (8 * e.size) - 1) / 2 ** e.shift);
	return e.mask === undefined ? all : Math.min(all, e.mask);
}

/** The largest value an expression can take. */
export function exprMax(e: DecoderExprModel): number {
	switch (e.kind) {
		case "const":
			return e.value;
		case "received":
		case "allocated":
			return U32_MAX;
		case "read":
			return readMax(e);
		case "var":
			return e.v.max;
		case "input":
			return e.max;
		case "op": {
			const m = e.args.map(exprMax);
			if (e.op === "add") return m.reduce((a, b) => a + b, 0);
			if (e.op === "mul") return m[0] * m[1];
			if (e.op === "min") return Math.min(...m);
			if (e.op === "max") return Math.max(...m);
			return 1;
		}
		case "not":
		case "in":
		case "bytesCompare":
			return 1;
		case "if":
			return Math.max(exprMax(e.then), exprMax(e.else));
	}
}

/** The smallest value an expression can take. */
export function exprMin(e: DecoderExprModel): number {
	switch (e.kind) {
		case "const":
			return e.value;
		case "op": {
			const m = e.args.map(exprMin);
			if (e.op === "add") return m.reduce((a, b) => a + b, 0);
			if (e.op === "mul") return m[0] * m[1];
			if (e.op === "min") return Math.min(...m);
			if (e.op === "max") return Math.max(...m);
			return 0;
		}
		case "if":
			return Math.min(exprMin(e.then), exprMin(e.else));
		default:
			return 0;
	}
}

/** Whether an expression only gives truth values (0 or 1). */
export function isBool(e: DecoderExprModel): boolean {
	if (e.kind === "op") return !["add", "mul", "min", "max"].includes(e.op);
	if (e.kind === "var") return e.v.boolean;
	return e.kind === "not" || e.kind === "in" || e.kind === "bytesCompare";
}

/** A field's or input's type (and a bytes one's length), or an error. */
function fieldShape(f: unknown, err: DecoderError): { type: ContextFieldType; length: number } | undefined {
	if (!isRecord(f) || typeof f.type !== "string" || !(f.type in FIELD_TYPES || f.type === "bytes")) {
		err(["type"], "type is bool, u8, u16, u32 or bytes");
		return undefined;
	}
	if (f.type !== "bytes") {
		if (f.length !== undefined) err(["length"], "only a bytes type has a length");
		return { type: f.type as ContextFieldType, length: 0 };
	}
	if (typeof f.length !== "number" || !Number.isInteger(f.length) || f.length < 1 || f.length > MAX_BYTES) {
		err(["length"], `a bytes type needs a length: 1..${MAX_BYTES} bytes`);
		return undefined;
	}
	return { type: "bytes", length: f.length };
}

/** Builds a decoder's model from its declaration; problems go to `err` (nothing returned then). */
export function buildDecoderModel(name: string, decl: AnyDecoder, err: DecoderError): DecoderModel | undefined {
	let ok = true;
	const fail: DecoderError = (p, msg) => {
		ok = false;
		err(p, msg);
	};
	if (!isRecord(decl) || decl.kind !== "decoder") {
		fail([], `decoder ${name} must be declared with defineDecoder()`);
		return undefined;
	}
	if (typeof decl.cName !== "string" || !/^[a-z][a-z0-9_]*$/.test(decl.cName)) {
		fail(["cName"], `decoder ${name}: cName must be a lower-case C identifier`);
	}
	if (typeof decl.minDataLength !== "number" || !Number.isInteger(decl.minDataLength) || decl.minDataLength < 1) {
		fail(["minDataLength"], `decoder ${name}: minDataLength is a positive number of bytes`);
	}
	const fields = new Map<string, DecoderFieldModel>();
	const outcomes: DecoderOutcomeModel[] = [];
	if (!isRecord(decl.outcomes) || Object.keys(decl.outcomes).length === 0) {
		fail(["outcomes"], `decoder ${name} needs outcomes`);
		return undefined;
	}
	for (const [key, o] of Object.entries(decl.outcomes)) {
		if (!SPEC_IDENTIFIER.test(key)) fail(["outcomes", key], `outcome name '${key}' must be a camelCase identifier`);
		const own: DecoderFieldModel[] = [];
		for (const [fk, f] of Object.entries(isRecord(o.fields) ? o.fields : {})) {
			const t = fieldShape(f, (p, m) => fail(["outcomes", key, "fields", fk, ...p], `field '${fk}': ${m}`));
			if (!t) continue;
			const max = t.type === "bytes" ? 0 : "max" in f && f.max !== undefined ? f.max : FIELD_TYPES[t.type].max;
			let field = fields.get(fk);
			if (!field) {
				field = { key: fk, type: t.type, length: t.length, max, doc: f.doc };
				fields.set(fk, field);
			} else if (field.type !== t.type || field.max !== max || field.length !== t.length) {
				fail(["outcomes", key, "fields", fk], `field '${fk}' is declared by two outcomes with different types`);
			}
			own.push(field);
		}
		outcomes.push({ key, index: outcomes.length, doc: o.doc, fields: own });
	}
	const inputs: DecoderInputModel[] = [];
	for (const [key, i] of Object.entries(isRecord(decl.inputs) ? decl.inputs : {})) {
		const t = fieldShape(i, (p, m) => fail(["inputs", key, ...p], `input '${key}': ${m}`));
		if (t) inputs.push({ key, type: t.type, length: t.length, doc: i.doc });
	}
	const b = new ProgramBuilder(name, outcomes, inputs, fail);
	const program = b.block(decl.steps, { vars: new Map(), cov: 0, inWalk: false }, ["steps"]);
	if (program && !program.exits) fail(["steps"], `decoder ${name}: the last step must return an outcome (every path through the steps ends in one)`);
	if (!ok || !program) return undefined;
	return {
		name,
		shortName: decl.cName,
		doc: decl.doc,
		outcomes,
		fields: [...fields.values()],
		inputs,
		minDataLength: decl.minDataLength,
		program: program.stmts,
		vars: b.vars,
		readSizes: [...b.readSizes].sort(),
	};
}
