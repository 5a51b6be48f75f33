// The bench's multipathd phase: Debian's real multipathd (0.9.4, the image
// of native-tests/vm/multipathd.ts) in the VM, loading Debian's stock tur
// and the generated 0.9 tur and alua plugins, each built twice: with
// persistent runners (the default) and with -DASYNC_THREAD_PER_CHECK.
//
//   - CPU: HOSTS × LUNS scsi_debug paths (vpd_use_hostno=0 add_host=HOSTS:
//     LUNS maps of HOSTS paths, few maps so that setting them up and
//     removing them is quick under TCG), polling_interval 1 and
//     max_polling_interval 1 (a checker cycle a second, the shortest
//     multipathd allows), multipathd run with -v2 (at -v3 it logs a line per
//     check); per checker and round, a fresh multipathd: utime + stime of
//     /proc/PID/stat over CYCLES checker cycles after WARMUP, a cycle being
//     over when every path's device has completed one more SCSI command
//     (sysfs iodone_cnt; mpcg-mp cpu-cycles). The checkers' order rotates
//     each round; ratios against the stock tur are taken within a round.
//   - ALUA flip latency: an LIO LU behind two tcm_loop target ports in two
//     target port groups; its groups swap AO and standby FLIPS times each way
//     (configfs alua_access_state); the time from the write until `multipathd
//     show topology` shows the new path state and path group (mpcg-mp
//     wait-paths, polled 0.1 s apart).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILD_DIR } from "../support/cc.ts";
import { ensureDebianBinaries } from "../tree/index.ts";
import { buildPlugin09 } from "../tree/plugin09.ts";
import { multipathdImage, mpScenario, phaseResults, type MpScenario, type PluginFile } from "../vm/multipathd.ts";
import type { VmRecord } from "../vm/records.ts";
import { formatScenario, getStep, runScenarios, scenario, type Scenario, type ScenarioResults } from "../vm/scenario.ts";
import { pairedRatios, spread, type Spread } from "./stats.ts";

export interface MpdBenchOptions {
  /** rounds of every checker (each a fresh multipathd) */
  rounds: number;
  /** LUNs of scsi_debug (one map each) */
  luns: number;
  /** scsi_debug hosts: the paths of each map */
  hosts: number;
  /** checker cycles before the measured ones */
  warmup: number;
  /** measured checker cycles */
  cycles: number;
  /** ALUA flips each way per checker */
  flips: number;
}

export const DEFAULT_MPD_BENCH: MpdBenchOptions = { rounds: 2, luns: 8, hosts: 32, warmup: 2, cycles: 5, flips: 2 };

export interface MpdChecker {
  /** path_checker NAME (libcheckNAME.so) */
  name: string;
  label: string;
  /** the generated spec; none: Debian's own plugin */
  spec?: string;
  threadPerCheck?: boolean;
}

export const MPD_CHECKERS: readonly MpdChecker[] = [
  { name: "tur", label: "Debian's tur (stock)" },
  { name: "gentur", label: "generated tur, persistent runners", spec: "tur" },
  { name: "genturtpc", label: "generated tur, thread per check", spec: "tur", threadPerCheck: true },
  { name: "alua", label: "generated alua, persistent runners", spec: "alua" },
  { name: "aluatpc", label: "generated alua, thread per check", spec: "alua", threadPerCheck: true },
];
/** The checkers whose ALUA flip latency is measured. */
export const FLIP_CHECKERS: readonly string[] = ["tur", "gentur", "alua", "aluatpc"];
const STOCK = "tur";
/** the checker of the reconfigure probe, and how many reconfigures */
export const RECONF_CHECKER = "gentur";
export const RECONFIGURES = 2;

const byName = (n: string) => MPD_CHECKERS.find((c) => c.name === n)!;
const T1 = "naa.5001405aaaaaaa11";
const T2 = "naa.5001405aaaaaaa12";

export const cpuLabel = (c: string, round: number) => `${c} #${round}: cycles`;

/** The rotated order of the checkers in a round. */
export function mpdRoundOrder(round: number): MpdChecker[] {
  return MPD_CHECKERS.map((_, i) => MPD_CHECKERS[(i + round) % MPD_CHECKERS.length]!);
}

function cpuScenario(o: MpdBenchOptions): Scenario {
  return scenario("multipathd: checker cycles", (b) => {
    for (const m of ["scsi_dh_alua", "dm-multipath", "dm-round-robin", "dm-service-time"]) b.modprobe(m);
    b.exec("run", ["mpcg-mp", "udev"], true, { json: true, label: "udevd", timeoutMs: 60_000 });
    b.scsiDebug.load(
      { vpd_use_hostno: 0, add_host: o.hosts, num_tgts: 1, max_luns: o.luns, delay: 0, dev_size_mb: 1 },
      { uld: ["sg", "sd_mod"], timeoutMs: 300_000 },
    );
    // udevd ran while the devices came: their uevents are handled once, no trigger at each start
    b.exec("run", ["udevadm", "settle", "-t", "600"], true, { label: "udev settle", timeoutMs: 620_000 });
    // a start that is not measured: the first multipathd over these paths
    // ran while the guest was still busy with them (its maps took several
    // times as long to come up as later ones), which would count against
    // whichever checker comes first
    b.exec("run", ["env", "MPCG_MP_VERBOSITY=2", "MPCG_MP_NOTRIGGER=1", "mpcg-mp", "start", STOCK], true, { json: true, label: "warm-up: start", timeoutMs: 180_000 });
    b.exec("run", ["mpcg-mp", "wait-maps", o.luns, o.hosts, 240_000], true, { json: true, label: "warm-up: maps", timeoutMs: 260_000 });
    b.exec("run", ["mpcg-mp", "cpu-cycles", 1, o.warmup, 180_000], true, { json: true, label: "warm-up: cycles", timeoutMs: 200_000 });
    b.exec("run", ["mpcg-mp", "stop"], true, { json: true, label: "warm-up: stop", timeoutMs: 180_000 });
    for (let r = 1; r <= o.rounds; r++) {
      for (const c of mpdRoundOrder(r - 1)) {
        const l = (what: string) => `${c.name} #${r}: ${what}`;
        b.exec("run", ["env", "MPCG_MP_VERBOSITY=2", "MPCG_MP_NOTRIGGER=1", "mpcg-mp", "start", c.name], true, { json: true, label: l("start"), timeoutMs: 180_000 });
        b.exec("run", ["mpcg-mp", "wait-maps", o.luns, o.hosts, 240_000], true, { json: true, label: l("maps"), timeoutMs: 260_000 });
        b.exec("run", ["mpcg-mp", "cpu-cycles", o.warmup, o.cycles, 180_000], true, { json: true, label: cpuLabel(c.name, r), timeoutMs: 200_000 });
        b.exec("run", ["mpcg-mp", "stop"], true, { json: true, label: l("stop"), timeoutMs: 180_000 });
      }
    }
    // a probe, not a measurement: multipathd reconfigure frees every path and
    // dlcloses the checker plugins while the generated plugin's worker
    // threads may still be on their way out
    b.exec("run", ["env", "MPCG_MP_VERBOSITY=2", "MPCG_MP_NOTRIGGER=1", "mpcg-mp", "start", RECONF_CHECKER], false, { json: true, label: "reconfigure: start", timeoutMs: 180_000 });
    b.exec("run", ["mpcg-mp", "wait-maps", o.luns, o.hosts, 240_000], false, { json: true, label: "reconfigure: maps", timeoutMs: 260_000 });
    for (let i = 1; i <= RECONFIGURES; i++) {
      b.exec("run", ["mpcg-mp", "reconfigure", o.luns, o.hosts, 240_000], false, { json: true, label: `reconfigure #${i}`, timeoutMs: 260_000 });
    }
    b.exec("run", ["mpcg-mp", "stop"], false, { json: true, label: "reconfigure: stop", timeoutMs: 180_000 });
  });
}

export const flipLabel = (dir: "failover" | "failback", i: number) => `LIO: ${dir} ${i}`;

function flipScenario(c: MpdChecker, o: MpdBenchOptions): MpScenario {
  return mpScenario(
    "LIO ALUA flips",
    c.name,
    (b, m) => {
      // implicit ALUA only (as in multipathd.test.ts): no SET TARGET PORT GROUPS moves a group back
      const p1 = b.lio.createLun({ name: "mp0", target: T1, tgPtGp: { name: "tpg1", id: 1 }, aluaState: 0, aluaAccessType: 1 });
      const p2 = b.lio.createLun({ name: "mp0", target: T2, tgPtGp: { name: "tpg2", id: 2 }, aluaState: 2, aluaAccessType: 1 });
      m.start().waitMap(2).loaded();
      m.expect("LIO: initial", [
        [p1.dev, "active/active/ready/running"],
        [p2.dev, "enabled/active/ghost/running"],
      ]);
      for (let i = 1; i <= o.flips; i++) {
        m.action(`failover ${i}`, () => {
          p2.setAluaState(0, { label: `tpg2 → AO #${i}` });
          p1.setAluaState(2, { label: `tpg1 → standby #${i}` });
        });
        m.expect(flipLabel("failover", i), [
          [p2.dev, "active/active/ready/running"],
          [p1.dev, "enabled/active/ghost/running"],
        ]);
        m.action(`failback ${i}`, () => {
          p1.setAluaState(0, { label: `tpg1 → AO #${i}` });
          p2.setAluaState(2, { label: `tpg2 → standby #${i}` });
        });
        m.expect(flipLabel("failback", i), [
          [p1.dev, "active/active/ready/running"],
          [p2.dev, "enabled/active/ghost/running"],
        ]);
      }
      m.stop(0);
    },
    { label: c.name },
  );
}

// ------------------------------------------------------------ figures

interface CpuRecord {
  event: "cpu";
  cycles: number;
  paths: number;
  min_checks: number;
  max_checks: number;
  sum_checks: number;
  wall_ms: number;
  cpu_ticks: number;
  utime_ticks: number;
  stime_ticks: number;
  clk_tck: number;
  threads: number;
  rss_kb: number;
  hwm_kb: number;
  checkers: string[];
}

export interface MpdCheckerFigures {
  name: string;
  label: string;
  /** multipathd's CPU per checker cycle (all paths), ms */
  cpuMsPerCycle: Spread;
  /** … per path and check, µs */
  cpuUsPerCheck: Spread;
  /** share of system time in the CPU */
  systemShare: number;
  /** against Debian's tur, round by round */
  cpuRatio: Spread;
  /** checks per path over the measurement (mean), and the fewest and most a path had */
  checksPerPath: Spread;
  minMaxChecks: [number, number];
  /** wall time of the measured cycles, per cycle (the 1 s sleep of the checker loop included) */
  wallMsPerCycle: Spread;
  /** multipathd's threads and VmRSS at the end of the cycles */
  threads: number;
  rssKb: number;
  /** (VmRSS − stock tur's VmRSS in the same round) per path, kB */
  rssKbPerPathVsStock: Spread;
  /** the libcheck*.so multipathd had mapped */
  mapped: string[];
}

export interface MpdFlipFigures {
  name: string;
  label: string;
  /** ms from the last configfs write until multipathd showed the new state and group */
  ms: Spread;
  samples: number[];
  /** median against stock tur's median */
  ratio: number;
}

export interface MpdFigures {
  /** when the phase ran (ISO) */
  date: string;
  /** an unmeasured multipathd start came first */
  warmStart?: boolean;
  options: MpdBenchOptions;
  paths: number;
  multipathTools: string;
  kernel: string;
  accel: string;
  bootS: number;
  runS: number;
  checkers: MpdCheckerFigures[];
  flips: MpdFlipFigures[];
  /** the reconfigure probe: per reconfigure, whether multipathd survived */
  reconfigure: { checker: string; runs: { alive: boolean | null; mapsBack: boolean | null; segfaults: number | null; ms: number | null }[] };
  /** the scenario's step timings: multipathd start and map set-up per checker start, s (median) */
  startS: Spread;
}

function cpuRecord(res: ScenarioResults, c: string, round: number): CpuRecord {
  const r = res.require("multipathd: checker cycles");
  const st = getStep(r, cpuLabel(c, round));
  const rec = st.data.find((d): d is CpuRecord => (d as { event?: string }).event === "cpu");
  if (!st.ran || st.status !== 0 || !rec) throw new Error(`multipathd bench: ${st.label} gave no CPU figure\n${formatScenario(r)}`);
  if (rec.min_checks < rec.cycles) throw new Error(`multipathd bench: ${st.label}: ${rec.min_checks} checks on some path, wanted ${rec.cycles}`);
  if (!rec.checkers.includes(`/lib/multipath/libcheck${c}.so`)) {
    throw new Error(`multipathd bench: ${st.label}: multipathd has not mapped /lib/multipath/libcheck${c}.so (mapped: ${rec.checkers.join(", ")})`);
  }
  return rec;
}

export function analyseMpd(res: ScenarioResults, o: MpdBenchOptions, flipScenarios: readonly MpScenario[], multipathTools: string): MpdFigures {
  const rounds = Array.from({ length: o.rounds }, (_, i) => i + 1);
  // a cycle: as many checks as paths (the paths are not checked evenly: the
  // measurement ends once the least checked path has had CYCLES)
  const cyclesOf = (x: CpuRecord) => x.sum_checks / x.paths;
  const perCycle = (x: CpuRecord) => (x.cpu_ticks * 1000) / x.clk_tck / cyclesOf(x);
  const stock = rounds.map((r) => cpuRecord(res, STOCK, r));
  const paths = stock[0]!.paths;
  const checkers = MPD_CHECKERS.map((c): MpdCheckerFigures => {
    const recs = rounds.map((r) => cpuRecord(res, c.name, r));
    for (const x of recs) if (x.paths !== o.hosts * o.luns) throw new Error(`multipathd bench: ${c.name}: ${x.paths} paths, expected ${o.hosts * o.luns}`);
    const cpu = recs.map(perCycle);
    const ticks = recs.reduce((a, x) => a + x.cpu_ticks, 0);
    return {
      name: c.name,
      label: c.label,
      cpuMsPerCycle: spread(cpu),
      cpuUsPerCheck: spread(cpu.map((v) => (v * 1000) / paths)),
      systemShare: ticks ? recs.reduce((a, x) => a + x.stime_ticks, 0) / ticks : 0,
      cpuRatio: spread(pairedRatios(cpu, stock.map(perCycle))),
      wallMsPerCycle: spread(recs.map((x) => x.wall_ms / cyclesOf(x))),
      checksPerPath: spread(recs.map((x) => cyclesOf(x))),
      minMaxChecks: [Math.min(...recs.map((x) => x.min_checks)), Math.max(...recs.map((x) => x.max_checks))],
      threads: recs.at(-1)!.threads,
      rssKb: recs.at(-1)!.rss_kb,
      rssKbPerPathVsStock: spread(recs.map((x, i) => (x.rss_kb - stock[i]!.rss_kb) / paths)),
      mapped: recs.at(-1)!.checkers,
    };
  });
  const flipMs = (s: MpScenario): number[] => {
    const r = res.require(s.name);
    const ps = phaseResults(r, s).filter((p) => /failover|failback/.test(p.label));
    for (const p of ps) {
      if (!p.matched || p.msAfterAction === null) throw new Error(`multipathd bench: ${s.name}: ${p.label}: expected ${p.expected}, observed ${p.observed}${p.problem ? ` (${p.problem})` : ""}\n${formatScenario(r)}`);
    }
    return ps.map((p) => p.msAfterAction!);
  };
  const stockFlips = spread(flipMs(flipScenarios.find((s) => s.checker === STOCK)!)).median;
  const flips = flipScenarios.map((s): MpdFlipFigures => {
    const samples = flipMs(s);
    const sp = spread(samples);
    return { name: s.checker, label: byName(s.checker).label, ms: sp, samples, ratio: sp.median / stockFlips };
  });
  const cyc = res.require("multipathd: checker cycles");
  const startS = spread(
    MPD_CHECKERS.flatMap((c) =>
      rounds.map((r) => {
        const a = getStep(cyc, `${c.name} #${r}: start`).elapsedMs ?? 0;
        const b = getStep(cyc, `${c.name} #${r}: maps`).elapsedMs ?? 0;
        return (a + b) / 1000;
      }),
    ),
  );
  const reconfigure = {
    checker: RECONF_CHECKER,
    runs: Array.from({ length: RECONFIGURES }, (_, i) => {
      const st = cyc.steps.find((x) => x.label === `reconfigure #${i + 1}`);
      const d = st?.data.find((x) => (x as { event?: string }).event === "reconfigure") as
        | { alive: boolean; maps_back: boolean; segfaults: number; ms: number }
        | undefined;
      return { alive: d?.alive ?? null, mapsBack: d?.maps_back ?? null, segfaults: d?.segfaults ?? null, ms: d?.ms ?? null };
    }),
  };
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    warmStart: res.require("multipathd: checker cycles").steps.some((x) => x.label === "warm-up: start"),
    options: o,
    paths,
    reconfigure,
    multipathTools,
    kernel: res.vm.kernelVersion,
    accel: res.vm.accel,
    bootS: res.vm.bootMs / 1000,
    runS: res.vm.totalMs / 1000,
    checkers,
    flips,
    startS,
  };
}

/** Progress lines: each checker's cycles and each flip as the VM reports them. */
function progress(log: (msg: string) => void): (rec: VmRecord) => void {
  return (rec) => {
    const label = typeof rec.label === "string" ? rec.label : "";
    if (rec.event === "data") {
      const d = rec.data as Omit<Partial<CpuRecord>, "event"> & { event?: string; ms?: number; maps?: number };
      if (d.event === "cpu") {
        log(
          `${label}: ${(((d.cpu_ticks ?? 0) * 10 * (d.paths ?? 0)) / (d.sum_checks || 1)).toFixed(0)} ms CPU per cycle of ${d.paths} paths ` +
            `(${d.min_checks}–${d.max_checks} checks per path in ${d.wall_ms} ms), ${d.threads} threads, VmRSS ${d.rss_kb} kB`,
        );
      }
      if (d.event === "maps") log(`${label}: ${d.maps} maps in ${d.ms} ms`);
    } else if (rec.event === "step-end" && /^LIO: (failover|failback)/.test(label)) {
      log(`${String(rec.scenario ?? "")} ${label}: done`);
    }
  };
}

export async function runMpdBench(o: MpdBenchOptions, log: (msg: string) => void): Promise<MpdFigures> {
  const deb = await ensureDebianBinaries("0.9.4");
  const plugins: PluginFile[] = MPD_CHECKERS.filter((c) => c.spec).map((c) => ({
    name: c.name,
    src: buildPlugin09(c.spec!, deb, "gcc", c.threadPerCheck ? { ASYNC_THREAD_PER_CHECK: 1 } : undefined),
  }));
  const image = await multipathdImage({ checkers: MPD_CHECKERS.map((c) => c.name), plugins });
  const flipScenarios = FLIP_CHECKERS.map((n) => flipScenario(byName(n), o));
  mkdirSync(join(BUILD_DIR, "bench"), { recursive: true });
  // the short flip scenarios first: a failure there shows before the long cycles
  const res = await runScenarios([...flipScenarios, cpuScenario(o)], {
    consoleLog: join(BUILD_DIR, "bench/multipathd-console.log"),
    ...image.runOptions,
    memoryMb: 1024,
    label: "bench multipathd",
    onRecord: progress(log),
    timeoutMs: 2_700_000,
  });
  writeFileSync(join(BUILD_DIR, "bench/multipathd-records.jsonl"), res.vm.records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  for (const r of res.values()) {
    if (r.status !== "ok") throw new Error(`multipathd bench: scenario ${r.name} failed\n${formatScenario(r)}`);
  }
  return analyseMpd(res, o, flipScenarios, image.multipathToolsVersion);
}
