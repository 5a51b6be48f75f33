// The ALUA checker: reports the asymmetric access state of the path's own
// target port group, read with REPORT TARGET PORT GROUPS. Upstream has no
// such checker (a proposal of March 2026 was not merged); ALUA state reaches
// multipathd 0.15 only through TUR sense codes and the prioritizer.
// Byte formats: shared/reference/scsi.md §4–5; kernel behaviour worth
// matching: §6 (extended header first, plain format on ILLEGAL REQUEST,
// re-issue when the data is longer than the buffer).
import { defineChecker, inquiryVpd, reportTargetPortGroups } from "../generator/spec/index.ts";

/** Host statuses a retry does not help: everything else is transient (as tur). */
const FINAL_HOST_STATUS = ["DID_OK", "DID_NO_CONNECT", "DID_BAD_TARGET", "DID_ABORT", "DID_TRANSPORT_FAILFAST"] as const;

/** How both commands treat ioctl errors and host statuses, as tur does. */
const TRANSPORT_RULES = [
	{ when: { errno: "ENOTTY" }, then: { report: "PATH_WILD", message: "UNSUPPORTED" } },
	{ when: { errno: "any" }, then: { report: "PATH_DOWN", message: "DOWN" } },
	{ when: { hostStatus: { not: FINAL_HOST_STATUS } }, then: { retry: "transient", whenExhausted: "fallthrough" } },
] as const;

export default defineChecker({
	name: "alua",
	description: "checks a path by the ALUA access state of its target port group",
	copyright: "2026 The mpcheckgen authors",
	targets: ["0.15", "0.9"],
	messages: {
		activeOptimized: { text: " reports path is active/optimized" },
		nonOptimized: { text: " reports path is active/non-optimized" },
		lbaDependent: { text: " reports path is LBA dependent" },
		standby: { text: " reports path is standby" },
		unavailable: { text: " reports path is unavailable" },
		offline: { text: " reports path is offline" },
		transitioning: { text: " reports path is transitioning" },
		unknownState: { text: " reports path is down: unknown asymmetric access state" },
		/** The device is not ALUA-capable. */
		noTargetPortGroup: { text: " doesn't support this device: it does not report a target port group" },
		noVpd83: { text: " doesn't support this device: it has no VPD page 0x83" },
		vpdTooShort: { text: " reports path is down: VPD page 0x83 shorter than its header" },
		vpdWrongPage: { text: " reports path is down: INQUIRY returned another page than 0x83" },
		vpdBadDesignator: { text: " reports path is down: malformed designator in VPD page 0x83" },
		vpdTruncated: { text: " reports path is down: VPD page 0x83 truncated before a target port group" },
		rtpgRejected: { text: " reports path is down: REPORT TARGET PORT GROUPS rejected" },
		rtpgTooShort: { text: " reports path is down: RTPG data shorter than its header" },
		rtpgBadLength: { text: " reports path is down: RTPG returned data length invalid" },
		rtpgTruncated: { text: " reports path is down: RTPG descriptor runs past the data" },
		rtpgTooLong: { text: " reports path is down: RTPG data longer than the largest buffer" },
		groupMissing: { text: " reports path is down: its target port group is not reported" },
	},
	retryBudgets: {
		/** Transient host statuses and other unit attentions: 5 attempts, as tur. */
		transient: { maxRetries: 4 },
		/** Unit attentions that may change the port group assignment: VPD 0x83 is read again. */
		reread: { maxRetries: 3 },
		/** The device rejected the extended header: one retry in the plain format. */
		plainFormat: { maxRetries: 1 },
		/** The RTPG data is longer than the buffer: re-issued with a larger allocation. */
		resize: { maxRetries: 2 },
		/** The path's group is missing from the list: VPD 0x83 is read again once. */
		groupReread: { maxRetries: 1 },
	},
	context: {
		/** The target port group below is valid (VPD 0x83 has been read). */
		tpgKnown: { type: "bool" },
		/** The path's target port group, from VPD 0x83 (designator type 5). */
		targetPortGroup: { type: "u16" },
		/** The path's relative target port, from VPD 0x83 (type 4), for a prioritizer. */
		relativeTargetPort: { type: "u16" },
		/** The device rejected the extended header: RTPG asks for the plain format. */
		rtpgPlain: { type: "bool" },
		/** The RTPG allocation length; grows when the data is longer (as the kernel's). */
		rtpgLength: { type: "u32", init: 128, max: 16384 },
		/** The last asymmetric access state, for a prioritizer. */
		accessState: { type: "u8", max: 15 },
		/** The PREF bit of the path's group, for a prioritizer. */
		preferred: { type: "bool" },
		/** The implicit transition time in seconds (60 when not reported). */
		transitionTime: { type: "u8", init: 60 },
	},
	initial: "start",
	states: {
		start: {
			/** The port group is read from VPD 0x83 once per path, and again when it may have changed. */
			decide: [{ when: { context: { tpgKnown: true } }, then: { goto: "reportTargetPortGroups" } }, { then: { goto: "readVpd83" } }],
		},
		readVpd83: {
			/** Find the path's target port group. */
			command: inquiryVpd(0x83, 2048),
			decoder: "vpd83TargetPortGroup",
			store: {
				found: { targetPortGroup: "targetPortGroup", relativeTargetPort: "relativeTargetPort", tpgKnown: true },
			},
			rules: [
				...TRANSPORT_RULES,
				{
					when: { sense: { key: "UNIT_ATTENTION" } },
					then: { retry: "transient", whenExhausted: { report: "PATH_DOWN", message: "DOWN" } },
				},
				{ when: { sense: { key: "NOT_READY", code: "04/0A" } }, then: { report: "PATH_PENDING", message: "transitioning" } },
				/**
				 * No VPD page 0x83 on a path never read: not an ALUA device.
				 * A path whose group is known (a re-read) falls through to
				 * PATH_DOWN: LIO's offline state rejects every command.
				 */
				{
					when: { sense: { key: "ILLEGAL_REQUEST" }, context: { tpgKnown: false } },
					then: { report: "PATH_WILD", message: "noVpd83" },
				},
				{ when: { data: { outcome: "found" } }, then: { goto: "reportTargetPortGroups" } },
				{ when: { data: { outcome: "noTargetPortGroup" } }, then: { report: "PATH_WILD", message: "noTargetPortGroup" } },
				{ when: { data: { outcome: "tooShort" } }, then: { report: "PATH_DOWN", message: "vpdTooShort" } },
				{ when: { data: { outcome: "wrongPageCode" } }, then: { report: "PATH_DOWN", message: "vpdWrongPage" } },
				{ when: { data: { outcome: "badDesignator" } }, then: { report: "PATH_DOWN", message: "vpdBadDesignator" } },
				{ when: { data: { outcome: "truncated" } }, then: { report: "PATH_DOWN", message: "vpdTruncated" } },
				{ then: { report: "PATH_DOWN", message: "DOWN" } },
			],
		},
		reportTargetPortGroups: {
			/** Read the access state of the path's group; extended header first. */
			command: reportTargetPortGroups({ plainFormatWhen: "rtpgPlain", allocationLength: { context: "rtpgLength" } }),
			decoder: "rtpgTargetPortGroup",
			decoderInputs: { targetPortGroup: { context: "targetPortGroup" } },
			store: {
				found: { accessState: "accessState", preferred: "preferred", transitionTime: "transitionTime" },
			},
			rules: [
				...TRANSPORT_RULES,
				/**
				 * Access state changed (2A/06), implicit transition failed
				 * (2A/07), reset (29/xx), inquiry data changed (3F/03: LIO
				 * moved the LUN to another group), LUNs changed (3F/0E): the
				 * group assignment may have changed too.
				 */
				{
					when: { sense: { key: "UNIT_ATTENTION", code: ["2A/06", "2A/07", "29/*", "3F/03", "3F/0E"] } },
					then: {
						retry: "reread",
						goto: "readVpd83",
						whenExhausted: { report: "PATH_DOWN", message: "DOWN" },
					},
				},
				{
					when: { sense: { key: "UNIT_ATTENTION" } },
					then: { retry: "transient", whenExhausted: { report: "PATH_DOWN", message: "DOWN" } },
				},
				/** The RTPG itself says the group is in transition. */
				{ when: { sense: { key: "NOT_READY", code: "04/0A" } }, then: { report: "PATH_PENDING", message: "transitioning" } },
				/** The extended header is rejected: ask for the plain format, and remember it. */
				{
					when: { sense: { key: "ILLEGAL_REQUEST" }, context: { rtpgPlain: false } },
					then: { retry: "plainFormat", set: { rtpgPlain: true }, whenExhausted: "fallthrough" },
				},
				/** The plain format is rejected too: try the extended one again next time. */
				{
					when: { sense: { key: "ILLEGAL_REQUEST" } },
					then: { report: "PATH_DOWN", message: "rtpgRejected", set: { rtpgPlain: false } },
				},
				{ when: { data: { outcome: "found", accessState: 0x0 } }, then: { report: "PATH_UP", message: "activeOptimized" } },
				{ when: { data: { outcome: "found", accessState: 0x1 } }, then: { report: "PATH_UP", message: "nonOptimized" } },
				{ when: { data: { outcome: "found", accessState: 0x4 } }, then: { report: "PATH_UP", message: "lbaDependent" } },
				{ when: { data: { outcome: "found", accessState: 0x2 } }, then: { report: "PATH_GHOST", message: "standby" } },
				{ when: { data: { outcome: "found", accessState: 0x3 } }, then: { report: "PATH_DOWN", message: "unavailable" } },
				{ when: { data: { outcome: "found", accessState: 0xe } }, then: { report: "PATH_DOWN", message: "offline" } },
				{ when: { data: { outcome: "found", accessState: 0xf } }, then: { report: "PATH_PENDING", message: "transitioning" } },
				/** States 0x5–0xD are reserved. */
				{ when: { data: { outcome: "found" } }, then: { report: "PATH_DOWN", message: "unknownState" } },
				{
					when: { data: { outcome: "needsLargerBuffer" } },
					then: {
						retry: "resize",
						set: { rtpgLength: { data: "requiredLength" } },
						whenExhausted: { report: "PATH_DOWN", message: "rtpgTooLong" },
					},
				},
				{
					when: { data: { outcome: "groupMissing" } },
					then: {
						retry: "groupReread",
						goto: "readVpd83",
						whenExhausted: { report: "PATH_DOWN", message: "groupMissing" },
					},
				},
				{ when: { data: { outcome: "tooShort" } }, then: { report: "PATH_DOWN", message: "rtpgTooShort" } },
				{ when: { data: { outcome: "badLength" } }, then: { report: "PATH_DOWN", message: "rtpgBadLength" } },
				{ when: { data: { outcome: "truncatedDescriptor" } }, then: { report: "PATH_DOWN", message: "rtpgTruncated" } },
				{ then: { report: "PATH_DOWN", message: "DOWN" } },
			],
		},
	},
});
