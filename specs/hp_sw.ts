// The hp_sw checker of multipath-tools (HP active/passive arrays), as
// shared/reference/checkers-behaviour.md §4 describes it: INQUIRY of VPD
// page 0x80 tells a path that answers from one that does not, then TEST
// UNIT READY tells the active controller's path (UP) from the passive one's
// (GHOST: the passive controller rejects TUR). No retries, as upstream.
//
// Upstream classifies the INQUIRY's sense with its simple sense-key rule
// (the key from byte 2, or byte 1 when bit 1 of byte 0 is set, once
// sb_len_wr > 2); this spec uses the project's sense decoding (fixed 0x70/
// 0x71 sense with sb_len_wr > 13, descriptor 0x72/0x73 with sb_len_wr > 3),
// so a sense buffer shorter than that, or with another response code, has
// no key here and the INQUIRY is DOWN where upstream could read RECOVERED
// ERROR or ILLEGAL REQUEST from it (native-tests/sim/hp_sw-reference.test.ts
// has the rows). The page's data is not decoded, upstream neither.
import { defineChecker, inquiryVpd, testUnitReady } from "../generator/spec/index.ts";

/** CHECK CONDITION or COMMAND TERMINATED, after the status is masked with 0x7e. */
const CHECK_STATUS = ["CHECK_CONDITION", "COMMAND_TERMINATED"] as const;
/** DRIVER_SENSE in the low nibble of the driver status. */
const DRIVER_SENSE = { mask: 0x0f, value: 0x08 } as const;

export default defineChecker({
	name: "hp_sw",
	description: "checks a path of an HP active/passive array with INQUIRY and TEST UNIT READY",
	copyright: "2026 The mpcheckgen authors",
	targets: ["0.15", "0.9"],
	initial: "inquiry",
	states: {
		inquiry: {
			/** The unit serial number page: does the path answer at all? */
			command: inquiryVpd(0x80, 255),
			rules: [
				/** SG_IO is not supported: not a SCSI device. */
				{ when: { errno: "ENOTTY" }, then: { report: "PATH_WILD", message: "UNSUPPORTED" } },
				{ when: { errno: "any" }, then: { report: "PATH_DOWN", message: "DOWN" } },
				/** No status, host or driver error. */
				{ when: { status: "GOOD", hostStatus: "DID_OK", driverStatus: 0 }, then: { goto: "testUnitReady" } },
				/** A recovered error counts as an answer. */
				{ when: { status: CHECK_STATUS, sense: { key: "RECOVERED_ERROR" } }, then: { goto: "testUnitReady" } },
				{ when: { driverStatus: DRIVER_SENSE, sense: { key: "RECOVERED_ERROR" } }, then: { goto: "testUnitReady" } },
				/** The device has no page 0x80: not an HP active/passive array. */
				{ when: { status: CHECK_STATUS, sense: { key: "ILLEGAL_REQUEST" } }, then: { report: "PATH_WILD", message: "UNSUPPORTED" } },
				{ when: { driverStatus: DRIVER_SENSE, sense: { key: "ILLEGAL_REQUEST" } }, then: { report: "PATH_WILD", message: "UNSUPPORTED" } },
				{ then: { report: "PATH_DOWN", message: "DOWN" } },
			],
		},
		testUnitReady: {
			/** The passive controller's path fails TUR: that is a ghost, not a failed path. */
			command: testUnitReady(),
			rules: [
				{ when: { errno: "any" }, then: { report: "PATH_GHOST", message: "GHOST" } },
				{ when: { sgInfo: "check" }, then: { report: "PATH_GHOST", message: "GHOST" } },
				{ then: { report: "PATH_UP", message: "UP" } },
			],
		},
	},
});
