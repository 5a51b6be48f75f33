// The command builders and data-out payloads in generated C: the fixture
// spec native-tests/fixtures/good-specs/commands.ts sends READ CAPACITY(10)
// and (16), MODE SENSE(10), a MODE SELECT(10) of the page it read with bits
// changed, READ(10)/READ(16) with the LBA and block count from the context,
// a standard INQUIRY and a vendor command whose payload comes from zeros and
// the context. A hand-written table of the bytes (not from the model), and
// agreement with the interpreter (CDBs, data out, context) on every rule's
// witnesses and on random answers.
//
// Run: npx vitest run native-tests/sim/commands.test.ts
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { SimAnswer } from "../../generator/interp/interpret.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { buildNativeSet, type NativeSet } from "../support/build.ts";
import { runRandom, runWitnesses } from "./agreement.ts";
import { generateGoodSpec, type GoodSpec } from "./good-spec.ts";
import { runSimCases } from "./sim.ts";

const SPEC = "native-tests/fixtures/good-specs/commands.ts";
const GOOD: SimAnswer = { status: 0, info: 0 };
/** MODE SENSE(10) data: an 8-byte header, then the first 12 bytes of the Control mode page (PS set, TAS clear). */
const MODE_PAGE = [0x00, 0x12, 0, 0, 0, 0, 0, 0, 0x8a, 0x0a, 0x02, 0x00, 0x00, 0x00, 0xab, 0, 0, 0, 0, 0];
const hex = (b: number[]) => b.map((x) => x.toString(16).padStart(2, "0")).join("");

const FIRST_PASS = [
	{ what: "READ CAPACITY(10)", cdb: "25000000000000000000", dir: -3, len: 8 },
	{ what: "READ CAPACITY(16): allocation length 32 in bytes 10-13", cdb: "9e100000000000000000000000200000", dir: -3, len: 32 },
	{ what: "MODE SENSE(10): DBD, changeable values of page 0x0a, 20 bytes", cdb: "5a084a00000000001400", dir: -3, len: 20 },
	{
		what: "MODE SELECT(10): PF, 20 bytes: the page read, length cleared, PS cleared, TAS set, byte 14 low nibble 5",
		cdb: "55100000000000001400",
		dir: -2,
		len: 20,
		out: hex([0, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0x0a, 0x02, 0x00, 0x00, 0x40, 0xa5, 0, 0, 0, 0, 0]),
	},
	{ what: "READ(10): LBA 0x12345678 and 1 block from the context, 512 bytes", cdb: "28001234567800000100", dir: -3, len: 512 },
	{ what: "READ(16): the same LBA in 8 bytes, 1 block", cdb: "88000000000012345678000000010000", dir: -3, len: 512 },
	{ what: "INQUIRY: allocation length 36", cdb: "120000002400", dir: -3, len: 36 },
	{ what: "VENDOR SEND: tag and LBA byte 1 in the CDB; payload zeros, 0xee, tag, LBA byte 3", cdb: "c55a56000000", dir: -2, len: 8, out: "00ee5a1200000000" },
];

let model: CheckerModel;
let g: GoodSpec;
let set: NativeSet;
let plugin: string;

beforeAll(async () => {
	g = await generateGoodSpec(SPEC);
	model = g.model;
	set = buildNativeSet({ compiler: "clang" });
	plugin = set.simPluginFrom("commands", g.checkerC("0.15"));
});

describe("the command builders' bytes in the generated C", () => {
	it("a first check and a second on the same path send the hand-written CDBs and payloads", () => {
		const pass = [GOOD, GOOD, { ...GOOD, data: MODE_PAGE }, GOOD, GOOD, GOOD, GOOD, GOOD];
		const [first, second] = runSimCases(
			set,
			"commands",
			[
				{ id: "first", path: "p", answers: pass },
				{ id: "second", path: "p", answers: pass },
			],
			{ plugin },
		);
		expect(first.state).toBe(3);
		expect(first.commands.map(({ cdb, dir, len, out }) => ({ cdb, dir, len, ...(out ? { out } : {}) }))).toEqual(
			FIRST_PASS.map(({ cdb, dir, len, out }) => ({ cdb, dir, len, ...(out ? { out } : {}) })),
		);
		// the first check set lba 7, 2 blocks of 1024 bytes, tag 0xa5
		expect(second.commands[4]).toMatchObject({ cdb: "28000000000700000200", len: 1024 });
		expect(second.commands[5]).toMatchObject({ cdb: "88000000000000000007000000010000" });
		expect(second.commands[7]).toMatchObject({ cdb: "c5a500000000", out: "00eea50000000000" });
	});

	it("a MODE SELECT after a short MODE SENSE sends zeros for the bytes not received", () => {
		const [r] = runSimCases(set, "commands", [{ id: "short", answers: [GOOD, GOOD, { ...GOOD, data: MODE_PAGE.slice(0, 10) }, { errno: 5 }, GOOD, GOOD, GOOD, GOOD, GOOD] }], {
			plugin,
		});
		const want = hex([0, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0x0a, 0, 0, 0, 0x40, 0x05, 0, 0, 0, 0, 0]);
		// retried once after EIO: the same bytes again
		expect(r.commands.slice(3, 5).map((c) => c.out)).toEqual([want, want]);
		expect(r.state).toBe(3);
	});

	it("every rule exercised, and C agrees with the spec (CDBs, data out, context) on each case and on 500 random answers", () => {
		expect(runWitnesses(set, model, { plugin }).cases).toBeGreaterThan(0);
		runRandom(set, model, { checks: 500, paths: 5, sequence: 10, seed: 20261202, plugin });
	});
});
