// The readsector0 checker of multipath-tools: one READ(10) of the first
// block per check, classified as in shared/reference/checkers-behaviour.md
// §3 (upstream's sg_read() of libmultipath). Two deliberate differences:
// upstream retries an ioctl interrupted by a signal (EINTR) without bound,
// which can keep multipathd's checker loop forever in one check; here it is
// retried four times, then DOWN. And upstream sizes the READ from the fd's
// st_blksize (min(st_blksize, 4096) per block, 4096 bytes in all); a
// block device node reports 4096 there, so this spec sends what upstream
// then sends: one block from LBA 0 into a 4096-byte buffer.
import { defineChecker, read10 } from "../generator/spec/index.ts";

export default defineChecker({
	name: "readsector0",
	description: "checks a path by reading its first block with SCSI READ(10)",
	copyright: "2026 The mpcheckgen authors",
	targets: ["0.15", "0.9"],
	retryBudgets: {
		/** Upstream retries EINTR without bound; here 5 attempts in all. */
		interrupted: { maxRetries: 4 },
		/** UNIT ATTENTION: 3 attempts in all, as upstream. */
		unitAttention: { maxRetries: 2 },
	},
	initial: "readSector0",
	states: {
		readSector0: {
			/** Read the first block (LBA 0, one block) into a 4096-byte buffer. */
			command: read10({ lba: 0, blocks: 1, dataLength: 4096 }),
			rules: [
				/** The ioctl was interrupted by a signal: sent again. */
				{
					when: { errno: "EINTR" },
					then: { retry: "interrupted", whenExhausted: { report: "PATH_DOWN", message: "DOWN" } },
				},
				/**
				 * The kernel could not allocate the request: the path is
				 * not to blame.
				 */
				{ when: { errno: "ENOMEM" }, then: { report: "PATH_UP", message: "UP" } },
				/** Any other ioctl error. */
				{ when: { errno: "any" }, then: { report: "PATH_DOWN", message: "DOWN" } },
				/**
				 * SCSI status, host status and driver status all 0 (the
				 * kernel sets SG_INFO_CHECK when one of them is not).
				 */
				{
					when: { status: "GOOD", hostStatus: "DID_OK", sgInfo: "ok" },
					then: { report: "PATH_UP", message: "UP" },
				},
				/** UNIT ATTENTION is retried. */
				{
					when: { sense: { key: "UNIT_ATTENTION" } },
					then: { retry: "unitAttention", whenExhausted: { report: "PATH_DOWN", message: "DOWN" } },
				},
				/** Anything else: a medium error, not ready, a host error. */
				{ then: { report: "PATH_DOWN", message: "DOWN" } },
			],
		},
	},
});
