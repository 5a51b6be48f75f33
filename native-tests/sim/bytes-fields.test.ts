// Bytes fields where emc_clariion does not take them: inside a walk (a
// bytes read and a memcmp at the descriptor's offset), and a context
// struct with padding after its array. The fixture spec
// native-tests/fixtures/good-specs/bytes-walk.ts is generated with
// `mpcheckgen generate`, built against simulated SG_IO and checked two ways:
// a hand-written table (the identifier stored, compared, changed), and
// agreement with the interpreter, contexts included byte for byte, on every
// rule's witnesses and on random answers (clang, and gcc with ASan).
//
// Run: npx vitest run native-tests/sim/bytes-fields.test.ts
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { initialContext, interpretCheck, type ContextValues, type SimAnswer } from "../../generator/interp/interpret.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import type { NativeSet } from "../support/build.ts";
import { contextHex, runRandom, runWitnesses } from "./agreement.ts";
import { clangAndAsanPlugins, generateGoodSpec, type GoodSpec } from "./good-spec.ts";
import { runSimCases } from "./sim.ts";

const SPEC = "native-tests/fixtures/good-specs/bytes-walk.ts";
const PATH = { DOWN: 2, UP: 3, GHOST: 5 } as const;
const MSG = { UP: 4, DOWN: 5, GHOST: 6 } as const;

/** A designator: code set 1, its type, and its body. */
const designator = (type: number, body: number[]) => [0x01, type, 0x00, body.length, ...body];
/** VPD page 0x83 with these designators. */
const page = (...ds: number[][]): SimAnswer => {
	const body = ds.flat();
	return { status: 0, info: 0, data: [0x00, 0x83, body.length >> 8, body.length & 0xff, ...body] };
};
const ID_A = [0xde, 0xad, 0xbe, 0xef];
const ID_B = [0xde, 0xad, 0xbe, 0xee];
/** A type 3 designator with the identifier at its offset 4 (after a type 1 one that is skipped). */
const withId = (id: number[]) => page(designator(1, [0x11, 0x22]), designator(3, id));

const ROWS: { row: string; checks: { answer: SimAnswer; state: number; msgid: number }[]; ctx: { seen: number; id: number[]; changes: number } }[] = [
	{ row: "the first identifier is stored → UP", checks: [{ answer: withId(ID_A), state: PATH.UP, msgid: MSG.UP }], ctx: { seen: 1, id: ID_A, changes: 0 } },
	{
		row: "the same identifier later → UP",
		checks: [
			{ answer: withId(ID_A), state: PATH.UP, msgid: MSG.UP },
			{ answer: withId(ID_A), state: PATH.UP, msgid: MSG.UP },
		],
		ctx: { seen: 1, id: ID_A, changes: 0 },
	},
	{
		row: "its last byte changed → GHOST, the new one stored; then the same → UP",
		checks: [
			{ answer: withId(ID_A), state: PATH.UP, msgid: MSG.UP },
			{ answer: withId(ID_B), state: PATH.GHOST, msgid: MSG.GHOST },
			{ answer: withId(ID_B), state: PATH.UP, msgid: MSG.UP },
		],
		ctx: { seen: 1, id: ID_B, changes: 3 },
	},
	{
		row: "a type 3 designator too short for an identifier → DOWN, nothing stored",
		checks: [{ answer: page(designator(3, [1, 2, 3])), state: PATH.DOWN, msgid: MSG.DOWN }],
		ctx: { seen: 0, id: [0, 0, 0, 0], changes: 0 },
	},
	{
		row: "an all-zero identifier before any is stored equals the zeroed context → UP, seen stays clear",
		checks: [{ answer: withId([0, 0, 0, 0]), state: PATH.UP, msgid: MSG.UP }],
		ctx: { seen: 0, id: [0, 0, 0, 0], changes: 0 },
	},
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

describe("bytes fields in a walk (native-tests/fixtures/good-specs/bytes-walk.ts)", () => {
	it("the C compares and copies at the descriptor's offset, into an array member", () => {
		const c = readFileSync(g.checkerC("0.15"), "utf8");
		expect(c).toContain("memcmp(buf + off + 4, stored, 4) == 0");
		expect(c).toContain("memcpy(d->id, buf + off + 4, 4)");
		expect(c).toContain("unsigned char id[4];");
		expect(c).toContain("memcpy(ctx->id, d.id, sizeof(ctx->id))");
	});

	it("the interpreter and the generated C give the hand-written value for every row, contexts included", () => {
		const want: string[] = [];
		const spec: string[] = [];
		const cases: { id: string; path: string; answers: SimAnswer[] }[] = [];
		const wantHex: string[] = [];
		for (const [i, r] of ROWS.entries()) {
			let ctx: ContextValues = initialContext(model);
			for (const [j, ch] of r.checks.entries()) {
				const g = interpretCheck(model, () => ch.answer, ctx);
				ctx = g.context;
				want.push(`${r.row} #${j}: ${ch.state}/${ch.msgid}`);
				spec.push(`${r.row} #${j}: ${g.pathState}/${g.msgid}`);
				cases.push({ id: `r${i}.${j}`, path: `r${i}`, answers: [ch.answer] });
			}
			expect(ctx, r.row).toEqual(r.ctx);
			// bool seen, id[4], one byte of padding, u16 changes (little-endian)
			const hex = (b: number[]) => b.map((x) => x.toString(16).padStart(2, "0")).join("");
			const h = `${hex([r.ctx.seen, ...r.ctx.id, 0, r.ctx.changes & 0xff, r.ctx.changes >> 8])}`;
			expect(contextHex(model, ctx)).toBe(h);
			wantHex.push(h);
		}
		expect(spec).toEqual(want);
		const got = runSimCases(clang, "bytes_walk", cases, { plugin: plugins.clang });
		expect(got.map((g, k) => `${want[k].split(": ")[0]}: ${g.state}/${g.msgid}`)).toEqual(want);
		// the context after each row's last check, as the C keeps it
		const last = ROWS.map((r, i) => got.filter((g) => g.id.startsWith(`r${i}.`)).at(-1)!.ctx);
		expect(last).toEqual(wantHex);
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
