// The outcome tables of every embedded checker spec, in simulated SG_IO:
// cases derived from the spec's rules and thousands of random answers, each
// run through the generated C module (as multipathd 0.15 loads it) and the
// TS interpretation of the spec, which must agree every time. Built with
// clang and gcc; once under UBSan and once under ASan.
import { beforeAll, describe, expect, it } from "vitest";
import { embeddedSpecs } from "../../generator/generate.ts";
import { loadSpecs } from "../../generator/load.ts";
import { checkerForTarget } from "../../generator/model/init-view.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { buildNativeSet, type NativeSet, type Toolchain } from "../support/build.ts";
import { runRandom, runWitnesses } from "./agreement.ts";

// the C is 0.15's: each model as 0.15 sees a checker's init (rdac's runs at the first check)
const models = (await loadSpecs(embeddedSpecs())).filter((m): m is CheckerModel => m.kind === "checker").map((m) => checkerForTarget(m, "0.15"));
const SEED = Number(process.env.MPCHECKGEN_SEED ?? 20261125);
const SANITIZER_ENV = {
	UBSAN_OPTIONS: "halt_on_error=1:print_stacktrace=1",
	ASAN_OPTIONS: "detect_leaks=1:halt_on_error=1",
};

const TOOLCHAINS: { label: string; tc: Toolchain; random: number }[] = [
	{ label: "clang", tc: { compiler: "clang" }, random: 3000 },
	{ label: "gcc", tc: { compiler: "gcc" }, random: 3000 },
	{ label: "clang UBSan", tc: { compiler: "clang", sanitize: "undefined" }, random: 1000 },
	{ label: "gcc ASan", tc: { compiler: "gcc", sanitize: "address" }, random: 1000 },
];

it("the embedded specs include checkers", () => {
	expect(models.map((m) => m.name)).toContain("tur");
});

describe.each(TOOLCHAINS)("$label build", ({ tc, random }) => {
	let set: NativeSet;
	beforeAll(() => {
		set = buildNativeSet(tc);
	});
	describe.each(models.map((m) => ({ name: m.name, m })))("$name checker", ({ m }) => {
		it("every rule of the spec is exercised, and C agrees with the spec on each case", () => {
			const r = runWitnesses(set, m, { env: SANITIZER_ENV });
			console.log(`${m.name} (${tc.compiler}${tc.sanitize ? ` ${tc.sanitize}` : ""}): ${r.cases} rule cases over ${r.rules} rules agree`);
			expect(r.cases).toBeGreaterThanOrEqual(r.rules);
		});
		it(`C agrees with the spec on ${random} random answers, and on checks in sequence`, () => {
			const r = runRandom(set, m, { checks: random, paths: 20, sequence: 10, seed: SEED, env: SANITIZER_ENV });
			console.log(`${m.name} (${tc.compiler}${tc.sanitize ? ` ${tc.sanitize}` : ""}): ${r.cases} random cases agree (seed ${SEED})`);
			expect(r.cases).toBe(random + 200);
		});
		it("checks run inline (sync mode) agree as well", () => {
			const r = runRandom(set, m, { checks: 300, seed: SEED + 1, sync: true, env: SANITIZER_ENV });
			expect(r.cases).toBe(300);
		});
	});
});
