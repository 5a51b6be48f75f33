// The model as a target sees a checker's init (generator/model/init-view.ts):
// the model itself where init can do I/O (0.9), and for 0.15 (init gets
// fd -1) the init states at the first check ("atFirstCheck") or left out
// ("skip"); the view is an ordinary model (no init), which the C, the
// interpreter and the tests read.
import { describe, expect, it } from "vitest";
import { checkCNames } from "../emit/index.ts";
import { interpretCheck } from "../interp/interpret.ts";
import { loadSpec } from "../load.ts";
import { checkerForTarget } from "../model/init-view.ts";
import type { CheckerModel } from "../model/types.ts";

const load = async (f: string) => (await loadSpec(f)) as CheckerModel;
const GOOD = { status: 0, info: 0, data: [] };

describe("the init as a target sees it", () => {
	it("skip: 0.15 leaves the init states out, 0.9 keeps them", async () => {
		const m = await load("native-tests/fixtures/good-specs/init-skip.ts");
		expect(m.init?.states.map((s) => s.key)).toEqual(["sense"]);
		expect(checkerForTarget(m, "0.9")).toBe(m);
		const v = checkerForTarget(m, "0.15");
		expect({ init: v.init, states: v.states.map((s) => s.key), initial: v.initial.key, context: v.context }).toEqual({
			init: null,
			states: ["tur"],
			initial: "tur",
			context: [],
		});
		expect(interpretCheck(v, () => GOOD).commands.map((c) => c.cdb[0])).toEqual([0x00]);
		expect(() => checkCNames([m], "0.15")).not.toThrow();
		expect(() => checkCNames([m], "0.9")).not.toThrow();
	});
	it("atFirstCheck: an initDone field and a start state; the first check runs the init, the next does not", async () => {
		const m = await load("specs/rdac.ts");
		const v = checkerForTarget(m, "0.15");
		expect(checkerForTarget(m, "0.15")).toBe(v);
		expect(v.init).toBeNull();
		expect(v.initial.key).toBe("start");
		expect(v.states.map((s) => s.key)).toEqual(["start", "currentPage", "changeablePage", "select", "inquiry"]);
		expect(v.context.map((f) => [f.key, f.type, f.init])).toEqual([["initDone", "bool", 0]]);
		// every done became a goto to the check's initial state
		const ends = v.states.flatMap((s) => s.rules.map((r) => r.outcome.kind));
		expect(ends).not.toContain("done");
		const first = interpretCheck(v, (cmd) => (cmd.cdb[0] === 0x12 ? { status: 0, info: 0, data: [0, 0xc9, 0, 44, 0, 0, 0, 0, 1, 0, 0, 0, 0] } : { errno: 5 }));
		expect(first.commands.map((c) => c.cdb[0])).toEqual([0x5a, 0x12]);
		expect(first.context.initDone).toBe(1);
		const next = interpretCheck(v, () => ({ errno: 5 }), first.context);
		expect(next.commands.map((c) => c.cdb[0])).toEqual([0x12]);
	});
	it("atFirstCheck beside a state 'start' and a field 'initDone' of the spec's own: 'start2' and 'initDone2'", async () => {
		const m = await load("native-tests/fixtures/good-specs/init-names.ts");
		const v = checkerForTarget(m, "0.15");
		expect(v.initial.key).toBe("start2");
		expect(v.context.map((f) => f.key)).toEqual(["initDone", "initDone2"]);
		const r = interpretCheck(v, () => GOOD);
		expect({ state: r.pathStateName, cdbs: r.commands.map((c) => c.cdb[0]), ctx: r.context }).toEqual({
			state: "PATH_UP",
			cdbs: [0x5a, 0x00],
			ctx: { initDone: 1, initDone2: 1 },
		});
		expect(() => checkCNames([m], "0.15")).not.toThrow();
	});
});
