// Random checker specs for the spec fuzzer (spec-fuzz.test.ts): fast-check
// builds spec values from every part of the language (states that send
// commands or decide from the context, commands of every kind with context
// bytes and lengths, both decoders with their inputs and stores, rules over
// every fact kind, reports, gotos, retries with budgets and what follows once
// spent, context stores of constants, fields and decoded data), the
// structural rules kept by construction (gotos only go forward, so every
// state is reached and no goto cycle lacks a budget). What the generator
// cannot know beforehand (a rule an earlier one shadows, a declaration
// nothing uses) is repaired by the model's own messages. Random mutations
// of a valid spec (a value replaced, a key dropped or renamed, an element
// duplicated) must each be accepted or rejected with a located error.
import fc from "fast-check";
import { ABI_PROFILES } from "../../generator/abi/profiles.ts";
import { FIELD_TYPES } from "../../generator/abi/c-layout.ts";
import { DECODERS } from "../../generator/spec/decoders.ts";
import { inquiryVpd, reportTargetPortGroups, testUnitReady } from "../../generator/spec/commands.ts";
import { ERRNO, HOST_STATUS, SCSI_STATUS, SENSE_KEY } from "../../generator/spec/vocabulary.ts";

// deliberately loose: a spec value is untrusted data
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

type FieldType = "bool" | "u8" | "u16" | "u32";
interface Field {
	key: string;
	type: FieldType;
	max: number;
	spec: Json;
}

type Target = "0.15" | "0.9";

const TARGET_SETS: readonly (readonly Target[])[] = [["0.15"], ["0.15", "0.9"], ["0.9", "0.15"], ["0.9"]];

/** Path states and generic messages every listed target accepts (its own or a substitute). */
function vocabulary(targets: readonly Target[]): { pathStates: string[]; messages: string[] } {
	const ok = (t: Target) => {
		const p = ABI_PROFILES[t];
		return {
			ps: new Set<string>([...p.checkerPathStates, ...Object.keys(p.substitutes)]),
			msg: new Set<string>([...p.genericMessages.map(([n]) => n), ...Object.keys(p.messageSubstitutes)]),
		};
	};
	const sets = targets.map(ok);
	const all = sets[0];
	// a generic message must exist in one of the targets itself
	const own = new Set(targets.flatMap((t) => ABI_PROFILES[t].genericMessages.map(([n]) => n as string)));
	return {
		pathStates: [...all.ps].filter((s) => sets.every((x) => x.ps.has(s)) && targets.some((t) => (ABI_PROFILES[t].checkerPathStates as readonly string[]).includes(s))),
		messages: [...all.msg].filter((m) => sets.every((x) => x.msg.has(m)) && own.has(m)),
	};
}

const NAMES = ["retries", "seen", "group", "lastState", "mode", "count", "flag", "len", "port", "extended", "tpg", "state", "value", "probe", "again", "ready", "wait"];
const identArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...NAMES) }, { weight: 2, arbitrary: fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,9}$/) });

interface FieldDraw {
	type: FieldType;
	bounded: boolean;
	maxFrac: number;
	withInit: boolean;
	initFrac: number;
	small: boolean;
}

const fieldArb: fc.Arbitrary<FieldDraw> = fc.record({
	type: fc.constantFrom<FieldType>("bool", "u8", "u16", "u32", "u16"),
	bounded: fc.boolean(),
	maxFrac: fc.double({ min: 0, max: 1, noNaN: true }),
	withInit: fc.boolean(),
	initFrac: fc.double({ min: 0, max: 1, noNaN: true }),
	small: fc.boolean(),
});

function makeField(key: string, f: FieldDraw): Field {
	const typeMax = FIELD_TYPES[f.type].max;
	const spec: Json = { type: f.type };
	let max = typeMax;
	if (f.type !== "bool" && f.bounded) {
		// small maxima make clamping stores and buffer-sizing fields likely
		const top = f.small ? Math.min(typeMax, 4096) : typeMax;
		max = 1 + Math.floor(f.maxFrac * (top - 1));
		spec.max = max;
	}
	if (f.withInit) spec.init = f.type === "bool" ? f.initFrac < 0.5 : Math.floor(f.initFrac * max);
	return { key, type: f.type, max, spec };
}

/** One value within 0..max (bools: true/false), biased to the edges. */
function valueArb(type: FieldType, max: number): fc.Arbitrary<Json> {
	if (type === "bool") return fc.boolean();
	return fc.oneof(fc.constantFrom(0, max, Math.min(1, max)), fc.integer({ min: 0, max }));
}

/**
 * A test of a number in 0..max (bools: true/false) in every form a rule may
 * write it: a value, a list, `{ not }`, `{ range }`, a bit test.
 */
function numericTestArb(type: FieldType, max: number): fc.Arbitrary<Json> {
	if (type === "bool") return fc.boolean();
	const v = valueArb(type, max) as fc.Arbitrary<number>;
	const bits = fc.integer({ min: 1, max });
	return fc.oneof(
		{ weight: 4, arbitrary: v },
		{ weight: 2, arbitrary: fc.uniqueArray(v, { minLength: 1, maxLength: 3 }) },
		{ weight: 1, arbitrary: fc.uniqueArray(v, { minLength: 1, maxLength: 2 }).map((not) => ({ not: not.length === 1 ? not[0]! : not })) },
		{ weight: 1, arbitrary: fc.tuple(v, v).map(([a, b]) => ({ range: [Math.min(a, b), Math.max(a, b)] })) },
		{ weight: 1, arbitrary: fc.tuple(bits, v).map(([mask, x]) => ({ mask, value: (x & mask) >>> 0 })) },
		{ weight: 1, arbitrary: fc.tuple(fc.constantFrom("allBits", "anyBits", "noBits"), bits).map(([k, b]) => ({ [k]: b })) },
	);
}

function listArb<T>(xs: readonly T[], maxLength = 3): fc.Arbitrary<T | T[]> {
	return fc.oneof(fc.constantFrom(...xs), fc.uniqueArray(fc.constantFrom(...xs), { minLength: 1, maxLength }));
}

interface Base {
	name: string;
	targets: readonly Target[];
	fields: Field[];
	stateKeys: string[];
	budgets: { key: string; maxRetries: number }[];
	messages: { key: string; text: string }[];
	/** A bytes context field among the numeric ones (no rule or command uses it): the C struct's layout with an array in it. */
	bytesField: { key: string; length: number; at: number } | null;
}

const baseArb: fc.Arbitrary<Base> = fc
	.record({
		name: fc.oneof(fc.constantFrom("fz", "probe", "scsi_check", "x"), fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/)),
		targets: fc.constantFrom(...TARGET_SETS),
		fieldKeys: fc.uniqueArray(identArb, { maxLength: 5 }),
		fieldDefs: fc.array(fieldArb, { minLength: 5, maxLength: 5 }),
		stateKeys: fc.uniqueArray(identArb, { minLength: 1, maxLength: 4 }),
		budgets: fc.uniqueArray(fc.record({ key: identArb, maxRetries: fc.oneof(fc.constantFrom(1, 100), fc.integer({ min: 1, max: 9 })) }), {
			maxLength: 3,
			selector: (b) => b.key,
		}),
		messages: fc.uniqueArray(fc.record({ key: identArb, text: fc.constantFrom(" reports path is odd", ": 100% sure, {braces} and %s", " is fine") }), {
			maxLength: 3,
			selector: (m) => m.key,
		}),
		bytesField: fc.option(fc.record({ length: fc.oneof(fc.constantFrom(1, 3, 16), fc.integer({ min: 1, max: 24 })), at: fc.nat(5) }), { freq: 3 }),
	})
	.map((b) => ({
		name: b.name,
		targets: b.targets,
		fields: b.fieldKeys.map((k, i) => makeField(k, b.fieldDefs[i])),
		stateKeys: b.stateKeys,
		budgets: b.budgets,
		messages: b.messages,
		bytesField: b.bytesField && !b.fieldKeys.includes("keptBytes") ? { key: "keptBytes", ...b.bytesField } : null,
	}));

/** The context fields, the bytes one (if drawn) among them at its place. */
function contextSpec(base: Base): [string, Json][] {
	const out: [string, Json][] = base.fields.map((f) => [f.key, f.spec]);
	const b = base.bytesField;
	if (b) out.splice(Math.min(b.at, out.length), 0, [b.key, { type: "bytes", length: b.length }]);
	return out;
}

const SENSE_CODE = fc.oneof(
	fc.constantFrom("04/0B", "04/0A", "29/*", "3F/03", "25/00", "00/00", "FF/FF"),
	fc.tuple(fc.integer({ min: 0, max: 255 }), fc.option(fc.integer({ min: 0, max: 255 }))).map(([a, q]) => {
		const h = (v: number) => v.toString(16).toUpperCase().padStart(2, "0");
		return `${h(a)}/${q === null ? "*" : h(q)}`;
	}),
);

interface DecoderUse {
	name: keyof typeof DECODERS;
}

/** Outcome fields provided by every one of the named outcomes. */
function commonFields(d: keyof typeof DECODERS, outcomes: readonly string[]): { key: string; type: FieldType; max: number }[] {
	const info = DECODERS[d].outcomes as Record<string, { fields: Record<string, { type: FieldType; max?: number }> }>;
	const [first, ...rest] = outcomes;
	return Object.entries(info[first].fields)
		.filter(([k]) => rest.every((o) => k in info[o].fields))
		.map(([key, f]) => ({ key, type: f.type, max: f.max ?? FIELD_TYPES[f.type].max }));
}

/** `set`: stores into context fields of constants, other fields or decoded data. */
function assignmentsArb(base: Base, decoded: { d: keyof typeof DECODERS; outcomes: string[] } | undefined): fc.Arbitrary<Json | undefined> {
	if (base.fields.length === 0) return fc.constant(undefined);
	const data = decoded ? commonFields(decoded.d, decoded.outcomes) : [];
	const one = (f: Field): fc.Arbitrary<Json> => {
		const sameKind = base.fields.filter((g) => (g.type === "bool") === (f.type === "bool"));
		const dataKind = data.filter((g) => (g.type === "bool") === (f.type === "bool"));
		return fc.oneof(
			{ weight: 3, arbitrary: valueArb(f.type, f.max) },
			{ weight: 1, arbitrary: fc.constantFrom(...sameKind).map((g) => ({ context: g.key })) },
			...(dataKind.length > 0 ? [{ weight: 2, arbitrary: fc.constantFrom(...dataKind).map((g) => ({ data: g.key })) }] : []),
		);
	};
	return fc.option(
		fc
			.subarray(base.fields, { minLength: 1, maxLength: Math.min(2, base.fields.length) })
			.chain((fs) => fc.tuple(...fs.map(one)).map((vs) => Object.fromEntries(fs.map((f, i) => [f.key, vs[i]])))),
		{ freq: 3 },
	).map((v) => v ?? undefined);
}

function finalArb(base: Base, i: number, decoded: { d: keyof typeof DECODERS; outcomes: string[] } | undefined): fc.Arbitrary<Json> {
	const v = vocabulary(base.targets);
	const messages = [...v.messages, ...base.messages.map((m) => m.key)];
	const report = fc
		.record({ report: fc.constantFrom(...v.pathStates), message: fc.constantFrom(...messages), set: assignmentsArb(base, decoded) })
		.map(({ set, ...r }) => (set === undefined ? r : { ...r, set }));
	const later = base.stateKeys.slice(i + 1);
	if (later.length === 0) return report;
	const goto = fc.record({ goto: fc.constantFrom(...later), set: assignmentsArb(base, decoded) }).map(({ set, ...r }) => (set === undefined ? r : { ...r, set }));
	return fc.oneof({ weight: 3, arbitrary: report }, { weight: 2, arbitrary: goto });
}

function outcomeArb(base: Base, i: number, decoded: { d: keyof typeof DECODERS; outcomes: string[] } | undefined, command: boolean): fc.Arbitrary<Json> {
	const final = finalArb(base, i, decoded);
	if (!command || base.budgets.length === 0) return final;
	const retry = fc
		.record({
			retry: fc.constantFrom(...base.budgets.map((b) => b.key)),
			goto: fc.option(fc.constantFrom(...base.stateKeys), { freq: 2 }),
			set: assignmentsArb(base, decoded),
			whenExhausted: fc.oneof(fc.constant("fallthrough"), final),
		})
		.map(({ goto, set, ...r }) => ({ ...r, ...(goto === null ? {} : { goto }), ...(set === undefined ? {} : { set }) }));
	return fc.oneof({ weight: 3, arbitrary: final }, { weight: 2, arbitrary: retry });
}

function contextFactArb(base: Base): fc.Arbitrary<Json | undefined> {
	if (base.fields.length === 0) return fc.constant(undefined);
	return fc.subarray(base.fields, { minLength: 1, maxLength: Math.min(2, base.fields.length) }).chain((fs) =>
		fc
			.tuple(...fs.map((f) => numericTestArb(f.type, f.max)))
			.map((vs) => Object.fromEntries(fs.map((f, i) => [f.key, vs[i]]))),
	);
}

/** A rule's `when` over the answer facts, the context and decoded data; and what its data facts establish. */
function whenArb(base: Base, decoder: DecoderUse | undefined): fc.Arbitrary<{ when: Json | undefined; decoded?: { d: keyof typeof DECODERS; outcomes: string[] } }> {
	const errno = fc.oneof(fc.constant("any"), listArb(Object.keys(ERRNO)));
	const answer = fc.record(
		{
			status: listArb(Object.keys(SCSI_STATUS)),
			sgInfo: fc.constantFrom("ok", "check"),
			hostStatus: fc.oneof(listArb(Object.keys(HOST_STATUS)), fc.uniqueArray(fc.constantFrom(...Object.keys(HOST_STATUS)), { minLength: 1, maxLength: 5 }).map((not) => ({ not }))),
			driverStatus: numericTestArb("u8", 0xff),
			sense: fc.oneof(
				fc.record({ key: listArb(Object.keys(SENSE_KEY)) }),
				fc.record({ code: fc.oneof(SENSE_CODE, fc.uniqueArray(SENSE_CODE, { minLength: 1, maxLength: 3 })) }),
				fc.record({ key: listArb(Object.keys(SENSE_KEY)), code: SENSE_CODE }),
			),
		},
		{ requiredKeys: [] },
	);
	const ctx = contextFactArb(base);
	const kinds: fc.Arbitrary<{ when: Json | undefined; decoded?: { d: keyof typeof DECODERS; outcomes: string[] } }>[] = [
		fc.record({ errno }).map((when) => ({ when })),
		fc.tuple(answer, fc.option(ctx, { freq: 3 })).map(([a, c]) => ({ when: c ? { ...a, context: c } : a })),
	];
	if (base.fields.length > 0) kinds.push(ctx.map((c) => ({ when: c === undefined ? undefined : { context: c } })));
	if (decoder) {
		const outcomes = Object.keys(DECODERS[decoder.name].outcomes);
		kinds.push(
			fc
				.uniqueArray(fc.constantFrom(...outcomes), { minLength: 1, maxLength: 2 })
				.chain((os) => {
					const fields = commonFields(decoder.name, os);
					const fieldFacts =
						fields.length === 0
							? fc.constant({})
							: fc.subarray(fields, { maxLength: Math.min(2, fields.length) }).chain((fs) => fc.tuple(...fs.map((f) => numericTestArb(f.type, f.max))).map((vs) => Object.fromEntries(fs.map((f, i) => [f.key, vs[i]]))));
					return fc.tuple(fieldFacts, fc.option(ctx, { freq: 4 })).map(([ff, c]) => {
						const data = { outcome: os.length === 1 ? os[0] : os, ...ff };
						return { when: c ? { data, context: c } : { data }, decoded: { d: decoder.name, outcomes: os } };
					});
				}),
		);
	}
	return fc.oneof(...kinds);
}

function rulesArb(base: Base, i: number, decoder: DecoderUse | undefined, command: boolean): fc.Arbitrary<Json[]> {
	const rule = (command ? whenArb(base, decoder) : contextFactArb(base).map((c) => ({ when: c === undefined ? undefined : { context: c }, decoded: undefined }))).chain(
		({ when, decoded }) => outcomeArb(base, i, decoded, command).map((then) => (when === undefined ? { then } : { when, then })),
	);
	// the last rule: no `when`; rarely a retry that falls through with nothing after it
	const last = outcomeArb(base, i, undefined, command).map((then) => ({ then }));
	return fc.tuple(fc.array(rule, { maxLength: 6 }), last).map(([rs, l]) => [...rs, l]);
}

/** A command, and the decoder it may feed. */
function commandArb(base: Base): fc.Arbitrary<{ state: Json; decoder?: DecoderUse }> {
	const bools = base.fields.filter((f) => f.type === "bool");
	const lengths = base.fields.filter((f) => (f.type === "u16" || f.type === "u32") && f.max <= 0x10000 && f.max >= 1);
	const u16s = base.fields.filter((f) => f.type === "u16");
	const numeric = base.fields.filter((f) => f.type !== "bool" && f.max >= 1);
	const options: fc.Arbitrary<{ state: Json; decoder?: DecoderUse }>[] = [
		fc.constant({ state: { command: testUnitReady() } }),
		fc.record({ page: fc.oneof(fc.constant(0x83), fc.integer({ min: 0, max: 255 })), len: fc.integer({ min: 1, max: 0xffff }) }).map(({ page, len }) => ({ state: { command: inquiryVpd(page, len) } })),
		fc
			.integer({ min: DECODERS.vpd83TargetPortGroup.minDataLength, max: 4096 })
			.map((len) => ({ state: { command: inquiryVpd(0x83, len), decoder: "vpd83TargetPortGroup" }, decoder: { name: "vpd83TargetPortGroup" as const } })),
		// a command of the spec's own: random CDB bytes, a byte chosen by a bool field
		fc
			.record({
				size: fc.constantFrom(6, 10, 12, 16),
				bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 16, maxLength: 16 }),
				direction: fc.constantFrom("none", "fromDevice", "toDevice"),
				len: fc.integer({ min: 1, max: 600 }),
				ctxByte: fc.option(fc.record({ at: fc.nat(), field: fc.nat(), ifSet: fc.integer({ min: 0, max: 255 }), ifClear: fc.integer({ min: 0, max: 255 }) })),
				alloc: fc.option(fc.record({ size: fc.constantFrom(1, 2, 4), at: fc.nat() })),
				ctxLength: fc.option(fc.nat()),
				numByte: fc.option(fc.record({ at: fc.nat(), field: fc.nat(), shift: fc.nat() })),
				payload: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 }),
			})
			.map((c) => {
				const cdb: Json[] = c.bytes.slice(0, c.size);
				// a vendor-specific opcode (groups 6 and 7) may have any CDB length
				cdb[0] = 0xc0 | c.bytes[0];
				if (c.ctxByte && bools.length > 0) {
					const b = c.ctxByte;
					const at = b.at % c.size;
					const op = at === 0 ? 0xc0 : 0;
					cdb[at] = { context: bools[b.field % bools.length].key, ifSet: b.ifSet | op, ifClear: b.ifClear | op };
				}
				if (c.numByte && numeric.length > 0 && c.size > 1) {
					const f = numeric[c.numByte.field % numeric.length];
					const shifts = [0, 8, 16, 24].filter((sh) => sh < { u8: 8, u16: 16, u32: 32 }[f.type as "u8"] && f.max >= 2 ** sh);
					cdb[1 + (c.numByte.at % (c.size - 1))] = { context: f.key, shift: shifts[c.numByte.shift % shifts.length] };
				}
				let dataLength: Json = c.direction === "none" ? 0 : c.len;
				if (c.direction !== "none" && c.ctxLength !== null && lengths.length > 0) dataLength = { context: lengths[c.ctxLength % lengths.length].key };
				const command: Json = { name: "VENDOR CHECK", cdb, direction: c.direction, dataLength };
				if (c.direction === "toDevice") {
					const set: Record<number, Json> = {};
					if (typeof dataLength === "number") for (const [k, v] of c.payload.entries()) set[(k * 7) % c.len] = v;
					command.payload = { from: "zeros", set };
				}
				const maxLen = typeof dataLength === "number" ? dataLength : lengths.find((f) => f.key === dataLength.context)!.max;
				if (c.alloc && c.direction !== "none" && maxLen < 2 ** (8 * c.alloc.size) && c.size - c.alloc.size >= 1) {
					command.allocationLength = { offset: 1 + (c.alloc.at % (c.size - c.alloc.size)), size: c.alloc.size };
				}
				return { state: { command } };
			}),
	];
	if (lengths.length > 0 || u16s.length > 0) {
		options.push(
			fc.record({ plain: fc.option(fc.nat()), len: fc.oneof(fc.integer({ min: 4, max: 4096 }), fc.nat().map((n) => (lengths.length > 0 ? -1 - n : 128))), decode: fc.boolean() }).map((r) => {
				const allocationLength = r.len >= 0 ? r.len : { context: lengths[(-1 - r.len) % lengths.length].key };
				const plainFormatWhen = r.plain !== null && bools.length > 0 ? bools[r.plain % bools.length].key : undefined;
				const command = reportTargetPortGroups({ plainFormatWhen, allocationLength });
				const maxLen = typeof allocationLength === "number" ? allocationLength : lengths.find((f) => f.key === allocationLength.context)!.max;
				if (!r.decode || u16s.length === 0 || maxLen < DECODERS.rtpgTargetPortGroup.minDataLength) return { state: { command } };
				return {
					state: { command, decoder: "rtpgTargetPortGroup", decoderInputs: { targetPortGroup: { context: u16s[r.len % u16s.length]?.key ?? u16s[0].key } } },
					decoder: { name: "rtpgTargetPortGroup" as const },
				};
			}),
		);
	}
	return fc.oneof(...options);
}

/** `store`: context fields set from a decoded outcome's fields (or constants). */
function storeArb(base: Base, d: keyof typeof DECODERS): fc.Arbitrary<Json | undefined> {
	if (base.fields.length === 0) return fc.constant(undefined);
	const outcomes = Object.keys(DECODERS[d].outcomes);
	return fc.option(
		fc.constantFrom(...outcomes).chain((o) => {
			const provided = commonFields(d, [o]);
			return fc.subarray(base.fields, { minLength: 1, maxLength: Math.min(2, base.fields.length) }).chain((fs) =>
				fc
					.tuple(
						...fs.map((f) => {
							const names = provided.filter((p) => (p.type === "bool") === (f.type === "bool")).map((p) => p.key);
							return names.length > 0 ? fc.oneof(fc.constantFrom(...names), valueArb(f.type, f.max)) : valueArb(f.type, f.max);
						}),
					)
					.map((vs) => ({ [o]: Object.fromEntries(fs.map((f, i) => [f.key, vs[i]])) })),
			);
		}),
		{ freq: 2 },
	).map((v) => v ?? undefined);
}

function stateArb(base: Base, i: number): fc.Arbitrary<Json> {
	const decision = rulesArb(base, i, undefined, false).map((decide) => ({ decide }));
	const command = commandArb(base).chain(({ state, decoder }) =>
		fc.tuple(rulesArb(base, i, decoder, true), decoder ? storeArb(base, decoder.name) : fc.constant(undefined)).map(([rules, store]) => ({
			...state,
			...(store === undefined ? {} : { store }),
			rules,
		})),
	);
	return fc.oneof({ weight: 3, arbitrary: command }, { weight: 1, arbitrary: decision });
}

/** A random checker spec value (as defineChecker returns it). */
export const specArb: fc.Arbitrary<Json> = baseArb.chain((base) =>
	fc.tuple(...base.stateKeys.map((_, i) => stateArb(base, i))).map((states) => ({
		kind: "checker",
		name: base.name,
		description: "a checker drawn by fast-check",
		copyright: "2026 The mpcheckgen authors",
		targets: [...base.targets],
		...(base.messages.length > 0 ? { messages: Object.fromEntries(base.messages.map((m) => [m.key, { text: m.text }])) } : {}),
		...(base.budgets.length > 0 ? { retryBudgets: Object.fromEntries(base.budgets.map((b) => [b.key, { maxRetries: b.maxRetries }])) } : {}),
		...(contextSpec(base).length > 0 ? { context: Object.fromEntries(contextSpec(base)) } : {}),
		initial: base.stateKeys[0],
		states: Object.fromEntries(base.stateKeys.map((k, i) => [k, states[i]])),
	})),
);

// ------------------------------------------------------------------ source text

/** The spec as the TypeScript source of a spec file (its value written out literally, so positions are known). */
export function specSource(spec: Json): string {
	const write = (v: Json, indent: string): string => {
		if (v === undefined) return "undefined";
		if (typeof v === "number") return Number.isNaN(v) ? "NaN" : v === Infinity ? "Infinity" : v === -Infinity ? "-Infinity" : String(v);
		if (typeof v === "string" || typeof v === "boolean" || v === null) return JSON.stringify(v);
		const inner = `${indent}\t`;
		if (Array.isArray(v)) return v.length === 0 ? "[]" : `[\n${v.map((x) => `${inner}${write(x, inner)},`).join("\n")}\n${indent}]`;
		const entries = Object.entries(v);
		if (entries.length === 0) return "{}";
		return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${write(x, inner)},`).join("\n")}\n${indent}}`;
	};
	const { kind: _kind, ...rest } = spec ?? {};
	return `import { defineChecker } from "mpcheckgen/spec";\n\nexport default defineChecker(${write(rest, "")});\n`;
}

// ------------------------------------------------------------------ repair

/**
 * Applies the fixes the model's messages ask for to a generated spec: drops
 * rules earlier ones shadow, declarations nothing uses, states nothing
 * reaches. Returns false when a message is none of those.
 */
export function repair(spec: Json, messages: readonly string[]): boolean {
	let fixed = true;
	const shadowed: [string, number][] = [];
	for (const msg of messages) {
		let m: RegExpExecArray | null;
		if ((m = /^rule (\d+) of state '(\w+)' can never match/.exec(msg))) shadowed.push([m[2], Number(m[1]) - 1]);
		else if ((m = /^message '(\w+)' is never reported/.exec(msg))) delete spec.messages[m[1]];
		else if ((m = /^retry budget '(\w+)' is never used/.exec(msg))) delete spec.retryBudgets[m[1]];
		else if ((m = /^context field '(\w+)' is never read or written/.exec(msg))) delete spec.context[m[1]];
		else if ((m = /^state '(\w+)' is unreachable/.exec(msg))) delete spec.states[m[1]];
		else if ((m = /^the last rule of state '(\w+)' must have no `when`/.exec(msg))) {
			const s = spec.states[m[1]];
			const rules = s.rules ?? s.decide;
			delete rules[rules.length - 1].when;
		}
		else fixed = false;
	}
	for (const [state, index] of shadowed.sort((a, b) => b[1] - a[1])) {
		const s = spec.states[state];
		(s.rules ?? s.decide).splice(index, 1);
	}
	for (const k of ["messages", "retryBudgets", "context"]) if (spec[k] && Object.keys(spec[k]).length === 0) delete spec[k];
	return fixed;
}

// ------------------------------------------------------------------ mutations

/** Every place in a value: the path to it. */
function places(v: Json, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
	out.push(path);
	if (Array.isArray(v)) v.forEach((x, i) => places(x, [...path, i], out));
	else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) places(x, [...path, k], out);
	return out;
}

const ODD_VALUES: Json[] = [undefined, null, 0, -1, 1, 2.5, NaN, Infinity, 255, 256, 65536, 1e9, "", "x", "PATH_UP", "UP", "fallthrough", "any", true, false, [], {}, [0], { context: "x" }, { data: "x" }, "04/0B", "ZZ/00"];

/** An odd value, a copy of its own (later mutations may change it). */
function odd(i: number): Json {
	return structuredClone(ODD_VALUES[i % ODD_VALUES.length]);
}

export interface Mutation {
	op: number;
	place: number;
	value: number;
}

export const mutationArb: fc.Arbitrary<Mutation[]> = fc.array(fc.record({ op: fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 6, 6, 6, 7), place: fc.nat(), value: fc.nat() }), { minLength: 1, maxLength: 3 });

/** The vocabulary tables a name may be swapped within (a mutation that often stays valid). */
const TABLES: readonly (readonly string[])[] = [
	Object.keys(ERRNO),
	Object.keys(HOST_STATUS),
	Object.keys(SCSI_STATUS),
	Object.keys(SENSE_KEY),
	[...new Set([...ABI_PROFILES["0.15"].checkerPathStates, ...ABI_PROFILES["0.9"].checkerPathStates])],
	[...new Set([...ABI_PROFILES["0.15"].genericMessages, ...ABI_PROFILES["0.9"].genericMessages].map(([n]) => n as string))],
	["bool", "u8", "u16", "u32"],
	["none", "fromDevice", "toDevice"],
];

/** Applies mutations to a copy of a spec; returns the copy and what was done. */
export function mutate(spec: Json, mutations: readonly Mutation[]): { spec: Json; done: string[] } {
	const copy = structuredClone(spec);
	const done: string[] = [];
	for (const mu of mutations) {
		const all = places(copy).filter((p) => p.length > 0 && p[0] !== "kind");
		if (all.length === 0) break;
		const path = all[mu.place % all.length];
		const parent = path.slice(0, -1).reduce((o: Json, k) => o[k], copy);
		const key = path[path.length - 1];
		const strings = places(copy)
			.map((p) => p.reduce((o: Json, k) => o?.[k], copy))
			.filter((x) => typeof x === "string");
		switch (mu.op) {
			case 0: {
				const v = mu.value % 3 === 0 && strings.length > 0 ? strings[mu.value % strings.length] : odd(mu.value);
				parent[key] = v;
				done.push(`${path.join(".")} = ${v === undefined ? "undefined" : JSON.stringify(v)}`);
				break;
			}
			case 1:
				if (Array.isArray(parent)) parent.splice(key as number, 1);
				else delete parent[key];
				done.push(`delete ${path.join(".")}`);
				break;
			case 2:
				if (Array.isArray(parent)) {
					parent.splice(key as number, 0, structuredClone(parent[key as number]));
					done.push(`duplicate ${path.join(".")}`);
				} else {
					const to = strings.length > 0 && mu.value % 2 === 0 ? String(strings[mu.value % strings.length]) : NAMES[mu.value % NAMES.length];
					const entries = Object.entries(parent).map(([k, x]) => [k === key ? to : k, x]);
					for (const k of Object.keys(parent)) delete parent[k];
					Object.assign(parent, Object.fromEntries(entries));
					done.push(`rename ${path.join(".")} to ${to}`);
				}
				break;
			case 3:
				if (Array.isArray(parent) && parent.length > 1) {
					const j = mu.value % parent.length;
					[parent[key as number], parent[j]] = [parent[j], parent[key as number]];
					done.push(`swap ${path.join(".")} with [${j}]`);
				} else {
					parent[key] = typeof parent[key] === "number" ? parent[key] + (mu.value % 2 === 0 ? 1 : -1) : odd(mu.value);
					done.push(`nudge ${path.join(".")}`);
				}
				break;
			case 4: {
				// a value moved from elsewhere in the spec
				const from = all[mu.value % all.length];
				const v = structuredClone(from.reduce((o: Json, k) => o?.[k], copy));
				parent[key] = v;
				done.push(`${path.join(".")} = the value of ${from.join(".")}`);
				break;
			}
			case 6: {
				// a name swapped for another of its table, or a number within a byte
				const v = parent[key];
				const table = TABLES.find((t) => t.includes(v));
				if (table) parent[key] = table[mu.value % table.length];
				else if (typeof v === "number") parent[key] = mu.value % 256;
				else parent[key] = odd(mu.value);
				done.push(`swap ${path.join(".")} for ${JSON.stringify(parent[key])}`);
				break;
			}
			default: {
				const v = parent[key];
				if (typeof v === "number") parent[key] = [v, -v, v * 2 + 1, v >>> 1, Number.MAX_SAFE_INTEGER][mu.value % 5];
				else if (typeof v === "string") parent[key] = [v.toUpperCase(), `${v}x`, v.slice(1), `${v}/`, ` ${v}`][mu.value % 5];
				else parent[key] = odd(mu.value);
				done.push(`twist ${path.join(".")}`);
			}
		}
	}
	return { spec: copy, done };
}
