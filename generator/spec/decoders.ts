// The decoder language: a decoder turns the bytes of one answer into one
// named outcome with typed fields, or into a named failure that says what
// was wrong with the bytes. A decoder is declared once, as data (steps over
// big-endian integer and bit fields at fixed offsets, length-prefixed
// structures, and a bounded walk over variable-length descriptors); the C
// (generator/lower/decoder.ts) and the interpreter (generator/interp/decode.ts)
// are both generated from that one declaration, and the simulated-SG_IO tests
// fuzz the two back ends against each other.
//
// Every read is of the bytes actually received: a read at offset o of size s
// is allowed only where a `need` (or `ifReceived`) before it, or the walk's
// descriptor header, guarantees o + s bytes; the model rejects any other
// read with a located error. Values are unsigned integers (never negative,
// no subtraction); comparisons and logic give 0 or 1. Bytes kept as they
// are (a WWN) are inputs and outcome fields of type bytes: `{ bytes, length }`
// reads them (proven received like any read) into a field, or compares them
// (eq, ne) with a bytes input; they are never a number.

export type FieldType = "bool" | "u8" | "u16" | "u32";

/** A decoder input or outcome field: a number, or `length` bytes kept as they are (e.g. a WWN). */
export type DecoderFieldSpec =
	| { readonly type: FieldType; readonly doc: string; readonly max?: number }
	| { readonly type: "bytes"; readonly length: number; readonly doc: string };

/** `length` bytes at offset `bytes` (relative as a read is), kept as they are: an outcome field of type bytes, or one side of eq/ne with a bytes input. */
export interface BytesRead {
	readonly bytes: number;
	readonly length: number;
}

/**
 * A value. Reads are relative to the buffer's start, or inside a walk to
 * the current descriptor's start.
 */
export type DecoderExpr<I extends string = string> =
	| number
	/** The bytes received (bounded by the allocation). */
	| "received"
	/** The allocation length: the buffer's size. */
	| "allocated"
	/** A big-endian integer of `size` bytes at `read` (default 1), then `(v >> shift) & mask`: an integer or a bit field. */
	| { readonly read: number; readonly size?: 1 | 2 | 4; readonly shift?: number; readonly mask?: number }
	/** A value bound before by `let` or `var`. */
	| { readonly ref: string }
	/** A decoder input (from the path's context). */
	| { readonly input: I }
	| { readonly add: readonly DecoderExpr<I>[] }
	| { readonly mul: readonly [DecoderExpr<I>, DecoderExpr<I>] }
	| { readonly min: readonly DecoderExpr<I>[] }
	| { readonly max: readonly DecoderExpr<I>[] }
	/** eq and ne also compare bytes: a BytesRead with a bytes input of the same length. */
	| { readonly eq: readonly [DecoderExpr<I>, DecoderExpr<I>] | readonly [BytesRead, { readonly input: I }] }
	| { readonly ne: readonly [DecoderExpr<I>, DecoderExpr<I>] | readonly [BytesRead, { readonly input: I }] }
	| { readonly lt: readonly [DecoderExpr<I>, DecoderExpr<I>] }
	| { readonly le: readonly [DecoderExpr<I>, DecoderExpr<I>] }
	| { readonly gt: readonly [DecoderExpr<I>, DecoderExpr<I>] }
	| { readonly ge: readonly [DecoderExpr<I>, DecoderExpr<I>] }
	| { readonly and: readonly DecoderExpr<I>[] }
	| { readonly or: readonly DecoderExpr<I>[] }
	| { readonly not: DecoderExpr<I> }
	/** A value set membership test. */
	| { readonly in: DecoderExpr<I>; readonly values: readonly number[] }
	| { readonly if: DecoderExpr<I>; readonly then: DecoderExpr<I>; readonly else: DecoderExpr<I> };

export interface DecoderOutcomeInfo {
	readonly doc: string;
	/** Fields this outcome provides (max: the largest value, if below the type's). */
	readonly fields: Readonly<Record<string, DecoderFieldSpec>>;
}

type OutcomeMap = Readonly<Record<string, DecoderOutcomeInfo>>;

/** Ends the decoder with an outcome; every field of the outcome gets a value. */
export type ReturnStep<O extends OutcomeMap, I extends string> = {
	[K in keyof O & string]: keyof O[K]["fields"] extends never
		? { readonly return: K; readonly fields?: Readonly<Record<string, never>> }
		: {
				readonly return: K;
				readonly fields: { readonly [F in keyof O[K]["fields"]]: O[K]["fields"][F]["type"] extends "bytes" ? BytesRead : DecoderExpr<I> };
			};
}[keyof O & string];

/** A bounded walk over a list of variable-length descriptors. */
export interface WalkSpec<O extends OutcomeMap, I extends string> {
	/** The offset of the first descriptor. */
	readonly from: DecoderExpr<I>;
	/** Where the list ends (the walk stops at the bytes received, if fewer). */
	readonly to: DecoderExpr<I>;
	/** The bytes every descriptor starts with: reads in `length` and `each` may use them. */
	readonly header: number;
	/** The whole descriptor's length (at least `header`, so the walk always moves on). */
	readonly length: DecoderExpr<I>;
	/** A descriptor whose header runs past the end: must `return` or `break`. */
	readonly headerPast: readonly DecoderStep<O, I>[];
	/** A descriptor whose body runs past the end: must `return` or `break` (absent: `each` runs on its header). */
	readonly bodyPast?: readonly DecoderStep<O, I>[];
	/** The steps for each descriptor; `{ find: … }`-style searches are a `when` with a `return`. */
	readonly each: readonly DecoderStep<O, I>[];
	/** After the walk, when the last descriptor's length took it past the end. */
	readonly overrun?: readonly DecoderStep<O, I>[];
}

export type DecoderStep<O extends OutcomeMap, I extends string> =
	/** Fewer than `need` bytes received (inside a walk: in the descriptor): the outcome. */
	| { readonly need: number; readonly else: keyof O & string }
	/** At least `ifReceived` bytes received: `then` (with those bytes readable), else `else`. */
	| { readonly ifReceived: number; readonly then: readonly DecoderStep<O, I>[]; readonly else?: readonly DecoderStep<O, I>[] }
	/** Binds a name to a value. */
	| { readonly let: string; readonly value: DecoderExpr<I> }
	/** A variable: `assign` changes it; its values stay within `max` (default: the init's). */
	| { readonly var: string; readonly init: DecoderExpr<I>; readonly max?: number }
	| { readonly assign: string; readonly value: DecoderExpr<I> }
	| { readonly when: DecoderExpr<I>; readonly then: readonly DecoderStep<O, I>[]; readonly else?: readonly DecoderStep<O, I>[] }
	| ReturnStep<O, I>
	/** Ends the walk. */
	| "break"
	| { readonly walk: WalkSpec<O, I> };

export interface DecoderInfo<O extends OutcomeMap = OutcomeMap, I extends string = string> {
	readonly kind: "decoder";
	/** The C name: decode_<cName>(), struct <cName>_data, <CNAME>_<OUTCOME>. */
	readonly cName: string;
	readonly doc: string;
	/** Values the decoder needs from the path's context (input name → type). */
	readonly inputs: Readonly<Record<I, DecoderFieldSpec>>;
	/**
	 * The shortest answer that can carry what the decoder finds: a command
	 * it decodes must allow at least this much data (a smaller buffer could
	 * only ever be too short, and gcc flags fixed offsets past it).
	 */
	readonly minDataLength: number;
	readonly outcomes: O;
	/** The algorithm; the last step must return. */
	readonly steps: readonly DecoderStep<O, I>[];
}

/** Declares a decoder; the types make an unknown outcome, field or input a compile error. */
export function defineDecoder<const O extends OutcomeMap, const I extends string = never>(d: {
	cName: string;
	doc: string;
	inputs?: { readonly [K in I]: DecoderFieldSpec };
	minDataLength: number;
	outcomes: O;
	steps: readonly DecoderStep<NoInfer<O>, NoInfer<I>>[];
}): DecoderInfo<O, I> {
	return { kind: "decoder", inputs: {} as Record<I, never>, ...d } as DecoderInfo<O, I>;
}

/** Designator types of VPD page 0x83 (low nibble of byte 1). */
const RELATIVE_TARGET_PORT = 4;
const TARGET_PORT_GROUP = 5;

/**
 * INQUIRY VPD page 0x83 (Device Identification): the first target port
 * group (designator type 5) and relative target port (type 4) designators.
 * A page cut short by the buffer ends the walk; a designator running past
 * a complete page is malformed.
 */
export const vpd83TargetPortGroup = defineDecoder({
	cName: "vpd83",
	doc: "INQUIRY VPD page 0x83: find the target port group and relative target port designators",
	/** the 4-byte page header and a target port group designator (4 + 4) */
	minDataLength: 12,
	outcomes: {
		found: {
			doc: "a target port group designator was found",
			fields: {
				targetPortGroup: { type: "u16", doc: "target port group id (designator type 5)" },
				relativeTargetPort: { type: "u16", doc: "relative target port id (designator type 4), 0 if absent" },
			},
		},
		noTargetPortGroup: { doc: "the page has no target port group designator", fields: {} },
		tooShort: { doc: "fewer than 4 bytes were transferred", fields: {} },
		wrongPageCode: { doc: "byte 1 is not 0x83", fields: {} },
		badDesignator: {
			doc: "a designator runs past the page, or a type 4/5 designator is shorter than 4 bytes",
			fields: {},
		},
		truncated: {
			doc: "the page is longer than the data transferred and no target port group designator was in the part received",
			fields: {},
		},
	},
	steps: [
		{ need: 4, else: "tooShort" },
		{ when: { ne: [{ read: 1 }, 0x83] }, then: [{ return: "wrongPageCode" }] },
		{ let: "pageEnd", value: { add: [4, { read: 2, size: 2 }] } },
		{ let: "truncated", value: { gt: [{ ref: "pageEnd" }, "received"] } },
		{ var: "tpg", init: 0, max: 0xffff },
		{ var: "haveTpg", init: 0, max: 1 },
		{ var: "rtp", init: 0, max: 0xffff },
		{ var: "haveRtp", init: 0, max: 1 },
		{
			walk: {
				from: 4,
				to: { ref: "pageEnd" },
				header: 4,
				length: { add: [4, { read: 3 }] },
				headerPast: [{ when: { ref: "truncated" }, then: ["break"], else: [{ return: "badDesignator" }] }],
				bodyPast: [{ when: { ref: "truncated" }, then: ["break"], else: [{ return: "badDesignator" }] }],
				each: [
					{ let: "type", value: { read: 1, mask: 0x0f } },
					{
						when: { in: { ref: "type" }, values: [RELATIVE_TARGET_PORT, TARGET_PORT_GROUP] },
						then: [
							/* both designators hold a 16-bit identifier at offset 6 */
							{ need: 8, else: "badDesignator" },
							{
								when: { and: [{ eq: [{ ref: "type" }, TARGET_PORT_GROUP] }, { not: { ref: "haveTpg" } }] },
								then: [
									{ assign: "tpg", value: { read: 6, size: 2 } },
									{ assign: "haveTpg", value: 1 },
								],
							},
							{
								when: { and: [{ eq: [{ ref: "type" }, RELATIVE_TARGET_PORT] }, { not: { ref: "haveRtp" } }] },
								then: [
									{ assign: "rtp", value: { read: 6, size: 2 } },
									{ assign: "haveRtp", value: 1 },
								],
							},
						],
					},
				],
			},
		},
		{
			when: { ref: "haveTpg" },
			then: [{ return: "found", fields: { targetPortGroup: { ref: "tpg" }, relativeTargetPort: { ref: "rtp" } } }],
		},
		{ when: { ref: "truncated" }, then: [{ return: "truncated" }] },
		{ return: "noTargetPortGroup" },
	],
});

/** The implicit transition time when the device reports none (scsi.md §6). */
export const DEFAULT_TRANSITION_TIME = 60;

/**
 * REPORT TARGET PORT GROUPS: the descriptor of the path's own target port
 * group. Descriptors start after the 4-byte header, or the 8-byte extended
 * one. The state is in a descriptor's 8-byte header, so the group is found
 * once that header fits, even if its port list is cut (LIO reports an
 * extended-format data length 4 bytes short); a port list running past the
 * data ends the walk.
 */
export const rtpgTargetPortGroup = defineDecoder({
	cName: "rtpg",
	doc: "REPORT TARGET PORT GROUPS: find the descriptor of the path's target port group",
	inputs: {
		targetPortGroup: { type: "u16", doc: "the id of the path's target port group" },
	},
	/** the 4-byte returned data length and one 8-byte descriptor (the plain format) */
	minDataLength: 12,
	outcomes: {
		found: {
			doc: "the group's descriptor was found",
			fields: {
				accessState: { type: "u8", max: 15, doc: "asymmetric access state (descriptor byte 0, bits 3-0)" },
				preferred: { type: "bool", doc: "PREF bit (descriptor byte 0, bit 7)" },
				transitionTime: {
					type: "u8",
					doc: "implicit transition time in seconds from the extended header; 60 when absent or 0",
				},
				extendedHeader: { type: "bool", doc: "the answer used the extended header format" },
			},
		},
		needsLargerBuffer: {
			doc: "the returned data length is larger than the allocation",
			fields: {
				requiredLength: { type: "u32", doc: "returned data length + 4" },
			},
		},
		groupMissing: { doc: "the list has no descriptor for the path's group", fields: {} },
		tooShort: { doc: "fewer than 4 bytes were transferred", fields: {} },
		badLength: {
			doc: "the returned data length is not a whole header plus descriptors (zero, or less than the header)",
			fields: {},
		},
		truncatedDescriptor: {
			doc: "a descriptor header runs past the data, or a port list does before the group is found",
			fields: {},
		},
	},
	steps: [
		{ need: 4, else: "tooShort" },
		{ let: "total", value: { add: [{ read: 0, size: 4 }, 4] } },
		{
			when: { gt: [{ ref: "total" }, "allocated"] },
			then: [{ return: "needsLargerBuffer", fields: { requiredLength: { min: [{ ref: "total" }, 0xffffffff] } } }],
		},
		{ var: "extended", init: 0, max: 1 },
		{ var: "transitionTime", init: DEFAULT_TRANSITION_TIME, max: 0xff },
		{
			ifReceived: 8,
			then: [
				{ assign: "extended", value: { eq: [{ read: 4, mask: 0x70 }, 0x10] } },
				{ when: { and: [{ ref: "extended" }, { ne: [{ read: 5 }, 0] }] }, then: [{ assign: "transitionTime", value: { read: 5 } }] },
			],
		},
		{ let: "first", value: { if: { ref: "extended" }, then: 8, else: 4 } },
		{ when: { le: [{ ref: "total" }, { ref: "first" }] }, then: [{ return: "badLength" }] },
		{
			walk: {
				from: { ref: "first" },
				to: { ref: "total" },
				header: 8,
				length: { add: [8, { mul: [4, { read: 7 }] }] },
				headerPast: [{ return: "truncatedDescriptor" }],
				each: [
					{
						when: { eq: [{ read: 2, size: 2 }, { input: "targetPortGroup" }] },
						then: [
							{
								return: "found",
								fields: {
									accessState: { read: 0, mask: 0x0f },
									preferred: { read: 0, shift: 7, mask: 1 },
									transitionTime: { ref: "transitionTime" },
									extendedHeader: { ref: "extended" },
								},
							},
						],
					},
				],
				overrun: [{ return: "truncatedDescriptor" }],
			},
		},
		{ return: "groupMissing" },
	],
});

/** The decoders of the SCSI library, by the name a state gives as `decoder`. */
export const DECODERS = { vpd83TargetPortGroup, rtpgTargetPortGroup } as const satisfies Record<string, AnyDecoder>;

/** A decoder's type: from the library, or a spec's own `decoders`. */
export interface AnyDecoder {
	readonly kind: "decoder";
	readonly cName: string;
	readonly doc: string;
	readonly inputs: Readonly<Record<string, DecoderFieldSpec>>;
	readonly minDataLength: number;
	readonly outcomes: OutcomeMap;
	readonly steps: readonly unknown[];
}
export type LibraryDecoders = typeof DECODERS;
export type DecoderName = keyof LibraryDecoders;

type Outcomes<D extends AnyDecoder> = D["outcomes"];
export type DecoderOutcomeName<D extends AnyDecoder> = keyof Outcomes<D> & string;
/** Fields of one outcome. */
export type OutcomeFieldName<D extends AnyDecoder, O extends DecoderOutcomeName<D>> = Outcomes<D>[O] extends {
	fields: infer F;
}
	? keyof F & string
	: never;
export type DecoderFieldName<D extends AnyDecoder> = {
	[O in DecoderOutcomeName<D>]: OutcomeFieldName<D, O>;
}[DecoderOutcomeName<D>];
export type DecoderInputName<D extends AnyDecoder> = keyof D["inputs"] & string;
