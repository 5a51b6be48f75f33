// The check-cycle part of the benchmark report (report.ts) on synthetic
// figures: the target (≤ 2× the SG_IO loop, stretch 1.3×), the rows of the
// checker against each floor, kept-alive bare workers included, and the
// explanation of a missed stretch (against the bare pool of threads); figures of runs from before sg-cycle had
// --workers still render, without those rows.
//
// Run: npx vitest run native-tests/bench/report.test.ts
import { describe, expect, it } from "vitest";
import type { CycleFigures, VariantRound } from "./analyse.ts";
import { cycleMiss, cycleRounds, cycleRows, TARGETS } from "./report.ts";
import type { Spread } from "./stats.ts";
import { PATHS, type Variant } from "./vm-cycle.ts";

const at = (median: number): Spread => ({ median, min: median, max: median, n: 3 });

/** Figures whose every round has these wall times (ms per cycle); CPU half of it. */
/** withWorkers false: the figures of a run before sg-cycle had --workers (and --pool, and the runner RUNNER_BATCH_WORKERS) */
function figures(wall: Record<Variant, number>, withWorkers = true): CycleFigures {
  const vs = (Object.keys(wall) as Variant[]).filter((v) => withWorkers || !["workers", "pool", "unbatched"].includes(v));
  const round = Object.fromEntries(vs.map((v) => [v, { wallMs: wall[v], cpuMs: wall[v] / 2, hwmDeltaKb: 0, setupKb: 0 } satisfies VariantRound])) as Record<Variant, VariantRound>;
  const per = (f: (v: Variant) => number) => Object.fromEntries(vs.map((v) => [v, at(f(v))])) as Record<Variant, Spread>;
  const ratios = () => ({
    checkerLoop: at(wall.checker / wall.loop),
    checkerThreads: at(wall.checker / wall.threads),
    threadsLoop: at(wall.threads / wall.loop),
    checkerPerCheck: at(wall.checker / wall.perCheck),
    perCheckLoop: at(wall.perCheck / wall.loop),
    ...(withWorkers
      ? {
          checkerWorkers: at(wall.checker / wall.workers),
          workersLoop: at(wall.workers / wall.loop),
          checkerUnbatched: at(wall.checker / wall.unbatched),
          unbatchedLoop: at(wall.unbatched / wall.loop),
          poolLoop: at(wall.pool / wall.loop),
          checkerPool: at(wall.checker / wall.pool),
        }
      : {}),
  });
  return {
    rounds: [round, round, round],
    wallMs: per((v) => wall[v]),
    cpuMs: per((v) => wall[v] / 2),
    wallRatio: ratios(),
    cpuRatio: ratios(),
    hwmDeltaKb: per(() => 0),
    setupKb: per(() => 0),
    unitAttentions: PATHS,
    cyclesPerRound: 5,
    clocksource: "tsc",
    vmCpus: "1",
  };
}

// per path: the loop 10 µs, the workers 16 µs, the checker 20 µs (2×): the wake-up is 6 of its 10 µs over the loop
const MS = (usPerPath: number) => (usPerPath * PATHS) / 1000;
// the pool 11 µs (1.10×), the RUNNER_BATCH_WORKERS=0 build 25 µs (2.50×; the checker 0.80× of it)
const WALL: Record<Variant, number> = { loop: MS(10), threads: MS(40), workers: MS(16), pool: MS(11), checker: MS(20), unbatched: MS(25), perCheck: MS(60) };

describe("the check cycle in the benchmark report", () => {
  it("targets ≤ 2× the SG_IO loop, with the stretch 1.3× named", () => {
    expect(TARGETS.cycle).toBe(2);
    expect(TARGETS.cycleStretch).toBe(1.3);
    const row = cycleRows(figures(WALL))[0]!;
    expect(row.what).toMatch(/^Check cycle over 1024 scsi_debug LUNs/);
    expect(row.target).toBe("≤ 2× (stretch 1.3×)");
    expect(row.ratio).toBe("2.00×");
    expect(row.verdict).toBe("met");
    expect(cycleRows(figures({ ...WALL, checker: MS(21) }))[0]!.verdict).toBe("missed");
  });

  it("has the checker against kept-alive bare workers, and the workers against the loop", () => {
    const rows = cycleRows(figures(WALL));
    const workers = rows.find((r) => r.what.includes("against kept-alive bare workers"))!;
    expect(workers.ratio).toBe("1.25×");
    expect(workers.floor).toMatch(/waiting on its semaphore.*posts back: 16\.4 ms$/);
    expect(rows.find((r) => r.what.includes("bare workers against the SG_IO loop"))!.ratio).toBe("1.60×");
  });

  it("has the checker against its RUNNER_BATCH_WORKERS=0 build, the shared pool against the loop, and the checker against the pool", () => {
    const rows = cycleRows(figures(WALL));
    const unbatched = rows.find((r) => r.what.includes("RUNNER_BATCH_WORKERS=0"))!;
    expect(unbatched.ratio).toBe("0.80×");
    expect(unbatched.floor).toBe("RUNNER_BATCH_WORKERS=0 build: 25.6 ms (2.50× the SG_IO loop)");
    const pool = rows.find((r) => r.what.includes("threads sharing one queue"))!;
    expect(pool.what).toMatch(/^… 4 bare threads sharing one queue/);
    expect(pool.ratio).toBe("1.10×");
    expect(pool.measured).toMatch(/takes paths until the queue is empty: 11\.3 ms$/);
    const framework = rows.find((r) => r.what.includes("what the runner framework adds to a pool"))!;
    expect(framework.ratio).toBe("1.82×");
    expect(framework.floor).toBe("11.3 ms");
  });

  it("explains a missed stretch with the pool's floor and what the framework adds to it", () => {
    const text = cycleMiss(figures(WALL))!;
    expect(text).toMatch(/^\*\*Check cycle: 2\.00× of the SG_IO loop \(target ≤ 2×: met; stretch ≤ 1\.3×: missed\)\.\*\*/);
    expect(text).toContain("4 bare threads sharing one queue (the same scheme with nothing of the framework around it) take 1.10× the loop, and the checker 1.82× those threads");
    expect(text).toContain("take 1.60× the loop: a wake-up and a context switch per check, which the pool saves");
    expect(text).toContain("That is 0.33× the same host built with a thread per check");
    expect(cycleMiss(figures({ ...WALL, checker: MS(30) }))).toMatch(/target ≤ 2×: missed; stretch/);
    expect(cycleMiss(figures({ ...WALL, checker: MS(13) }))).toBeUndefined();
    // the caller's sweeps, where the figures have them
    expect(text).not.toContain("sweeps");
    const S = (median: number, min = median, max = median) => ({ median, min, max, n: 3 });
    const polled = { ...figures(WALL), checkerPolling: { startMs: S(0.64, 0.6, 0.7), sweeps: S(3, 3, 6), sweepMs: S(4.83, 2.5, 5.1) } };
    expect(cycleMiss(polled, 1000)).toContain(
      "The checker's caller starts every path's check in 0.64 ms (0.60–0.70), then sleeps between sweeps of the checks in flight, " +
        "as multipathd polls its pending paths: 3 (3–6) sweeps a cycle, one every 4.8 ms (2.5–5.1) (it asks for 1000 µs; the pool's threads hold the one vCPU meanwhile)",
    );
  });

  it("renders the figures of a run without kept-alive workers", () => {
    const old = figures(WALL, false);
    const rows = cycleRows(old);
    expect(rows.some((r) => r.what.includes("workers"))).toBe(false);
    expect(rows.some((r) => r.what.includes("one queue"))).toBe(false);
    expect(cycleMiss(old)).not.toContain("Kept-alive");
    expect(cycleMiss(old)).not.toContain("SCHED_BATCH");
    expect(cycleRounds(old).split("\n")[2]).toContain("| 10.2 (5.1) | 41.0 (20.5) | – | – | 20.5 (10.2) | – | 61.4 (30.7) |");
    expect(cycleRounds(figures(WALL)).split("\n")[2]).toContain("| 16.4 (8.2) | 11.3 (5.6) | 20.5 (10.2) | 25.6 (12.8) | 61.4 (30.7) | 2.00× | 0.50× | 1.25× | 0.33× |");
  });
});
