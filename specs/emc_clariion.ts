// The emc_clariion checker of multipath-tools (EMC CLARiiON/VNX), as
// shared/reference/checkers-behaviour.md §6 describes its check: INQUIRY of
// the vendor VPD page 0xC0 (the path unit report), retried on transient host
// statuses; the path's failover configuration, availability, binding and
// WWN from the page; and on the active path (byte 4 == 2) a READ of the
// first 4096 bytes, which finds an inactive snapshot.
//
// The "inactive snapshot" flag is kept per map, as upstream keeps it (a
// map context field): the active path's READ sets it for the map, and its
// passive paths then report DOWN. Two paths' checks may overlap (each runs
// in its own thread on a copy of the map context): the framework copies a
// completed check's map context back only if that check changed it, so a
// check that left the flag alone never undoes what another path's check
// stored meanwhile; of two overlapping checks that both change it, the
// last to complete wins. (Upstream 0.15's framework copies every completed
// check's map context back, so a passive path's check that overlaps the
// active path's can undo the flag the active path set: a lost update. In a
// 0.15 tree, which keeps its own framework, that remains so.) The flag is
// bit 0 of the map's long: 0 or 1, -1 while unset, as upstream stores it.
//
// Deliberate differences from upstream (native-tests/sim/
// emc_clariion-reference.test.ts has a row for each):
// - Where upstream sets a state without a message (the READ's 05/25/01
//   sense; a passive path with the flag set) and leaves the previous
//   check's message (≤0.14) or RUNNING (0.15) in place, the spec reports
//   ": Logical Unit is an inactive snapshot" (id 109).
// - The page is decoded from the bytes received only: fewer than the 49
//   the decision reads is DOWN with its own message (id 110); upstream
//   reads the whole 128-byte buffer whatever was transferred.
// - An answer with SG_INFO_CHECK set is never decoded (a RECOVERED ERROR
//   included: DOWN, "query command indicates error"); upstream decodes a
//   RECOVERED answer whose info flag is clear, which the kernel does not
//   give with a non-zero status.
// - The 05/25/01 sense of the READ is recognised in either sense format;
//   upstream looks at fixed format only.
import { defineChecker, defineDecoder, inquiryVpd, read10 } from "../generator/spec/index.ts";

/** CHECK CONDITION or COMMAND TERMINATED, after the status is masked with 0x7e. */
const CHECK_STATUS = ["CHECK_CONDITION", "COMMAND_TERMINATED"] as const;
/** DRIVER_SENSE in the low nibble of the driver status. */
const DRIVER_SENSE = { mask: 0x0f, value: 0x08 } as const;

/** The WWN: bytes 10–25 of the page. */
const WWN = { bytes: 10, length: 16 } as const;

const emcC0 = defineDecoder({
	cName: "c0",
	doc: "INQUIRY VPD page 0xC0 of a CLARiiON array (path unit report): failover setup, availability, binding and WWN",
	inputs: {
		wwnSet: { type: "bool", doc: "a WWN was stored by an earlier check" },
		wwn: { type: "bytes", length: 16, doc: "the stored WWN" },
	},
	minDataLength: 49,
	outcomes: {
		page: {
			doc: "a bound logical unit, correctly configured and available, with the stored WWN (or none stored)",
			fields: {
				active: { type: "bool", doc: "byte 4 is 2: the path is the active one" },
				wwn: { type: "bytes", length: 16, doc: "the WWN, bytes 10–25" },
			},
		},
		tooShort: { doc: "fewer than 49 bytes were transferred", fields: {} },
		unknownFormat: { doc: "byte 1 is not 0xC0, or byte 9 is not 0", fields: {} },
		notConfigured: { doc: "byte 27 is not 3, byte 28 bits 0–2 are not 4 or 6, or byte 30 bit 2 is clear", fields: {} },
		notAvailable: { doc: "byte 48 is not 0", fields: {} },
		unbound: { doc: "byte 4 is 0: the logical unit is unbound, or LUNZ", fields: {} },
		wwnChanged: { doc: "the WWN differs from the stored one", fields: {} },
	},
	steps: [
		{ need: 49, else: "tooShort" },
		{ when: { or: [{ ne: [{ read: 1 }, 0xc0] }, { ne: [{ read: 9 }, 0] }] }, then: [{ return: "unknownFormat" }] },
		{
			when: {
				or: [
					{ ne: [{ read: 27 }, 0x03] },
					{ not: { in: { read: 28, mask: 0x07 }, values: [4, 6] } },
					{ eq: [{ read: 30, mask: 0x04 }, 0] },
				],
			},
			then: [{ return: "notConfigured" }],
		},
		{ when: { ne: [{ read: 48 }, 0] }, then: [{ return: "notAvailable" }] },
		{ when: { eq: [{ read: 4 }, 0] }, then: [{ return: "unbound" }] },
		{
			when: {
				and: [{ input: "wwnSet" }, { ne: [WWN, { input: "wwn" }] }],
			},
			then: [{ return: "wwnChanged" }],
		},
		{
			return: "page",
			fields: {
				active: { eq: [{ read: 4 }, 2] },
				wwn: WWN,
			},
		},
	],
});

export default defineChecker({
	name: "emc_clariion",
	description: "checks a path of an EMC CLARiiON/VNX array by its VPD page 0xC0",
	copyright: "2026 The mpcheckgen authors",
	targets: ["0.15", "0.9"],
	decoders: { emcC0 },
	// upstream's message ids 100–108 in upstream's order, then the spec's own
	messages: {
		queryFailed: { text: ": sending query command failed" },
		queryError: { text: ": query command indicates error" },
		notConfigured: { text: ": Path not correctly configured for failover" },
		unknownFormat: { text: ": Path unit report page in unknown format" },
		notAvailable: { text: ": Path not available for normal operations" },
		unbound: { text: ": Logical Unit is unbound or LUNZ" },
		wwnChanged: { text: ": Logical Unit WWN has changed" },
		readError: { text: ": Read error" },
		healthy: { text: ": Active path is healthy" },
		inactiveSnapshot: { text: ": Logical Unit is an inactive snapshot" },
		shortPage: { text: ": Path unit report page too short" },
	},
	retryBudgets: {
		/** Five attempts in all, on transient host statuses. */
		transient: { maxRetries: 4 },
	},
	context: {
		/** A WWN was stored (on the first check that got past the unbound test). */
		wwnSet: { type: "bool" },
		/** The WWN stored, bytes 10–25 of the page. */
		wwn: { type: "bytes", length: 16 },
		/** The active path's READ found an inactive snapshot: shared by the paths of the map. */
		inactiveSnapshot: { type: "bool", scope: "map" },
	},
	initial: "query",
	states: {
		query: {
			/** Read the path unit report: VPD page 0xC0. */
			command: inquiryVpd(0xc0, 128),
			decoder: "emcC0",
			decoderInputs: {
				wwnSet: { context: "wwnSet" },
				wwn: { context: "wwn" },
			},
			store: {
				page: { wwnSet: true, wwn: "wwn" },
			},
			rules: [
				{ when: { errno: "ENOTTY" }, then: { report: "PATH_WILD", message: "UNSUPPORTED" } },
				{ when: { errno: "any" }, then: { report: "PATH_DOWN", message: "queryFailed" } },
				{
					when: { sgInfo: "check", hostStatus: ["DID_BUS_BUSY", "DID_ERROR", "DID_SOFT_ERROR", "DID_TRANSPORT_DISRUPTED"] },
					then: { retry: "transient", whenExhausted: "fallthrough" },
				},
				/** No page 0xC0: not a CLARiiON. */
				{ when: { status: CHECK_STATUS, sense: { key: "ILLEGAL_REQUEST" } }, then: { report: "PATH_WILD", message: "UNSUPPORTED" } },
				{ when: { driverStatus: DRIVER_SENSE, sense: { key: "ILLEGAL_REQUEST" } }, then: { report: "PATH_WILD", message: "UNSUPPORTED" } },
				/** Any other error, or a RECOVERED ERROR (never decoded). */
				{ when: { sgInfo: "check" }, then: { report: "PATH_DOWN", message: "queryError" } },
				{ when: { data: { outcome: "tooShort" } }, then: { report: "PATH_DOWN", message: "shortPage" } },
				{ when: { data: { outcome: "unknownFormat" } }, then: { report: "PATH_DOWN", message: "unknownFormat" } },
				{ when: { data: { outcome: "notConfigured" } }, then: { report: "PATH_DOWN", message: "notConfigured" } },
				{ when: { data: { outcome: "notAvailable" } }, then: { report: "PATH_SHAKY", message: "notAvailable" } },
				{ when: { data: { outcome: "unbound" } }, then: { report: "PATH_DOWN", message: "unbound" } },
				/** Only a path with a stored WWN can see it change. */
				{ when: { data: { outcome: "wwnChanged" }, context: { wwnSet: true } }, then: { report: "PATH_DOWN", message: "wwnChanged" } },
				/** The active path: read its first block. */
				{ when: { data: { active: true } }, then: { goto: "read" } },
				{ when: { context: { inactiveSnapshot: true } }, then: { report: "PATH_DOWN", message: "inactiveSnapshot" } },
				/** A passive path is UP, deliberately not GHOST (as upstream). */
				{ then: { report: "PATH_UP", message: "healthy" } },
			],
		},
		read: {
			/** The active path: read LBA 0, one block, into a 4096-byte buffer. */
			command: read10({ lba: 0, blocks: 1, dataLength: 4096 }),
			rules: [
				{ when: { errno: "any" }, then: { report: "PATH_DOWN", message: "readError" } },
				/** ILLEGAL REQUEST, LOGICAL UNIT NOT SUPPORTED / inactive snapshot (25/01). */
				{
					when: { sense: { key: "ILLEGAL_REQUEST", code: "25/01" } },
					then: { report: "PATH_DOWN", message: "inactiveSnapshot", set: { inactiveSnapshot: true } },
				},
				{ when: { sgInfo: "check" }, then: { report: "PATH_DOWN", message: "readError" } },
				{ then: { report: "PATH_UP", message: "healthy", set: { inactiveSnapshot: false } } },
			],
		},
	},
});
