// Builds device data that makes a decoder reach a chosen outcome: what the
// witness generator answers with when a rule tests decoded data. The bytes
// follow shared/reference/scsi.md §4–5; the interpreter confirms the outcome.
import type { IntervalSet } from "../../generator/model/intervals.ts";
import { contains, size } from "../../generator/model/intervals.ts";
import { libraryDecoder } from "../../generator/model/checker-decoders.ts";
import { runDecoder, type FieldValue } from "../../generator/interp/decode.ts";
import type { DecoderExprModel, DecoderModel, DecoderStmtModel } from "../../generator/model/types.ts";

export interface Synthesized {
	data: number[];
	/** The residual count to report (absent: the data length decides). */
	resid?: number;
}

type Synth = (
	outcome: string,
	fields: Record<string, IntervalSet>,
	inputs: Record<string, FieldValue>,
	length: number,
	r: () => number,
) => Synthesized;

function pick(set: IntervalSet | undefined, r: () => number, lo: number, hi: number): number {
	if (!set) return lo + Math.floor(r() * (hi - lo + 1));
	let k = Math.floor(r() * size(set));
	for (const [a, b] of set) {
		if (k <= b - a) return a + k;
		k -= b - a + 1;
	}
	return set[0][0];
}

const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const be32 = (v: number) => [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];

function designator(type: number, body: number[], association = 1): number[] {
	return [0x01, (association << 4) | type, 0x00, body.length, ...body];
}

function otherDesignators(r: () => number): number[] {
	const out: number[] = [];
	const n = Math.floor(r() * 3);
	for (let i = 0; i < n; i++) {
		const type = [1, 2, 3, 8][Math.floor(r() * 4)];
		const len = 4 + Math.floor(r() * 12);
		out.push(...designator(type, Array.from({ length: len }, () => Math.floor(r() * 256)), 0));
	}
	return out;
}

const vpd83: Synth = (outcome, fields, _inputs, length, r) => {
	const page = (body: number[], code = 0x83) => [0x00, code, ...be16(body.length), ...body];
	switch (outcome) {
		case "found": {
			const tpg = pick(fields.targetPortGroup, r, 0, 0xffff);
			const rtp = pick(fields.relativeTargetPort, r, 1, 0xffff);
			const parts = [otherDesignators(r), designator(5, [0, 0, ...be16(tpg)])];
			if (r() < 0.7 || fields.relativeTargetPort) parts.splice(r() < 0.5 ? 0 : 2, 0, designator(4, [0, 0, ...be16(rtp)]));
			return { data: page(parts.flat()) };
		}
		case "noTargetPortGroup":
			return { data: page([...otherDesignators(r), ...designator(4, [0, 0, 0, 1])]) };
		case "tooShort": {
			const n = Math.floor(r() * 4);
			return { data: [0x00, 0x83, 0x00, 0x10].slice(0, n), resid: length - n };
		}
		case "wrongPageCode":
			return { data: page(designator(5, [0, 0, 0, 1]), [0x80, 0x00, 0x82, 0x84][Math.floor(r() * 4)]) };
		case "badDesignator": {
			// a type 5 designator shorter than 4 bytes, or one running past the page
			const body = r() < 0.5 ? designator(5, [0, 1]) : [0x01, 0x15, 0x00, 0x20, 0, 0, 0, 1];
			return { data: page([...otherDesignators(r), ...body]) };
		}
		case "truncated": {
			// the page says it is longer than what arrives; no group in the part received
			const body = [...otherDesignators(r), ...designator(3, [1, 2, 3, 4, 5, 6, 7, 8])];
			const data = [0x00, 0x83, ...be16(body.length + 40), ...body];
			return { data, resid: length - data.length };
		}
	}
	throw new Error(`vpd83TargetPortGroup: no synthesizer for outcome ${outcome}`);
};

function rtpgDescriptor(id: number, state: number, pref: boolean, ports: number): number[] {
	const out = [(pref ? 0x80 : 0) | state, 0x8f, ...be16(id), 0, 0, 0, ports];
	for (let i = 0; i < ports; i++) out.push(0, 0, ...be16(i + 1));
	return out;
}

const rtpg: Synth = (outcome, fields, inputs, length, r) => {
	const own = (inputs.targetPortGroup as number | undefined) ?? 0;
	const extended = fields.extendedHeader ? pick(fields.extendedHeader, r, 0, 1) === 1 : r() < 0.5;
	const header = (bodyLen: number, ext: boolean, time: number) =>
		ext ? [...be32(bodyLen + 4), 0x10, time, 0, 0] : be32(bodyLen);
	const others = (): number[] => {
		const out: number[] = [];
		const n = Math.floor(r() * 3);
		for (let i = 0; i < n; i++) {
			let id = Math.floor(r() * 0x10000);
			if (id === own) id = (id + 1) & 0xffff;
			out.push(...rtpgDescriptor(id, Math.floor(r() * 16), r() < 0.3, Math.floor(r() * 3)));
		}
		return out;
	};
	switch (outcome) {
		case "found": {
			const state = pick(fields.accessState, r, 0, 15);
			const pref = pick(fields.preferred, r, 0, 1) === 1;
			const time = fields.transitionTime ? pick(fields.transitionTime, r, 1, 255) : Math.floor(r() * 256);
			const body = [...others(), ...rtpgDescriptor(own, state, pref, 1 + Math.floor(r() * 3)), ...others()];
			const data = [...header(body.length, extended, fields.transitionTime && !extended ? 0 : time), ...body];
			if (data.length > length) return { data: data.slice(0, length) };
			return { data };
		}
		case "needsLargerBuffer": {
			const body = rtpgDescriptor(own, 0, false, 1);
			const claimed = Math.max(length, 8) + 1 + Math.floor(r() * 4096);
			return { data: [...be32(claimed), ...body].slice(0, length) };
		}
		case "groupMissing": {
			const body = others();
			if (body.length === 0) body.push(...rtpgDescriptor((own + 1) & 0xffff, 0, false, 0));
			return { data: [...header(body.length, extended, 0), ...body] };
		}
		case "tooShort": {
			const n = Math.floor(r() * 4);
			return { data: [0, 0, 0, 8].slice(0, n), resid: length - n };
		}
		case "badLength":
			return { data: extended ? [...be32(4), 0x10, 0, 0, 0] : be32(0) };
		case "truncatedDescriptor": {
			// another group's port count runs past the data, or a
			// descriptor header is cut
			const body = others();
			if (r() < 0.5) {
				const d = rtpgDescriptor((own + 1) & 0xffff, 0, false, 0);
				d[7] = 4 + Math.floor(r() * 50);
				body.push(...d, ...rtpgDescriptor(own, 0, false, 1));
				return { data: [...header(body.length - 12, extended, 0), ...body.slice(0, body.length - 12)] };
			}
			body.push(...rtpgDescriptor(own, 0, false, 0).slice(0, 1 + Math.floor(r() * 7)));
			return { data: [...header(body.length, extended, 0), ...body] };
		}
	}
	throw new Error(`rtpgTargetPortGroup: no synthesizer for outcome ${outcome}`);
};

const SYNTHS: Record<string, Synth> = { vpd83TargetPortGroup: vpd83, rtpgTargetPortGroup: rtpg };

/**
 * specs/emc_clariion.ts's VPD page 0xC0 (checkers-behaviour.md §6): a good
 * page has seven byte constraints, too many for the random search. A WWN
 * change needs a stored WWN (input wwnSet): without one, a page is made.
 * The stored WWN is input wwn, its 16 bytes; a page carries it at bytes 10–25.
 */
const emcC0: Synth = (outcome, fields, inputs, length, r) => {
	const stored = Array.isArray(inputs.wwn) ? (inputs.wwn as readonly number[]) : new Array<number>(16).fill(0);
	const b = Array.from({ length: 128 }, () => (r() < 0.5 ? 0 : Math.floor(r() * 256)));
	b[1] = 0xc0;
	b[9] = 0;
	b[27] = 0x03;
	b[28] = (b[28] & 0xf8) | (r() < 0.5 ? 4 : 6);
	b[30] |= 0x04;
	b[48] = 0;
	const active = fields.active ? pick(fields.active, r, 0, 1) === 1 : r() < 0.5;
	b[4] = active ? 2 : [1, 3, 0xff][Math.floor(r() * 3)];
	const wwn = inputs.wwnSet ? stored : stored.map(() => Math.floor(r() * 256));
	b.splice(10, 16, ...wwn);
	const data = (): Synthesized => ({ data: b.slice(0, Math.min(length, 128)) });
	switch (outcome) {
		case "page":
			return data();
		case "tooShort": {
			const n = Math.floor(r() * 49);
			return { data: b.slice(0, n), resid: length - n };
		}
		case "unknownFormat":
			if (r() < 0.5) b[1] = [0x00, 0x80, 0xc9, 0xc1][Math.floor(r() * 4)];
			else b[9] = 1 + Math.floor(r() * 255);
			return data();
		case "notConfigured": {
			const which = Math.floor(r() * 3);
			if (which === 0) b[27] = [0, 1, 2, 4, 0xff][Math.floor(r() * 5)];
			else if (which === 1) b[28] = (b[28] & 0xf8) | [0, 1, 2, 3, 5, 7][Math.floor(r() * 6)];
			else b[30] &= ~0x04;
			return data();
		}
		case "notAvailable":
			b[48] = 1 + Math.floor(r() * 255);
			return data();
		case "unbound":
			b[4] = 0;
			return data();
		case "wwnChanged":
			if (inputs.wwnSet) {
				const i = 10 + Math.floor(r() * 16);
				b[i] ^= 1 + Math.floor(r() * 255);
			}
			return data();
	}
	throw new Error(`emcC0: no synthesizer for outcome ${outcome}`);
};
/**
 * native-tests/fixtures/good-specs/bytes-walk.ts's designator walk: a type 3
 * designator whose identifier (4 bytes at its offset 4) equals the stored
 * one (input stored) is too unlikely for the random search.
 */
const bytesWalk: Synth = (outcome, _fields, inputs, length, r) => {
	const stored = Array.isArray(inputs.stored) ? [...(inputs.stored as readonly number[])] : [0, 0, 0, 0];
	const other = () => designator([1, 2, 8][Math.floor(r() * 3)], Array.from({ length: Math.floor(r() * 6) }, () => Math.floor(r() * 256)));
	const ds: number[][] = Array.from({ length: Math.floor(r() * 3) }, other);
	const id = stored.map((b) => b);
	if (outcome === "changed") id[Math.floor(r() * 4)] ^= 1 + Math.floor(r() * 255);
	if (outcome === "tooShort") {
		const n = Math.floor(r() * 4);
		return { data: [0x00, 0x83, 0, 0].slice(0, n), resid: length - n };
	}
	if (outcome === "none") {
		if (r() < 0.5) ds.push(designator(3, Array.from({ length: Math.floor(r() * 4) }, () => Math.floor(r() * 256))));
	} else ds.push(designator(3, [...id, ...Array.from({ length: Math.floor(r() * 3) }, () => Math.floor(r() * 256))]), ...Array.from({ length: Math.floor(r() * 2) }, other));
	const body = ds.flat();
	return { data: [0x00, 0x83, body.length >> 8, body.length & 0xff, ...body].slice(0, length) };
};

/** Synthesizers of embedded specs' own decoders, by decoder name and short (C) name. */
const SPEC_SYNTHS: Record<string, Synth> = { "emcC0/c0": emcC0, "designators/ids": bytesWalk };

/** The constants a decoder's program compares with or adds: the bytes a search tries first. */
function programConstants(d: DecoderModel): number[] {
	const out = new Set<number>();
	const expr = (e: DecoderExprModel): void => {
		if (e.kind === "const") out.add(e.value & 0xff);
		else if (e.kind === "op") e.args.forEach(expr);
		else if (e.kind === "not") expr(e.arg);
		else if (e.kind === "in") {
			expr(e.arg);
			e.values.forEach((v) => out.add(v & 0xff));
		} else if (e.kind === "if") [e.cond, e.then, e.else].forEach(expr);
	};
	const stmts = (l: readonly DecoderStmtModel[]): void =>
		l.forEach((st) => {
			if (st.kind === "set") expr(st.value);
			else if (st.kind === "when") {
				expr(st.cond);
				stmts(st.then);
				stmts(st.else);
			} else if (st.kind === "ifReceived") {
				stmts(st.then);
				stmts(st.else);
			} else if (st.kind === "return") st.fields.forEach((f) => f.value && expr(f.value));
			else if (st.kind === "walk") {
				[st.from, st.to, st.length].forEach(expr);
				[st.headerPast, st.bodyPast ?? [], st.each, st.overrun].forEach(stmts);
			}
		});
	stmts(d.program);
	return [...out];
}

/**
 * For a decoder without a hand-written synthesizer (a spec's own): a search
 * over biased random bytes (zeros, small numbers, 0xff, the program's own
 * constants), run through the interpreter until the outcome and the fields
 * are the ones asked for.
 */
function search(d: DecoderModel, outcome: string, fields: Record<string, IntervalSet>, inputs: Record<string, FieldValue>, length: number, r: () => number): Synthesized {
	const consts = programConstants(d);
	const byte = () => {
		const x = r();
		if (x < 0.35) return 0;
		if (x < 0.5) return Math.floor(r() * 16);
		if (x < 0.6) return 0xff;
		if (x < 0.8 && consts.length > 0) return consts[Math.floor(r() * consts.length)];
		return Math.floor(r() * 256);
	};
	for (let attempt = 0; attempt < 20000; attempt++) {
		const len = r() < 0.6 ? length : Math.floor(r() * (length + 1));
		const data = Array.from({ length: len }, byte);
		const buf = new Uint8Array(length);
		buf.set(data);
		const got = runDecoder(d, buf, len, inputs);
		if (got.outcome !== outcome) continue;
		if (Object.entries(fields).every(([k, set]) => k in got.fields && typeof got.fields[k] === "number" && contains(set, got.fields[k]))) return { data };
	}
	throw new Error(`${d.name}: no data found for outcome ${outcome} with ${JSON.stringify(fields)}`);
}

export function synthesizeData(
	decoder: DecoderModel,
	outcome: string,
	fields: Record<string, IntervalSet>,
	inputs: Record<string, FieldValue>,
	length: number,
	r: () => number,
): Synthesized {
	const s = libraryDecoder(decoder.name) === decoder ? SYNTHS[decoder.name] : SPEC_SYNTHS[`${decoder.name}/${decoder.shortName}`];
	if (!s) return search(decoder, outcome, fields, inputs, length, r);
	return s(outcome, fields, inputs, length, r);
}
