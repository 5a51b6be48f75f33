// How the C compiler lays out the types a spec can name, on the targets
// multipath-tools runs on (LP64: x86_64, aarch64, ppc64le, s390x). The model
// checks the context against the ABI's size limit with it; the C itself is
// laid out by the compiler (sizeof), never by hand.
import type { ContextFieldType, NumericFieldType } from "../model/types.ts";

export const FIELD_TYPES: Readonly<Record<NumericFieldType, { size: number; max: number }>> = {
	bool: { size: 1, max: 1 },
	u8: { size: 1, max: 0xff },
	u16: { size: 2, max: 0xffff },
	u32: { size: 4, max: 0xffffffff },
};

/** sizeof a struct of these members, in order, each aligned to its size (a bytes member: an array of `length` bytes, aligned to 1). */
export function structSize(members: readonly { readonly type: ContextFieldType; readonly length: number }[]): number {
	let offset = 0;
	let align = 1;
	for (const m of members) {
		const size = m.type === "bytes" ? 1 : FIELD_TYPES[m.type].size;
		const bytes = m.type === "bytes" ? m.length : size;
		offset = Math.ceil(offset / size) * size + bytes;
		align = Math.max(align, size);
	}
	return Math.ceil(offset / align) * align;
}
