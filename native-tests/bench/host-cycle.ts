// The host part of the benchmarks: the async checker framework's two modes,
// persistent runners (the default) and a thread per check
// (-DASYNC_THREAD_PER_CHECK), side by side on this machine, through the
// checker host over simulated SG_IO (libsgsim: a command is answered at once
// in the calling thread, so what is measured is the framework and its
// threads, not a device):
//
//   - check cycles over HOST_PATHS paths, the two modes and a synchronous
//     check (--sync: no thread at all, the floor) alternating round by round;
//   - memory: VmRSS after the cycles against before them, with the pool's
//     threads alive, and after they idled out (a build with a short
//     RUNNER_IDLE_USEC, the checkers still set up);
//   - a timeout storm: every command hangs until --release-ms, with a 1 s
//     checker timeout: the threads at the peak, and once the commands have
//     returned, against the mode's idle baseline (persistent: the threads
//     the pool keeps for the same paths without a storm, in the build with
//     the short RUNNER_IDLE_USEC, so that the threads the storm added can
//     be seen to end; thread per check: none).
import { spawnSync } from "node:child_process";
import { buildNativeSet, type NativeSet } from "../support/build.ts";
import type { Compiler } from "../support/cc.ts";
import { pairedRatios, spread, type Spread } from "./stats.ts";

export const HOST_PATHS = 1024;
export const HOST_MODES = ["persistent", "perCheck", "sync"] as const;
export type HostMode = (typeof HOST_MODES)[number];

export const HOST_BENCH = {
  rounds: 5,
  warmup: 2,
  cycles: 10,
  pollUs: 100,
  /** the idle build's RUNNER_IDLE_USEC, and how long the host waits for the workers to end */
  idleUsec: 300_000,
  idleWaitMs: 5_000,
  /** the storm: paths, checker timeout, when the commands are released, how long it runs */
  stormPaths: 256,
  stormTimeoutS: 1,
  stormReleaseMs: 4_500,
  stormDurationMs: 8_000,
  stormIntervalMs: 500,
} as const;

interface Rec {
  event: string;
  cycle?: number;
  warmup?: boolean;
  all?: string;
  t?: number;
  wallMs?: number;
  cpuMs?: number;
  threads?: number;
  threadsStart?: number;
  threadsPeak?: number;
  threadsEnd?: number;
  maxThreads?: number;
  rssKb?: number;
  rssBeforeKb?: number;
  states?: Record<string, number>;
}

export interface HostSets {
  persistent: NativeSet;
  perCheck: NativeSet;
  idle: NativeSet;
}

export function buildHostSets(compiler: Compiler): HostSets {
  return {
    persistent: buildNativeSet({ compiler }),
    perCheck: buildNativeSet({ compiler, defines: { ASYNC_THREAD_PER_CHECK: 1 } }),
    idle: buildNativeSet({ compiler, defines: { RUNNER_IDLE_USEC: HOST_BENCH.idleUsec } }),
  };
}

function runHost(set: NativeSet, args: string[], paths: number, what: string): Rec[] {
  const argv = ["--checker", set.simPlugin("tur"), "--verbosity", "1", ...args, "cycle", ...Array.from({ length: paths }, () => "/dev/null")];
  const r = spawnSync(set.host, argv, { encoding: "utf8", timeout: 300_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${what}: checker host exited ${r.status} (signal ${r.signal}):\n${r.stderr.slice(-2000)}`);
  const recs = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Rec);
  if (!recs.some((x) => x.event === "finished")) throw new Error(`${what}: no finished record`);
  return recs;
}

export function hostCommand(set: NativeSet, args: string[]): string {
  return `${set.host} --checker ${set.simPlugin("tur")} --verbosity 1 ${args.join(" ")} cycle PATH...`;
}

export function cycleArgs(mode: HostMode): string[] {
  const o = HOST_BENCH;
  return [
    "--sim-default",
    "status=0",
    "--timeout",
    "30",
    "--cycles",
    String(o.cycles),
    "--warmup",
    String(o.warmup),
    "--poll-us",
    String(o.pollUs),
    "--interval-ms",
    "0",
    ...(mode === "sync" ? ["--sync"] : []),
  ];
}

export function stormArgs(): string[] {
  const o = HOST_BENCH;
  return [
    "--sim-default",
    "hang=-1",
    "--timeout",
    String(o.stormTimeoutS),
    "--cycles",
    "0",
    "--warmup",
    "0",
    "--poll-us",
    "1000",
    "--interval-ms",
    String(o.stormIntervalMs),
    "--duration-ms",
    String(o.stormDurationMs),
    "--release-ms",
    String(o.stormReleaseMs),
    "--count-threads",
  ];
}

export interface HostCycleFigures {
  paths: number;
  /** per round: the median over its measured cycles, ms */
  wallMs: Record<HostMode, Spread>;
  cpuMs: Record<HostMode, Spread>;
  /** persistent / thread per check, and each against the synchronous check, round by round */
  wallRatio: { persistentPerCheck: Spread; persistentSync: Spread; perCheckSync: Spread };
  cpuRatio: { persistentPerCheck: Spread; persistentSync: Spread; perCheckSync: Spread };
  /** threads after the last cycle: the pool's threads, alive until they idle out */
  threadsAfter: Record<HostMode, number>;
  /** VmRSS growth per path over the cycles (kB), the checkers set up before */
  rssPerPathKb: Record<HostMode, Spread>;
  /** the idle build: per path, the pool's threads alive after the cycles, and after they idled out */
  idle: { aliveKbPerPath: number; idledKbPerPath: number; threadsAlive: number; threadsIdled: number; waitedMs: number; idleUsec: number };
  rounds: number;
  cycles: number;
}

export interface HostStormFigures {
  paths: number;
  timeoutS: number;
  releaseMs: number;
  mode: Record<
    "persistent" | "perCheck",
    {
      peakThreads: number;
      peakPerPath: number;
      /** threads at the end of the last cycle before the release */
      beforeRelease: number;
      /** threads at the end of the last cycle, the commands answering again */
      atEnd: number;
      /** the mode's idle baseline: the threads the pool keeps for these paths without a storm, or none */
      baseline: number;
      lastAll: string;
      cycles: number;
    }
  >;
}

export function benchHostCycles(sets: HostSets, log: (s: string) => void): HostCycleFigures {
  const o = HOST_BENCH;
  const per: Record<HostMode, { wall: number; cpu: number; rss: number; after: number }[]> = { persistent: [], perCheck: [], sync: [] };
  for (let round = 1; round <= o.rounds; round++) {
    for (const mode of HOST_MODES) {
      const set = mode === "perCheck" ? sets.perCheck : sets.persistent;
      const recs = runHost(set, cycleArgs(mode), HOST_PATHS, `host cycle ${mode} round ${round}`);
      const cycles = recs.filter((x) => x.event === "cycle");
      for (const c of cycles) if (c.all !== "up") throw new Error(`host cycle ${mode}: a cycle ended ${c.all}, not up`);
      const measured = cycles.filter((c) => !c.warmup);
      if (measured.length !== o.cycles) throw new Error(`host cycle ${mode}: ${measured.length} measured cycles, expected ${o.cycles}`);
      const started = recs.find((x) => x.event === "started")!;
      const fin = recs.find((x) => x.event === "finished")!;
      per[mode].push({
        wall: spread(measured.map((c) => c.wallMs!)).median,
        cpu: spread(measured.map((c) => c.cpuMs!)).median,
        rss: (fin.rssKb! - started.rssKb!) / HOST_PATHS,
        after: fin.threads!,
      });
    }
    log(`host cycle round ${round}/${o.rounds}: ${HOST_MODES.map((m) => `${m} ${per[m].at(-1)!.wall.toFixed(1)} ms`).join(", ")}`);
  }
  const by = <T>(f: (m: HostMode) => T) => Object.fromEntries(HOST_MODES.map((m) => [m, f(m)])) as Record<HostMode, T>;
  const ratio = (k: "wall" | "cpu", a: HostMode, b: HostMode) =>
    spread(pairedRatios(
      per[a].map((x) => x[k]),
      per[b].map((x) => x[k]),
    ));
  // the idle build: the pool's threads after the last cycle, then idled out
  const idleRecs = runHost(sets.idle, [...cycleArgs("persistent"), "--idle-ms", String(o.idleWaitMs)], HOST_PATHS, "host idle");
  const started = idleRecs.find((x) => x.event === "started")!;
  const fin = idleRecs.find((x) => x.event === "finished")!;
  const idle = idleRecs.find((x) => x.event === "idle") as (Rec & { ms: number }) | undefined;
  if (!idle) throw new Error("host idle: no idle record");
  return {
    paths: HOST_PATHS,
    wallMs: by((m) => spread(per[m].map((x) => x.wall))),
    cpuMs: by((m) => spread(per[m].map((x) => x.cpu))),
    wallRatio: {
      persistentPerCheck: ratio("wall", "persistent", "perCheck"),
      persistentSync: ratio("wall", "persistent", "sync"),
      perCheckSync: ratio("wall", "perCheck", "sync"),
    },
    cpuRatio: {
      persistentPerCheck: ratio("cpu", "persistent", "perCheck"),
      persistentSync: ratio("cpu", "persistent", "sync"),
      perCheckSync: ratio("cpu", "perCheck", "sync"),
    },
    threadsAfter: by((m) => per[m].at(-1)!.after),
    rssPerPathKb: by((m) => spread(per[m].map((x) => x.rss))),
    idle: {
      aliveKbPerPath: (fin.rssKb! - started.rssKb!) / HOST_PATHS,
      idledKbPerPath: (idle.rssKb! - started.rssKb!) / HOST_PATHS,
      threadsAlive: fin.threads!,
      threadsIdled: idle.threads!,
      waitedMs: idle.ms,
      idleUsec: o.idleUsec,
    },
    rounds: o.rounds,
    cycles: o.cycles,
  };
}

export function benchHostStorm(sets: HostSets, log: (s: string) => void): HostStormFigures {
  const o = HOST_BENCH;
  const mode = {} as HostStormFigures["mode"];
  // the pool's baseline: its threads after cycles of the same paths, every command answered
  const quietArgs = cycleArgs("persistent").map((a, i, all) => (all[i - 1] === "--interval-ms" ? String(o.stormIntervalMs) : a));
  const quiet = runHost(sets.idle, [...quietArgs, "--count-threads"], o.stormPaths, "host storm baseline");
  const poolBaseline = Math.max(...quiet.filter((x) => x.event === "cycle").map((c) => c.threadsEnd ?? 0));
  for (const m of ["persistent", "perCheck"] as const) {
    const recs = runHost(m === "perCheck" ? sets.perCheck : sets.idle, stormArgs(), o.stormPaths, `host storm ${m}`);
    const cycles = recs.filter((x) => x.event === "cycle");
    const released = recs.find((x) => x.event === "released");
    if (!released) throw new Error(`host storm ${m}: the commands were never released`);
    const before = cycles.filter((c) => c.t! < released.t!);
    if (!before.some((c) => c.all === "timeout")) throw new Error(`host storm ${m}: no cycle in which every check timed out`);
    const last = cycles.at(-1)!;
    const fin = recs.find((x) => x.event === "finished")!;
    const peak = Math.max(fin.maxThreads ?? 0, ...cycles.map((c) => c.threadsPeak ?? 0));
    mode[m] = {
      peakThreads: peak,
      peakPerPath: peak / o.stormPaths,
      beforeRelease: before.at(-1)!.threadsEnd ?? -1,
      atEnd: last.threadsEnd ?? -1,
      baseline: m === "persistent" ? poolBaseline : 0,
      lastAll: last.all ?? "?",
      cycles: cycles.length,
    };
    log(`host storm ${m}: peak ${peak} threads (${(peak / o.stormPaths).toFixed(2)} per path), ${mode[m].atEnd} at the end (${last.all})`);
  }
  return { paths: o.stormPaths, timeoutS: o.stormTimeoutS, releaseMs: o.stormReleaseMs, mode };
}
