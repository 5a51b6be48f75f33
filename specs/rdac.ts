// The rdac checker of multipath-tools (LSI/Engenio/NetApp E-Series), as
// shared/reference/checkers-behaviour.md §5 describes its check: INQUIRY of
// the vendor VPD page 0xC9, retried on transient host statuses, and the
// path state from the page's ownership and asymmetric access state bytes.
//
// Deliberate differences from upstream (native-tests/sim/rdac-reference.test.ts
// has a row for each):
// - An ioctl error other than ENOTTY is DOWN ("inquiry failed"); upstream
//   does not handle it, reads its zeroed buffer as a good page and reports
//   GHOST.
// - The page is decoded from the bytes received only: fewer than the 13 the
//   decision reads is DOWN with its own message; upstream reads the whole
//   48-byte buffer whatever was transferred.
// - An answer with RECOVERED ERROR sense is not decoded (decoders run on
//   GOOD answers) and is DOWN ("inquiry failed"); upstream decodes its page.
// - Upstream's init-time TAS setup (MODE SENSE/MODE SELECT of the Control
//   mode page) is not done: 0.15 runs init with fd -1, where upstream's is
//   a no-op too; the spec language has no init-time commands yet.
import { defineChecker, defineDecoder, inquiryVpd } from "../generator/spec/index.ts";

/** CHECK CONDITION or COMMAND TERMINATED, after the status is masked with 0x7e. */
const CHECK_STATUS = ["CHECK_CONDITION", "COMMAND_TERMINATED"] as const;
/** DRIVER_SENSE in the low nibble of the driver status. */
const DRIVER_SENSE = { mask: 0x0f, value: 0x08 } as const;

/** Byte 11, the vendor-specific state of the current controller, as an index into the "unavailable" texts. */
const VENDOR_STATE = {
	if: { eq: [{ read: 11 }, 2] },
	then: 0,
	else: {
		if: { eq: [{ read: 11 }, 3] },
		then: 1,
		else: {
			if: { in: { read: 11 }, values: [4, 5] },
			then: 2,
			else: { if: { eq: [{ read: 11 }, 6] }, then: 3, else: { if: { eq: [{ read: 11 }, 7] }, then: 4, else: 5 } },
		},
	},
} as const;

const rdacC9 = defineDecoder({
	cName: "c9",
	doc: "INQUIRY VPD page 0xC9 of an RDAC array: volume ownership and the controllers' access states",
	minDataLength: 13,
	outcomes: {
		page: {
			doc: "the bytes up to the alternate controller's state were received",
			fields: {
				peripheral: { type: "u8", max: 0x7f, doc: "byte 0 without bit 7: 0 for a connected LUN" },
				tpgData: { type: "bool", doc: "byte 8 bit 4 (TPGDE): the access states are valid" },
				owner: { type: "bool", doc: "byte 8 bit 0: this controller owns the volume" },
				ioShipping: { type: "bool", doc: "byte 8 bit 5: I/O shipping is enabled" },
				currentState: { type: "u8", max: 15, doc: "byte 10, low nibble: the current controller's access state" },
				alternateState: { type: "u8", max: 15, doc: "byte 12, low nibble: the alternate controller's access state" },
				vendorState: { type: "u8", max: 5, doc: "byte 11 (2, 3, 4 or 5, 6, 7, other) as 0 to 5" },
			},
		},
		tooShort: { doc: "fewer than 13 bytes were transferred", fields: {} },
	},
	steps: [
		{ need: 13, else: "tooShort" },
		{
			return: "page",
			fields: {
				peripheral: { read: 0, mask: 0x7f },
				tpgData: { read: 8, shift: 4, mask: 1 },
				owner: { read: 8, mask: 1 },
				ioShipping: { read: 8, shift: 5, mask: 1 },
				currentState: { read: 10, mask: 0x0f },
				alternateState: { read: 12, mask: 0x0f },
				vendorState: VENDOR_STATE,
			},
		},
	],
});

export default defineChecker({
	name: "rdac",
	description: "checks a path of an RDAC array by its VPD page 0xC9",
	copyright: "2026 The mpcheckgen authors",
	targets: ["0.15", "0.9"],
	decoders: { rdacC9 },
	messages: {
		notConnected: { text: " reports path is down: lun not connected" },
		startup: { text: " reports path is down: ctlr is in startup sequence" },
		/** The current controller is unavailable (state 3); byte 11 says why. */
		unavailable: {
			text: " reports path is down: %s",
			values: [
				"non-responsive to queries",
				"ctlr held in reset",
				"ctlr firmware downloading",
				"ctlr quiesced by admin request",
				"ctlr is in service mode",
				"ctlr is unavailable",
			],
		},
		inquiryFailed: { text: " reports path is down: inquiry failed" },
		shortPage: { text: " reports path is down: VPD page 0xC9 too short" },
	},
	retryBudgets: {
		/** Five attempts in all, on transient host statuses. */
		transient: { maxRetries: 4 },
	},
	initial: "inquiry",
	states: {
		inquiry: {
			command: inquiryVpd(0xc9, 48),
			decoder: "rdacC9",
			rules: [
				{ when: { errno: "ENOTTY" }, then: { report: "PATH_WILD", message: "UNSUPPORTED" } },
				{ when: { errno: "any" }, then: { report: "PATH_DOWN", message: "inquiryFailed" } },
				{
					when: { sgInfo: "check", hostStatus: ["DID_BUS_BUSY", "DID_ERROR", "DID_SOFT_ERROR", "DID_TRANSPORT_DISRUPTED"] },
					then: { retry: "transient", whenExhausted: "fallthrough" },
				},
				/** No page 0xC9: not an RDAC array. */
				{ when: { status: CHECK_STATUS, sense: { key: "ILLEGAL_REQUEST" } }, then: { report: "PATH_WILD", message: "UNSUPPORTED" } },
				{ when: { driverStatus: DRIVER_SENSE, sense: { key: "ILLEGAL_REQUEST" } }, then: { report: "PATH_WILD", message: "UNSUPPORTED" } },
				{ when: { hostStatus: { not: ["DID_OK"] } }, then: { report: "PATH_DOWN", message: "inquiryFailed" } },
				{ when: { driverStatus: { not: 0 } }, then: { report: "PATH_DOWN", message: "inquiryFailed" } },
				{ when: { sgInfo: "check" }, then: { report: "PATH_DOWN", message: "inquiryFailed" } },
				{ when: { data: { outcome: "tooShort" } }, then: { report: "PATH_DOWN", message: "shortPage" } },
				{ when: { data: { peripheral: { not: 0 } } }, then: { report: "PATH_DOWN", message: "notConnected" } },
				{
					when: { data: { tpgData: true, currentState: 0x3 } },
					then: { report: "PATH_DOWN", message: "unavailable", value: { data: "vendorState" } },
				},
				/** Transitioning while the other controller is not: the controller is booting. */
				{ when: { data: { tpgData: true, currentState: 0xf, alternateState: { not: 0xf } } }, then: { report: "PATH_DOWN", message: "startup" } },
				{ when: { data: { owner: true } }, then: { report: "PATH_UP", message: "UP" } },
				{ when: { data: { ioShipping: true } }, then: { report: "PATH_UP", message: "UP" } },
				/**
				 * The other controller owns the volume. Only a decoded page
				 * gets here: the rules above settle every other answer.
				 */
				{ then: { report: "PATH_GHOST", message: "GHOST" } },
			],
		},
	},
});
