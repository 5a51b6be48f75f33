// The spec language's promises to the editor: mistakes are type errors.
// Checked by `vitest --typecheck` (each @ts-expect-error must be needed).
import { describe, expectTypeOf, it } from "vitest";
import { defineChecker, defineDecoder, modeSelect10, modeSense10, testUnitReady, type CheckerSpec } from "../spec/index.ts";

const base = {
	name: "t",
	description: "type test",
	copyright: "2026 The mpcheckgen authors",
} as const;

describe("defineChecker types", () => {
	it("accepts a well-formed spec", () => {
		const spec = defineChecker({
			...base,
			targets: ["0.15"],
			messages: { odd: { text: " is odd" } },
			retryBudgets: { again: { maxRetries: 2 } },
			initial: "a",
			states: {
				a: {
					command: testUnitReady(),
					rules: [
						{ when: { sgInfo: "ok" }, then: { goto: "b" } },
						{ when: { sense: { key: "UNIT_ATTENTION" } }, then: { retry: "again", whenExhausted: "fallthrough" } },
						{ then: { report: "PATH_DOWN", message: "odd" } },
					],
				},
				b: { command: testUnitReady(), rules: [{ then: { report: "PATH_UP", message: "UP" } }] },
			},
		});
		expectTypeOf(spec).toEqualTypeOf<CheckerSpec>();
	});

	it("rejects a goto to a state that does not exist", () => {
		defineChecker({
			...base,
			targets: ["0.15"],
			initial: "a",
			states: {
				a: {
					command: testUnitReady(),
					// @ts-expect-error: "nowhere" is not a state
					rules: [{ then: { goto: "nowhere" } }],
				},
			},
		});
	});

	it("rejects an unknown initial state", () => {
		defineChecker({
			...base,
			targets: ["0.15"],
			// @ts-expect-error: "b" is not a state
			initial: "b",
			states: { a: { command: testUnitReady(), rules: [{ then: { report: "PATH_UP", message: "UP" } }] } },
		});
	});

	it("accepts init states ending with done, and a payload from a named state", () => {
		const spec = defineChecker({
			...base,
			targets: ["0.9", "0.15"],
			initial: "tur",
			init: { initial: "sense", withoutInitIo: "atFirstCheck" },
			states: {
				tur: { command: testUnitReady(), rules: [{ then: { report: "PATH_UP", message: "UP" } }] },
				sense: {
					command: modeSense10({ page: 0x0a, allocationLength: 20 }),
					rules: [{ when: { sgInfo: "ok" }, then: { goto: "select" } }, { then: { done: true } }],
				},
				select: {
					command: modeSelect10({ length: 20, payload: { from: "dataReadIn", state: "sense", set: { 13: { or: 0x40 } } } }),
					rules: [{ then: { done: true } }],
				},
			},
		});
		expectTypeOf(spec).toEqualTypeOf<CheckerSpec>();
	});

	it("rejects an unknown init state and an unknown withoutInitIo", () => {
		defineChecker({
			...base,
			targets: ["0.15"],
			initial: "a",
			// @ts-expect-error: "b" is not a state
			init: { initial: "b", withoutInitIo: "skip" },
			states: { a: { command: testUnitReady(), rules: [{ then: { report: "PATH_UP", message: "UP" } }] } },
		});
		defineChecker({
			...base,
			targets: ["0.15"],
			initial: "a",
			// @ts-expect-error: "later" is not a withoutInitIo
			init: { initial: "a", withoutInitIo: "later" },
			states: { a: { command: testUnitReady(), rules: [{ then: { report: "PATH_UP", message: "UP" } }] } },
		});
	});

	it("rejects an unknown message", () => {
		defineChecker({
			...base,
			targets: ["0.15"],
			messages: { odd: { text: " is odd" } },
			initial: "a",
			states: {
				a: {
					command: testUnitReady(),
					// @ts-expect-error: "even" is neither a generic nor a declared message
					rules: [{ then: { report: "PATH_UP", message: "even" } }],
				},
			},
		});
	});

	it("accepts a path state the target lacks but substitutes (0.9: PATH_DISCONNECTED becomes PATH_DOWN)", () => {
		defineChecker({
			...base,
			targets: ["0.9"],
			initial: "a",
			states: {
				a: {
					command: testUnitReady(),
					rules: [{ then: { report: "PATH_DISCONNECTED", message: "DISCONNECTED" } }],
				},
			},
		});
	});

	it("rejects a generic message the target lacks and does not substitute", () => {
		defineChecker({
			...base,
			targets: ["0.15", "0.9"],
			initial: "a",
			states: {
				a: {
					command: testUnitReady(),
					// @ts-expect-error: 0.9.4 has no CHECKER_MSGID_RUNNING
					rules: [{ then: { report: "PATH_PENDING", message: "RUNNING" } }],
				},
			},
		});
	});

	it("rejects a generic message the target ABI lacks", () => {
		defineChecker({
			...base,
			targets: ["0.14"],
			initial: "a",
			states: {
				a: {
					command: testUnitReady(),
					// @ts-expect-error: CHECKER_MSGID_TIMEOUT came with 0.15
					rules: [{ then: { report: "PATH_DOWN", message: "TIMEOUT" } }],
				},
			},
		});
	});

	it("rejects a retry from an undeclared budget", () => {
		defineChecker({
			...base,
			targets: ["0.15"],
			retryBudgets: { again: { maxRetries: 2 } },
			initial: "a",
			states: {
				a: {
					command: testUnitReady(),
					rules: [
						// @ts-expect-error: "twice" is not a budget
						{ then: { retry: "twice", whenExhausted: "fallthrough" } },
						{ then: { report: "PATH_DOWN", message: "DOWN" } },
					],
				},
			},
		});
	});

	it("rejects an unknown sense key and an unknown host status", () => {
		defineChecker({
			...base,
			targets: ["0.15"],
			initial: "a",
			states: {
				a: {
					command: testUnitReady(),
					rules: [
						// @ts-expect-error: no such sense key
						{ when: { sense: { key: "UNIT_ATENTION" } }, then: { report: "PATH_DOWN", message: "DOWN" } },
						// @ts-expect-error: no such host status
						{ when: { hostStatus: "DID_FINE" }, then: { report: "PATH_DOWN", message: "DOWN" } },
						{ then: { report: "PATH_DOWN", message: "DOWN" } },
					],
				},
			},
		});
	});

	it("rejects a context field that is not declared", () => {
		defineChecker({
			...base,
			targets: ["0.15"],
			context: { seen: { type: "bool" } },
			initial: "a",
			states: {
				a: {
					command: testUnitReady(),
					rules: [
						// @ts-expect-error: "known" is not a context field
						{ when: { context: { known: true } }, then: { report: "PATH_UP", message: "UP" } },
						{ then: { report: "PATH_DOWN", message: "DOWN", set: { seen: true } } },
					],
				},
			},
		});
	});
	it("types map context fields as context fields: tested and set by name, a misspelt one rejected, the scope checked", () => {
		defineChecker({
			...base,
			targets: ["0.15", "0.9"],
			context: { snapshot: { type: "bool", scope: "map" }, seen: { type: "bool" } },
			initial: "a",
			states: {
				a: {
					command: testUnitReady(),
					rules: [
						{ when: { context: { snapshot: true } }, then: { report: "PATH_DOWN", message: "DOWN", set: { seen: true } } },
						// @ts-expect-error: "snapshto" is not a context field
						{ when: { context: { snapshto: true } }, then: { report: "PATH_UP", message: "UP" } },
						// @ts-expect-error: a bool map field is set to a boolean, not { data }
						{ when: { errno: "EIO" }, then: { report: "PATH_DOWN", message: "DOWN", set: { snapshot: { data: "x" } } } },
						{ then: { report: "PATH_UP", message: "UP", set: { snapshot: false } } },
					],
				},
			},
		});
		defineChecker({
			...base,
			targets: ["0.15"],
			// @ts-expect-error: a scope is "path" or "map"
			context: { shared: { type: "bool", scope: "cluster" } },
			initial: "a",
			states: { a: { command: testUnitReady(), rules: [{ then: { report: "PATH_UP", message: "UP" } }] } },
		});
	});
	describe("a spec's own decoder", () => {
		const capacity = defineDecoder({
			cName: "cap",
			doc: "READ CAPACITY(10)",
			minDataLength: 8,
			outcomes: {
				found: { doc: "read", fields: { blockLength: { type: "u32", doc: "bytes 4-7" } } },
				tooShort: { doc: "short", fields: {} },
			},
			steps: [{ need: 8, else: "tooShort" }, { return: "found", fields: { blockLength: { read: 4, size: 4 } } }],
		});
		const command = { name: "READ CAPACITY(10)", cdb: [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], direction: "fromDevice", dataLength: 8 } as const;

		it("its decoded fields are data facts, and a misspelt one is a compile error", () => {
			defineChecker({
				...base,
				targets: ["0.15"],
				decoders: { capacity },
				initial: "a",
				states: {
					a: {
						command,
						decoder: "capacity",
						rules: [
							{ when: { data: { blockLength: { not: 0 } } }, then: { report: "PATH_UP", message: "UP" } },
							{ when: { data: { blockLength: { range: [1, 511] } } }, then: { report: "PATH_DOWN", message: "DOWN" } },
							{ then: { report: "PATH_DOWN", message: "DOWN" } },
						],
					},
				},
			});
			defineChecker({
				...base,
				targets: ["0.15"],
				decoders: { capacity },
				initial: "a",
				states: {
					a: {
						command,
						decoder: "capacity",
						rules: [
							// @ts-expect-error: "blocklength" is not a field of the decoder
							{ when: { data: { blocklength: 0 } }, then: { report: "PATH_DOWN", message: "DOWN" } },
							{ then: { report: "PATH_DOWN", message: "DOWN" } },
						],
					},
				},
			});
			defineChecker({
				...base,
				targets: ["0.15"],
				decoders: { capacity },
				initial: "a",
				states: {
					// @ts-expect-error: "found2" is not an outcome of the decoder (the literal's error is the state's)
					a: {
						command,
						decoder: "capacity",
						rules: [
							{ when: { data: { outcome: "found2" } }, then: { report: "PATH_DOWN", message: "DOWN" } },
							{ then: { report: "PATH_DOWN", message: "DOWN" } },
						],
					},
				},
			});
		});

		it("a decoder's steps may only return its own outcomes, with their fields", () => {
			defineDecoder({
				cName: "x",
				doc: "x",
				minDataLength: 1,
				outcomes: { ok: { doc: "ok", fields: { v: { type: "u8", doc: "v" } } } },
				// @ts-expect-error: "okay" is not an outcome
				steps: [{ return: "okay" }],
			});
			defineDecoder({
				cName: "y",
				doc: "y",
				minDataLength: 1,
				outcomes: { ok: { doc: "ok", fields: { v: { type: "u8", doc: "v" } } } },
				// @ts-expect-error: the outcome's field "v" has no value
				steps: [{ need: 1, else: "ok" }, { return: "ok", fields: {} }],
			});
		});
	});
});

describe("bytes fields", () => {
	const page = defineDecoder({
		cName: "page",
		doc: "a page with a WWN",
		inputs: { wwn: { type: "bytes", length: 16, doc: "the stored WWN" } },
		minDataLength: 26,
		outcomes: {
			page: { doc: "the page", fields: { wwn: { type: "bytes", length: 16, doc: "bytes 10-25" }, b4: { type: "u8", doc: "byte 4" } } },
			changed: { doc: "changed", fields: {} },
			tooShort: { doc: "short", fields: {} },
		},
		steps: [
			{ need: 26, else: "tooShort" },
			{ when: { ne: [{ bytes: 10, length: 16 }, { input: "wwn" }] }, then: [{ return: "changed" }] },
			{ return: "page", fields: { wwn: { bytes: 10, length: 16 }, b4: { read: 4 } } },
		],
	});
	const command = { name: "INQUIRY", cdb: [0x12, 0x01, 0xc0, 0, 64, 0], direction: "fromDevice", dataLength: 64 } as const;

	it("accepts a bytes context field, a bytes decoder input and a stored bytes outcome field", () => {
		const spec = defineChecker({
			...base,
			targets: ["0.15"],
			decoders: { page },
			context: { wwn: { type: "bytes", length: 16 }, n: { type: "u8" } },
			initial: "a",
			states: {
				a: {
					command,
					decoder: "page",
					decoderInputs: { wwn: { context: "wwn" } },
					store: { page: { wwn: "wwn" } },
					rules: [
						{ when: { data: { outcome: "changed" }, context: { n: 0 } }, then: { report: "PATH_DOWN", message: "DOWN" } },
						{ then: { report: "PATH_UP", message: "UP" } },
					],
				},
			},
		});
		expectTypeOf(spec).toEqualTypeOf<CheckerSpec>();
	});

	it("a rule cannot test a bytes context field", () => {
		defineChecker({
			...base,
			targets: ["0.15"],
			context: { wwn: { type: "bytes", length: 16 } },
			initial: "a",
			states: {
				a: {
					command: testUnitReady(),
					rules: [
						// @ts-expect-error: wwn is bytes, not a number
						{ when: { context: { wwn: 0 } }, then: { report: "PATH_DOWN", message: "DOWN" } },
						{ then: { report: "PATH_UP", message: "UP" } },
					],
				},
			},
		});
	});

	it("a rule cannot test a decoded bytes field", () => {
		defineChecker({
			...base,
			targets: ["0.15"],
			decoders: { page },
			context: { wwn: { type: "bytes", length: 16 } },
			initial: "a",
			states: {
				// @ts-expect-error: the decoded wwn is bytes, not a number (the literal's error is the state's)
				a: {
					command,
					decoder: "page",
					decoderInputs: { wwn: { context: "wwn" } },
					rules: [
						{ when: { data: { b4: 1 } }, then: { report: "PATH_DOWN", message: "DOWN" } },
						{ when: { data: { wwn: 0 } }, then: { report: "PATH_DOWN", message: "DOWN" } },
						{ then: { report: "PATH_UP", message: "UP" } },
					],
				},
			},
		});
	});

	it("a bytes context field is not a CDB byte or a data length", () => {
		defineChecker({
			...base,
			targets: ["0.15"],
			context: { wwn: { type: "bytes", length: 16 } },
			initial: "a",
			states: {
				a: {
					// @ts-expect-error: wwn is bytes, not a number
					command: { name: "INQUIRY", cdb: [0x12, 0, 0, 0, { context: "wwn", shift: 0 }, 0], direction: "fromDevice", dataLength: 64 },
					rules: [{ then: { report: "PATH_UP", message: "UP" } }],
				},
			},
		});
		defineChecker({
			...base,
			targets: ["0.15"],
			context: { wwn: { type: "bytes", length: 16 } },
			initial: "a",
			states: {
				a: {
					// @ts-expect-error: wwn is bytes, not a length
					command: { name: "INQUIRY", cdb: [0x12, 0, 0, 0, 64, 0], direction: "fromDevice", dataLength: { context: "wwn" } },
					rules: [{ then: { report: "PATH_UP", message: "UP" } }],
				},
			},
		});
	});

	it("a bytes context field needs a length, and has no init or max", () => {
		defineChecker({
			...base,
			targets: ["0.15"],
			// @ts-expect-error: a bytes field without its length
			context: { wwn: { type: "bytes" } },
			initial: "a",
			states: { a: { command: testUnitReady(), rules: [{ then: { report: "PATH_UP", message: "UP" } }] } },
		});
		defineChecker({
			...base,
			targets: ["0.15"],
			// @ts-expect-error: a bytes field has no init
			context: { wwn: { type: "bytes", length: 16, init: 1 } },
			initial: "a",
			states: { a: { command: testUnitReady(), rules: [{ then: { report: "PATH_UP", message: "UP" } }] } },
		});
	});

	it("a bytes outcome field is returned as { bytes, length }, a number field never is", () => {
		defineDecoder({
			cName: "x",
			doc: "x",
			minDataLength: 26,
			outcomes: { ok: { doc: "ok", fields: { wwn: { type: "bytes", length: 16, doc: "w" } } } },
			// @ts-expect-error: a number read for a bytes field
			steps: [{ need: 26, else: "ok" }, { return: "ok", fields: { wwn: { read: 10, size: 4 } } }],
		});
		defineDecoder({
			cName: "y",
			doc: "y",
			minDataLength: 26,
			outcomes: { ok: { doc: "ok", fields: { v: { type: "u32", doc: "v" } } } },
			// @ts-expect-error: a bytes read for a number field
			steps: [{ need: 26, else: "ok" }, { return: "ok", fields: { v: { bytes: 10, length: 4 } } }],
		});
	});
});
