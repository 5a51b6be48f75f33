// Malformed device answers for the ALUA checker: fast-check builds VPD page
// 0x83 and REPORT TARGET PORT GROUPS data with inconsistent lengths,
// truncated designators and descriptors, absurd port counts, wrong page
// codes and short transfers. The generated C runs under ASan (any read past
// a buffer aborts the run) and must agree with the TS interpretation of the
// spec on every answer.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { initialContext, interpretCheck, type CheckResult, type SimAnswer } from "../../generator/interp/interpret.ts";
import { loadSpec } from "../../generator/load.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { buildNativeSet, type NativeSet } from "../support/build.ts";
import { disagreements, type Expectation } from "./agreement.ts";
import { runSimCases } from "./sim.ts";

const SEED = Number(process.env.MPCHECKGEN_SEED ?? 20261125);
const CASES = 4000;

const byte = fc.integer({ min: 0, max: 255 });
const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const be32 = (v: number) => [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];

/** How the length field of a header relates to the bytes that follow. */
const lengthMode = fc.constantFrom("exact", "exact", "exact", "short", "long", "zero", "huge", "random");
function lengthField(mode: string, actual: number, r: number): number {
	switch (mode) {
		case "short":
			return Math.max(0, actual - 1 - (r % 8));
		case "long":
			return actual + 1 + (r % 64);
		case "zero":
			return 0;
		case "huge":
			return 0xfff0 + (r % 16);
		case "random":
			return r;
		default:
			return actual;
	}
}

const designatorArb = fc.record({
	type: fc.oneof(fc.constantFrom(4, 5, 5, 3, 1, 8), fc.integer({ min: 0, max: 15 })),
	assoc: fc.integer({ min: 0, max: 3 }),
	body: fc.oneof(
		fc.tuple(byte, byte, byte, byte).map((t) => [...t]),
		fc.array(byte, { maxLength: 24 }),
	),
	lengthMode,
	r: fc.nat(),
});

/** A VPD page 0x83 answer, well-formed or not. */
const vpdArb = fc
	.record({
		pageCode: fc.oneof(fc.constant(0x83), fc.constant(0x83), fc.constant(0x83), byte),
		designators: fc.array(designatorArb, { maxLength: 6 }),
		lengthMode,
		r: fc.nat({ max: 0xffff }),
		cut: fc.option(fc.nat({ max: 80 }), { freq: 5 }),
		resid: fc.option(fc.oneof(fc.integer({ min: -4, max: 64 }), fc.integer({ min: 0, max: 2100 })), { freq: 6 }),
	})
	.map((v) => {
		const body = v.designators.flatMap((d) => [0x01, (d.assoc << 4) | d.type, 0x00, lengthField(d.lengthMode, d.body.length, d.r) & 0xff, ...d.body]);
		let data = [0x00, v.pageCode, ...be16(lengthField(v.lengthMode, body.length, v.r) & 0xffff), ...body];
		if (v.cut !== null) data = data.slice(0, v.cut);
		return { status: 0, info: 0, data, resid: v.resid ?? undefined } satisfies SimAnswer;
	});

const rtpgDescriptorArb = fc.record({
	own: fc.boolean(),
	id: fc.integer({ min: 0, max: 0xffff }),
	state: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 0xe, 0xf), fc.integer({ min: 0, max: 255 })),
	ports: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 })),
	portsPresent: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 4 })),
});

/** An RTPG answer, well-formed or not; `tpg` is the path's group. */
const rtpgArb = fc
	.record({
		extended: fc.boolean(),
		formatByte: fc.oneof(fc.constant(0x10), byte),
		time: byte,
		descriptors: fc.array(rtpgDescriptorArb, { maxLength: 5 }),
		lengthMode,
		r: fc.nat(),
		cut: fc.option(fc.nat({ max: 120 }), { freq: 5 }),
		resid: fc.option(fc.oneof(fc.integer({ min: -4, max: 64 }), fc.integer({ min: 0, max: 20000 })), { freq: 6 }),
	})
	.map((v) => (tpg: number): SimAnswer => {
		const body = v.descriptors.flatMap((d) => {
			const present = d.portsPresent < 0 ? d.ports : d.portsPresent;
			const ports = Array.from({ length: present }, (_, i) => [0, 0, ...be16(i + 1)]).flat();
			return [d.state, 0x8f, ...be16(d.own ? tpg : d.id), 0, 0, 0, d.ports, ...ports];
		});
		const header = v.extended ? [v.formatByte, v.time, 0, 0] : [];
		const len = lengthField(v.lengthMode, header.length + body.length, v.r) >>> 0;
		let data = [...be32(len), ...header, ...body];
		if (v.cut !== null) data = data.slice(0, v.cut);
		return { status: 0, info: 0, data, resid: v.resid ?? undefined };
	});

const caseArb = fc.record({
	vpds: fc.array(vpdArb, { minLength: 1, maxLength: 3 }),
	rtpgs: fc.array(rtpgArb, { minLength: 1, maxLength: 4 }),
	goodVpd: fc.boolean(),
	tpg: fc.integer({ min: 0, max: 0xffff }),
});

function goodVpd(tpg: number): SimAnswer {
	const body = [0x01, 0x14, 0x00, 0x04, 0, 0, 0, 1, 0x01, 0x15, 0x00, 0x04, 0, 0, ...be16(tpg)];
	return { status: 0, info: 0, data: [0x00, 0x83, ...be16(body.length), ...body] };
}

let alua: CheckerModel;
let set: NativeSet;
beforeAll(async () => {
	alua = (await loadSpec("specs/alua.ts")) as CheckerModel;
	set = buildNativeSet({ compiler: "gcc", sanitize: "address" });
});

describe("ALUA checker on malformed VPD 0x83 and RTPG answers", () => {
	it(`${CASES} fuzzed answers: the C (ASan) agrees with the spec every time`, () => {
		const samples = fc.sample(caseArb, { numRuns: CASES, seed: SEED });
		const cases: Expectation[] = [];
		const outcomes = new Map<string, number>();
		let answers = 0;
		samples.forEach((s, i) => {
			let vpd = 0;
			let rt = 0;
			const used: SimAnswer[] = [];
			const expected: CheckResult = interpretCheck(
				alua,
				(_cmd, _i, at) => {
					const a =
						at.state.key === "readVpd83"
							? s.goodVpd
								? goodVpd(s.tpg)
								: s.vpds[Math.min(vpd++, s.vpds.length - 1)]
							: s.rtpgs[Math.min(rt++, s.rtpgs.length - 1)](at.ctx.targetPortGroup as number);
					used.push(a);
					return a;
				},
				initialContext(alua),
			);
			for (const st of expected.steps) {
				const state = alua.states.find((x) => x.key === st.state)!;
				const rule = state.rules[st.rule];
				const o = rule.outcome;
				const what =
					o.kind === "report"
						? o.message.key
						: o.kind === "retry" && st.action === "exhausted" && o.exhausted?.kind === "report"
							? o.exhausted.message.key
							: st.action;
				const label = `${st.state}: rule ${st.rule + 1} (${what})`;
				outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
			}
			answers += used.length;
			cases.push({ case: { id: `fuzz-${i}`, answers: used }, expected });
		});
		const results = runSimCases(set, "alua", cases.map((c) => c.case), {
			env: { ASAN_OPTIONS: "detect_leaks=1:halt_on_error=1" },
		});
		const bad = disagreements(alua, cases, results);
		const table = [...outcomes.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${String(n).padStart(6)}  ${k}`);
		console.log(`alua fuzz: ${cases.length} checks, ${answers} device answers, ${bad.length} failures (seed ${SEED})\n${table.join("\n")}`);
		expect(bad.slice(0, 3)).toEqual([]);
		// the corpus reaches every malformation the decoders name
		const reached = [...outcomes.keys()].join("\n");
		for (const m of ["vpdTooShort", "vpdWrongPage", "vpdBadDesignator", "vpdTruncated", "noTargetPortGroup", "rtpgTooShort", "rtpgBadLength", "rtpgTruncated", "groupMissing", "rtpgTooLong", "unknownState"]) {
			expect(reached, m).toContain(`(${m})`);
		}
	});
});
