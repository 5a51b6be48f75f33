// The decoder language's validation: every way a declaration can be wrong
// is a diagnostic at the step it is about (a read past what is known
// received, a walk that might not move on, a value too large for its field,
// a path through the steps that returns nothing, …). The located form (file,
// line, column) is in native-tests/fixtures/bad-specs/decoder-*.ts.
import { describe, expect, it } from "vitest";
import { buildDecoderModel } from "../model/decoder-program.ts";
import { runDecoder } from "../interp/decode.ts";
import type { AnyDecoder } from "../spec/decoders.ts";

const outcomes = {
	ok: { doc: "ok", fields: { v: { type: "u8", doc: "a byte" } } },
	short: { doc: "short", fields: {} },
} as const;

function errors(steps: unknown[]): string[] {
	const out: string[] = [];
	const decl = { kind: "decoder", cName: "t", doc: "t", inputs: {}, minDataLength: 1, outcomes, steps } as unknown as AnyDecoder;
	buildDecoderModel("t", decl, (path, message) => out.push(`${path.join(".")}: ${message}`));
	return out;
}

const walk = (over: Record<string, unknown>) => ({
	walk: { from: 0, to: "received", header: 2, length: { add: [2, { read: 1 }] }, headerPast: ["break"], each: [], ...over },
});

describe("decoder declarations are validated, each problem at its step", () => {
	it("a well-formed one has no diagnostic, and runs", () => {
		const steps = [{ need: 1, else: "short" }, { return: "ok", fields: { v: { read: 0 } } }];
		expect(errors(steps)).toEqual([]);
		const decl = { kind: "decoder", cName: "t", doc: "t", inputs: {}, minDataLength: 1, outcomes, steps } as unknown as AnyDecoder;
		const m = buildDecoderModel("t", decl, () => {})!;
		expect(runDecoder(m, new Uint8Array([7, 1]), 2, {})).toEqual({ outcome: "ok", fields: { v: 7 } });
		expect(runDecoder(m, new Uint8Array([7, 1]), 0, {})).toEqual({ outcome: "short", fields: {} });
	});
	it("a read of bytes not known received", () => {
		expect(errors([{ return: "ok", fields: { v: { read: 0 } } }])).toEqual([
			"steps.0.fields.v: decoder t reads bytes 0..0 of the data, but only 0 are known received here: add { need: 1, else: OUTCOME } before it (or read it inside { ifReceived: 1 })",
		]);
		expect(errors([{ need: 2, else: "short" }, { let: "w", value: { read: 1, size: 2 } }, { return: "short" }])).toEqual([
			"steps.1.value: decoder t reads bytes 1..2 of the data, but only 2 are known received here: add { need: 3, else: OUTCOME } before it (or read it inside { ifReceived: 3 })",
		]);
	});
	it("a need in one branch covers that branch only", () => {
		const steps = [{ when: { eq: ["received", 5] }, then: [{ need: 1, else: "short" }] }, { return: "ok", fields: { v: { read: 0 } } }];
		expect(errors(steps)[0]).toMatch(/^steps\.1\.fields\.v: decoder t reads bytes 0\.\.0/);
		expect(errors([{ ifReceived: 1, then: [{ return: "ok", fields: { v: { read: 0 } } }] }, { return: "short" }])).toEqual([]);
	});
	it("inside a walk: reads within the descriptor's header or a need", () => {
		expect(errors([walk({ each: [{ let: "x", value: { read: 2 } }] }), { return: "short" }])).toEqual([
			"steps.0.walk.each.0.value: decoder t reads bytes 2..2 of the descriptor, but only 2 are known received here: add { need: 3, else: OUTCOME } before it",
		]);
		expect(errors([walk({ each: [{ need: 3, else: "short" }, { let: "x", value: { read: 2 } }] }), { return: "short" }])).toEqual([]);
		expect(errors([walk({ headerPast: [{ when: { eq: [{ read: 0 }, 1] }, then: ["break"], else: ["break"] }] }), { return: "short" }])[0]).toMatch(
			/^steps\.0\.walk\.headerPast\.0\.when\.eq\.0: decoder t reads bytes 0\.\.0 of the descriptor, but only 0/,
		);
	});
	it("a walk that might not move on, or whose headerPast goes on", () => {
		expect(errors([walk({ length: { read: 1 } }), { return: "short" }])).toEqual([
			"steps.0.walk.length: a descriptor's length may be 0, less than its header (2): the walk must move on by at least the header",
		]);
		expect(errors([walk({ headerPast: [] }), { return: "short" }])).toEqual(["steps.0.walk.headerPast: headerPast must end the walk (break) or the decoder (return)"]);
		expect(errors([walk({ each: [walk({})] }), { return: "short" }])).toEqual(["steps.0.walk.each.0.walk: walks do not nest"]);
	});
	it("a value too large for its field or var", () => {
		expect(errors([{ need: 2, else: "short" }, { return: "ok", fields: { v: { read: 0, size: 2 } } }])).toEqual([
			"steps.1.fields.v: field 'v' (u8) holds at most 255; this value may be 65535",
		]);
		expect(errors([{ var: "n", init: 0, max: 3 }, { assign: "n", value: 4 }, { return: "short" }])).toEqual([
			"steps.1.value: 'n' holds at most 3; this value may be 4 (give the var a larger max, or bound the value with min)",
		]);
		expect(errors([{ need: 1, else: "short" }, { return: "ok", fields: { v: { min: [{ read: 0 }, 200] } } }])).toEqual([]);
	});
	it("every path returns; nothing after a return; break only in a walk", () => {
		expect(errors([{ need: 1, else: "short" }])).toEqual(["steps: decoder t: the last step must return an outcome (every path through the steps ends in one)"]);
		expect(errors([{ return: "short" }, { return: "short" }])).toEqual(["steps.1: this step can never run: the steps before it always leave"]);
		expect(errors(["break", { return: "short" }])).toEqual(["steps.0: break ends a walk: it is only allowed inside one"]);
	});
	it("names: unknown outcomes, fields and refs (with the nearest), a let assigned, a name bound twice", () => {
		expect(errors([{ return: "shor" }])).toEqual([`steps.0.return: decoder t has no outcome "shor" (did you mean 'short'?)`]);
		expect(errors([{ need: 1, else: "short" }, { return: "ok", fields: { v: 1, w: 2 } }])).toEqual(["steps.1.fields.w: outcome 'ok' has no field 'w' (did you mean 'v'?)"]);
		expect(errors([{ return: "ok" }])).toEqual(["steps.0.return: outcome 'ok' needs a value for its field 'v'"]);
		expect(errors([{ let: "count", value: 1 }, { return: "ok", fields: { v: { ref: "cont" } } }])).toEqual([
			`steps.1.fields.v.ref: decoder t: "cont" is not bound here (did you mean 'count'?)`,
		]);
		expect(errors([{ let: "n", value: 1 }, { assign: "n", value: 2 }, { return: "short" }])).toEqual([
			"steps.1.assign: 'n' is bound by let: declare it with var to change it",
		]);
		expect(errors([{ let: "n", value: 1 }, { let: "n", value: 2 }, { return: "short" }])).toEqual(["steps.1.let: decoder t binds 'n' twice: each name once"]);
		expect(errors([{ need: 1, else: "ok" }, { return: "short" }])).toEqual(["steps.0.else: outcome 'ok' has fields: a need can only end in an outcome without fields"]);
	});
});

describe("bytes: inputs and outcome fields kept as they are, compared with eq/ne", () => {
	const bytesOutcomes = {
		ok: { doc: "ok", fields: { id: { type: "bytes", length: 4, doc: "bytes 2-5" } } },
		same: { doc: "same", fields: {} },
		short: { doc: "short", fields: {} },
	} as const;
	const decl = (steps: unknown[], inputs: Record<string, unknown> = { old: { type: "bytes", length: 4, doc: "the stored id" }, n: { type: "u8", doc: "a number" } }) =>
		({ kind: "decoder", cName: "t", doc: "t", inputs, minDataLength: 6, outcomes: bytesOutcomes, steps }) as unknown as AnyDecoder;
	const bytesErrors = (steps: unknown[], inputs?: Record<string, unknown>): string[] => {
		const out: string[] = [];
		buildDecoderModel("t", decl(steps, inputs), (path, message) => out.push(`${path.join(".")}: ${message}`));
		return out;
	};
	const good = [
		{ need: 6, else: "short" },
		{ when: { eq: [{ bytes: 2, length: 4 }, { input: "old" }] }, then: [{ return: "same" }] },
		{ return: "ok", fields: { id: { bytes: 2, length: 4 } } },
	];

	it("a well-formed one has no diagnostic; the interpreter compares and returns the bytes", () => {
		expect(bytesErrors(good)).toEqual([]);
		const m = buildDecoderModel("t", decl(good), () => {})!;
		const buf = new Uint8Array([0, 0, 1, 2, 3, 4]);
		expect(runDecoder(m, buf, 6, { old: [1, 2, 3, 4], n: 0 })).toEqual({ outcome: "same", fields: {} });
		expect(runDecoder(m, buf, 6, { old: [1, 2, 3, 5], n: 0 })).toEqual({ outcome: "ok", fields: { id: [1, 2, 3, 4] } });
		expect(runDecoder(m, buf, 5, { old: [1, 2, 3, 4], n: 0 })).toEqual({ outcome: "short", fields: {} });
	});
	it("a bytes read must be known received over its whole range", () => {
		expect(bytesErrors([{ need: 5, else: "short" }, good[1], good[2]])).toEqual([
			"steps.1.when.eq.0: decoder t reads bytes 2..5 of the data, but only 5 are known received here: add { need: 6, else: OUTCOME } before it (or read it inside { ifReceived: 6 })",
			"steps.2.fields.id: decoder t reads bytes 2..5 of the data, but only 5 are known received here: add { need: 6, else: OUTCOME } before it (or read it inside { ifReceived: 6 })",
		]);
	});
	it("bytes are never a number: no order, no arithmetic, no comparison with a number", () => {
		const at = (cond: unknown) => bytesErrors([good[0], { when: cond, then: [{ return: "same" }] }, good[2]]);
		expect(at({ lt: [{ bytes: 2, length: 4 }, { input: "old" }] })).toEqual(["steps.1.when.lt: bytes are only compared with eq or ne, not lt"]);
		expect(at({ ne: [{ bytes: 2, length: 4 }, 7] })).toEqual([
			"steps.1.when.ne: ne of bytes compares a bytes read { bytes: OFFSET, length: N } with a bytes input; not with a number",
		]);
		expect(at({ ne: [{ read: 2 }, { input: "old" }] })).toEqual([
			"steps.1.when.ne: ne of bytes compares a bytes read { bytes: OFFSET, length: N } with a bytes input; not with a number",
		]);
		expect(at({ not: { input: "old" } })[0]).toMatch(/^steps\.1\.when\.not\.input: input 'old' is bytes, not a number/);
		expect(at({ add: [{ bytes: 2, length: 4 }, 1] })[0]).toMatch(/^steps\.1\.when\.add\.0: a bytes read \{ bytes, length \} is not a number/);
	});
	it("lengths must match: a read and the input it is compared with, a read and the field it fills", () => {
		expect(bytesErrors([good[0], { when: { eq: [{ bytes: 2, length: 3 }, { input: "old" }] }, then: [{ return: "same" }] }, good[2]])).toEqual([
			"steps.1.when.eq.0.length: the bytes read are 3 long; input 'old' is 4 bytes",
		]);
		expect(bytesErrors([good[0], good[1], { return: "ok", fields: { id: { bytes: 2, length: 3 } } }])).toEqual([
			"steps.2.fields.id.length: field 'id' is 4 bytes; this read is 3",
		]);
		expect(bytesErrors([good[0], good[1], { return: "ok", fields: { id: { read: 2, size: 4 } } }])).toEqual([
			"steps.2.fields.id: bytes are read with { bytes: OFFSET, length: N }",
		]);
	});
	it("a bytes input or field needs a length", () => {
		expect(bytesErrors(good, { old: { type: "bytes", doc: "no length" } })[0]).toBe("inputs.old.length: input 'old': a bytes type needs a length: 1..64 bytes");
		expect(bytesErrors(good, { old: { type: "u8", length: 4, doc: "a length on a number" } })[0]).toBe("inputs.old.length: input 'old': only a bytes type has a length");
	});
});
