// The benchmark programs stay buildable and correct; nothing here measures
// anything (the benchmarks themselves run with `npm run bench`, never in
// `npm test`). Built with clang and gcc under upstream's -Werror flags,
// clang-format clean, and each one prints what bench.ts parses.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BENCH_C_SOURCES, buildBenchPrograms } from "./programs.ts";

function run(cmd: string, args: string[]) {
  return spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
}

it.each(BENCH_C_SOURCES)("%s is clang-format-19 clean", (file) => {
  const r = run("clang-format-19", ["--dry-run", "--Werror", file]);
  expect(r.stderr, r.stderr).toBe("");
  expect(r.status).toBe(0);
});

describe.each(["clang", "gcc"] as const)("%s build", (compiler) => {
  // compile() runs with -Werror: building is the warning check
  const p = buildBenchPrograms(compiler);

  it("runner-bench reports both sides of every repetition", () => {
    const r = run(p.runnerBench, ["-n", "20", "-f", "20", "-r", "2"]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, { ops: number; wall: number[]; cpu: number[]; polls: number[] }> & {
      runnerStack: number;
    };
    expect(out.runnerStack).toBeGreaterThanOrEqual(16384);
    for (const k of ["runnerSequential", "pthreadSequential", "runnerInFlight", "pthreadInFlight", "persistentSequential", "persistentInFlight"]) {
      expect(out[k]!.ops).toBe(20);
      expect(out[k]!.wall).toHaveLength(2);
      expect(out[k]!.cpu).toHaveLength(2);
    }
    // every runner round trip polls at least once
    expect(Math.min(...out.runnerSequential!.polls)).toBeGreaterThanOrEqual(20);
    expect(Math.min(...out.persistentSequential!.polls)).toBeGreaterThanOrEqual(20);
    expect(run(p.runnerBench, ["-n", "0"]).status).toBe(2);
    // one part alone, for strace -f -c
    for (const [part, ops] of [["persistentSequential", 20], ["persistentInFlight", 7]] as const) {
      const one = run(p.runnerBench, ["-o", part, "-n", "20", "-f", "7", "-r", "3"]);
      expect(one.status, one.stderr).toBe(0);
      const parsed = JSON.parse(one.stdout) as Record<string, { ops: number; wall: number[] }>;
      expect(Object.keys(parsed)).toEqual([part]);
      expect(parsed[part]!.ops).toBe(ops);
      expect(parsed[part]!.wall).toHaveLength(3);
    }
    expect(run(p.runnerBench, ["-o", "nothing"]).status).toBe(2);
  });

  it("layout gives the framework's struct sizes and the plugin's context size", () => {
    const r = run(p.layout, [p.set.plugin("tur")]);
    expect(r.status, r.stderr).toBe(0);
    // the 0.15 ABI: runner_data is 48 bytes before the checker's context
    expect(JSON.parse(r.stdout)).toMatchObject({ runnerData: 48, maxNrTimeouts: 1, contextSize: 0 });
    const alua = JSON.parse(run(p.layout, [p.set.plugin("alua")]).stdout) as { contextSize: number };
    expect(alua.contextSize).toBeGreaterThan(0);
  });

  it("sg-cycle runs its cycles in every mode and fails --clear-ua on a non-SCSI file", () => {
    for (const [mode, name] of [[[], "loop"], [["--threads"], "threads"], [["--workers"], "workers"]] as const) {
      const r = run(p.sgCycle, [...mode, "--cycles", "2", "--warmup", "1", "/dev/null", "/dev/zero"]);
      expect(r.status, r.stderr).toBe(0);
      const recs = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { event: string; mode?: string; warmup?: boolean; all?: string; notGood?: number });
      expect(recs.map((x) => x.event)).toEqual(["started", "cycle", "cycle", "cycle", "finished"]);
      expect(recs[0]!.mode).toBe(name);
      expect(recs.filter((x) => x.event === "cycle").map((x) => x.warmup)).toEqual([true, false, false]);
      // SG_IO on /dev/null fails: never GOOD
      expect(recs[1]).toMatchObject({ all: "mixed", notGood: 2 });
    }
    const clear = run(p.sgCycle, ["--clear-ua", "/dev/null"]);
    expect(clear.status).toBe(1);
    expect(JSON.parse(clear.stdout)).toMatchObject({ event: "clear-ua", paths: 1, neverGood: 1 });
    expect(run(p.sgCycle, ["/nonexistent"]).status).toBe(2);
  });
});
