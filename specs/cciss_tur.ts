// The cciss_tur checker of multipath-tools: TEST UNIT READY through the
// cciss passthrough of HP Smart Array block devices, classified as in
// shared/reference/checkers-behaviour.md §2. The cciss transport sends it to
// the fd's logical volume (CCISS_GETLUNINFO for its LunID, volume id
// LunID & 0x3fffffff, logical addressing, simple task attribute, no data, no
// timeout). Deliberate differences: upstream also prints its errors to
// stderr (a daemon's stderr goes nowhere useful; the path state says it),
// and returns an invalid state for a missing fd (the framework reports that
// path as it does for every checker).
import { defineChecker, overCciss, testUnitReady } from "../generator/spec/index.ts";

export default defineChecker({
	name: "cciss_tur",
	description: "checks an HP Smart Array logical volume with TEST UNIT READY through the cciss passthrough",
	copyright: "2026 The mpcheckgen authors",
	targets: ["0.15", "0.9"],
	initial: "testUnitReady",
	states: {
		testUnitReady: {
			/** Send TEST UNIT READY to the fd's logical volume. */
			command: overCciss(testUnitReady()),
			rules: [
				/** CCISS_GETLUNINFO or CCISS_PASSTHRU failed (no retry). */
				{ when: { errno: "any" }, then: { report: "PATH_DOWN", message: "DOWN" } },
				/** The command status and the SCSI status are both 0. */
				{ when: { sgInfo: "ok" }, then: { report: "PATH_UP", message: "UP" } },
				/** Any other command status or SCSI status. */
				{ then: { report: "PATH_DOWN", message: "DOWN" } },
			],
		},
	},
});
