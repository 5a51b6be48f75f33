// The benchmark's VM cycle reads every cycle record a program printed, or
// fails with "trace incomplete: cycle N missing" (the programs number their
// cycles 1, 2, … and give the count in their finished record).
import { describe, expect, it } from "vitest";
import type { VmRecord } from "../vm/records.ts";
import { collectResults } from "../vm/scenario.ts";
import { PATHS, programRun } from "./vm-cycle.ts";

const S = "check cycles";
const LABEL = "checker #1";

function result(data: object[]) {
  const steps = [{ index: 0, label: LABEL, kind: "bench", required: true, command: "" }];
  const rec = (o: Record<string, unknown>): VmRecord => ({ scenario: S, step: 0, label: LABEL, ...o, event: String(o.event) });
  const records: VmRecord[] = [rec({ event: "step-begin", t: 0 }), ...data.map((d) => rec({ event: "data", data: d })), rec({ event: "step-end", status: 0 })];
  return collectResults([{ name: S, steps }], records).get(S)!;
}

const started = { event: "started", mode: "checker", paths: PATHS, clock: 1000, rssBeforeKb: 0, rssKb: 0, hwmKb: 0 };
const cycle = (n: number) => ({ event: "cycle", cycle: n, warmup: n === 1, t: n * 10, wallMs: 5, cpuMs: 1, all: "up", rssKb: 0, hwmKb: 0 });
const finished = (cycles: number) => ({ event: "finished", t: 100, cycles });

describe("the VM cycle's program records", () => {
  it("accepts every cycle", () => {
    expect(programRun(result([started, cycle(1), cycle(2), cycle(3), finished(3)]), LABEL).cycles).toHaveLength(3);
  });

  it("fails when the first cycle is missing", () => {
    expect(() => programRun(result([started, cycle(2), cycle(3), finished(3)]), LABEL)).toThrow(/trace incomplete: cycle 1 missing/);
  });

  it("fails on a gap", () => {
    expect(() => programRun(result([started, cycle(1), cycle(3), finished(3)]), LABEL)).toThrow(/trace incomplete: cycle 2 missing/);
  });

  it("fails when the last cycles are missing", () => {
    expect(() => programRun(result([started, cycle(1), finished(3)]), LABEL)).toThrow(/trace incomplete: cycle 2 missing/);
  });
});
