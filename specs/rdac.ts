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
// - The init's TAS setup (MODE SENSE(10) of the Control mode page, current
//   and changeable values, and MODE SELECT(10) setting TAS when it is clear
//   and changeable) runs in libcheck_init on 0.9, as upstream's; on 0.15,
//   whose init gets fd -1 (upstream's 0.15 init is a no-op there), it runs
//   at the path's first check instead (withoutInitIo: "atFirstCheck"), so
//   the array's TAS is set there as well.
// - A Control mode page answer of fewer than 14 bytes (TAS unknown) ends
//   the init; upstream reads its zeroed buffer as "TAS clear".
import { defineChecker, defineDecoder, inquiryVpd, modeSelect10, modeSense10 } from "../generator/spec/index.ts";

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

/**
 * The Control mode page (0x0A) after the 8-byte MODE SENSE(10) header (no
 * block descriptors): TAS is bit 6 of the page's byte 5.
 */
const controlPage = defineDecoder({
	cName: "control",
	doc: "MODE SENSE(10) data of the Control mode page: the TAS bit",
	minDataLength: 14,
	outcomes: {
		page: { doc: "the page's byte 5 was received", fields: { tas: { type: "bool", doc: "byte 13 bit 6: task aborted status" } } },
		tooShort: { doc: "fewer than 14 bytes were transferred", fields: {} },
	},
	steps: [
		{ need: 14, else: "tooShort" },
		{ return: "page", fields: { tas: { read: 13, shift: 6, mask: 1 } } },
	],
});

export default defineChecker({
	name: "rdac",
	description: "checks a path of an RDAC array by its VPD page 0xC9",
	copyright: "2026 The mpcheckgen authors",
	targets: ["0.15", "0.9"],
	decoders: { rdacC9, controlPage },
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
	/**
	 * Set TAS in the Control mode page, so that the array reports the
	 * commands it aborts for another initiator (upstream's init). 0.15
	 * calls init with fd -1: there it runs at the path's first check.
	 */
	init: { initial: "currentPage", withoutInitIo: "atFirstCheck" },
	states: {
		/** The Control mode page's current values. */
		currentPage: {
			command: modeSense10({ page: 0x0a, pageControl: "current", allocationLength: 20 }),
			decoder: "controlPage",
			rules: [
				{ when: { data: { tas: false } }, then: { goto: "changeablePage" } },
				/** TAS already set: nothing to do. */
				{ when: { data: { outcome: "page" } }, then: { done: true } },
				/** The page not read: logged and ignored, as upstream's init does. */
				{ then: { done: true, log: "cannot read the Control mode page" } },
			],
		},
		/** Which of the page's values can be changed. */
		changeablePage: {
			command: modeSense10({ page: 0x0a, pageControl: "changeable", allocationLength: 20 }),
			decoder: "controlPage",
			rules: [
				{ when: { data: { tas: true } }, then: { goto: "select" } },
				/** TAS cannot be changed. */
				{ when: { data: { outcome: "page" } }, then: { done: true } },
				{ then: { done: true, log: "cannot read the changeable Control mode page" } },
			],
		},
		/** The current values sent back with TAS set (save pages, as upstream). */
		select: {
			command: modeSelect10({
				length: 20,
				pageFormat: false,
				savePages: true,
				payload: { from: "dataReadIn", state: "currentPage", set: { 8: 0x0a, 9: 0x0a, 13: { or: 0x40 } } },
			}),
			rules: [
				{ when: { sgInfo: "ok" }, then: { done: true } },
				/** A failure is not the path's: logged and ignored, as upstream's init does. */
				{ then: { done: true, log: "cannot set TAS in the Control mode page" } },
			],
		},
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
