// The decoders a checker state may apply to the data a command returned.
// A decoder turns the bytes of one answer into one named outcome with typed
// fields (or a named failure that says what was wrong with the bytes). Each
// decoder has two implementations written independently: C (the templates
// under templates/decoders/) and TypeScript (generator/interp/decoders.ts);
// the simulated-SG_IO tests fuzz the two against each other.

export type FieldType = "bool" | "u8" | "u16" | "u32";

export interface DecoderOutcomeInfo {
	doc: string;
	/** Fields this outcome provides (max: the largest value, if below the type's). */
	fields: Readonly<Record<string, { type: FieldType; doc: string; max?: number }>>;
}

export interface DecoderInfo {
	/** The C name: decode_<cName>(), struct <cName>_data, <CNAME>_<OUTCOME>. */
	cName: string;
	doc: string;
	/** Values the decoder needs from the path's context (input name → type). */
	inputs: Readonly<Record<string, { type: FieldType; doc: string }>>;
	/**
	 * The shortest answer that can carry what the decoder finds: a command
	 * it decodes must allow at least this much data (a smaller buffer could
	 * only ever be too short, and gcc flags the decoder's fixed offsets).
	 */
	minDataLength: number;
	outcomes: Readonly<Record<string, DecoderOutcomeInfo>>;
}

export const DECODERS = {
	/**
	 * INQUIRY VPD page 0x83 (Device Identification): the target port group
	 * (designator type 5) and relative target port (type 4) designators.
	 */
	vpd83TargetPortGroup: {
		cName: "vpd83",
		doc: "INQUIRY VPD page 0x83: find the target port group and relative target port designators",
		inputs: {},
		/** the 4-byte page header and a target port group designator (4 + 4) */
		minDataLength: 12,
		outcomes: {
			found: {
				doc: "a target port group designator was found",
				fields: {
					targetPortGroup: { type: "u16", doc: "target port group id (designator type 5)" },
					relativeTargetPort: {
						type: "u16",
						doc: "relative target port id (designator type 4), 0 if absent",
					},
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
	},
	/**
	 * REPORT TARGET PORT GROUPS: the descriptor of the path's own target
	 * port group.
	 */
	rtpgTargetPortGroup: {
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
	},
} as const satisfies Record<string, DecoderInfo>;

export type DecoderName = keyof typeof DECODERS;
type Outcomes<D extends DecoderName> = (typeof DECODERS)[D]["outcomes"];
export type DecoderOutcomeName<D extends DecoderName> = keyof Outcomes<D> & string;
/** Fields of one outcome. */
export type OutcomeFieldName<D extends DecoderName, O extends DecoderOutcomeName<D>> = Outcomes<D>[O] extends {
	fields: infer F;
}
	? keyof F & string
	: never;
export type DecoderFieldName<D extends DecoderName> = {
	[O in DecoderOutcomeName<D>]: OutcomeFieldName<D, O>;
}[DecoderOutcomeName<D>];
export type DecoderInputName<D extends DecoderName> = keyof (typeof DECODERS)[D]["inputs"] & string;
