// The SCSI and SG_IO vocabulary a spec may name: host statuses, SCSI status
// codes, sense keys and errno values. Facts from shared/reference/scsi.md §1, §3.
// Each table is the single source of the name → value mapping for the
// spec types, the validator, the TS interpreter and the C emitters.

/** Host status (`DID_*`, libmultipath/sg_include.h). */
export const HOST_STATUS = {
	DID_OK: 0x00,
	DID_NO_CONNECT: 0x01,
	DID_BUS_BUSY: 0x02,
	DID_TIME_OUT: 0x03,
	DID_BAD_TARGET: 0x04,
	DID_ABORT: 0x05,
	DID_PARITY: 0x06,
	DID_ERROR: 0x07,
	DID_RESET: 0x08,
	DID_BAD_INTR: 0x09,
	DID_PASSTHROUGH: 0x0a,
	DID_SOFT_ERROR: 0x0b,
	DID_IMM_RETRY: 0x0c,
	DID_REQUEUE: 0x0d,
	DID_TRANSPORT_DISRUPTED: 0x0e,
	DID_TRANSPORT_FAILFAST: 0x0f,
	DID_TARGET_FAILURE: 0x10,
	DID_NEXUS_FAILURE: 0x11,
	DID_ALLOC_FAILURE: 0x12,
	DID_MEDIUM_ERROR: 0x13,
	DID_TRANSPORT_MARGINAL: 0x14,
} as const;
export type HostStatusName = keyof typeof HOST_STATUS;

/**
 * SCSI status byte values. A spec compares the status the way upstream does:
 * `(status & 0x7e) == value`.
 */
export const SCSI_STATUS = {
	GOOD: 0x00,
	CHECK_CONDITION: 0x02,
	CONDITION_MET: 0x04,
	BUSY: 0x08,
	RESERVATION_CONFLICT: 0x18,
	COMMAND_TERMINATED: 0x22,
	TASK_SET_FULL: 0x28,
	ACA_ACTIVE: 0x30,
	TASK_ABORTED: 0x40,
} as const;
export type ScsiStatusName = keyof typeof SCSI_STATUS;

/** Sense keys; the C names are the ones of glibc's <scsi/scsi.h>. */
export const SENSE_KEY = {
	NO_SENSE: 0x0,
	RECOVERED_ERROR: 0x1,
	NOT_READY: 0x2,
	MEDIUM_ERROR: 0x3,
	HARDWARE_ERROR: 0x4,
	ILLEGAL_REQUEST: 0x5,
	UNIT_ATTENTION: 0x6,
	DATA_PROTECT: 0x7,
	BLANK_CHECK: 0x8,
	COPY_ABORTED: 0xa,
	ABORTED_COMMAND: 0xb,
	VOLUME_OVERFLOW: 0xd,
	MISCOMPARE: 0xe,
} as const;
export type SenseKeyName = keyof typeof SENSE_KEY;

/** Linux errno values an SG_IO ioctl is known to fail with. */
export const ERRNO = {
	EPERM: 1,
	EINTR: 4,
	EIO: 5,
	ENXIO: 6,
	EBADF: 9,
	EAGAIN: 11,
	ENOMEM: 12,
	EACCES: 13,
	EFAULT: 14,
	EBUSY: 16,
	ENODEV: 19,
	EINVAL: 22,
	ENOTTY: 25,
	EOVERFLOW: 75,
	EREMOTEIO: 121,
} as const;
export type ErrnoName = keyof typeof ERRNO;

/** The largest errno value the model considers (Linux MAX_ERRNO). */
export const MAX_ERRNO = 4095;

/** SG_IO data directions (`dxfer_direction`). */
export const DXFER = {
	none: { value: -1, cName: "SG_DXFER_NONE" },
	toDevice: { value: -2, cName: "SG_DXFER_TO_DEV" },
	fromDevice: { value: -3, cName: "SG_DXFER_FROM_DEV" },
} as const;
export type DataDirection = keyof typeof DXFER;

/**
 * Named CDB constants (opcodes, flags, page codes), as the kernel's
 * scsi_proto.h and SPC name them; `header` where glibc's <scsi/scsi.h>
 * already defines the name. Command builders name the bytes they set.
 */
export const CDB_SYMBOLS = {
	TEST_UNIT_READY: { value: 0x00, header: "scsi/scsi.h", doc: "TEST UNIT READY" },
	INQUIRY: { value: 0x12, header: "scsi/scsi.h", doc: "INQUIRY" },
	INQUIRY_EVPD: { value: 0x01, doc: "INQUIRY byte 1: a VPD page is asked for" },
	VPD_DEVICE_IDENTIFICATION: { value: 0x83, doc: "VPD page 0x83: Device Identification" },
	MAINTENANCE_IN: { value: 0xa3, doc: "MAINTENANCE IN" },
	MI_REPORT_TARGET_PGS: { value: 0x0a, doc: "MAINTENANCE IN service action: REPORT TARGET PORT GROUPS" },
	MI_EXT_HDR_PARAM_FMT: { value: 0x20, doc: "REPORT TARGET PORT GROUPS byte 1: the extended header format" },
	READ_10: { value: 0x28, header: "scsi/scsi.h", doc: "READ(10)" },
	READ_16: { value: 0x88, doc: "READ(16)" },
	READ_CAPACITY: { value: 0x25, header: "scsi/scsi.h", doc: "READ CAPACITY(10)" },
	SERVICE_ACTION_IN_16: { value: 0x9e, doc: "SERVICE ACTION IN(16)" },
	SAI_READ_CAPACITY_16: { value: 0x10, doc: "SERVICE ACTION IN(16) service action: READ CAPACITY(16)" },
	MODE_SENSE_10: { value: 0x5a, header: "scsi/scsi.h", doc: "MODE SENSE(10)" },
	MODE_SELECT_10: { value: 0x55, header: "scsi/scsi.h", doc: "MODE SELECT(10)" },
} as const satisfies Record<string, { value: number; header?: string; doc: string }>;
export type CdbSymbolName = keyof typeof CDB_SYMBOLS;

/** The sense buffer size upstream checkers pass as `mx_sb_len`. */
export const SENSE_BUFFER_LENGTH = 32;

export function nameOf<T extends Record<string, number>>(table: T, value: number): keyof T | undefined {
	for (const [k, v] of Object.entries(table)) if (v === value) return k as keyof T;
	return undefined;
}
