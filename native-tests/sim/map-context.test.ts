// A map context in a one-state checker (native-tests/fixtures/good-specs/
// mapcontext.ts: a bool and a bounded u8 packed into the map's long, a path
// field copied from one): generated with `mpcheckgen generate`, built against
// simulated SG_IO and checked against a hand-written table of two paths of
// one map (what one path's check sets, the other's sees), and against the
// interpreter on every rule's witnesses and random answers (the path's
// context and the map's compared after every check). And emc_clariion on
// 0.9 (plugin ABI A): two paths of one map driven as multipathd 0.9.4 does,
// libcheck_mp_init() allocating the map's context (native-tests/host/map09.c).
//
// Run: npx vitest run native-tests/sim/map-context.test.ts
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { SimAnswer } from "../../generator/interp/interpret.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { buildNativeSet, type NativeSet } from "../support/build.ts";
import { compile, ROOT } from "../support/cc.ts";
import { runRandom, runWitnesses } from "./agreement.ts";
import { generateGoodSpec, type GoodSpec } from "./good-spec.ts";
import { runSimCases } from "./sim.ts";

const SPEC = "native-tests/fixtures/good-specs/mapcontext.ts";
const PATH = { DOWN: 2, UP: 3, GHOST: 5 } as const;
const GOOD: SimAnswer = { status: 0, info: 0 };
const sense = (key: number): SimAnswer => ({
	status: 0x02,
	driverStatus: 0x08,
	info: 1,
	sense: [0x70, 0, key, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
});
const NOT_READY = 0x2;
const UNIT_ATTENTION = 0x6;
/** The map's long: notReady in bit 0, level in bits 1–8; -1 unset. */
const mpc = (notReady: boolean, level: number) => (notReady ? 1 : 0) | (level << 1);

/** Checks in order on paths a and b of map m (and c of a map of its own). */
const ROWS: { name: string; path: string; map: string; answer: SimAnswer; state: number; mpc: number }[] = [
	{ name: "a: GOOD, UP; level 5 is the initial value: the map stays unset", path: "a", map: "m", answer: GOOD, state: PATH.UP, mpc: -1 },
	{ name: "b: UNIT ATTENTION with level 5: DOWN", path: "b", map: "m", answer: sense(UNIT_ATTENTION), state: PATH.DOWN, mpc: -1 },
	{ name: "a: NOT READY: DOWN, sets notReady and level 9", path: "a", map: "m", answer: sense(NOT_READY), state: PATH.DOWN, mpc: mpc(true, 9) },
	{ name: "b: GOOD sees notReady: GHOST", path: "b", map: "m", answer: GOOD, state: PATH.GHOST, mpc: mpc(true, 9) },
	{ name: "c, another map: GOOD, UP", path: "c", map: "n", answer: GOOD, state: PATH.UP, mpc: -1 },
	{ name: "b: an ioctl error: level 200", path: "b", map: "m", answer: { errno: 5 }, state: PATH.DOWN, mpc: mpc(true, 200) },
	{ name: "a: UNIT ATTENTION sees level 200: UP, clears notReady", path: "a", map: "m", answer: sense(UNIT_ATTENTION), state: PATH.UP, mpc: mpc(false, 200) },
	{ name: "b: GOOD: UP, level 5", path: "b", map: "m", answer: GOOD, state: PATH.UP, mpc: mpc(false, 5) },
];

let model: CheckerModel;
let g: GoodSpec;
let set: NativeSet;
let plugin: string;

beforeAll(async () => {
	g = await generateGoodSpec(SPEC, { allTargets: true });
	model = g.model;
	set = buildNativeSet({ compiler: "clang" });
	plugin = set.simPluginFrom("mapcontext", g.checkerC("0.15"));
});

describe("a map context in a one-state checker", () => {
	it("the generated C gives the hand-written value for every row: the paths of one map share its context", () => {
		const got = runSimCases(
			set,
			"mapcontext",
			ROWS.map((r, i) => ({ id: `r${i}`, path: r.path, map: r.map, answers: [r.answer] })),
			{ plugin },
		);
		expect(got.map((g, i) => `${ROWS[i].name}: ${g.state} ${g.mpc}`)).toEqual(ROWS.map((r) => `${r.name}: ${r.state} ${r.mpc}`));
	});

	it("every rule exercised, and C agrees with the spec (path and map context) on each case and on random answers", () => {
		expect(runWitnesses(set, model, { plugin }).cases).toBeGreaterThan(0);
		runRandom(set, model, { checks: 300, paths: 5, sequence: 10, seed: 20261202, plugin });
	});

	it("0.9: the checker exports libcheck_mp_init, which allocates the map context unset", () => {
		const c = readFileSync(g.checkerC("0.9"), "utf8");
		expect(c).toContain("int libcheck_mp_init(struct checker *c)");
		expect(readFileSync(g.checkerC("0.15"), "utf8")).not.toContain("libcheck_mp_init");
	});
});

describe("emc_clariion on 0.9: two paths of one map, the map context allocated by libcheck_mp_init", () => {
	it("the active path's snapshot makes the passive path DOWN; its good READ clears the flag for both", () => {
		const g = (p: string) => join(ROOT, "generated/0.9", p);
		const host = join(ROOT, "native-tests/host");
		const exe = compile({
			compiler: "gcc",
			kind: "executable",
			name: "map09",
			sources: [join(host, "map09.c"), g("libmultipath/checkers/emc_clariion.c"), g("libmultipath/checkers/sg_answer.c"), g("libmultipath/async_checker.c"), g("libmpathutil/runner.c")],
			includeDirs: [g("target-abi"), g("libmpathutil"), g("libmultipath"), g("libmultipath/checkers"), host],
			ldflags: ["-Wl,--wrap=ioctl", `-L${dirname(set.sgsim)}`, "-lsgsim", `-Wl,-rpath,${dirname(set.sgsim)}`],
			extraInputs: [set.sgsim],
		}).output;
		const r = spawnSync(exe, [], { encoding: "utf8", timeout: 60_000 });
		expect(r.status, r.stderr).toBe(0);
		const got = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { path: string; state: number; mpc: number | string });
		expect(got.map((x) => `${x.path} ${x.state} ${x.mpc}`)).toEqual([
			// a passive path UP: the map's slot allocated, unset
			"passive 3 -1",
			// the active path's READ finds the snapshot: DOWN, the map's flag set
			"active 2 1",
			"passive 2 1",
			// its good READ clears it
			"active 3 0",
			"passive 3 0",
		]);
	});
});
