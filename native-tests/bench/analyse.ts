// Turns the raw outputs of the benchmark programs into the figures of the
// report: every comparison is a ratio of two measurements taken side by
// side in the same run (the same process, repetition by repetition, or the
// same VM boot, round by round), summarised as median (min–max).
import type { ScenarioResults } from "../vm/scenario.ts";
import { assertScenarioOk, getStep } from "../vm/scenario.ts";
import { pairedRatios, spread, type Spread } from "./stats.ts";
import {
  CLOCKSOURCE_LABEL,
  PATHS,
  programRun,
  runLabel,
  STORM_LABELS,
  VARIANTS,
  type CycleRecord,
  type ProgramRun,
  type Variant,
  type VmBenchOptions,
} from "./vm-cycle.ts";

// ------------------------------------------------------------ runner round trip

interface RunnerSamples {
  ops: number;
  wall: number[];
  cpu: number[];
  polls: number[];
}

/** What runner-bench prints. */
export interface RunnerBenchOutput {
  runnerStack: number;
  runnerGuard: number;
  runnerSequential: RunnerSamples;
  pthreadSequential: RunnerSamples;
  runnerInFlight: RunnerSamples;
  pthreadInFlight: RunnerSamples;
  persistentSequential: RunnerSamples;
  persistentInFlight: RunnerSamples;
}

export interface RoundTrip {
  /** µs per round trip (per runner when in flight) */
  wallUs: Spread;
  cpuUs: Spread;
  floorWallUs: Spread;
  floorCpuUs: Spread;
  wallRatio: Spread;
  cpuRatio: Spread;
  /** check_runner() calls per round trip */
  polls: Spread;
  ops: number;
  reps: number;
}

function roundTrip(r: RunnerSamples, p: RunnerSamples): RoundTrip {
  const per = (xs: number[], ops: number) => xs.map((x) => (x / ops) * 1e6);
  return {
    wallUs: spread(per(r.wall, r.ops)),
    cpuUs: spread(per(r.cpu, r.ops)),
    floorWallUs: spread(per(p.wall, p.ops)),
    floorCpuUs: spread(per(p.cpu, p.ops)),
    wallRatio: spread(pairedRatios(r.wall, p.wall)),
    cpuRatio: spread(pairedRatios(r.cpu, p.cpu)),
    polls: spread(r.polls.map((n) => n / r.ops)),
    ops: r.ops,
    reps: r.wall.length,
  };
}

export interface RunnerFigures {
  sequential: RoundTrip;
  inFlight: RoundTrip;
  /** the same round trips through persistent runners (their threads kept alive), against the same pthread floor */
  persistentSequential: RoundTrip;
  persistentInFlight: RoundTrip;
  stack: number;
  guard: number;
}

export function analyseRunner(out: RunnerBenchOutput): RunnerFigures {
  return {
    sequential: roundTrip(out.runnerSequential, out.pthreadSequential),
    inFlight: roundTrip(out.runnerInFlight, out.pthreadInFlight),
    persistentSequential: roundTrip(out.persistentSequential, out.pthreadSequential),
    persistentInFlight: roundTrip(out.persistentInFlight, out.pthreadInFlight),
    stack: out.runnerStack,
    guard: out.runnerGuard,
  };
}

// ------------------------------------------------------------ struct sizes

/** What layout prints: bytes. */
export interface Layout {
  runnerData: number;
  runnerContext: number;
  asyncCheckerContext: number;
  checker: number;
  maxNrTimeouts: number;
  runnerStackSize: number;
  pthreadStackMin: number;
  runnerStack: number;
  /** libcheck_async_context_size of the TUR plugin */
  contextSize: number;
}

// ------------------------------------------------------------ check cycles

export interface VariantRound {
  /** median over the process's measured cycles, ms */
  wallMs: number;
  cpuMs: number;
  /** VmHWM − VmRSS after opening the devices (and initialising the checkers), kB */
  hwmDeltaKb: number;
  /** VmRSS after opening (and initialising) − before, kB */
  setupKb: number;
}

/**
 * checker: persistent runners; unbatched: their RUNNER_BATCH_WORKERS=0
 * build; perCheck: the ASYNC_THREAD_PER_CHECK build; workers: kept-alive
 * bare workers; pool: a few bare threads sharing a queue
 */
export interface CycleRatios {
  checkerLoop: Spread;
  checkerThreads: Spread;
  threadsLoop: Spread;
  checkerPerCheck: Spread;
  perCheckLoop: Spread;
  /** absent in the figures of runs before sg-cycle had --workers */
  checkerWorkers?: Spread;
  workersLoop?: Spread;
  /** absent in the figures of runs before the SCHED_BATCH workers (RUNNER_BATCH_WORKERS) and sg-cycle's --pool */
  checkerUnbatched?: Spread;
  unbatchedLoop?: Spread;
  poolLoop?: Spread;
  /** the checker against the bare threads sharing one queue: what the framework adds to a pool */
  checkerPool?: Spread;
}

export interface CycleFigures {
  rounds: Record<Variant, VariantRound>[];
  wallMs: Record<Variant, Spread>;
  cpuMs: Record<Variant, Spread>;
  /** checker / loop, checker / threads, threads / loop …: per round */
  wallRatio: CycleRatios;
  cpuRatio: CycleRatios;
  hwmDeltaKb: Record<Variant, Spread>;
  setupKb: Record<Variant, Spread>;
  /**
   * The checker's caller in its measured cycles (every round): the time to
   * start every path's check, its sweeps of the checks in flight per cycle,
   * and the time between two sweeps. Absent in the figures of earlier runs.
   */
  checkerPolling?: { startMs: Spread; sweeps: Spread; sweepMs: Spread };
  /** unit attentions consumed before measuring */
  unitAttentions: number;
  cyclesPerRound: number;
  clocksource: string;
  vmCpus: string;
}

function checkAllUp(run: ProgramRun, c: CycleRecord): void {
  if (c.all !== "up") throw run.error(`cycle ${c.cycle}: not every path answered GOOD / UP (${JSON.stringify(c.states ?? { good: c.good, notGood: c.notGood })})`);
}

/** What the checker's caller did in its cycles (CycleFigures.checkerPolling); undefined if it never swept. */
function polling(cycles: readonly CycleRecord[]): CycleFigures["checkerPolling"] {
  const swept = cycles.filter((c) => (c.sweeps ?? 0) > 0);
  if (swept.length === 0) return undefined;
  return {
    startMs: spread(cycles.map((c) => c.startMs ?? 0)),
    sweeps: spread(cycles.map((c) => c.sweeps ?? 0)),
    sweepMs: spread(swept.map((c) => (c.wallMs - (c.startMs ?? 0)) / c.sweeps!)),
  };
}

export function analyseCycles(results: ScenarioResults, o: VmBenchOptions): CycleFigures {
  const r = results.require("check cycles");
  assertScenarioOk(r);
  const clear = getStep(r, "clear unit attentions").data as { unitAttentions: number; neverGood: number }[];
  if (!clear[0] || clear[0].neverGood !== 0) throw new Error(`the unit attentions could not be cleared: ${JSON.stringify(clear)}`);
  const rounds: Record<Variant, VariantRound>[] = [];
  const polled: CycleRecord[] = [];
  for (let i = 1; i <= o.rounds; i++) {
    const round = {} as Record<Variant, VariantRound>;
    for (const v of VARIANTS) {
      const run = programRun(r, runLabel(v, i));
      const cycles = run.measured;
      if (cycles.length !== o.cycles) throw run.error(`${cycles.length} measured cycles, expected ${o.cycles}`);
      for (const c of run.cycles) checkAllUp(run, c);
      const last = run.cycles.at(-1)!;
      if (v === "checker") polled.push(...cycles);
      round[v] = {
        wallMs: spread(cycles.map((c) => c.wallMs)).median,
        cpuMs: spread(cycles.map((c) => c.cpuMs)).median,
        hwmDeltaKb: last.hwmKb - run.started.rssKb,
        setupKb: run.started.rssKb - run.started.rssBeforeKb,
      };
    }
    rounds.push(round);
  }
  const per = (f: (x: VariantRound) => number) =>
    Object.fromEntries(VARIANTS.map((v) => [v, spread(rounds.map((x) => f(x[v])))])) as Record<Variant, Spread>;
  const ratio = (f: (x: VariantRound) => number, a: Variant, b: Variant) =>
    spread(pairedRatios(
      rounds.map((x) => f(x[a])),
      rounds.map((x) => f(x[b])),
    ));
  const ratios = (f: (x: VariantRound) => number) => ({
    checkerLoop: ratio(f, "checker", "loop"),
    checkerThreads: ratio(f, "checker", "threads"),
    threadsLoop: ratio(f, "threads", "loop"),
    checkerPerCheck: ratio(f, "checker", "perCheck"),
    perCheckLoop: ratio(f, "perCheck", "loop"),
    checkerWorkers: ratio(f, "checker", "workers"),
    workersLoop: ratio(f, "workers", "loop"),
    checkerUnbatched: ratio(f, "checker", "unbatched"),
    unbatchedLoop: ratio(f, "unbatched", "loop"),
    poolLoop: ratio(f, "pool", "loop"),
    checkerPool: ratio(f, "checker", "pool"),
  });
  const cs = getStep(r, CLOCKSOURCE_LABEL).output;
  return {
    rounds,
    wallMs: per((x) => x.wallMs),
    cpuMs: per((x) => x.cpuMs),
    wallRatio: ratios((x) => x.wallMs),
    cpuRatio: ratios((x) => x.cpuMs),
    hwmDeltaKb: per((x) => x.hwmDeltaKb),
    setupKb: per((x) => x.setupKb),
    checkerPolling: polling(polled),
    unitAttentions: clear[0].unitAttentions,
    cyclesPerRound: o.cycles,
    clocksource: cs[0] ?? "?",
    vmCpus: cs[1] ?? "?",
  };
}

// ------------------------------------------------------------ timeout storm

export interface StormCycle {
  cycle: number;
  /** s since the devices stopped answering */
  atS: number;
  wallMs: number;
  cpuMs: number;
  startMs: number;
  startCpuMs: number;
  sweeps: number;
  /** checks that went PENDING (runners started or still held) */
  pending: number;
  states: Record<string, number>;
  threadsStart: number;
  threadsPeak: number;
  threadsEnd: number;
  sampleMs: number;
  sampleCpuMs: number;
}

export interface StormFigures {
  /** the normal cycles of the same host before the storm: medians */
  normalWallMs: number;
  normalCpuMs: number;
  normalCycles: number;
  /** the first cycle in which every check timed out */
  first: StormCycle;
  /** every cycle from the first timeout until every path is UP again */
  cycles: StormCycle[];
  peakThreads: number;
  peakPerPath: number;
  /** threads at the end of the storm, when the devices answered again */
  threadsWhenAnswering: number;
  /** threads of the checkers without a storm: the most the pool kept at the end of a cycle before it, else 0 */
  baseline: number;
  /** s after opts=0: the last observation of a thread above the baseline, and the first back at it */
  zeroAfterS: { lastSeenS: number; goneS: number } | null;
  /** s from the start of the last check that got stuck (before opts=0) until no thread was left */
  stuckLifeS: number | null;
  /** cycles after opts=0 that reported more TIMEOUTs than threads were alive at their start */
  deadTimeoutCycles: StormCycle[];
  /** s after opts=0 until the first cycle in which every path is UP */
  upAgainS: number | null;
  cyclesUntilUp: number;
  threadsAtExit: number | null;
  /** memory per thread at the peak of the storm: user RSS, kernel stack, kB */
  rssPerThreadKb: number;
  kstackPerThreadKb: number;
  pollUs: number;
  timeoutS: number;
}

export function analyseStorm(results: ScenarioResults, o: VmBenchOptions): StormFigures {
  const r = results.require("timeout storm");
  assertScenarioOk(r);
  const run = programRun(r, STORM_LABELS.host);
  const ignoreT = getStep(r, STORM_LABELS.ignore).endT;
  const answerT = getStep(r, STORM_LABELS.answer).endT;
  if (ignoreT === null || answerT === null) throw run.error("the opts writes did not end");
  const cycles = run.cycles;
  const before = cycles.filter((c) => run.clock(c.t) < ignoreT);
  const normal = before.filter((c) => c.all === "up");
  if (normal.length === 0) throw run.error("no normal cycle before the storm");
  const toStorm = (c: CycleRecord): StormCycle => ({
    cycle: c.cycle,
    atS: (run.clock(c.t) - ignoreT) / 1000,
    wallMs: c.wallMs,
    cpuMs: c.cpuMs,
    startMs: c.startMs ?? 0,
    startCpuMs: c.startCpuMs ?? 0,
    sweeps: c.sweeps ?? 0,
    pending: c.pending ?? 0,
    states: c.states ?? {},
    threadsStart: c.threadsStart ?? -1,
    threadsPeak: c.threadsPeak ?? -1,
    threadsEnd: c.threadsEnd ?? -1,
    sampleMs: c.sampleMs ?? 0,
    sampleCpuMs: c.sampleCpuMs ?? 0,
  });
  const firstIdx = cycles.findIndex((c) => c.all === "timeout");
  if (firstIdx < 0) throw run.error("no cycle in which every check timed out");
  const upIdx = cycles.findIndex((c, i) => i > firstIdx && run.clock(c.t) >= answerT && c.all === "up");
  const storm = cycles.slice(firstIdx, upIdx < 0 ? undefined : upIdx + 1).map(toStorm);
  const peak = Math.max(...cycles.map((c) => c.threadsPeak ?? 0), run.end("finished")?.maxThreads ?? 0);
  const peakCycle = cycles.reduce((a, c) => ((c.threadsPeak ?? 0) > (a.threadsPeak ?? 0) ? c : a));
  const lastStormCycle = cycles.filter((c) => run.clock(c.t) < answerT).at(-1)!;

  // when was the last stuck thread gone? Observations without new runners
  // in them: the gaps between cycles (every 5 ms) and each cycle's start;
  // a cycle's end counts only when it sees none at all.
  const obs: { t: number; n: number }[] = [];
  for (const rec of run.records) {
    if (rec.event === "gap") {
      const g = rec as { t: number; ms: number; threadsStart: number; threadsEnd: number; zeroT?: number };
      obs.push({ t: run.clock(g.t), n: g.threadsStart });
      if (g.zeroT !== undefined) obs.push({ t: run.clock(g.zeroT), n: 0 });
      else obs.push({ t: run.clock(g.t + g.ms), n: g.threadsEnd });
    } else if (rec.event === "cycle") {
      const c = rec as CycleRecord;
      obs.push({ t: run.clock(c.t), n: c.threadsStart ?? -1 });
      if (c.threadsEnd === 0) obs.push({ t: run.clock(c.t + c.wallMs), n: 0 });
    }
  }
  obs.sort((a, b) => a.t - b.t);
  // the idle baseline: the threads the pool kept at the end of the cycles
  // before the storm (the storm runs the build with a short
  // RUNNER_IDLE_USEC, so that the threads the storm added can be seen to end)
  const baseline = o.persistent ? Math.max(0, ...normal.map((c) => c.threadsEnd ?? 0)) : 0;
  const gone = obs.find((x) => x.t >= answerT && x.n >= 0 && x.n <= baseline);
  const lastSeen = gone ? obs.filter((x) => x.t < gone.t && x.n > baseline).at(-1) : undefined;
  // user memory: against the last cycle before the storm (stacks cached, heap grown)
  const startRss = normal.at(-1)!.rssKb;
  const lastStuck = cycles.filter((c) => run.clock(c.t) < answerT && (c.pending ?? 0) > 0 && c.all === "timeout").at(-1);
  const afterAnswer = storm.filter((c) => c.atS * 1000 + ignoreT >= answerT);
  const startKstack = run.started.kstackKb ?? 0;
  return {
    normalWallMs: spread(normal.map((c) => c.wallMs)).median,
    normalCpuMs: spread(normal.map((c) => c.cpuMs)).median,
    normalCycles: normal.length,
    first: storm[0]!,
    cycles: storm,
    peakThreads: peak,
    peakPerPath: peak / PATHS,
    threadsWhenAnswering: lastStormCycle.threadsEnd ?? -1,
    zeroAfterS: gone ? { lastSeenS: lastSeen ? (lastSeen.t - answerT) / 1000 : 0, goneS: (gone.t - answerT) / 1000 } : null,
    stuckLifeS: gone && lastStuck ? (gone.t - run.clock(lastStuck.t + (lastStuck.startMs ?? 0))) / 1000 : null,
    // a path whose check is stuck has a thread: more TIMEOUTs than threads means paths with none
    deadTimeoutCycles: afterAnswer.filter((c) => (c.states.timeout ?? 0) > c.threadsStart),
    upAgainS: upIdx < 0 ? null : (run.clock(cycles[upIdx]!.t + cycles[upIdx]!.wallMs) - answerT) / 1000,
    cyclesUntilUp: upIdx < 0 ? -1 : cycles.filter((c, i) => i <= upIdx && run.clock(c.t) >= answerT).length,
    threadsAtExit: run.end("exit")?.threads ?? null,
    baseline,
    rssPerThreadKb: ((peakCycle.peakRssKb ?? startRss) - startRss) / Math.max(1, peakCycle.threadsPeak ?? 1),
    kstackPerThreadKb: ((peakCycle.peakKstackKb ?? startKstack) - startKstack) / Math.max(1, peakCycle.threadsPeak ?? 1),
    pollUs: o.pollUs,
    timeoutS: o.timeoutS,
  };
}

// ------------------------------------------------------------ generator

export interface GeneratorFigures {
  /** `mpcheckgen generate` of every embedded spec, whole-process wall time, s */
  wallS: Spread;
  /** the first run, not counted (cold caches) */
  firstS: number;
  files: number;
  /** `node -e 0`, whole process, s: the floor of the CLI figures */
  nodeS: Spread;
  /** `mpcheckgen --help`, whole process, s */
  helpS: Spread;
  /** --help against `node -e 0`, round by round */
  helpRatio: Spread;
  /** `mpcheckgen validate specs/tur.ts` (type check and model rules), whole process, s */
  validateS: Spread;
  /**
   * The same two with the specs' caches empty (a fresh $MPCHECKGEN_CACHE,
   * V8's code cache of the dependencies copied in): what a changed spec costs
   */
  generateColdS?: Spread;
  validateColdS?: Spread;
}
