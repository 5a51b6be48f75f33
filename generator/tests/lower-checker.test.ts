// The lowering stage, one construct at a time, with the exact lines the
// writer gets: reports and retries in the two check shapes, a switch for a
// run of rules over one field, clamped stores, CDB bytes chosen by the
// context and the allocation length, and the implied tests left out.
import { describe, expect, it } from "vitest";
import { fileParts } from "../emit/c-writer.ts";
import { lowerChecker } from "../lower/checker.ts";
import { buildCheckerModel } from "../model/build-checker.ts";
import { SourceIndex } from "../model/source-index.ts";
import { defineChecker, inquiryVpd, reportTargetPortGroups, testUnitReady } from "../spec/index.ts";
import type { CheckerSpec } from "../spec/checker.ts";

function lower(spec: unknown): string {
	const model = buildCheckerModel(spec as CheckerSpec, new SourceIndex("inline.ts", { file: "inline.ts", line: 1, column: 1 }));
	const target = { substitutes: {}, messageSubstitutes: {}, frameworkMessages: [], firstMessage: "CHECKER_FIRST_MSGID", byteOrder: "own", mapInit: false } as const;
	const parts = fileParts(lowerChecker(model, { ordinary: new Set(), tags: new Set() }, target), (t) => `/* fragment ${t} */\n`);
	return parts.sections.join("\n\n");
}

/** The lines of one function, from its signature to its closing brace. */
function fn(text: string, signature: string): string[] {
	const lines = text.split("\n");
	const start = lines.findIndex((l) => l.startsWith(signature));
	if (start < 0) throw new Error(`no function ${signature} in:\n${text}`);
	const end = lines.indexOf("}", start);
	return lines.slice(start, end + 1);
}

const base = { description: "test", copyright: "2026 The mpcheckgen authors", targets: ["0.15"] } as const;

describe("a one-state checker", () => {
	const text = lower(
		defineChecker({
			...base,
			name: "one",
			retryBudgets: { transient: { maxRetries: 2 } },
			initial: "tur",
			states: {
				tur: {
					command: testUnitReady(),
					rules: [
						{ when: { errno: "any" }, then: { report: "PATH_DOWN", message: "DOWN" } },
						{ when: { sense: { key: "UNIT_ATTENTION" } }, then: { retry: "transient", whenExhausted: "fallthrough" } },
						{ when: { sgInfo: "ok" }, then: { report: "PATH_UP", message: "UP" } },
						{ then: { report: "PATH_DOWN", message: "DOWN" } },
					],
				},
			},
		}),
	);
	it("is libcheck_async_func itself: locals, a retry label, reports into rdata", () => {
		expect(fn(text, "int libcheck_async_func")).toEqual([
			"int libcheck_async_func(struct runner_data *rdata)",
			"{",
			"\tunsigned char cdb[6] = { TEST_UNIT_READY };",
			"\tunsigned int transient_retries = 0;",
			"\tstruct sg_answer ans;",
			"",
			"retry:",
			"\t/*",
			"\t * A check that timed out is cancelled: it stops here, before its next",
			"\t * command, rather than when that command returns.",
			"\t */",
			"\tpthread_testcancel();",
			"\tsg_send(rdata->fd, rdata->timeout, cdb, sizeof(cdb), SG_DXFER_NONE, NULL, 0, &ans);",
			"\tif (ans.err != 0) {",
			"\t\trdata->msgid = CHECKER_MSGID_DOWN;",
			"\t\treturn PATH_DOWN;",
			"\t}",
			"\tif (ans.sense_key == UNIT_ATTENTION && transient_retries < ONE_TRANSIENT_MAX_RETRIES) {",
			"\t\ttransient_retries++;",
			"\t\tgoto retry;",
			"\t}",
			"\tif ((ans.info & SG_INFO_OK_MASK) == SG_INFO_OK) {",
			"\t\trdata->msgid = CHECKER_MSGID_UP;",
			"\t\treturn PATH_UP;",
			"\t}",
			"\trdata->msgid = CHECKER_MSGID_DOWN;",
			"\treturn PATH_DOWN;",
			"}",
		]);
	});
	it("has no step machinery", () => {
		expect(text).not.toMatch(/_step|report\(|_CHECK_DONE/);
	});
});

describe("a step machine", () => {
	const text = lower(
		defineChecker({
			...base,
			name: "two",
			messages: { a: { text: " a" }, b: { text: " b" }, c: { text: " c" } },
			retryBudgets: { resize: { maxRetries: 1 } },
			context: { plain: { type: "bool" }, length: { type: "u32", init: 64, max: 1024 }, last: { type: "u8", max: 15 } },
			initial: "start",
			states: {
				start: {
					decide: [{ when: { context: { plain: true } }, then: { goto: "rtpg" } }, { then: { goto: "vpd" } }],
				},
				vpd: {
					command: inquiryVpd(0x83, 512),
					rules: [{ then: { goto: "rtpg", set: { plain: true } } }],
				},
				rtpg: {
					command: reportTargetPortGroups({ plainFormatWhen: "plain", allocationLength: { context: "length" } }),
					decoder: "rtpgTargetPortGroup",
					decoderInputs: { targetPortGroup: { context: "length" } },
					store: { found: { last: "accessState" } },
					rules: [
						{ when: { data: { outcome: "found", accessState: 0 } }, then: { report: "PATH_UP", message: "a" } },
						{ when: { data: { outcome: "found", accessState: 1 } }, then: { report: "PATH_UP", message: "b" } },
						{ when: { data: { outcome: "found", accessState: 2 } }, then: { report: "PATH_GHOST", message: "c" } },
						{
							when: { data: { outcome: "needsLargerBuffer" } },
							then: { retry: "resize", set: { length: { data: "requiredLength" } }, whenExhausted: "fallthrough" },
						},
						{ when: { data: { outcome: "tooShort" } }, then: { report: "PATH_DOWN", message: "DOWN" } },
						{ then: { report: "PATH_DOWN", message: "DOWN" } },
					],
				},
			},
		}),
	);
	it("a decision state returns the next step", () => {
		expect(fn(text, "static enum two_step two_start")).toEqual([
			"static enum two_step two_start(struct two_check *ck)",
			"{",
			"\tstruct two_context *ctx = ck->ctx;",
			"",
			"\tif (ctx->plain)",
			"\t\treturn TWO_STEP_RTPG;",
			"\treturn TWO_STEP_VPD;",
			"}",
		]);
	});
	it("a constant data length is named; the allocation length is written big-endian", () => {
		expect(text).toContain("#define TWO_VPD_DATA_LEN 512");
		const vpd = fn(text, "static enum two_step two_vpd");
		// a list that does not fit in 79 columns: one continuation line and a trailing comma, which clang-format keeps
		expect(vpd.slice(3, 6)).toEqual(["\tunsigned char cdb[6] = {", "\t\tINQUIRY, INQUIRY_EVPD, VPD_DEVICE_IDENTIFICATION,", "\t};"]);
		expect(vpd).toContain("\tput_be16(TWO_VPD_DATA_LEN, cdb + 3);");
		expect(vpd).toContain("\tctx->plain = true;");
	});
	it("a CDB byte chosen by the context, the decoder call and its stores, a switch of switches, clamped stores", () => {
		expect(fn(text, "static enum two_step two_rtpg")).toEqual([
			"static enum two_step two_rtpg(struct two_check *ck)",
			"{",
			"\tstruct two_context *ctx = ck->ctx;",
			"\tunsigned char cdb[12] = {",
			"\t\tMAINTENANCE_IN, MI_REPORT_TARGET_PGS | MI_EXT_HDR_PARAM_FMT,",
			"\t};",
			"\tunsigned int len = ctx->length;",
			"\tstruct sg_answer ans;",
			"\tstruct rtpg_data d;",
			"",
			"\tif (ctx->plain)",
			"\t\tcdb[1] = MI_REPORT_TARGET_PGS;",
			"\tput_be32(len, cdb + 6);",
			"\tsg_send(ck->rdata->fd, ck->rdata->timeout, cdb, sizeof(cdb), SG_DXFER_FROM_DEV, ck->buf, len, &ans);",
			"\tif (ans.err == 0 && (ans.info & SG_INFO_OK_MASK) == SG_INFO_OK)",
			"\t\tdecode_rtpg(ck->buf, ans.transferred, len, ctx->length, &d);",
			"\telse",
			"\t\td.outcome = RTPG_NOT_DECODED;",
			"\tif (d.outcome == RTPG_FOUND)",
			"\t\tctx->last = d.access_state;",
			"\tswitch (d.outcome) {",
			"\tcase RTPG_FOUND:",
			"\t\tswitch (d.access_state) {",
			"\t\tcase 0x00:",
			"\t\t\treturn report(ck, PATH_UP, MSG_TWO_A);",
			"\t\tcase 0x01:",
			"\t\t\treturn report(ck, PATH_UP, MSG_TWO_B);",
			"\t\tcase 0x02:",
			"\t\t\treturn report(ck, PATH_GHOST, MSG_TWO_C);",
			"\t\t}",
			"\t\tbreak;",
			"\tcase RTPG_NEEDS_LARGER_BUFFER:",
			"\t\tif (ck->resize_retries < TWO_RESIZE_MAX_RETRIES) {",
			"\t\t\tck->resize_retries++;",
			"\t\t\tif (d.required_length > TWO_LENGTH_MAX)",
			"\t\t\t\tctx->length = TWO_LENGTH_MAX;",
			"\t\t\telse",
			"\t\t\t\tctx->length = d.required_length;",
			"\t\t\treturn TWO_STEP_RTPG;",
			"\t\t}",
			"\t\tbreak;",
			"\tcase RTPG_TOO_SHORT:",
			"\t\treturn report(ck, PATH_DOWN, CHECKER_MSGID_DOWN);",
			"\tdefault:",
			"\t\tbreak;",
			"\t}",
			"\treturn report(ck, PATH_DOWN, CHECKER_MSGID_DOWN);",
			"}",
		]);
	});
	it("a run over two constants stays an if-chain", () => {
		const two = lower(
			defineChecker({
				...base,
				name: "ifs",
				initial: "tur",
				states: {
					tur: {
						command: testUnitReady(),
						rules: [
							{ when: { sense: { key: "NOT_READY" } }, then: { report: "PATH_GHOST", message: "GHOST" } },
							{ when: { sense: { key: "UNIT_ATTENTION" } }, then: { report: "PATH_DOWN", message: "DOWN" } },
							{ then: { report: "PATH_UP", message: "UP" } },
						],
					},
				},
			}),
		);
		expect(two).not.toContain("switch");
		expect(two).toContain("\tif (ans.sense_key == NOT_READY && ans.err == 0) {");
		expect(two).toContain("\tif (ans.sense_key == UNIT_ATTENTION && ans.err == 0) {");
	});
});

// found by the spec fuzzer (native-tests/sim/spec-fuzz.test.ts): C that
// failed to compile with -Werror
describe("what a checker does not use, its C does not declare", () => {
	it("a decision that neither tests nor sets the context declares no ctx, and takes no check", () => {
		const text = lower(
			defineChecker({
				...base,
				name: "plain",
				context: { seen: { type: "bool" } },
				initial: "start",
				states: {
					start: { decide: [{ then: { goto: "tur" } }] },
					tur: {
						command: testUnitReady(),
						rules: [{ when: { sgInfo: "ok" }, then: { report: "PATH_UP", message: "UP", set: { seen: true } } }, { then: { report: "PATH_DOWN", message: "DOWN" } }],
					},
				},
			}),
		);
		// nor the check it would not use
		expect(fn(text, "static enum plain_step plain_start")).toEqual(["static enum plain_step plain_start(void)", "{", "\treturn PLAIN_STEP_TUR;", "}"]);
		expect(text).toContain("\t\t\tstep = plain_start();\n");
		expect(text).toContain("\t\t\tstep = plain_tur(&ck);\n");
	});
	it("the VPD 0x83 decoder alone: get_be16, no get_be32", () => {
		const text = lower(
			defineChecker({
				...base,
				name: "vpd",
				initial: "read",
				states: {
					read: {
						command: inquiryVpd(0x83, 255),
						decoder: "vpd83TargetPortGroup",
						rules: [{ when: { data: { outcome: "found" } }, then: { report: "PATH_UP", message: "UP" } }, { then: { report: "PATH_DOWN", message: "DOWN" } }],
					},
				},
			}),
		);
		expect(text).toContain("static unsigned int get_be16(const unsigned char *p)");
		expect(text).not.toContain("get_be32");
	});
});
