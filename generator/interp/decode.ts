// The interpreter back end of the decoder language: runs a decoder's
// validated program (model/decoder-program.ts) on the bytes of one answer.
// The C back end (lower/decoder.ts) is generated from the same program; the
// simulated-SG_IO tests fuzz the two against each other.
import { libraryDecoder } from "../model/checker-decoders.ts";
import type { DecoderBytesReadModel, DecoderExprModel, DecoderModel, DecoderStmtModel, DecoderVarModel } from "../model/types.ts";

/** A value the interpreter keeps: a number, or a bytes field's bytes (never changed in place: a store copies). */
export type FieldValue = number | readonly number[];

export interface Decoded {
	outcome: string;
	fields: Record<string, FieldValue>;
}

interface Frame {
	readonly buf: Uint8Array;
	len: number;
	readonly size: number;
	readonly inputs: readonly FieldValue[];
	readonly vars: Map<DecoderVarModel, number>;
	/** The walk's current descriptor. */
	off: number;
	end: number;
	next: number;
	bodyChecked: boolean;
}

type Flow = { kind: "next" } | { kind: "break" } | { kind: "return"; value: Decoded };
const NEXT: Flow = { kind: "next" };

function readBe(f: Frame, at: number, size: number): number {
	let v = 0;
	for (let i = 0; i < size; i++) v = v * 256 + f.buf[at + i];
	return v;
}

function readBytes(f: Frame, e: DecoderBytesReadModel): number[] {
	const at = (e.inWalk ? f.off : 0) + e.at;
	if (at + e.length > f.len) throw new Error(`decoder read of bytes ${at}..${at + e.length - 1} past the ${f.len} received (the model proves this cannot happen)`);
	return [...f.buf.subarray(at, at + e.length)];
}

function evaluate(e: DecoderExprModel, f: Frame): number {
	switch (e.kind) {
		case "const":
			return e.value;
		case "received":
			return f.len;
		case "allocated":
			return f.size;
		case "var":
			return f.vars.get(e.v)!;
		case "input":
			return f.inputs[e.index] as number;
		case "bytesCompare": {
			const a = readBytes(f, e.read);
			const b = f.inputs[e.input.index] as readonly number[];
			const same = a.every((x, i) => x === b[i]);
			return (e.op === "eq") === same ? 1 : 0;
		}
		case "read": {
			const at = (e.inWalk ? f.off : 0) + e.at;
			if (at + e.size > f.len) throw new Error(`decoder read of bytes ${at}..${at + e.size - 1} past the ${f.len} received (the model proves this cannot happen)`);
			let v = Math.floor(readBe(f, at, e.size) / 2 ** e.shift);
			if (e.mask !== undefined) v = Number(BigInt(v) & BigInt(e.mask));
			return v;
		}
		case "not":
			return evaluate(e.arg, f) ? 0 : 1;
		case "in": {
			const v = evaluate(e.arg, f);
			return e.values.includes(v) ? 1 : 0;
		}
		case "if":
			return evaluate(e.cond, f) ? evaluate(e.then, f) : evaluate(e.else, f);
		case "op": {
			const a = e.args.map((x) => evaluate(x, f));
			switch (e.op) {
				case "add":
					return a.reduce((x, y) => x + y, 0);
				case "mul":
					return a[0] * a[1];
				case "min":
					return Math.min(...a);
				case "max":
					return Math.max(...a);
				case "eq":
					return a[0] === a[1] ? 1 : 0;
				case "ne":
					return a[0] !== a[1] ? 1 : 0;
				case "lt":
					return a[0] < a[1] ? 1 : 0;
				case "le":
					return a[0] <= a[1] ? 1 : 0;
				case "gt":
					return a[0] > a[1] ? 1 : 0;
				case "ge":
					return a[0] >= a[1] ? 1 : 0;
				case "and":
					return a.every((x) => x !== 0) ? 1 : 0;
				case "or":
					return a.some((x) => x !== 0) ? 1 : 0;
			}
		}
	}
}

function run(list: readonly DecoderStmtModel[], f: Frame): Flow {
	for (const s of list) {
		const flow = step(s, f);
		if (flow.kind !== "next") return flow;
	}
	return NEXT;
}

function step(s: DecoderStmtModel, f: Frame): Flow {
	switch (s.kind) {
		case "need": {
			const short = s.inWalk ? f.off + s.bytes > f.next || (!f.bodyChecked && f.off + s.bytes > f.end) : f.len < s.bytes;
			return short ? { kind: "return", value: { outcome: s.outcome.key, fields: {} } } : NEXT;
		}
		case "ifReceived":
			return run(f.len >= s.bytes ? s.then : s.else, f);
		case "set":
			f.vars.set(s.v, evaluate(s.value, f));
			return NEXT;
		case "when":
			return run(evaluate(s.cond, f) ? s.then : s.else, f);
		case "return":
			return {
				kind: "return",
				value: { outcome: s.outcome.key, fields: Object.fromEntries(s.fields.map((x) => [x.field.key, x.bytes ? readBytes(f, x.bytes) : evaluate(x.value, f)])) },
			};
		case "break":
			return { kind: "break" };
		case "walk": {
			f.off = evaluate(s.from, f);
			f.end = Math.min(evaluate(s.to, f), f.len);
			f.bodyChecked = s.bodyPast !== null;
			while (f.off < f.end) {
				if (f.off + s.header > f.end) {
					const flow = run(s.headerPast, f);
					if (flow.kind === "return") return flow;
					break;
				}
				f.next = f.off + evaluate(s.length, f);
				if (s.bodyPast && f.next > f.end) {
					const flow = run(s.bodyPast, f);
					if (flow.kind === "return") return flow;
					break;
				}
				const flow = run(s.each, f);
				if (flow.kind === "return") return flow;
				if (flow.kind === "break") break;
				f.off = f.next;
			}
			if (f.off > f.end) return run(s.overrun, f);
			return NEXT;
		}
	}
}

/**
 * Runs a decoder on the data buffer: `buf` is the whole buffer the command
 * used (its length is the allocation length), `transferred` how many bytes
 * the device sent. `decoder` is a model or the name of a library decoder.
 */
export function runDecoder(decoder: DecoderModel | string, buf: Uint8Array, transferred: number, inputs: Record<string, FieldValue>): Decoded {
	const d = typeof decoder === "string" ? libraryDecoder(decoder) : decoder;
	if (!d) throw new Error(`no decoder ${String(decoder)}`);
	const f: Frame = {
		buf,
		len: Math.min(transferred, buf.length),
		size: buf.length,
		inputs: d.inputs.map((i) => inputs[i.key] ?? (i.type === "bytes" ? new Array<number>(i.length).fill(0) : 0)),
		vars: new Map(),
		off: 0,
		end: 0,
		next: 0,
		bodyChecked: false,
	};
	const flow = run(d.program, f);
	if (flow.kind !== "return") throw new Error(`decoder ${d.name} ended without an outcome (the model proves this cannot happen)`);
	return flow.value;
}
