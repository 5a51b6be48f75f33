// The benchmarks over many real paths, in the test VM: 1024 scsi_debug LUNs
// (delay=0, sg only), and
//   - check cycles: the generated TUR checker through the checker host
//     (persistent runners over the pool, their RUNNER_BATCH_WORKERS=0 build, and the
//     ASYNC_THREAD_PER_CHECK build) against the floors (sg-cycle): a plain
//     SG_IO loop in one thread, a pthread per path, kept-alive bare workers
//     (a thread per path woken by a semaphore), and a few threads sharing
//     one queue of paths, in interleaved rounds;
//   - a timeout storm: the same paths ignoring every command (opts=4,
//     every_nth=1) under a 1 s checker timeout, then answering again (the
//     checker host built with a short RUNNER_IDLE_USEC, so that the threads
//     the storm added can be seen to end).
import { VM_CHECKER_HOST, vmPluginPath } from "../vm/checker-vm.ts";
import type { ExtraFile } from "../vm/initramfs.ts";
import type { VmRecord } from "../vm/records.ts";
import {
  concat,
  formatScenario,
  getStep,
  runScenarios,
  scenario,
  SCENARIO_TMP,
  type ScenarioBuilder,
  type ScenarioResult,
  type ScenarioResults,
  type StepResult,
} from "../vm/scenario.ts";
import type { BenchPrograms } from "./programs.ts";
import { spread } from "./stats.ts";

export const SG_CYCLE = "/opt/mpcg/sg-cycle";
const SCSI_DEBUG = "/sys/bus/pseudo/drivers/scsi_debug";

/** vm.md §g: 1024 LUNs, 1 host × 4 targets × 256 LUNs, no delay, sg only. */
export const MANY_LUNS = { add_host: 1, num_tgts: 4, max_luns: 256, no_uld: 1, delay: 0, dev_size_mb: 1 } as const;
export const PATHS = MANY_LUNS.add_host * MANY_LUNS.num_tgts * MANY_LUNS.max_luns;

/** Guest RAM: 2 × 1024 threads at the peak of the storm need room for their stacks. */
export const VM_MEMORY_MB = 1024;

export type Variant = "loop" | "threads" | "workers" | "pool" | "checker" | "unbatched" | "perCheck";
/**
 * checker: the default build (persistent runners); unbatched: the same
 * built with RUNNER_BATCH_WORKERS=0 (its workers stay SCHED_OTHER);
 * perCheck: the ASYNC_THREAD_PER_CHECK build of the same host; workers:
 * sg-cycle's kept-alive thread per path, posted and posting back through
 * semaphores, SCHED_BATCH as the checker's workers; pool: sg-cycle's
 * POOL_THREADS threads sharing one queue of paths, SCHED_BATCH too
 */
export const VARIANTS: readonly Variant[] = ["loop", "threads", "workers", "pool", "checker", "unbatched", "perCheck"];
/** The threads of sg-cycle's shared pool (--pool) */
export const POOL_THREADS = 4;
/** The checker host built with ASYNC_THREAD_PER_CHECK, in the VM */
export const VM_CHECKER_HOST_PER_CHECK = "/opt/mpcg/checker-host-per-check";
/** The checker host built with RUNNER_BATCH_WORKERS=0, in the VM */
export const VM_CHECKER_HOST_UNBATCHED = "/opt/mpcg/checker-host-unbatched";
/** The checker host built with a short RUNNER_IDLE_USEC (programs.ts IDLE_BUILD_USEC), in the VM */
export const VM_CHECKER_HOST_IDLE = "/opt/mpcg/checker-host-idle";
export const IDLE_LABEL = "idle build: cycles, then the workers idle out";

export interface VmBenchOptions {
  /** rounds of the variants (each a fresh process) */
  rounds: number;
  /** measured cycles per process */
  cycles: number;
  /** cycles run first in each process, not measured */
  warmup: number;
  /** µs between two polls of the checks in flight (checker host) */
  pollUs: number;
  /** checker timeout, s (also the SG_IO timeout of every variant) */
  timeoutS: number;
  /** timeout storm: cycles in a row in which every check times out, before the LUNs answer again */
  stormTimeoutCycles: number;
  /** timeout storm: ms between the starts of two cycles */
  stormIntervalMs: number;
  /** the checker host's async framework runs persistent runners (its default build; else ASYNC_THREAD_PER_CHECK) */
  persistent: boolean;
  /** the idle build's run: how long it waits, after its cycles, for every worker to idle out */
  idleWaitMs: number;
}

export const DEFAULT_VM_BENCH: VmBenchOptions = {
  rounds: 7,
  cycles: 5,
  warmup: 1,
  pollUs: 1000,
  timeoutS: 1,
  stormTimeoutCycles: 4,
  stormIntervalMs: 1000,
  // buildBenchPrograms() builds the default: persistent runners
  persistent: true,
  idleWaitMs: 15_000,
};

/** The idle build's argv: cycles as the checker's, then --idle-ms (the device nodes are appended). */
export function idleArgv(o: VmBenchOptions): string[] {
  const a = variantArgv("checker", o);
  a[0] = VM_CHECKER_HOST_IDLE;
  a.splice(a.length - 1, 0, "--idle-ms", String(o.idleWaitMs));
  return a;
}

/**
 * condlog level 2 and above stays quiet: in the storm every path logs each
 * timeout at level 2, and through the VM's serial console that would cost
 * more than the checks themselves.
 */
const VERBOSITY = ["--verbosity", "1"];

/** The argv (inside the VM) of one variant; the device nodes are appended. */
export function variantArgv(v: Variant, o: VmBenchOptions): string[] {
  const common = ["--cycles", String(o.cycles), "--warmup", String(o.warmup), "--timeout", String(o.timeoutS)];
  switch (v) {
    case "loop":
      return [SG_CYCLE, ...common];
    case "threads":
      return [SG_CYCLE, "--threads", ...common];
    case "workers":
      return [SG_CYCLE, "--workers", "--batch", ...common];
    case "pool":
      return [SG_CYCLE, "--pool", String(POOL_THREADS), "--batch", ...common];
    case "checker":
    case "unbatched":
    case "perCheck":
      return [
        { checker: VM_CHECKER_HOST, unbatched: VM_CHECKER_HOST_UNBATCHED, perCheck: VM_CHECKER_HOST_PER_CHECK }[v],
        "--checker",
        vmPluginPath("tur"),
        ...VERBOSITY,
        ...common,
        "--poll-us",
        String(o.pollUs),
        "--interval-ms",
        "0",
        "cycle",
      ];
  }
}

/** The storm runs the idle build: the threads it added end RUNNER_IDLE_USEC after their last check, within the scenario. */
export function stormArgv(o: VmBenchOptions): string[] {
  return [
    VM_CHECKER_HOST_IDLE,
    "--checker",
    vmPluginPath("tur"),
    ...VERBOSITY,
    "--timeout",
    String(o.timeoutS),
    "--cycles",
    "0",
    "--warmup",
    "0",
    "--poll-us",
    String(o.pollUs),
    "--interval-ms",
    String(o.stormIntervalMs),
    "--count-threads",
    "--duration-ms",
    "150000",
    "--drain-ms",
    "30000",
  ];
}

// Runs PROGRAM ARGS... on every sg node (all of them are scsi_debug LUNs:
// the VM has no other SCSI device).
const ON_ALL = 'exec "$@" /dev/sg*';

// The same in the background, its records also written to LOG.
// Arguments: LOG STOP PROGRAM ARGS... (the program gets --stop-file STOP)
// LOG and STOP are files of the scenario's own directory (SCENARIO_TMP):
// nothing else wrote them, so the until steps, which may start before this
// one, read this run's records only, and a stop file an until step writes
// before the host starts still stops it.
const ON_ALL_LOGGED = String.raw`set -o pipefail
log=$1 stop=$2
shift 2
"$@" --stop-file "$stop" cycle /dev/sg* | tee "$log"`;

// Waits until the last TIMES cycle records of LOG all have "all":"WANT".
// Arguments: LOG STOP WANT TIMES TIMEOUT_MS. On timeout it stops the host.
const UNTIL_CYCLES = String.raw`log=$1 stop=$2 want=$3 times=$4 tmo=$5
end=$(($(vmstep now) + tmo))
while :; do
	if [ -f "$log" ] && awk -v want="$want" -v times="$times" '
		# the last line may be one the host is still writing
		!/[}]$/ { next }
		index($0, "{\"event\":\"cycle\",") == 1 { if (index($0, "\"all\":\"" want "\"") > 0) run++; else run = 0 }
		END { exit (run >= times) ? 0 : 1 }' "$log"; then
		echo "$times cycles in a row with every path $want"
		exit 0
	fi
	if [ -f "$log" ] && grep -q '"event":"finished"' "$log"; then
		echo "the checker host ended before $times cycles in a row with every path $want"
		exit 1
	fi
	if [ "$(vmstep now)" -ge "$end" ]; then
		echo "no $times cycles in a row with every path $want within $tmo ms; stopping the host"
		tail -n 5 "$log" 2>&1
		: >"$stop"
		exit 1
	fi
	usleep 100000
done`;

function loadLuns(b: ScenarioBuilder): void {
  b.scsiDebug.load({ ...MANY_LUNS }, { timeoutMs: 120_000 });
  // the first TUR on every LUN returns the power-on UNIT ATTENTION
  b.exec("clear-ua", ["sh", "-c", ON_ALL, "sh", SG_CYCLE, "--clear-ua"], true, { json: true, label: "clear unit attentions", timeoutMs: 120_000 });
}

/** The label of a variant's run in a round. */
export const runLabel = (v: Variant, round: number): string => `${v} #${round}`;

/** Rounds of the variants, the order rotated each round. */
export function roundOrder(round: number): Variant[] {
  return VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
}

export const STORM_LABELS = {
  host: "storm: checker host",
  ignore: "storm: ignore every command (opts=4)",
  answer: "storm: answer again (opts=0)",
} as const;

export const CLOCKSOURCE_LABEL = "clocksource";

export function cycleScenario(o: VmBenchOptions) {
  return scenario("check cycles", (b) => {
    b.shell("cat /sys/devices/system/clocksource/clocksource0/current_clocksource; nproc", { label: CLOCKSOURCE_LABEL });
    loadLuns(b);
    for (let r = 0; r < o.rounds; r++) {
      for (const v of roundOrder(r)) {
        b.exec("bench", ["sh", "-c", ON_ALL, "sh", ...variantArgv(v, o)], true, { json: true, label: runLabel(v, r + 1), timeoutMs: 300_000 });
      }
    }
    b.exec("bench", ["sh", "-c", ON_ALL, "sh", ...idleArgv(o)], true, { json: true, label: IDLE_LABEL, timeoutMs: 300_000 });
  });
}

export interface IdleFigures {
  /** per path, against VmRSS / KernelStack once the checkers are set up: after the cycles (workers alive), and once they idled out */
  aliveRssKbPerPath: number;
  idledRssKbPerPath: number;
  aliveKstackKbPerPath: number;
  idledKstackKbPerPath: number;
  threadsAlive: number;
  threadsIdled: number;
  /** ms from the end of the cycles until no worker was left */
  waitedMs: number;
  idleUsec: number;
}

/** The idle build's memory: workers alive after the cycles, then idled out. */
export function idleFigures(r: ScenarioResult, idleUsec: number): IdleFigures {
  const run = programRun(r, IDLE_LABEL);
  const fin = run.end("finished") as (EndRecord & { kstackKb?: number }) | undefined;
  const idle = run.records.find((x) => x.event === "idle") as { threads: number; rssKb: number; kstackKb: number; ms: number } | undefined;
  if (!fin || fin.rssKb === undefined || fin.kstackKb === undefined || !idle) throw run.error("no finished or idle record with the memory");
  const s = run.started;
  if (s.kstackKb === undefined) throw run.error("no KernelStack in the started record");
  return {
    aliveRssKbPerPath: (fin.rssKb - s.rssKb) / PATHS,
    idledRssKbPerPath: (idle.rssKb - s.rssKb) / PATHS,
    aliveKstackKbPerPath: (fin.kstackKb - s.kstackKb) / PATHS,
    idledKstackKbPerPath: (idle.kstackKb - s.kstackKb) / PATHS,
    threadsAlive: fin.threads ?? -1,
    threadsIdled: idle.threads,
    waitedMs: idle.ms,
    idleUsec,
  };
}

export function stormScenario(o: VmBenchOptions) {
  return scenario("timeout storm", (b) => {
    loadLuns(b);
    const log = concat(SCENARIO_TMP, "/storm.jsonl");
    const stop = concat(SCENARIO_TMP, "/storm.stop");
    const host = b.background(["sh", "-c", ON_ALL_LOGGED, "sh", log, stop, ...stormArgv(o)], {
      json: true,
      label: STORM_LABELS.host,
      timeoutMs: 240_000,
    });
    const until = (want: string, times: number, timeoutMs: number, label: string) =>
      b.exec("until", ["sh", "-c", UNTIL_CYCLES, "sh", log, stop, want, times, timeoutMs], true, { label, timeoutMs: timeoutMs + 30_000 });
    until("up", 2, 60_000, "storm: until every path is up ×2");
    b.writeSysfs(`${SCSI_DEBUG}/every_nth`, 1, { label: "storm: every_nth=1" });
    b.writeSysfs(`${SCSI_DEBUG}/opts`, 4, { label: STORM_LABELS.ignore });
    until("timeout", o.stormTimeoutCycles, 60_000, `storm: until every path times out ×${o.stormTimeoutCycles}`);
    b.writeSysfs(`${SCSI_DEBUG}/opts`, 0, { label: STORM_LABELS.answer });
    until("up", 2, 60_000, "storm: until every path is up ×2 again");
    // the commands still stuck end at their SG_IO timeout; the gaps between
    // cycles show when the last thread is gone
    b.sleep(4000, { label: "storm: let the stuck commands end" });
    b.exec("stop", ["touch", stop], true, { label: "storm: stop" });
    b.join(host, { label: "storm: join" });
  });
}

export function vmFiles(p: BenchPrograms): ExtraFile[] {
  return [
    { src: p.set.host, dest: VM_CHECKER_HOST, mode: 0o755 },
    { src: p.perCheckSet.host, dest: VM_CHECKER_HOST_PER_CHECK, mode: 0o755 },
    { src: p.unbatchedSet.host, dest: VM_CHECKER_HOST_UNBATCHED, mode: 0o755 },
    { src: p.idleSet.host, dest: VM_CHECKER_HOST_IDLE, mode: 0o755 },
    { src: p.set.plugin("tur"), dest: vmPluginPath("tur"), mode: 0o755 },
    { src: p.sgCycle, dest: SG_CYCLE, mode: 0o755 },
  ];
}

/** Progress lines as the VM runs: each variant's cycles, each storm cycle and step. */
function stepProgress(log: (msg: string) => void): (rec: VmRecord) => void {
  const walls = new Map<string, number[]>();
  return (rec) => {
    const label = typeof rec.label === "string" ? rec.label : "";
    if (rec.event === "data") {
      const d = rec.data as Partial<CycleRecord> | undefined;
      if (d?.event !== "cycle") return;
      if (label === STORM_LABELS.host) {
        const what = d.all === "mixed" ? `paths ${JSON.stringify(d.states)}` : `every path ${d.all ?? "?"}`;
        log(`storm: cycle ${d.cycle}: ${what} in ${Math.round(d.wallMs ?? 0)} ms, threads ${d.threadsStart} → ${d.threadsPeak} → ${d.threadsEnd}`);
      } else if (!d.warmup && typeof d.wallMs === "number") {
        walls.set(label, [...(walls.get(label) ?? []), d.wallMs]);
      }
    } else if (rec.event === "step-end") {
      const w = walls.get(label);
      if (w) log(`${label}: ${spread(w).median.toFixed(1)} ms per cycle (median of ${w.length})`);
      else if (label.startsWith("storm:") && label !== STORM_LABELS.host) log(`${label}: done`);
    }
  };
}

export async function runVmBench(p: BenchPrograms, o: VmBenchOptions, log: (msg: string) => void): Promise<ScenarioResults> {
  return runScenarios([cycleScenario(o), stormScenario(o)], {
    label: "bench",
    onRecord: stepProgress(log),
    files: vmFiles(p),
    memoryMb: VM_MEMORY_MB,
    timeoutMs: 540_000,
  });
}

// ------------------------------------------------------------ records

export interface CycleRecord {
  event: "cycle";
  cycle: number;
  warmup: boolean;
  t: number;
  wallMs: number;
  cpuMs: number;
  all: string;
  rssKb: number;
  hwmKb: number;
  // checker host
  startMs?: number;
  startCpuMs?: number;
  sampleMs?: number;
  sampleCpuMs?: number;
  pending?: number;
  sweeps?: number;
  states?: Record<string, number>;
  threadsStart?: number;
  threadsPeak?: number;
  threadsEnd?: number;
  peakRssKb?: number;
  peakKstackKb?: number;
  // sg-cycle
  good?: number;
  notGood?: number;
}

export interface StartedRecord {
  event: "started";
  mode: string;
  paths: number;
  clock: number;
  rssBeforeKb: number;
  rssKb: number;
  hwmKb: number;
  kstackKb?: number;
  threads?: number;
  stack?: number;
}

export interface GapRecord {
  event: "gap";
  t: number;
  ms: number;
  threadsStart: number;
  threadsEnd: number;
  zeroT?: number;
}

export interface EndRecord {
  event: "finished" | "exit";
  t: number;
  /** "finished": the cycle records the program printed */
  cycles?: number;
  threads?: number;
  maxThreads?: number;
  rssKb?: number;
  hwmKb?: number;
}

type AnyRecord = CycleRecord | StartedRecord | GapRecord | EndRecord | { event: string };

/** The parsed records of one program run (a step), checked. */
export class ProgramRun {
  readonly records: AnyRecord[];
  readonly started: StartedRecord;
  constructor(
    readonly result: ScenarioResult,
    readonly step: StepResult,
  ) {
    this.records = step.data as AnyRecord[];
    const started = this.records.find((r): r is StartedRecord => r.event === "started");
    if (!started) throw this.error("no \"started\" record");
    if (started.paths !== PATHS) throw this.error(`${started.paths} paths, expected ${PATHS}`);
    this.started = started;
    // every cycle the program printed is here: numbered 1, 2, … as many as "finished" says
    this.cycles.forEach((c, i) => {
      if (c.cycle !== i + 1) throw this.error(`trace incomplete: cycle ${i + 1} missing (cycle ${c.cycle} follows ${i === 0 ? "the start" : `cycle ${i}`})`);
    });
    const printed = this.end("finished")?.cycles;
    if (printed !== undefined && printed > this.cycles.length) {
      throw this.error(`trace incomplete: cycle ${this.cycles.length + 1} missing (the program printed ${printed} cycles, the trace has ${this.cycles.length})`);
    }
  }
  error(what: string): Error {
    return new Error(`${this.step.label}: ${what}\n${formatScenario(this.result)}`);
  }
  get cycles(): CycleRecord[] {
    return this.records.filter((r): r is CycleRecord => r.event === "cycle");
  }
  get measured(): CycleRecord[] {
    return this.cycles.filter((c) => !c.warmup);
  }
  get gaps(): GapRecord[] {
    return this.records.filter((r): r is GapRecord => r.event === "gap");
  }
  end(event: "finished" | "exit"): EndRecord | undefined {
    return this.records.find((r): r is EndRecord => r.event === event);
  }
  /** VM CLOCK_MONOTONIC ms of a time the program gave relative to its start. */
  clock(t: number): number {
    return this.started.clock + t;
  }
}

export function programRun(r: ScenarioResult, label: string): ProgramRun {
  const step = getStep(r, label);
  if (!step.ran) throw new Error(`${label} did not run\n${formatScenario(r)}`);
  if (step.status !== 0) throw new Error(`${label} exited with status ${step.status}\n${formatScenario(r)}`);
  return new ProgramRun(r, step);
}
