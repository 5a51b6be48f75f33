// SCSI commands a checker state sends, as data: the CDB bytes, the data
// direction and the data length. Byte formats from shared/reference/scsi.md §2.
import type { CdbSymbolName, DataDirection } from "./vocabulary.ts";

/** One CDB byte: a constant, or chosen by a boolean context field. */
export type CdbByteSpec<K extends string = string> =
	| number
	| {
			/** A `bool` context field. */
			context: K;
			/** The byte when the field is set. */
			ifSet: number;
			/** The byte when the field is clear. */
			ifClear: number;
			/** The CDB_SYMBOLS OR-ed together to make ifSet and ifClear, for readable C. */
			ifSetSymbols?: readonly CdbSymbolName[];
			ifClearSymbols?: readonly CdbSymbolName[];
	  };

/** A length: a constant, or the value of a numeric context field. */
export type LengthSpec<K extends string = string> = number | { context: K };

export interface CommandSpec<K extends string = string> {
	/** The command's name as SCSI documents it, e.g. "TEST UNIT READY". */
	name: string;
	cdb: readonly CdbByteSpec<K>[];
	direction: DataDirection;
	/** Data buffer length in bytes (0 for no data). */
	dataLength: LengthSpec<K>;
	/**
	 * Where the CDB carries the allocation length (big-endian); it is filled
	 * with the data length.
	 */
	allocationLength?: { offset: number; size: 1 | 2 | 4 };
	/** The CDB_SYMBOLS OR-ed together to make a constant byte, by byte index, for readable C. */
	symbols?: Readonly<Record<number, readonly CdbSymbolName[]>>;
}

/** TEST UNIT READY: 6-byte CDB, all zeros, no data. */
export function testUnitReady(): CommandSpec<never> {
	return {
		name: "TEST UNIT READY",
		cdb: [0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
		direction: "none",
		dataLength: 0,
		symbols: { 0: ["TEST_UNIT_READY"] },
	};
}

/** INQUIRY with EVPD = 1 for one VPD page; allocation length in bytes 3–4. */
export function inquiryVpd(page: number, allocationLength: number): CommandSpec<never> {
	return {
		name: `INQUIRY VPD 0x${page.toString(16).padStart(2, "0")}`,
		cdb: [0x12, 0x01, page, 0x00, 0x00, 0x00],
		direction: "fromDevice",
		dataLength: allocationLength,
		allocationLength: { offset: 3, size: 2 },
		symbols: page === 0x83 ? { 0: ["INQUIRY"], 1: ["INQUIRY_EVPD"], 2: ["VPD_DEVICE_IDENTIFICATION"] } : { 0: ["INQUIRY"], 1: ["INQUIRY_EVPD"] },
	};
}

/**
 * REPORT TARGET PORT GROUPS (MAINTENANCE IN 0xA3, service action 0x0A).
 * Byte 1 is 0x2A (parameter data format 001b: extended header) or 0x0A
 * (plain); allocation length in bytes 6–9.
 */
export function reportTargetPortGroups<const K extends string>(opts: {
	/** A bool context field; when set, the plain format is requested. */
	plainFormatWhen?: K;
	allocationLength: LengthSpec<K>;
}): CommandSpec<K> {
	const extended = ["MI_REPORT_TARGET_PGS", "MI_EXT_HDR_PARAM_FMT"] as const;
	const byte1: CdbByteSpec<K> =
		opts.plainFormatWhen === undefined
			? 0x2a
			: {
					context: opts.plainFormatWhen,
					ifSet: 0x0a,
					ifClear: 0x2a,
					ifSetSymbols: ["MI_REPORT_TARGET_PGS"],
					ifClearSymbols: extended,
				};
	return {
		name: "REPORT TARGET PORT GROUPS",
		cdb: [0xa3, byte1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
		direction: "fromDevice",
		dataLength: opts.allocationLength,
		allocationLength: { offset: 6, size: 4 },
		symbols: opts.plainFormatWhen === undefined ? { 0: ["MAINTENANCE_IN"], 1: extended } : { 0: ["MAINTENANCE_IN"] },
	};
}
