// The generated checkers and frameworks under valgrind: random answers
// through the checker host (runner threads, plugins loaded with dlopen),
// no invalid access, no uninitialised read, no leak.
import { beforeAll, describe, expect, it } from "vitest";
import { embeddedSpecs } from "../../generator/generate.ts";
import { loadSpecs } from "../../generator/load.ts";
import { checkerForTarget } from "../../generator/model/init-view.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { buildNativeSet, type NativeSet } from "../support/build.ts";
import { runRandom } from "./agreement.ts";

// the 0.15 plugins run: each model as 0.15 sees it (rdac's init at the first check)
const models = (await loadSpecs(embeddedSpecs())).filter((m): m is CheckerModel => m.kind === "checker").map((m) => checkerForTarget(m, "0.15"));
const VALGRIND = [
	"valgrind",
	"--quiet",
	"--error-exitcode=99",
	"--leak-check=full",
	"--errors-for-leak-kinds=definite,indirect,possible",
	"--track-origins=yes",
];

let set: NativeSet;
beforeAll(() => {
	set = buildNativeSet({ compiler: "gcc" });
});

describe.each(models.map((m) => ({ name: m.name, m })))("$name checker under valgrind", ({ m }) => {
	it("300 random checks and checks in sequence: no error, no leak", () => {
		const r = runRandom(set, m, { checks: 300, paths: 5, sequence: 10, seed: 7, wrapper: VALGRIND });
		expect(r.cases).toBe(350);
	});
	it("the same inline (sync mode)", () => {
		const r = runRandom(set, m, { checks: 100, seed: 8, sync: true, wrapper: VALGRIND });
		expect(r.cases).toBe(100);
	});
});
