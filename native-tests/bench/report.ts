// The report of a benchmark run: the table (printed, and the head of
// BENCHMARKS.md), then the machine, the commands, the method, the targets
// that were missed with their reasons, and the per-round figures.
import { MPD_CHECKERS, type MpdFigures } from "./mpd-bench.ts";
import type { CycleFigures, GeneratorFigures, Layout, RoundTrip, RunnerFigures, StormCycle, StormFigures } from "./analyse.ts";
import { HOST_BENCH, type HostCycleFigures, type HostStormFigures } from "./host-cycle.ts";
import { fmtRatio, fmtSpread, type Spread } from "./stats.ts";
import { PATHS, POOL_THREADS, type IdleFigures, type VmBenchOptions } from "./vm-cycle.ts";

export interface MachineInfo {
  date: string;
  cpus: number;
  cpuModel: string;
  memGb: number;
  kernel: string;
  node: string;
  compiler: string;
  /** what /sys/module says about KVM on the build machine */
  kvm: string;
  /** the 1-minute load average when the CLI figures were taken (other users of the machine included) */
  loadAvg?: number;
  vm: { accel: string; kernel: string; memoryMb: number; vcpus: string; clocksource: string; bootS: number; runS: number };
}

export interface Commands {
  runnerBench: string;
  layout: string;
  /** workers: absent in the reports of runs before sg-cycle had --workers */
  variants: Record<"loop" | "threads" | "checker" | "perCheck" | "idle", string> & { workers?: string; pool?: string; unbatched?: string };
  storm: string;
  generate: string;
}

export interface Report {
  machine: MachineInfo;
  commands: Commands;
  runner: RunnerFigures;
  runnerArgs: { rounds: number; inFlight: number; reps: number };
  /** the async framework's two modes on the build machine, over simulated SG_IO */
  host: {
    cycles: HostCycleFigures;
    storm: HostStormFigures;
    commands: { persistent: string; perCheck: string; sync: string; idle: string; storm: string };
  };
  layout: Layout;
  cycles: CycleFigures;
  storm: StormFigures;
  vm: VmBenchOptions;
  generator: GeneratorFigures;
  /** the VM's idle build: memory per path with the workers alive and idled out */
  vmIdle: IdleFigures;
  /** Debian's multipathd in the VM (mpd-bench.ts) */
  mpd: MpdFigures;
  totalS: number;
}

export const TARGETS = {
  roundTrip: 1.2,
  /** a persistent runner's round trip against pthread_create + pthread_join (issue 14) */
  persistentRoundTrip: 0.3,
  /** the VM cycle with persistent runners against the thread-per-check build (issue 14) */
  cycleVsPerCheck: 0.25,
  /** the VM check cycle against the SG_IO loop, wall (issue 14: ≤ 2×, stretch 1.3×) */
  cycle: 2,
  cycleStretch: 1.3,
  stormPerPath: 2,
  generateS: 0.5,
  helpRatio: 2,
  validateS: 1,
} as const;

interface Row {
  what: string;
  measured: string;
  floor: string;
  ratio: string;
  target: string;
  verdict: "met" | "missed" | "";
}

const us = (s: Spread) => fmtSpread(s, 1, " µs");
const ms = (s: Spread) => fmtSpread(s, 1, " ms");
const kib = (bytes: number) => `${(bytes / 1024).toFixed(bytes % 1024 ? 1 : 0)} KiB`;
const verdict = (ok: boolean): Row["verdict"] => (ok ? "met" : "missed");
const cell = (s: string) => s.replace(/\|/g, "\\|");

function rows(r: Report): Row[] {
  const { runner, cycles, storm, layout, generator, host } = r;
  const seq = runner.sequential;
  const hc = host.cycles;
  const hs = host.storm;
  const persistentRow = (what: string, rt: RoundTrip, floor: string): Row => ({
    what,
    measured: us(rt.wallUs),
    floor: `${floor}: ${us(rt.floorWallUs)}`,
    ratio: fmtRatio(rt.wallRatio),
    target: `≤ ${TARGETS.persistentRoundTrip}×`,
    verdict: verdict(rt.wallRatio.median <= TARGETS.persistentRoundTrip),
  });
  const fl = runner.inFlight;
  const n = PATHS;
  const perPath = (kb: Spread) => fmtSpread({ ...kb, median: kb.median / n, min: kb.min / n, max: kb.max / n }, 2, " kB");
  const perCheck = layout.runnerContext + layout.runnerData + layout.contextSize;
  const always = layout.asyncCheckerContext + layout.runnerData + layout.contextSize;
  const first = storm.first;
  const zero = storm.zeroAfterS;
  return [
    {
      what: "Runner round trip, one at a time: get_runner → check_runner until DONE → release_runner (wall per round trip)",
      measured: us(seq.wallUs),
      floor: `pthread_create + pthread_join: ${us(seq.floorWallUs)}`,
      ratio: fmtRatio(seq.wallRatio),
      target: `≤ ${TARGETS.roundTrip}×`,
      verdict: verdict(seq.wallRatio.median <= TARGETS.roundTrip),
    },
    {
      what: "… CPU per round trip (every thread; the caller polls with sched_yield)",
      measured: us(seq.cpuUs),
      floor: us(seq.floorCpuUs),
      ratio: fmtRatio(seq.cpuRatio),
      target: "–",
      verdict: "",
    },
    {
      what: `${fl.ops} runners started, then all collected (wall per runner)`,
      measured: us(fl.wallUs),
      floor: `${fl.ops} pthread_create, then ${fl.ops} pthread_join: ${us(fl.floorWallUs)}`,
      ratio: fmtRatio(fl.wallRatio),
      target: `≤ ${TARGETS.roundTrip}×`,
      verdict: verdict(fl.wallRatio.median <= TARGETS.roundTrip),
    },
    {
      what: "… CPU per runner",
      measured: us(fl.cpuUs),
      floor: us(fl.floorCpuUs),
      ratio: fmtRatio(fl.cpuRatio),
      target: "–",
      verdict: "",
    },
    persistentRow(
      "Persistent runner round trip, one at a time: get_persistent_runner (the check queued, a pool thread woken) → check_runner until DONE → release_runner (wall per round trip)",
      runner.persistentSequential,
      "pthread_create + pthread_join",
    ),
    {
      what: "… CPU per round trip",
      measured: us(runner.persistentSequential.cpuUs),
      floor: us(runner.persistentSequential.floorCpuUs),
      ratio: fmtRatio(runner.persistentSequential.cpuRatio),
      target: "–",
      verdict: "",
    },
    persistentRow(
      `${fl.ops} persistent runners (one per path, the pool's threads started) handed a check, then all collected (wall per runner)`,
      runner.persistentInFlight,
      `${fl.ops} pthread_create, then ${fl.ops} pthread_join`,
    ),
    {
      what: `Host check cycle over ${hc.paths} simulated paths (checker host, TUR plugin over libsgsim): persistent runners against a thread per check (wall per cycle)`,
      measured: ms(hc.wallMs.persistent),
      floor: `ASYNC_THREAD_PER_CHECK build: ${ms(hc.wallMs.perCheck)}`,
      ratio: fmtRatio(hc.wallRatio.persistentPerCheck),
      target: "–",
      verdict: "",
    },
    {
      what: "… CPU per cycle",
      measured: ms(hc.cpuMs.persistent),
      floor: ms(hc.cpuMs.perCheck),
      ratio: fmtRatio(hc.cpuRatio.persistentPerCheck),
      target: "–",
      verdict: "",
    },
    {
      what: "… both against checking synchronously (--sync: no thread; wall per cycle)",
      measured: `persistent ${fmtRatio(hc.wallRatio.persistentSync)}; thread per check ${fmtRatio(hc.wallRatio.perCheckSync)}`,
      floor: `--sync: ${fmtSpread(hc.wallMs.sync, 2, " ms")}`,
      ratio: "–",
      target: "–",
      verdict: "",
    },
    {
      what: "Host memory per path, measured: VmRSS growth over the cycles (per path)",
      measured:
        `persistent ${fmtSpread(hc.rssPerPathKb.persistent, 2, " kB")} (${hc.threadsAfter.persistent} pool threads alive after); ` +
        `thread per check ${fmtSpread(hc.rssPerPathKb.perCheck, 2, " kB")} (${hc.threadsAfter.perCheck} threads after)`,
      floor: `--sync ${fmtSpread(hc.rssPerPathKb.sync, 2, " kB")}`,
      ratio: "–",
      target: "–",
      verdict: "",
    },
    {
      what: `… the pool's threads idled out (RUNNER_IDLE_USEC=${hc.idle.idleUsec}, checkers still set up)`,
      measured:
        `${hc.idle.aliveKbPerPath.toFixed(2)} kB with ${hc.idle.threadsAlive} pool threads alive; ${hc.idle.idledKbPerPath.toFixed(2)} kB with ` +
        `${hc.idle.threadsIdled} left ${(hc.idle.waitedMs / 1000).toFixed(2)} s later`,
      floor: "–",
      ratio: "–",
      target: "threads end",
      verdict: verdict(hc.idle.threadsIdled === 0),
    },
    ...(["persistent", "perCheck"] as const).map(
      (m): Row => ({
        what: `Host timeout storm over ${hs.paths} simulated paths (every command hangs, checker timeout ${hs.timeoutS} s), ${m === "persistent" ? `persistent runners (RUNNER_IDLE_USEC=${HOST_BENCH.idleUsec})` : "a thread per check"}: threads at the peak; after the commands return`,
        measured:
          `${hs.mode[m].peakThreads} (${hs.mode[m].peakPerPath.toFixed(2)} per path); ${hs.mode[m].beforeRelease} before the release, ` +
          `${hs.mode[m].atEnd} at the end (every path ${hs.mode[m].lastAll})`,
        floor: `idle baseline: ${hs.mode[m].baseline}${m === "persistent" ? " (the most threads the pool kept after a cycle of the same paths, every command answered)" : ""}`,
        ratio: "–",
        target: `≤ ${TARGETS.stormPerPath} per path, back to the baseline`,
        verdict: verdict(hs.mode[m].peakPerPath <= TARGETS.stormPerPath && hs.mode[m].atEnd <= hs.mode[m].baseline && hs.mode[m].lastAll === "up"),
      }),
    ),
    ...cycleRows(cycles),
    {
      what: "Memory per path, from the generated code (sizeof, TUR context included)",
      measured:
        `${always} B always (async_checker_context ${layout.asyncCheckerContext} + runner_data ${layout.runnerData} + context ${layout.contextSize}); ` +
        `per check in flight ${perCheck} B (runner_context ${layout.runnerContext} + its copy of the runner_data) + a ${kib(layout.runnerStack)} thread stack ` +
        `= ${perCheck + layout.runnerStack} B (+ a ${kib(runner.guard)} guard page, address space only, + the thread's kernel stack); ` +
        `at most ${layout.maxNrTimeouts + 1} checks in flight per path: ≤ ${always + (layout.maxNrTimeouts + 1) * (perCheck + layout.runnerStack)} B of user memory per path`,
      floor: "SG_IO loop: none (an open fd)",
      ratio: "–",
      target: "–",
      verdict: "",
    },
    {
      what: "Memory per path, measured: VmHWM growth over a cycle (per path)",
      measured: `checker ${perPath(cycles.hwmDeltaKb.checker)}; thread per path ${perPath(cycles.hwmDeltaKb.threads)}`,
      floor: `SG_IO loop ${perPath(cycles.hwmDeltaKb.loop)}`,
      ratio: "–",
      target: "–",
      verdict: "",
    },
    {
      what:
        `Memory per path in the VM, persistent runners, measured (a build with RUNNER_IDLE_USEC=${r.vmIdle.idleUsec}; ` +
        "VmRSS and /proc/meminfo KernelStack against once the checkers are set up): the pool's threads alive after the cycles; after they idled out",
      measured:
        `${r.vmIdle.aliveRssKbPerPath.toFixed(2)} kB user + ${r.vmIdle.aliveKstackKbPerPath.toFixed(2)} kB kernel stack with ${r.vmIdle.threadsAlive} pool threads alive; ` +
        `${r.vmIdle.idledRssKbPerPath.toFixed(2)} kB user + ${r.vmIdle.idledKstackKbPerPath.toFixed(2)} kB kernel stack with ${r.vmIdle.threadsIdled} left ` +
        `${(r.vmIdle.waitedMs / 1000).toFixed(2)} s later (an ended thread's stack stays in glibc's cache, resident; its kernel stack is freed)`,
      floor: "–",
      ratio: "–",
      target: "threads end",
      verdict: verdict(r.vmIdle.threadsIdled === 0),
    },
    {
      what: `Memory per checker thread, measured at the peak of the timeout storm (${storm.peakThreads} threads alive)`,
      measured: `${storm.rssPerThreadKb.toFixed(1)} kB user RSS + ${storm.kstackPerThreadKb.toFixed(1)} kB kernel stack`,
      floor: "–",
      ratio: "–",
      target: "–",
      verdict: "",
    },
    {
      what: `Timeout storm (opts=4 every_nth=1, checker timeout ${storm.timeoutS} s): the first cycle in which every check times out, wall / CPU`,
      measured: `${(first.wallMs / 1000).toFixed(2)} s / ${first.cpuMs.toFixed(0)} ms`,
      floor: `a normal cycle of the same host just before: ${storm.normalWallMs.toFixed(0)} ms / ${storm.normalCpuMs.toFixed(0)} ms`,
      ratio: `${(first.wallMs / storm.normalWallMs).toFixed(1)}× / ${(first.cpuMs / storm.normalCpuMs).toFixed(1)}×`,
      target: "–",
      verdict: "",
    },
    {
      what: "Timeout storm: checker threads alive at the peak",
      measured: `${storm.peakThreads} (${storm.peakPerPath.toFixed(2)} per path)`,
      floor: "–",
      ratio: "–",
      target: `≤ ${TARGETS.stormPerPath} per path`,
      verdict: verdict(storm.peakPerPath <= TARGETS.stormPerPath),
    },
    {
      what: "Timeout storm: threads alive after",
      measured:
        `${first.threadsEnd} at the end of the first timed-out cycle; ${storm.threadsWhenAnswering} at the end of the last cycle before the devices answer again (opts=0); ` +
        (zero
          ? `${storm.baseline ? `back to the pool's ${storm.baseline}` : "none left"} ${zero.goneS.toFixed(2)} s after opts=0${zero.lastSeenS > 0 ? ` (some still seen ${zero.lastSeenS.toFixed(2)} s after)` : ""}`
          : "some left until the host stopped") +
        `; ${storm.threadsAtExit ?? "?"} at the host's exit`,
      floor: "–",
      ratio: "–",
      target: storm.baseline ? `back to the idle baseline (the pool's ${storm.baseline} threads before the storm) once the devices answer` : "back to 0 once the devices answer",
      verdict: verdict(zero !== null && storm.threadsAtExit === 0),
    },
    {
      what: "`mpcheckgen --help`, whole process",
      measured: fmtSpread(generator.helpS, 3, " s"),
      floor: `\`node -e 0\`: ${fmtSpread(generator.nodeS, 3, " s")}`,
      ratio: fmtRatio(generator.helpRatio),
      target: `≤ ${TARGETS.helpRatio}×`,
      verdict: verdict(generator.helpRatio.median <= TARGETS.helpRatio),
    },
    {
      what: "`mpcheckgen generate`, all embedded specs, whole process (unchanged specs: caches warm)",
      measured: fmtSpread(generator.wallS, 2, " s"),
      floor: "–",
      ratio: "–",
      target: `≤ ${TARGETS.generateS} s`,
      verdict: verdict(generator.wallS.median <= TARGETS.generateS),
    },
    {
      what: "`mpcheckgen validate specs/tur.ts` (type check, model rules), whole process (unchanged spec: caches warm)",
      measured: fmtSpread(generator.validateS, 2, " s"),
      floor: "–",
      ratio: "–",
      target: `≤ ${TARGETS.validateS} s`,
      verdict: verdict(generator.validateS.median <= TARGETS.validateS),
    },
    ...(generator.generateColdS && generator.validateColdS
      ? ([
          {
            what: "… generate, the specs' caches empty (as after a change of every spec; V8's code cache kept)",
            measured: fmtSpread(generator.generateColdS, 2, " s"),
            floor: "–",
            ratio: "–",
            target: "–",
            verdict: "",
          },
          {
            what: "… validate, the spec's caches empty (as after a change of the spec)",
            measured: fmtSpread(generator.validateColdS, 2, " s"),
            floor: "–",
            ratio: "–",
            target: "–",
            verdict: "",
          },
        ] satisfies Row[])
      : []),
  ];
}

/** µs per path of the checker's and the bare workers' cycles over the SG_IO loop's (medians). */
function overLoopUs(cycles: CycleFigures): { checker: number; workers: number; perCheck: number; loop: number } {
  const per = (x: Spread) => (x.median / PATHS) * 1000;
  const loop = per(cycles.wallMs.loop);
  return {
    checker: per(cycles.wallMs.checker) - loop,
    workers: cycles.wallMs.workers ? per(cycles.wallMs.workers) - loop : NaN,
    perCheck: per(cycles.wallMs.perCheck) - loop,
    loop,
  };
}

/** The check-cycle rows of the table: the checker against each floor. */
export function cycleRows(cycles: CycleFigures): Row[] {
  const n = PATHS;
  const w = cycles.wallRatio;
  return [
    {
      what: `Check cycle over ${n} scsi_debug LUNs: TUR checker through the checker host, persistent runners (the default build) (wall per cycle)`,
      measured: ms(cycles.wallMs.checker),
      floor: `one process, one SG_IO TUR per device in a loop: ${ms(cycles.wallMs.loop)}`,
      ratio: fmtRatio(cycles.wallRatio.checkerLoop),
      target: `≤ ${TARGETS.cycle}× (stretch ${TARGETS.cycleStretch}×)`,
      verdict: verdict(cycles.wallRatio.checkerLoop.median <= TARGETS.cycle),
    },
    {
      what: "… CPU per cycle",
      measured: ms(cycles.cpuMs.checker),
      floor: ms(cycles.cpuMs.loop),
      ratio: fmtRatio(cycles.cpuRatio.checkerLoop),
      target: "–",
      verdict: "",
    },
    {
      what: "… the checker (persistent runners) against the same host built with ASYNC_THREAD_PER_CHECK (wall per cycle)",
      measured: ms(cycles.wallMs.checker),
      floor: `a thread per check: ${ms(cycles.wallMs.perCheck)}`,
      ratio: fmtRatio(cycles.wallRatio.checkerPerCheck),
      target: `≤ ${TARGETS.cycleVsPerCheck}×`,
      verdict: verdict(cycles.wallRatio.checkerPerCheck.median <= TARGETS.cycleVsPerCheck),
    },
    {
      what: "… the same, CPU per cycle",
      measured: ms(cycles.cpuMs.checker),
      floor: ms(cycles.cpuMs.perCheck),
      ratio: fmtRatio(cycles.cpuRatio.checkerPerCheck),
      target: "–",
      verdict: "",
    },
    {
      what: "… the checker against one thread per path without the framework (wall per cycle)",
      measured: ms(cycles.wallMs.checker),
      floor: `pthread_create per path doing the SG_IO, then join all: ${ms(cycles.wallMs.threads)}`,
      ratio: fmtRatio(cycles.wallRatio.checkerThreads),
      target: "–",
      verdict: "",
    },
    {
      what: "… the checker against one thread per path (CPU per cycle)",
      measured: ms(cycles.cpuMs.checker),
      floor: ms(cycles.cpuMs.threads),
      ratio: fmtRatio(cycles.cpuRatio.checkerThreads),
      target: "–",
      verdict: "",
    },
    {
      what: "… one thread per path against the SG_IO loop (wall per cycle): what a thread per check costs by itself",
      measured: ms(cycles.wallMs.threads),
      floor: ms(cycles.wallMs.loop),
      ratio: fmtRatio(cycles.wallRatio.threadsLoop),
      target: "–",
      verdict: "",
    },
    // runs before sg-cycle had --workers have no such figures
    ...(w.checkerWorkers && w.workersLoop
      ? [
          {
            what: "… the checker against kept-alive bare workers (wall per cycle): the best a thread per path kept alive (the persistent runner's design before the pool) can do",
            measured: ms(cycles.wallMs.checker),
            floor: `one thread per path started once, waiting on its semaphore${w.poolLoop ? " (SCHED_BATCH, as the checker's workers)" : ""}; the main thread posts each, each does its SG_IO and posts back: ${ms(cycles.wallMs.workers)}`,
            ratio: fmtRatio(w.checkerWorkers),
            target: "–",
            verdict: "" as const,
          },
          {
            what: "… kept-alive bare workers against the SG_IO loop (wall per cycle): what a wake-up per check costs by itself",
            measured: ms(cycles.wallMs.workers),
            floor: ms(cycles.wallMs.loop),
            ratio: fmtRatio(w.workersLoop),
            target: "–",
            verdict: "" as const,
          },
        ]
      : []),
    // runs before RUNNER_BATCH_WORKERS and sg-cycle --pool have no such figures
    ...(w.checkerUnbatched && w.unbatchedLoop && w.poolLoop && cycles.wallMs.unbatched && cycles.wallMs.pool
      ? [
          {
            what: "… the checker (its pool threads SCHED_BATCH) against the same host built with RUNNER_BATCH_WORKERS=0, its threads SCHED_OTHER (wall per cycle): what not preempting the caller on wake-up gains",
            measured: ms(cycles.wallMs.checker),
            floor: `RUNNER_BATCH_WORKERS=0 build: ${ms(cycles.wallMs.unbatched)} (${fmtRatio(w.unbatchedLoop)} the SG_IO loop)`,
            ratio: fmtRatio(w.checkerUnbatched),
            target: "–",
            verdict: "" as const,
          },
          {
            what: `… ${POOL_THREADS} bare threads sharing one queue of paths against the SG_IO loop (wall per cycle): the best a pool of threads can do`,
            measured: `${POOL_THREADS} threads started once (SCHED_BATCH); the main thread queues every path, waking a waiting thread only if none is awake; each takes paths until the queue is empty: ${ms(cycles.wallMs.pool)}`,
            floor: ms(cycles.wallMs.loop),
            ratio: fmtRatio(w.poolLoop),
            target: "–",
            verdict: "" as const,
          },
          ...(w.checkerPool
            ? [
                {
                  what: `… the checker against those ${POOL_THREADS} bare threads (wall per cycle): what the runner framework adds to a pool`,
                  measured: ms(cycles.wallMs.checker),
                  floor: ms(cycles.wallMs.pool),
                  ratio: fmtRatio(w.checkerPool),
                  target: "–",
                  verdict: "" as const,
                },
              ]
            : []),
        ]
      : []),
  ];
}

export function table(r: Report): string {
  const out = ["| benchmark | measured | floor, measured beside it | ratio | target | |", "|---|---|---|---|---|---|"];
  for (const x of rows(r)) out.push(`| ${cell(x.what)} | ${cell(x.measured)} | ${cell(x.floor)} | ${cell(x.ratio)} | ${x.target} | ${x.verdict} |`);
  return out.join("\n");
}

function stormTimeline(cycles: readonly StormCycle[]): string {
  const out = [
    "| cycle | start (s after opts=4) | wall ms | CPU ms (starting the checks) | polls | checks in flight | states | threads: start → peak → end | thread counting ms (CPU) |",
    "|---:|---:|---:|---:|---:|---:|---|---|---:|",
  ];
  for (const c of cycles) {
    const states = Object.entries(c.states)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    out.push(
      `| ${c.cycle} | ${c.atS.toFixed(2)} | ${c.wallMs.toFixed(0)} | ${c.cpuMs.toFixed(0)} (${c.startCpuMs.toFixed(0)}) | ${c.sweeps} | ${c.pending} | ${states} | ` +
        `${c.threadsStart} → ${c.threadsPeak} → ${c.threadsEnd} | ${c.sampleMs.toFixed(0)} (${c.sampleCpuMs.toFixed(0)}) |`,
    );
  }
  return out.join("\n");
}

export function cycleRounds(c: CycleFigures): string {
  const out = [
    `| round | SG_IO loop ms (CPU) | thread per path ms (CPU) | kept-alive workers ms (CPU) | ${POOL_THREADS} threads, one queue ms (CPU) | checker, persistent ms (CPU) | checker, RUNNER_BATCH_WORKERS=0 ms (CPU) | checker, thread per check ms (CPU) | persistent / loop | persistent / threads | persistent / workers | persistent / per check |`,
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const f = (v: { wallMs: number; cpuMs: number } | undefined) => (v ? `${v.wallMs.toFixed(1)} (${v.cpuMs.toFixed(1)})` : "–");
  c.rounds.forEach((x, i) => {
    // x.workers: absent in runs before sg-cycle had --workers
    const workers = x.workers as (typeof x)["loop"] | undefined;
    // x.pool, x.unbatched: absent in runs before sg-cycle had --pool and the runner RUNNER_BATCH_WORKERS
    const pool = x.pool as (typeof x)["loop"] | undefined;
    const unbatched = x.unbatched as (typeof x)["loop"] | undefined;
    out.push(
      `| ${i + 1} | ${f(x.loop)} | ${f(x.threads)} | ${f(workers)} | ${f(pool)} | ${f(x.checker)} | ${f(unbatched)} | ${f(x.perCheck)} | ` +
        `${(x.checker.wallMs / x.loop.wallMs).toFixed(2)}× | ${(x.checker.wallMs / x.threads.wallMs).toFixed(2)}× | ` +
        `${workers ? `${(x.checker.wallMs / workers.wallMs).toFixed(2)}×` : "–"} | ${(x.checker.wallMs / x.perCheck.wallMs).toFixed(2)}× |`,
    );
  });
  return out.join("\n");
}

function stormNotes(storm: StormFigures, vm: VmBenchOptions): string[] {
  const f = storm.first;
  const notes = [
    `Normal cycles of the same host before the storm: ${storm.normalCycles}, median ${storm.normalWallMs.toFixed(0)} ms wall, ` +
      `${storm.normalCpuMs.toFixed(0)} ms CPU.`,
    `The first cycle in which every check timed out took ${(f.wallMs / 1000).toFixed(2)} s: its checks were started over ` +
      `${f.startMs.toFixed(0)} ms and each timed out ${vm.timeoutS} s after its own start. Of its ${f.cpuMs.toFixed(0)} ms of CPU, ` +
      `${f.startCpuMs.toFixed(0)} ms went into starting the ${f.pending} checks (a new thread each, which then blocks in SG_IO; ` +
      `a normal cycle, start and collection together, takes ${storm.normalCpuMs.toFixed(0)} ms) and ${(f.cpuMs - f.startCpuMs).toFixed(0)} ms ` +
      `into ${f.sweeps} polls of the checks in flight, one every ${vm.pollUs} µs (multipathd polls a pending path once per tick).`,
  ];
  if (storm.stuckLifeS !== null) {
    notes.push(
      `A stuck thread ends when its SG_IO returns, not when the device answers again: the last thread was gone ` +
        `${storm.stuckLifeS.toFixed(2)} s after the last check that got stuck was started (the 1 s SG_IO timeout plus the SCSI ` +
        "error handling that aborts the command; vm.md §c measured 2.25 s for one command).",
    );
  }
  if (storm.deadTimeoutCycles.length) {
    const list = storm.deadTimeoutCycles.map((c) => `cycle ${c.cycle}: ${c.states.timeout} TIMEOUT with ${c.threadsStart} threads alive at its start`);
    notes.push(
      `After opts=0, paths with no checker thread left still reported TIMEOUT (${list.join("; ")}): a runner the framework ` +
        "kept because its path's abandoned-runner slot was full reports PATH_TIMEOUT once its thread has ended " +
        "(RUNNER_DEAD) instead of starting a fresh check, so such a path is UP one check interval after its thread ended.",
    );
  }
  notes.push(
    `The first cycle with every path UP again ended ${storm.upAgainS === null ? "never" : `${storm.upAgainS.toFixed(2)} s`} after opts=0 ` +
      `(${storm.cyclesUntilUp} cycle${storm.cyclesUntilUp === 1 ? "" : "s"} after opts=0, that one included).`,
  );
  return notes;
}

/** Why a missed target was missed, and what would close it, from the figures. */
function misses(r: Report): string[] {
  const out: string[] = [];
  const { runner, cycles, storm, generator } = r;
  const n = PATHS;
  for (const [name, rt] of [
    ["one at a time", runner.sequential],
    ["in flight", runner.inFlight],
  ] as const) {
    if (rt.wallRatio.median > TARGETS.roundTrip) {
      out.push(
        `**Runner round trip (${name}): ${fmtRatio(rt.wallRatio)} of the pthread floor.** A runner is a detached thread plus a ` +
          `malloc'd, reference-counted context, a compare-and-swap state machine and a deadline read at each poll; the caller polls ` +
          `(${rt.polls.median.toFixed(1)} check_runner calls per round trip). The persistent runner reuses the thread across checks, ` +
          "which removes the pthread_create/exit part that both sides pay (the rows below).",
      );
    }
  }
  for (const [name, rt] of [
    ["one at a time", runner.persistentSequential],
    ["in flight", runner.persistentInFlight],
  ] as const) {
    if (rt.wallRatio.median > TARGETS.persistentRoundTrip) {
      out.push(
        `**Persistent runner round trip (${name}): ${fmtRatio(rt.wallRatio)} of the pthread floor (target ≤ ${TARGETS.persistentRoundTrip}×).** ` +
          "No thread is created: each check takes the pool's lock and queues the check; a pool thread that is awake takes it, " +
          "or the one that went to sleep last is woken (a futex wake) and goes back to sleep once the queue is empty (a futex " +
          "wait); the caller polls. " +
          (name === "in flight"
            ? `With ${rt.ops} checks queued at once, the threads that are awake take them one after another on ${r.machine.cpus} cores ` +
              "(shared with other jobs), each check with its context allocated and copied and the pool's lock taken twice, and " +
              "the floor's pthread_create/join of as many threads overlaps on the other core the same way."
            : "What remains is a wake-up and two context switches per check, one at a time.")
      );
    }
  }
  const cycle = cycleMiss(cycles, r.vm.pollUs);
  if (cycle) out.push(cycle);
  if (storm.peakPerPath > TARGETS.stormPerPath) {
    out.push(`**Timeout storm: ${storm.peakThreads} threads at the peak, ${storm.peakPerPath.toFixed(2)} per path (target ≤ 2).**`);
  }
  if (!storm.zeroAfterS || storm.threadsAtExit !== 0) {
    out.push(`**Timeout storm: the threads did not all end** (${storm.threadsAtExit ?? "?"} at the host's exit).`);
  }
  if (generator.helpRatio.median > TARGETS.helpRatio) {
    out.push(
      `**--help: ${fmtRatio(generator.helpRatio)} of \`node -e 0\` (target ≤ ${TARGETS.helpRatio}×).** --help loads the compiled CLI ` +
        "(dist/generator/cli.js, after checking that it is current) and commander, nothing else.",
    );
  }
  if (generator.wallS.median > TARGETS.generateS) {
    out.push(
      `**generate: ${fmtSpread(generator.wallS, 2, " s")} (target ≤ ${TARGETS.generateS} s).** With unchanged specs the ` +
        "compiled CLI reads each spec's bundle, source index and formatted C from the caches (no esbuild, no ts-morph, no " +
        "clang-format WebAssembly), builds the models, checks the C names and renders the precompiled handlebars templates " +
        "(\`node --cpu-prof bin/mpcheckgen.js generate\` shows where). The whole-process time is that CPU time stretched by the machine's " +
        `load (\`node -e 0\` took ${fmtSpread(generator.nodeS, 3, " s")} in the same rounds; see the load average below). ` +
        "What would close it on a loaded machine: less CPU per run (the emitted files kept by the hash of the bundles and " +
        "the generator, so that unchanged specs build no model).",
    );
  }
  if (generator.validateS.median > TARGETS.validateS) {
    out.push(
      `**validate: ${fmtSpread(generator.validateS, 2, " s")} (target ≤ ${TARGETS.validateS} s).** The type check builds a ` +
        "TypeScript program of the spec, the spec language and the ES2022 lib (ts-morph's copy of the compiler, through a " +
        "V8 code cache), then checks the spec against the spec language's mapped and conditional types.",
    );
  }
  return out;
}

/**
 * Why the check cycle is above its stretch target (and whether it meets the
 * target), from the figures; undefined when the stretch is met.
 */
export function cycleMiss(cycles: CycleFigures, pollUs?: number): string | undefined {
  const r = cycles.wallRatio.checkerLoop.median;
  if (r <= TARGETS.cycleStretch) return undefined;
  const o = overLoopUs(cycles);
  const w = cycles.wallRatio;
  const pool =
    w.poolLoop && w.checkerPool
      ? `${POOL_THREADS} bare threads sharing one queue (the same scheme with nothing of the framework around it) take ` +
        `${fmtRatio(w.poolLoop)} the loop, and the checker ${fmtRatio(w.checkerPool)} those threads: the rest is the runner's ` +
        "context allocated and copied for every check, its compare-and-swap state machine, the pool's lock taken when the " +
        "check is queued, taken and ended, and the caller's polls of check_runner. "
      : "";
  const p = cycles.checkerPolling;
  const polls = p
    ? `The checker's caller starts every path's check in ${fmtSpread(p.startMs, 2, " ms")}, then sleeps between sweeps of the ` +
      `checks in flight, as multipathd polls its pending paths: ${fmtSpread(p.sweeps, 0)} sweeps a cycle, one every ` +
      `${fmtSpread(p.sweepMs, 1, " ms")}${pollUs ? ` (it asks for ${pollUs} µs; the pool's threads hold the one vCPU meanwhile)` : ""}; a cycle ends ` +
      "at the first sweep after its last check is done, where the floor and the bare threads need no sweep at all. "
    : "";
  const workers =
    w.workersLoop
      ? `Kept-alive bare workers, a thread per path woken for each check (the persistent runner's design before the pool), ` +
        `take ${fmtRatio(w.workersLoop)} the loop: a wake-up and a context switch per check, which the pool saves. `
      : "";
  return (
    `**Check cycle: ${fmtRatio(w.checkerLoop)} of the SG_IO loop (target ≤ ${TARGETS.cycle}×: ${r <= TARGETS.cycle ? "met" : "missed"}; ` +
    `stretch ≤ ${TARGETS.cycleStretch}×: missed).** ` +
    `The floor sends a TUR in ${o.loop.toFixed(1)} µs per path (scsi_debug with delay=0 answers at once). The checker queues ` +
    "each check for the pool of the persistent runners: a thread that is awake takes the next check without a wake-up, so a " +
    `cycle is run by a few threads one after another. That is ${fmtRatio(w.checkerPerCheck)} the same host built with a thread ` +
    `per check (about ${o.perCheck.toFixed(0)} µs per path over the floor there, ${o.checker.toFixed(0)} µs with the pool) and ` +
    `${fmtRatio(w.checkerThreads)} a bare thread per path. ` +
    workers +
    pool +
    polls +
    `What would close the rest: fewer steps per check (a persistent runner's context reused from one check to the next ` +
    "instead of allocated, the caller told when a check is done instead of polling), or no thread at all for a check " +
    "that needs none: send the TURs asynchronously from one thread (sg's write()/poll()/read() interface, or io_uring " +
    "passthrough), as the floor, one thread sending every TUR, does."
  );
}

const byLabel = (m: MpdFigures, name: string) => m.checkers.find((c) => c.name === name)?.label ?? name;

/** The multipathd phase: Debian's multipathd with the stock and the generated checkers. */
export function mpdSection(m: MpdFigures, runDate?: string): string[] {
  const stock = m.checkers.find((c) => c.name === "tur")!;
  const o = m.options;
  const out = [
    "## Debian's multipathd in the VM",
    "",
    ...(m.date && runDate && Math.abs(Date.parse(m.date) - Date.parse(runDate)) > 45 * 60_000
      ? [`Measured on ${m.date} by \`npm run bench -- --only multipathd\` (the rest of this file: the run above); every ratio below is from that one VM boot.`, ""]
      : []),
    `${m.multipathTools} (Debian's own multipathd, libmultipath and tur), kernel ${m.kernel}, ${m.accel.toUpperCase()}, 1 vCPU; ` +
      `${m.paths} scsi_debug paths (${o.luns} LUNs × ${o.hosts} hosts, vpd_use_hostno=0: ${o.luns} maps of ${o.hosts} paths, delay=0), ` +
      "polling_interval 1 and max_polling_interval 1 (a checker cycle every second, the shortest multipathd allows), prio sysfs, " +
      `multipathd -v2. ${o.rounds} round${o.rounds > 1 ? "s" : ""}, the checkers' order rotated each round, a fresh multipathd for each` +
      `${m.warmStart ? " (after one unmeasured start: the first multipathd over new paths comes up several times slower)" : ""}; CPU is utime + stime ` +
      `of /proc/PID/stat (all threads, 10 ms ticks) from the end of ${o.warmup} warm-up cycles until every path's device has ` +
      `completed ${o.cycles} more SCSI commands (sysfs iodone_cnt: the checker's commands, nothing else sends any once udev has settled, ` +
      "prio sysfs); multipathd does not check its paths evenly under this load, so a cycle is counted as many checks as there are paths " +
      "(the commands of all paths over the paths). Ratios are against Debian's tur in the same round.",
    "",
    "| checker | multipathd CPU per cycle (256 paths) | per path and check | system share | against Debian's tur | wall per cycle (1 s sleep included) | checks per path measured: mean (fewest, most) | threads after | VmRSS after | VmRSS per path against Debian's tur |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const c of m.checkers) {
    out.push(
      `| ${c.label} | ${fmtSpread(c.cpuMsPerCycle, 0, " ms")} | ${fmtSpread(c.cpuUsPerCheck, 0, " µs")} | ${(c.systemShare * 100).toFixed(0)} % | ` +
        `${c === stock ? "1" : fmtRatio(c.cpuRatio)} | ${fmtSpread(c.wallMsPerCycle, 0, " ms")} | ${c.checksPerPath.median.toFixed(1)} (${c.minMaxChecks[0]}, ${c.minMaxChecks[1]}) | ${c.threads} | ${(c.rssKb / 1024).toFixed(1)} MiB | ` +
        `${c === stock ? "–" : `${fmtSpread(c.rssKbPerPathVsStock, 1, " kB")}`} |`,
    );
  }
  const sf = m.flips.find((f) => f.name === "tur")!;
  out.push(
    "",
    `ALUA flip on LIO (one LU behind two tcm_loop target ports in two implicit-ALUA target port groups; the groups swap ` +
      `active/optimized and standby through configfs alua_access_state, ${o.flips} times each way): the time from the last ` +
      "configfs write until `multipathd show topology` (polled 0.1 s apart through mpcli, multipathd -v3) shows both paths in their new " +
      "state and path group (the AO path ready in the active group, the standby path ghost in the enabled one).",
    "",
    "| checker | flip to shown: median (min–max) | every flip, ms | against Debian's tur (medians) |",
    "|---|---:|---|---:|",
  );
  for (const f of m.flips) {
    out.push(`| ${f.label} | ${fmtSpread(f.ms, 0, " ms")} | ${f.samples.map((x) => x.toFixed(0)).join(", ")} | ${f === sf ? "1" : `${f.ratio.toFixed(2)}×`} |`);
  }
  const slower = m.checkers.filter((c) => c.name !== "tur" && c.cpuRatio.median > 1);
  const slowFlips = m.flips.filter((f) => f.name !== "tur" && f.ratio > 1);
  const gen = (n: string) => MPD_CHECKERS.find((c) => c.name === n);
  const why = (name: string): string => {
    const c = gen(name);
    const parts: string[] = [];
    if (c?.spec === "alua") {
      parts.push(
        "each check sends REPORT TARGET PORT GROUPS, a data-in command whose answer scsi_debug builds and the checker decodes " +
          "(descriptors, its own group looked up), where tur sends TEST UNIT READY with no data",
      );
    }
    if (c?.threadPerCheck) {
      parts.push(
        "like Debian's tur it creates a thread for each check, and on top of that allocates the runner's context and copies the " +
          "runner data in and out, and waits for the result by polling check_runner() every 100 µs for up to 1 ms (nanosleep) " +
          "where Debian's tur sleeps on a condition variable its thread signals",
      );
    } else if (c?.spec) {
      parts.push(
        "no thread is created: the check is queued for the pool, whose threads take a cycle's checks one after another (a " +
          "sleeping one woken only when none is awake), and the caller polls check_runner() every 100 µs for up to 1 ms",
      );
    }
    return parts.join("; ");
  };
  out.push(
    "",
    `Most of multipathd's CPU per check is multipathd's own and the same for every checker (the checker loop, the path's sysfs ` +
      `state, the sysfs prioritizer, the locks): with Debian's tur ${fmtSpread(stock.cpuUsPerCheck, 0, " µs")} per path and check ` +
      "under TCG. The checkers differ by what they add on top.",
  );
  if (slower.length) {
    out.push(
      "",
      "**Where a generated checker costs multipathd more CPU than Debian's tur, and why:** " +
        slower.map((c) => `${c.label} (${fmtRatio(c.cpuRatio)}): ${why(c.name)}.`).join(" "),
    );
  }
  if (slowFlips.length) {
    out.push(
      "",
      "**Where a generated checker shows an ALUA flip later than Debian's tur:** " +
        slowFlips.map((f) => `${f.label} (${f.ratio.toFixed(2)}×)`).join(", ") +
        ". multipathd sees a flip at the path's next check (polling_interval 1: up to a second after the write, then the check, " +
        "the prioritizer and the map reload), so a flip's latency varies by up to a second with where in the checker's second " +
        `the write falls; with ${o.flips * 2} flips per checker the medians differ by less than that spread ` +
        "(every flip's figure is in the table). The generated checkers report the new state in the same check as Debian's tur " +
        "(tur from the sense data of TEST UNIT READY, alua from the RTPG descriptor).",
    );
  }
  const rc = m.reconfigure;
  out.push(
    "",
    `A probe, not a figure: \`multipathd reconfigure\` with the ${byLabel(m, rc.checker)} (0.9.4 frees every path, then dlcloses the checker ` +
      "plugins and loads them again; a pool thread told to end once libcheck_free has released the last persistent runner may still be on its way out of the plugin's code): " +
      rc.runs
        .map((x, i) => `#${i + 1}: ${x.alive === null ? "no result" : x.alive ? `multipathd alive, maps ${x.mapsBack ? "back" : "NOT back"}` : "**multipathd died**"}${x.segfaults ? `, ${x.segfaults} segfault(s) in the kernel log` : ""}`)
        .join("; ") +
      ".",
  );
  out.push(
    "",
    `multipathd start and maps set up, per start: ${fmtSpread(m.startS, 1, " s")}; the VM booted in ${m.bootS.toFixed(1)} s and ran ${(m.runS / 60).toFixed(1)} min.`,
    "",
  );
  return out;
}

export function markdown(r: Report): string {
  const { machine: m, commands: c, runner, cycles, storm, generator, vm, host } = r;
  const missed = misses(r);
  const lines = [
    "# Benchmarks",
    "",
    `Written by \`npm run bench\` (native-tests/bench/bench.ts) on ${m.date}; the run took ${(r.totalS / 60).toFixed(1)} min. ` +
      "Every ratio is taken side by side in one run: the measurement and its floor alternate in the same process " +
      "(runner round trip) or in interleaved rounds in the same VM boot (check cycle), and each ratio is the median of the " +
      "per-repetition ratios, with their min–max in brackets. Absolute figures are medians (min–max) too. These are " +
      "benchmarks, not tests: `npm test` runs none of them.",
    "",
    table(r),
    "",
    "## Targets",
    "",
    `- Runner round trip ≤ ${TARGETS.roundTrip}× the bare pthread floor: ` +
      `${runner.sequential.wallRatio.median <= TARGETS.roundTrip ? "**met**" : "**missed**"} one at a time (${fmtRatio(runner.sequential.wallRatio)}), ` +
      `${runner.inFlight.wallRatio.median <= TARGETS.roundTrip ? "**met**" : "**missed**"} with ${runner.inFlight.ops} in flight (${fmtRatio(runner.inFlight.wallRatio)}).`,
    `- Persistent runner round trip ≤ ${TARGETS.persistentRoundTrip}× the bare pthread floor: ` +
      `${runner.persistentSequential.wallRatio.median <= TARGETS.persistentRoundTrip ? "**met**" : "**missed**"} one at a time (${fmtRatio(runner.persistentSequential.wallRatio)}), ` +
      `${runner.persistentInFlight.wallRatio.median <= TARGETS.persistentRoundTrip ? "**met**" : "**missed**"} with ${runner.persistentInFlight.ops} in flight (${fmtRatio(runner.persistentInFlight.wallRatio)}).`,
    `- The 1024-path VM cycle with persistent runners ≤ ${TARGETS.cycleVsPerCheck}× the thread-per-check build: ` +
      `${cycles.wallRatio.checkerPerCheck.median <= TARGETS.cycleVsPerCheck ? "**met**" : "**missed**"} (${fmtRatio(cycles.wallRatio.checkerPerCheck)}; ` +
      `on the build machine, over simulated SG_IO: ${fmtRatio(r.host.cycles.wallRatio.persistentPerCheck)}).`,
    `- Check cycle ≤ ${TARGETS.cycle}× the SG_IO-loop floor in wall time, stretch ${TARGETS.cycleStretch}×: ` +
      `${cycles.wallRatio.checkerLoop.median <= TARGETS.cycle ? "**met**" : "**missed**"} (${fmtRatio(cycles.wallRatio.checkerLoop)}), ` +
      `stretch ${cycles.wallRatio.checkerLoop.median <= TARGETS.cycleStretch ? "**met**" : "**missed**"}.`,
    `- Peak threads during a timeout storm ≤ ${TARGETS.stormPerPath} per path and back to the idle baseline after the devices answer: ` +
      `${storm.peakPerPath <= TARGETS.stormPerPath ? "**met**" : "**missed**"} (${storm.peakPerPath.toFixed(2)} per path), ` +
      `${storm.zeroAfterS && storm.threadsAtExit === 0 ? "**met**" : "**missed**"} (${storm.zeroAfterS ? `at the baseline of ${storm.baseline} ${storm.zeroAfterS.goneS.toFixed(2)} s after opts=0` : "threads left"}); ` +
      `host storm: ${(["persistent", "perCheck"] as const).map((m) => `${m === "persistent" ? "persistent" : "thread per check"} ${r.host.storm.mode[m].peakPerPath.toFixed(2)} per path at the peak, ${r.host.storm.mode[m].atEnd} threads at the end (baseline ${r.host.storm.mode[m].baseline})`).join("; ")}.`,
    `- \`mpcheckgen --help\` ≤ ${TARGETS.helpRatio}× \`node -e 0\`: ${generator.helpRatio.median <= TARGETS.helpRatio ? "**met**" : "**missed**"} (${fmtRatio(generator.helpRatio)}).`,
    `- generate ≤ ${TARGETS.generateS} s: ${generator.wallS.median <= TARGETS.generateS ? "**met**" : "**missed**"} (${fmtSpread(generator.wallS, 2, " s")}).`,
    `- validate of one spec ≤ ${TARGETS.validateS} s: ${generator.validateS.median <= TARGETS.validateS ? "**met**" : "**missed**"} (${fmtSpread(generator.validateS, 2, " s")}).`,
    "",
    ...(missed.length ? ["### Missed targets: why, and what would close them", "", ...missed.flatMap((x) => [x, ""])] : []),
    ...mpdSection(r.mpd, m.date),
    "## The machine",
    "",
    `- Build machine: ${m.cpus} cores (${m.cpuModel}), ${m.memGb.toFixed(0)} GB RAM, Linux ${m.kernel}, Node ${m.node}, ${m.compiler}. ` +
      `The runner round trip and the generator run here` +
      (m.loadAvg !== undefined ? ` (1-minute load average ${m.loadAvg.toFixed(1)} when the CLI was measured).` : "."),
    `- KVM: ${m.kvm}.`,
    `- The VM: qemu **${m.vm.accel.toUpperCase()}**, ${m.vm.vcpus} vCPU (\`-smp 1\`: the checker threads never run in parallel), ` +
      `${m.vm.memoryMb} MB, Debian kernel ${m.vm.kernel}, clocksource ${m.vm.clocksource}; boot ${m.vm.bootS.toFixed(1)} s, ` +
      `both scenarios ${m.vm.runS.toFixed(1)} s. Under TCG every instruction is emulated, so absolute VM times are far ` +
      "above a real machine's; the ratios compare like with like.",
    "",
    "## Commands",
    "",
    "```sh",
    "npm run bench          # everything below; writes BENCHMARKS.md (this file)",
    `${c.runnerBench}`,
    `${c.layout}`,
    "# host: the async framework's two modes over simulated SG_IO (PATH... = 1024 × /dev/null, 256 for the storm)",
    host.commands.persistent,
    host.commands.perCheck,
    host.commands.sync,
    host.commands.idle,
    host.commands.storm,
    "# in the VM, after the power-on UNIT ATTENTION of every LUN is consumed (sg-cycle --clear-ua /dev/sg*):",
    `modprobe sg; modprobe scsi_debug add_host=1 num_tgts=4 max_luns=256 no_uld=1 delay=0 dev_size_mb=1`,
    `${c.variants.loop} /dev/sg*`,
    `${c.variants.threads} /dev/sg*`,
    ...(c.variants.workers ? [`${c.variants.workers} /dev/sg*`] : []),
    ...(c.variants.pool ? [`${c.variants.pool} /dev/sg*`] : []),
    `${c.variants.checker} /dev/sg*`,
    ...(c.variants.unbatched ? [`${c.variants.unbatched} /dev/sg*   # checker-host-unbatched: the build with RUNNER_BATCH_WORKERS=0`] : []),
    `${c.variants.perCheck} /dev/sg*`,
    `${c.variants.idle} /dev/sg*   # checker-host-idle: the build with RUNNER_IDLE_USEC=${r.vmIdle.idleUsec}`,
    "# timeout storm",
    `${c.storm} /dev/sg* &`,
    "echo 1 > /sys/bus/pseudo/drivers/scsi_debug/every_nth; echo 4 > /sys/bus/pseudo/drivers/scsi_debug/opts",
    "echo 0 > /sys/bus/pseudo/drivers/scsi_debug/opts",
    `${c.generate}`,
    "node bin/mpcheckgen.js --help; node -e 0",
    "node bin/mpcheckgen.js validate specs/tur.ts",
    "```",
    "",
    "All C is built by native-tests/support/cc.ts with upstream's flags (`-std=gnu99 -O2 -Wall -Wextra -Werror …`); " +
      "the checker host, libmpathutil and the TUR plugin are the ones the tests build (buildNativeSet), dynamically linked.",
    "",
    "## Method",
    "",
    `- **Runner round trip** (native-tests/bench/runner-bench.c, ${r.runnerArgs.reps} repetitions of ${r.runnerArgs.rounds} round trips and of ` +
      `${r.runnerArgs.inFlight} in flight, after a warm-up, the two sides alternating): a trivial worker (\`out = in + 1\`). The runner side ` +
      "calls get_runner(), then check_runner() with sched_yield() in between until RUNNER_DONE, then release_runner(); the floor " +
      "calls pthread_create() and pthread_join() on a thread with the same stack size as a runner's " +
      `(${kib(runner.stack)}, read from a runner thread with pthread_getattr_np). CPU is getrusage(RUSAGE_SELF), all threads. ` +
      `The runner's caller spins (${runner.sequential.polls.median.toFixed(1)} polls per round trip) where pthread_join() sleeps, ` +
      "so the runner side may be faster in wall time and dearer in CPU; and a runner's result is there before its detached " +
      "thread has exited (the exit overlaps the next round trip, on the other core), while pthread_join() waits for the exit. " +
      "The persistent side is the same round trip through get_persistent_runner(): one persistent runner for the sequential " +
      "round trips, one per runner in flight, their threads started in the warm-up, so each check wakes a waiting thread.",
    `- **Host check cycle** (native-tests/bench/host-cycle.ts; ${host.cycles.rounds} rounds, each running the checker host ` +
      `with persistent runners, with ASYNC_THREAD_PER_CHECK and with --sync, ${HOST_BENCH.warmup} warm-up and ${host.cycles.cycles} measured ` +
      `cycles each, poll every ${HOST_BENCH.pollUs} µs): the TUR plugin linked with libsgsim, whose SG_IO answers GOOD at once in the ` +
      "calling thread, so a cycle measures the framework and its threads, no device. The ratios are taken round by round. " +
      "Memory: VmRSS after the cycles minus VmRSS once the checkers are set up, per path; the idled-out figure comes from a " +
      `build with RUNNER_IDLE_USEC=${host.cycles.idle.idleUsec}, waiting (checkers still set up) until no runner thread is left. ` +
      "An ended thread's stack stays in glibc's stack cache (and resident), so RSS does not fall when the workers end. " +
      `The host storm: every SG_IO hangs until ${host.storm.releaseMs} ms after the start, a cycle every ${HOST_BENCH.stormIntervalMs} ms, ` +
      `threads counted from /proc/self/task. The machine is shared with other jobs; the ratios, taken side by side, are what to read.`,
    `- **Check cycle** (${vm.rounds} rounds × ${Object.keys(cycles.rounds[0] ?? {}).length} variants, each a fresh process with ${vm.warmup} warm-up and ${vm.cycles} measured ` +
      "cycles; the order of the variants rotates each round; a round's figure is the median of its cycles, a ratio is taken " +
      "within each round). A cycle is: start a check on every path, then collect every result. The checker host loads " +
      "libchecktur.so as multipathd 0.15 does and, per path, calls check (which starts a runner and returns PENDING), then " +
      `polls pending every ${vm.pollUs} µs until no check is in flight (checker timeout ${vm.timeoutS} s). The floors send the ` +
      "same TUR (same sg_io_hdr, same timeout) with SG_IO: in a plain loop, or from a pthread per path (same stack size as a " +
      "runner) created for all paths and then joined" +
      (cycles.wallRatio.checkerWorkers
        ? ", or from kept-alive bare workers: a thread per path (the same stack size) started once before the cycles, waiting " +
          "on its own semaphore, which the main thread posts for every path in turn; each worker sends its TUR and posts a " +
          "semaphore back, which the main thread waits on once per path (the wake-up with nothing of the framework around it)"
        : "") +
      (cycles.wallRatio.poolLoop
        ? `, or from ${POOL_THREADS} threads started once and sharing one queue: the main thread queues every path in turn, ` +
          "waking a waiting thread only when none is awake to take it, each thread takes paths until the queue is empty, " +
          "the last one posts the main thread. The kept-alive workers and the pool's threads move themselves to SCHED_BATCH, " +
          "as the persistent runner's workers do (RUNNER_BATCH_WORKERS); the checker host is also run built with " +
          "RUNNER_BATCH_WORKERS=0, its workers SCHED_OTHER"
        : "") +
      ". Every cycle of every variant must see all paths GOOD / UP, or the " +
      `bench fails. Before measuring, each LUN's power-on UNIT ATTENTION is consumed (${cycles.unitAttentions} seen).`,
    `- **Memory**: the struct sizes come from the generated runner.c and async_checker.c compiled into native-tests/bench/layout.c, ` +
      "the context size from the plugin's libcheck_async_context_size. Measured: VmHWM after the cycles minus VmRSS once " +
      "the devices are open and the checkers initialised (per path), and, at the storm's peak, VmRSS and /proc/meminfo " +
      "KernelStack against the last cycle before the storm, divided by the threads alive. The checker's VmHWM grows far " +
      "less than the thread-per-path floor's: a detached runner thread hands its stack back to glibc's cache as it ends, " +
      "so later threads of the same cycle reuse it, while a joinable thread keeps its stack until it is joined. Only " +
      "the touched pages of a stack are resident.",
    `- **Timeout storm**: the checker host runs a cycle every ${vm.stormIntervalMs} ms with thread counting on (/proc/self/task, ` +
      "at most every 50 ms during a cycle and every 5 ms between cycles; its CPU time is left out of the cycle's and shown " +
      `apart below). After 2 cycles with every path UP, every command is ignored (every_nth=1, opts=4) until ${vm.stormTimeoutCycles} ` +
      "cycles in a row have every check timed out; then opts=0, and the host runs on until 2 cycles in a row have every " +
      "path UP, plus 4 s. \"None left\" is the first observation of no thread after opts=0 (observations between cycles " +
      "and at cycle starts, where no new runner can be running). condlog messages of level 2 and up are off " +
      "(`--verbosity 1`): one line per path and timeout would otherwise go through the VM's serial console.",
    `- **The CLI**: ${generator.wallS.n} rounds after one that is not counted (its generate took ${generator.firstS.toFixed(2)} s), ` +
      "each round running, one after the other, `node -e 0`, `node bin/mpcheckgen.js --help`, " +
      `\`node bin/mpcheckgen.js generate --out <new temporary directory>\` (writing ${generator.files} files) and ` +
      "`node bin/mpcheckgen.js validate specs/tur.ts`, each a whole process timed from spawn to exit; the --help ratio is " +
      "taken within each round. The CLI runs compiled (bin/build.js, run first).",
    "",
    "## Check cycles, round by round",
    "",
    cycleRounds(cycles),
    "",
    `Setup per path (VmRSS after opening every device and initialising the checkers, minus before): checker ` +
      `${((cycles.setupKb.checker.median / PATHS) * 1024).toFixed(0)} B, SG_IO loop ${((cycles.setupKb.loop.median / PATHS) * 1024).toFixed(0)} B ` +
      "(page-granular; the checker host also allocates its own per-path record).",
    "",
    "## The timeout storm, cycle by cycle",
    "",
    stormTimeline(storm.cycles),
    "",
    ...stormNotes(storm, vm).map((x) => `- ${x}`),
    "",
  ];
  return lines.join("\n");
}
