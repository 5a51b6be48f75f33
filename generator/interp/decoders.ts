// The TypeScript implementations of the decoders (spec/decoders.ts): the
// oracle side of the fuzz tests. They follow the byte formats of
// shared/reference/scsi.md §4–5 and never read past `transferred` bytes;
// the C implementations in templates/decoders/ are written separately.

export interface Decoded {
	outcome: string;
	fields: Record<string, number>;
}

type Decoder = (buf: Uint8Array, transferred: number, inputs: Record<string, number>) => Decoded;

const fail = (outcome: string): Decoded => ({ outcome, fields: {} });

const be16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const be32 = (b: Uint8Array, o: number) => ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];

/** Designator types of VPD page 0x83 (low nibble of byte 1). */
const RELATIVE_TARGET_PORT = 4;
const TARGET_PORT_GROUP = 5;

export const vpd83TargetPortGroup: Decoder = (buf, transferred) => {
	const len = Math.min(transferred, buf.length);
	if (len < 4) return fail("tooShort");
	if (buf[1] !== 0x83) return fail("wrongPageCode");
	const pageEnd = 4 + be16(buf, 2);
	const truncated = pageEnd > len;
	const end = Math.min(pageEnd, len);
	let tpg: number | undefined;
	let rtp: number | undefined;
	let off = 4;
	while (off < end) {
		if (off + 4 > end || off + 4 + buf[off + 3] > end) {
			if (truncated) break;
			return fail("badDesignator");
		}
		const n = buf[off + 3];
		const type = buf[off + 1] & 0x0f;
		if (type === RELATIVE_TARGET_PORT || type === TARGET_PORT_GROUP) {
			if (n < 4) return fail("badDesignator");
			if (type === TARGET_PORT_GROUP && tpg === undefined) tpg = be16(buf, off + 6);
			if (type === RELATIVE_TARGET_PORT && rtp === undefined) rtp = be16(buf, off + 6);
		}
		off += 4 + n;
	}
	if (tpg !== undefined) return { outcome: "found", fields: { targetPortGroup: tpg, relativeTargetPort: rtp ?? 0 } };
	return fail(truncated ? "truncated" : "noTargetPortGroup");
};

/** The default implicit transition time (scsi.md §6). */
export const DEFAULT_TRANSITION_TIME = 60;

export const rtpgTargetPortGroup: Decoder = (buf, transferred, inputs) => {
	const len = Math.min(transferred, buf.length);
	if (len < 4) return fail("tooShort");
	const returned = be32(buf, 0);
	const total = returned + 4;
	if (total > buf.length) return { outcome: "needsLargerBuffer", fields: { requiredLength: Math.min(total, 0xffffffff) } };
	const extended = len >= 8 && (buf[4] & 0x70) === 0x10;
	const first = extended ? 8 : 4;
	if (total <= first) return fail("badLength");
	const end = Math.min(total, len);
	const transitionTime = extended && buf[5] !== 0 ? buf[5] : DEFAULT_TRANSITION_TIME;
	// A descriptor's state is in its 8-byte header: the group is found as
	// soon as that header fits, even if its port list is cut (LIO's
	// extended-format data length is 4 bytes short). A port list that runs
	// past the data ends the walk.
	let off = first;
	while (off < end) {
		if (off + 8 > end) return fail("truncatedDescriptor");
		if (be16(buf, off + 2) === inputs.targetPortGroup) {
			return {
				outcome: "found",
				fields: {
					accessState: buf[off] & 0x0f,
					preferred: buf[off] >> 7,
					transitionTime,
					extendedHeader: extended ? 1 : 0,
				},
			};
		}
		off += 8 + 4 * buf[off + 7];
	}
	return fail(off > end ? "truncatedDescriptor" : "groupMissing");
};

const DECODER_IMPLS: Record<string, Decoder> = { vpd83TargetPortGroup, rtpgTargetPortGroup };

/**
 * Runs a decoder on the data buffer: `buf` is the whole buffer the command
 * used (its length is the allocation length), `transferred` how many bytes
 * the device sent.
 */
export function runDecoder(name: string, buf: Uint8Array, transferred: number, inputs: Record<string, number>): Decoded {
	const impl = DECODER_IMPLS[name];
	if (!impl) throw new Error(`no TypeScript implementation of decoder ${name}`);
	return impl(buf, transferred, inputs);
}
