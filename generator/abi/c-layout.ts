// How the C compiler lays out the types a spec can name, on the targets
// multipath-tools runs on (LP64: x86_64, aarch64, ppc64le, s390x). The model
// checks the context against the ABI's size limit with it; the C itself is
// laid out by the compiler (sizeof), never by hand.
import type { ContextFieldType } from "../model/types.ts";

export const FIELD_TYPES: Readonly<Record<ContextFieldType, { size: number; max: number }>> = {
	bool: { size: 1, max: 1 },
	u8: { size: 1, max: 0xff },
	u16: { size: 2, max: 0xffff },
	u32: { size: 4, max: 0xffffffff },
};

/** sizeof a struct of these members, in order, each aligned to its size. */
export function structSize(types: readonly ContextFieldType[]): number {
	let offset = 0;
	let align = 1;
	for (const t of types) {
		const { size } = FIELD_TYPES[t];
		offset = Math.ceil(offset / size) * size + size;
		align = Math.max(align, size);
	}
	return Math.ceil(offset / align) * align;
}
