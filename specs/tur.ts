// The TUR checker of multipath-tools 0.15: one TEST UNIT READY per check,
// classified as in shared/reference/checkers-behaviour.md §1.
import { defineChecker, testUnitReady } from "../generator/spec/index.ts";

export default defineChecker({
	name: "tur",
	description: "checks a path with SCSI TEST UNIT READY",
	copyright: "2026 The mpcheckgen authors",
	targets: ["0.15", "0.9"],
	messages: {
		/** The target port group is in an ALUA state transition. */
		transitioning: { text: " reports path is transitioning" },
	},
	retryBudgets: {
		/**
		 * Five attempts in total, shared by unexpected host statuses and
		 * UNIT ATTENTION; a retry re-issues the command at once.
		 */
		transient: { maxRetries: 4 },
	},
	initial: "testUnitReady",
	states: {
		testUnitReady: {
			/** Send TEST UNIT READY and classify the answer. */
			command: testUnitReady(),
			rules: [
				/** SG_IO is not supported: not a SCSI device. */
				{ when: { errno: "ENOTTY" }, then: { report: "PATH_WILD", message: "UNSUPPORTED" } },
				/** Any other ioctl error: no retry. */
				{ when: { errno: "any" }, then: { report: "PATH_DOWN", message: "DOWN" } },
				/** The device is reserved by another initiator, but it answers. */
				{
					when: { status: "RESERVATION_CONFLICT" },
					then: { report: "PATH_UP", message: "UP" },
				},
				/** No status, host or driver error. */
				{ when: { sgInfo: "ok" }, then: { report: "PATH_UP", message: "UP" } },
				/**
				 * A host status other than these is transient; once the
				 * budget is spent, the sense data decides.
				 */
				{
					when: {
						hostStatus: {
							not: [
								"DID_OK",
								"DID_NO_CONNECT",
								"DID_BAD_TARGET",
								"DID_ABORT",
								"DID_TRANSPORT_FAILFAST",
							],
						},
					},
					then: { retry: "transient", whenExhausted: "fallthrough" },
				},
				/** UNIT ATTENTION is retried. */
				{
					when: { sense: { key: "UNIT_ATTENTION" } },
					then: {
						retry: "transient",
						whenExhausted: { report: "PATH_DOWN", message: "DOWN" },
					},
				},
				/** The target port is in standby. */
				{
					when: { sense: { key: "NOT_READY", code: "04/0B" } },
					then: { report: "PATH_GHOST", message: "GHOST" },
				},
				/** Asymmetric access state transition. */
				{
					when: { sense: { key: "NOT_READY", code: "04/0A" } },
					then: { report: "PATH_PENDING", message: "transitioning" },
				},
				/** The LUN is no longer mapped at the target. */
				{
					when: { sense: { key: "ILLEGAL_REQUEST", code: "25/00" } },
					then: { report: "PATH_DISCONNECTED", message: "DISCONNECTED" },
				},
				/** Anything else, including 04/0C (unavailable) and no sense. */
				{ then: { report: "PATH_DOWN", message: "DOWN" } },
			],
		},
	},
});
