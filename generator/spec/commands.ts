// SCSI commands a checker state sends, as data: the CDB bytes, the data
// direction and the data length. Byte formats from shared/reference/scsi.md §2.
import type { CdbSymbolName, DataDirection } from "./vocabulary.ts";

/** A byte of a numeric context field: `(field >> shift) & 0xff`. */
export interface ContextByteSpec<K extends string = string> {
	/** A u8, u16 or u32 context field. */
	context: K;
	/** Which byte of the field: 0 (the least significant), 8, 16 or 24. */
	shift: 0 | 8 | 16 | 24;
}

/**
 * One CDB byte: a constant, chosen by a boolean context field, or a byte of
 * a numeric context field.
 */
export type CdbByteSpec<K extends string = string> =
	| number
	| ContextByteSpec<K>
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
	/** The data a "toDevice" command sends (required for it, refused for the others). */
	payload?: PayloadSpec<K>;
	/** How the command reaches the device (default "sgio"). */
	transport?: Transport;
	/** "directRead": the byte offset read from (a multiple of 4096). */
	offset?: number;
}

/**
 * How a state's command reaches the device: SCSI generic (the SG_IO ioctl),
 * the cciss passthrough of HP Smart Array block devices (CCISS_GETLUNINFO,
 * then CCISS_PASSTHRU to the logical volume), or a read of the block device
 * itself with O_DIRECT (no CDB: `dataLength` bytes from `offset`, into an
 * aligned buffer).
 *
 * The answer's facts are the same for every transport where it has them:
 * `errno` is the failed ioctl's or read's; over cciss `status` is the SCSI
 * status, and `sgInfo` is "check" when the command status or the SCSI
 * status is not 0 (no host status or sense: rules may not test them); over
 * an O_DIRECT read, `sgInfo` is "ok" when every byte asked for was read,
 * "check" for a short read (no SCSI status, host status or sense).
 */
export type Transport = "sgio" | "cciss" | "directRead";

/**
 * One byte of a data-out payload: a constant, a byte of a numeric context
 * field, or (on data read earlier) the byte already there, masked with
 * `and` and then or-ed with `or`.
 */
export type PayloadByteSpec<K extends string = string> = number | ContextByteSpec<K> | { and?: number; or?: number };

/**
 * The data a command sends to the device, `dataLength` bytes. The checker
 * has one data buffer for every command of a check: "dataReadEarlier"
 * starts from what the command before this one read into it (every way
 * into the state must come from a command that reads at least as many
 * bytes); "zeros" from zeros; "dataReadIn" from what the command of
 * `state` read last (that state keeps its data in a buffer of its own;
 * every way into this state must pass through it, and it must read at
 * least as many bytes). `set` overrides bytes by offset.
 */
export interface PayloadSpec<K extends string = string> {
	from: "zeros" | "dataReadEarlier" | "dataReadIn";
	/** "dataReadIn": the state whose data is sent. */
	state?: string;
	set?: Readonly<Record<number, PayloadByteSpec<K>>>;
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
}): CommandSpec<NoInfer<K>> {
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

/** A logical block address: a constant, or a u32 context field. */
export type LbaSpec<K extends string = string> = number | { context: K };

/** The CDB bytes of a big-endian number `size` bytes long, from a constant or a context field (its low 4 bytes). */
function bigEndian<K extends string>(v: number | { context: K }, size: number, what: string): CdbByteSpec<K>[] {
	const out: CdbByteSpec<K>[] = [];
	for (let i = size - 1; i >= 0; i--) {
		if (typeof v === "number") {
			if (!Number.isInteger(v) || v < 0 || v >= 2 ** (8 * Math.min(size, 6))) throw new RangeError(`${what} ${v} does not fit in ${size} bytes`);
			out.push(Math.floor(v / 2 ** (8 * i)) % 256);
		} else out.push(i < 4 ? { context: v.context, shift: (8 * i) as 0 | 8 | 16 | 24 } : 0);
	}
	return out;
}

/**
 * READ(10) (0x28): `blocks` logical blocks from `lba`, read into a buffer of
 * `dataLength` bytes (blocks × the device's block size; a larger buffer is
 * allowed, the residual says how much came).
 */
export function read10<const K extends string = never>(opts: {
	lba?: LbaSpec<K>;
	/** The transfer length in logical blocks (CDB bytes 7–8). */
	blocks: number | { context: K };
	dataLength: LengthSpec<K>;
}): CommandSpec<NoInfer<K>> {
	return {
		name: "READ(10)",
		cdb: [0x28, 0x00, ...bigEndian(opts.lba ?? 0, 4, "LBA"), 0x00, ...bigEndian(opts.blocks, 2, "transfer length"), 0x00],
		direction: "fromDevice",
		dataLength: opts.dataLength,
		symbols: { 0: ["READ_10"] },
	};
}

/** READ(16) (0x88): as read10, with an 8-byte LBA (bytes 2–9) and a 4-byte transfer length (bytes 10–13). */
export function read16<const K extends string = never>(opts: {
	lba?: LbaSpec<K>;
	blocks: number | { context: K };
	dataLength: LengthSpec<K>;
}): CommandSpec<NoInfer<K>> {
	return {
		name: "READ(16)",
		cdb: [0x88, 0x00, ...bigEndian(opts.lba ?? 0, 8, "LBA"), ...bigEndian(opts.blocks, 4, "transfer length"), 0x00, 0x00],
		direction: "fromDevice",
		dataLength: opts.dataLength,
		symbols: { 0: ["READ_16"] },
	};
}

/** READ CAPACITY(10) (0x25): 8 bytes of data (the last LBA and the block length, big-endian). */
export function readCapacity10(): CommandSpec<never> {
	return {
		name: "READ CAPACITY(10)",
		cdb: [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0],
		direction: "fromDevice",
		dataLength: 8,
		symbols: { 0: ["READ_CAPACITY"] },
	};
}

/**
 * READ CAPACITY(16) (SERVICE ACTION IN(16) 0x9E, service action 0x10):
 * allocation length in bytes 10–13 (default 32 bytes of data).
 */
export function readCapacity16<const K extends string = never>(opts: { allocationLength?: LengthSpec<K> } = {}): CommandSpec<NoInfer<K>> {
	return {
		name: "READ CAPACITY(16)",
		cdb: [0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
		direction: "fromDevice",
		dataLength: opts.allocationLength ?? 32,
		allocationLength: { offset: 10, size: 4 },
		symbols: { 0: ["SERVICE_ACTION_IN_16"], 1: ["SAI_READ_CAPACITY_16"] },
	};
}

/** Standard INQUIRY (EVPD = 0); allocation length in bytes 3–4. */
export function inquiry<const K extends string = never>(opts: { allocationLength: LengthSpec<K> }): CommandSpec<NoInfer<K>> {
	return {
		name: "INQUIRY",
		cdb: [0x12, 0x00, 0x00, 0x00, 0x00, 0x00],
		direction: "fromDevice",
		dataLength: opts.allocationLength,
		allocationLength: { offset: 3, size: 2 },
		symbols: { 0: ["INQUIRY"] },
	};
}

/** The page control field of MODE SENSE: which values of the page are returned. */
export type PageControl = "current" | "changeable" | "default" | "saved";
const PAGE_CONTROL: Record<PageControl, number> = { current: 0, changeable: 1, default: 2, saved: 3 };

/**
 * MODE SENSE(10) (0x5A): one mode page; byte 1 has DBD (no block
 * descriptors, default set), byte 2 the page control and page code, byte 3
 * the subpage; allocation length in bytes 7–8.
 */
export function modeSense10<const K extends string = never>(opts: {
	page: number;
	subpage?: number;
	pageControl?: PageControl;
	/** Disable block descriptors (default true). */
	dbd?: boolean;
	allocationLength: LengthSpec<K>;
}): CommandSpec<NoInfer<K>> {
	if (!Number.isInteger(opts.page) || opts.page < 0 || opts.page > 0x3f) throw new RangeError(`mode page ${opts.page} is not 0..0x3f`);
	return {
		name: `MODE SENSE(10) page 0x${opts.page.toString(16).padStart(2, "0")}`,
		cdb: [0x5a, opts.dbd === false ? 0x00 : 0x08, (PAGE_CONTROL[opts.pageControl ?? "current"] << 6) | opts.page, opts.subpage ?? 0, 0, 0, 0, 0, 0, 0],
		direction: "fromDevice",
		dataLength: opts.allocationLength,
		allocationLength: { offset: 7, size: 2 },
		symbols: { 0: ["MODE_SENSE_10"] },
	};
}

/**
 * MODE SELECT(10) (0x55): sends a parameter list of `length` bytes (the
 * mode parameter header and the pages), given by the payload; byte 1 has PF
 * (page format, default set) and SP (save pages); parameter list length in
 * bytes 7–8.
 */
export function modeSelect10<const K extends string = never>(opts: {
	length: LengthSpec<K>;
	payload: PayloadSpec<K>;
	pageFormat?: boolean;
	savePages?: boolean;
}): CommandSpec<NoInfer<K>> {
	return {
		name: "MODE SELECT(10)",
		cdb: [0x55, (opts.pageFormat === false ? 0 : 0x10) | (opts.savePages ? 0x01 : 0), 0, 0, 0, 0, 0, 0, 0, 0],
		direction: "toDevice",
		dataLength: opts.length,
		allocationLength: { offset: 7, size: 2 },
		symbols: { 0: ["MODE_SELECT_10"] },
		payload: opts.payload,
	};
}

/** The same command, sent through the cciss passthrough to the fd's logical volume (no timeout, as upstream's cciss_tur). */
export function overCciss<const K extends string = never>(cmd: CommandSpec<K>): CommandSpec<NoInfer<K>> {
	return { ...cmd, transport: "cciss" };
}

/**
 * A read of the block device with O_DIRECT (set on the path's fd if it is
 * not): `length` bytes (a multiple of 4096, the largest logical block size)
 * from `offset` (default 0) into a buffer aligned to 4096 bytes.
 */
export function directRead(opts: { length: number; offset?: number }): CommandSpec<never> {
	return {
		name: "O_DIRECT read",
		cdb: [],
		direction: "fromDevice",
		dataLength: opts.length,
		transport: "directRead",
		offset: opts.offset ?? 0,
	};
}
