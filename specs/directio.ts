// The directio checker of multipath-tools: a read of the path's first 4096
// bytes with O_DIRECT, classified as in shared/reference/
// checkers-behaviour.md §7. Upstream submits the read with Linux AIO and
// polls it; here the read runs on the runner framework's threads like
// every generated checker (for 0.15 and, through the ABI A glue, 0.9), so a
// read that hangs holds up no other path. Deliberate differences: a read
// that outlives the checker timeout is reported PATH_TIMEOUT by the
// framework (upstream cancels it and reports PATH_DOWN); the read is 4096
// bytes (upstream reads the device's soft block size from BLKBSZGET, at most
// 4096, falling back to 4096), a multiple of every logical block size, into
// a 4096-aligned buffer; O_DIRECT is set on the path's fd at the first check
// (upstream sets it at init and clears it again at free).
import { defineChecker, directRead } from "../generator/spec/index.ts";

export default defineChecker({
	name: "directio",
	description: "checks a path by reading its first 4096 bytes with O_DIRECT",
	copyright: "2026 The mpcheckgen authors",
	targets: ["0.15", "0.9"],
	messages: {
		/** The read could not be started: the path is not to blame. */
		notAvailable: { text: " is not available" },
	},
	initial: "read",
	states: {
		read: {
			/** Read 4096 bytes from offset 0, bypassing the page cache. */
			command: directRead({ length: 4096 }),
			rules: [
				/**
				 * Out of memory or resources: the read was never sent
				 * (upstream's io_submit failure).
				 */
				{ when: { errno: ["ENOMEM", "EAGAIN"] }, then: { report: "PATH_UNCHECKED", message: "notAvailable" } },
				/** The read failed (EIO from the device, ENXIO, ENODEV...). */
				{ when: { errno: "any" }, then: { report: "PATH_DOWN", message: "DOWN" } },
				/** Every byte was read. */
				{ when: { sgInfo: "ok" }, then: { report: "PATH_UP", message: "UP" } },
				/** A short read. */
				{ then: { report: "PATH_DOWN", message: "DOWN" } },
			],
		},
	},
});
