// A spec with its own decoder (native-tests/fixtures/good-specs/capacity.ts:
// READ CAPACITY(10), issue 11's example), generated with `mpcheckgen
// generate` and built against simulated SG_IO: a hand-written table of what
// it must report (a block length of 0 is DOWN), then every rule's witnesses
// and random answers, C against the interpreter, both generated from the
// one declaration, in a clang build and under ASan.
//
// Run: npx vitest run native-tests/sim/decoder-language.test.ts
import { beforeAll, describe, expect, it } from "vitest";
import type { SimAnswer } from "../../generator/interp/interpret.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import type { NativeSet } from "../support/build.ts";
import { runRandom, runWitnesses } from "./agreement.ts";
import { clangAndAsanPlugins, generateGoodSpec, type GoodSpec } from "./good-spec.ts";
import { runSimCases } from "./sim.ts";

const SPEC = "native-tests/fixtures/good-specs/capacity.ts";
const PATH = { WILD: 0, DOWN: 2, UP: 3, GHOST: 5 } as const;
const MSG = { DOWN: 5, GHOST: 6, UNSUPPORTED: 7 } as const;
// the checker's own: "sized" takes 100–102 (512, 4096, other), then the rest
const SIZED = 100;
const ZERO = 103;
const TINY = 104;
const HUGE = 105;
const SHORT = 106;

const be32 = (v: number) => [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
const cap = (lba: number, length: number, cut = 8): SimAnswer => ({ status: 0, info: 0, data: [...be32(lba), ...be32(length)].slice(0, cut) });
const notReady = (driverStatus: number): SimAnswer => ({
	status: 0x02,
	driverStatus,
	info: 1,
	sense: [0x70, 0, 0x02, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x04, 0x01, 0, 0, 0, 0],
});

const ROWS: { name: string; answer: SimAnswer; state: number; msgid: number }[] = [
	{ name: "block length 512: UP, 512-byte", answer: cap(0x1000, 512), state: PATH.UP, msgid: SIZED },
	{ name: "block length 4096: UP, 4096-byte", answer: cap(0x1000, 4096), state: PATH.UP, msgid: SIZED + 1 },
	{ name: "block length 520: UP, odd-sized", answer: cap(0x1000, 520), state: PATH.UP, msgid: SIZED + 2 },
	{ name: "block length 0: DOWN (the issue's example)", answer: cap(0x1000, 0), state: PATH.DOWN, msgid: ZERO },
	{ name: "block length 1: DOWN, below 512", answer: cap(0x1000, 1), state: PATH.DOWN, msgid: TINY },
	{ name: "block length 511: DOWN, below 512", answer: cap(0x1000, 511), state: PATH.DOWN, msgid: TINY },
	{ name: "last LBA 0x40000000: DOWN, huge (bit test on bits 31-30)", answer: cap(0x40000000, 512), state: PATH.DOWN, msgid: HUGE },
	{ name: "last LBA 0x3fffffff: UP", answer: cap(0x3fffffff, 512), state: PATH.UP, msgid: SIZED },
	{ name: "last LBA 0xffffffff (use READ CAPACITY(16)): not huge, UP", answer: cap(0xffffffff, 4096), state: PATH.UP, msgid: SIZED + 1 },
	{ name: "7 bytes: DOWN, too short", answer: cap(0, 512, 7), state: PATH.DOWN, msgid: SHORT },
	{ name: "8 bytes, resid says 1 missing: too short", answer: { ...cap(0, 512), resid: 1 }, state: PATH.DOWN, msgid: SHORT },
	{ name: "NOT READY with DRIVER_SENSE (0x08): GHOST", answer: notReady(0x08), state: PATH.GHOST, msgid: MSG.GHOST },
	{ name: "NOT READY with driver status 0x28 (low nibble 8): GHOST", answer: notReady(0x28), state: PATH.GHOST, msgid: MSG.GHOST },
	{ name: "NOT READY without DRIVER_SENSE: DOWN", answer: notReady(0x06), state: PATH.DOWN, msgid: MSG.DOWN },
	{ name: "ENOTTY: WILD", answer: { errno: 25 }, state: PATH.WILD, msgid: MSG.UNSUPPORTED },
	{ name: "EIO: DOWN", answer: { errno: 5 }, state: PATH.DOWN, msgid: MSG.DOWN },
];

let model: CheckerModel;
let g: GoodSpec;
let clang: NativeSet;
let asan: NativeSet;
let plugins: Record<"clang" | "asan", string>;

beforeAll(async () => {
	g = await generateGoodSpec(SPEC);
	model = g.model;
	({ clang, asan, plugins } = clangAndAsanPlugins(g));
});

describe("a spec with its own decoder (READ CAPACITY(10))", () => {
	it("the interpreter and the generated C give the hand-written value for every row", async () => {
		const { interpretCheck } = await import("../../generator/interp/interpret.ts");
		const want = ROWS.map((r) => `${r.name}: ${r.state}/${r.msgid}`);
		const spec = ROWS.map((r) => {
			const g = interpretCheck(model, () => r.answer);
			return `${r.name}: ${g.pathState}/${g.msgid}`;
		});
		expect(spec).toEqual(want);
		const got = runSimCases(clang, "capacity", ROWS.map((r, i) => ({ id: `r${i}`, answers: [r.answer] })), { plugin: plugins.clang });
		expect(ROWS.map((r, i) => `${r.name}: ${got[i]!.state}/${got[i]!.msgid}`)).toEqual(want);
	});

	it.each(["clang", "asan"] as const)("every rule exercised, and C (%s) agrees with the spec on each case and on random answers", (b) => {
		const set = b === "clang" ? clang : asan;
		const env = { ASAN_OPTIONS: "detect_leaks=1:halt_on_error=1" };
		const w = runWitnesses(set, model, { plugin: plugins[b], env });
		expect(w.cases).toBeGreaterThanOrEqual(w.rules);
		const r = runRandom(set, model, { checks: b === "clang" ? 1000 : 300, paths: 5, sequence: 10, seed: 20261202, plugin: plugins[b], env });
		expect(r.cases).toBeGreaterThan(0);
	});
});
