// What the row-by-row tests of upstream's behaviour tables share
// (*-reference.test.ts): a row is a sequence of answers and the path state,
// message and number of commands upstream ends with; each row goes through
// the interpreter of the spec and, all rows in one run, through the
// generated C (clang, simulated SG_IO). Each test file adds its own checks
// of the commands sent.
import { beforeAll, expect } from "vitest";
import { interpretCheck, type SimAnswer } from "../../generator/interp/interpret.ts";
import { loadSpec } from "../../generator/load.ts";
import { checkerForTarget } from "../../generator/model/init-view.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { buildNativeSet, type NativeSet } from "../support/build.ts";
import { runSimCases, type HostCheck } from "./sim.ts";

export interface ReferenceRow {
	row: string;
	answers: SimAnswer[];
	state: number;
	msgid: number;
	/** Commands sent (the answers beyond them are never asked for). */
	sent: number;
}

/** The spec's model and a clang build, made once for the test file. */
export function referenceChecker(specFile: string): { readonly model: CheckerModel; readonly set: NativeSet } {
	let model: CheckerModel | undefined;
	let set: NativeSet | undefined;
	beforeAll(async () => {
		// the C is 0.15's: the model as 0.15 sees the checker's init
		model = checkerForTarget((await loadSpec(specFile)) as CheckerModel, "0.15");
		set = buildNativeSet({ compiler: "clang" });
	});
	return {
		get model() {
			return model!;
		},
		get set() {
			return set!;
		},
	};
}

/** One row through the interpreter: its state, message and command count; the result for more checks. */
export function interpretRow(model: CheckerModel, row: ReferenceRow): ReturnType<typeof interpretCheck> {
	const r = interpretCheck(model, (_cmd, i) => row.answers[i]);
	expect({ state: r.pathState, msgid: r.msgid, sent: r.commands.length }, row.row).toEqual({ state: row.state, msgid: row.msgid, sent: row.sent });
	return r;
}

/** Every row through the generated C in one run: the same states, messages and command counts; the results for more checks. */
export function runRowsInC(set: NativeSet, checker: string, rows: readonly ReferenceRow[]): HostCheck[] {
	const results = runSimCases(
		set,
		checker,
		rows.map((r, i) => ({ id: `row${i}`, answers: r.answers.slice(0, r.sent) })),
	);
	expect(results.map((r) => ({ state: r.state, msgid: r.msgid, sent: r.commands.length }))).toEqual(rows.map((r) => ({ state: r.state, msgid: r.msgid, sent: r.sent })));
	return results;
}

/** CDB bytes as the checker host prints them. */
export const hex = (b: readonly number[]): string => b.map((x) => x.toString(16).padStart(2, "0")).join("");
