// npm run bench: what a check costs, measured against its floor, as ratios
// taken side by side in one run. Prints the table and writes BENCHMARKS.md
// (the table, the machine, the commands, the method).
//
//   1. the runner round trip on this machine (runner-bench), against
//      pthread_create + pthread_join, one at a time and 1000 in flight;
//   2. check cycles over 1024 scsi_debug LUNs in the test VM: the TUR
//      checker through the checker host against an SG_IO loop, a thread
//      per path and kept-alive bare workers (vm-cycle.ts), with the memory
//      per path;
//   3. a timeout storm over the same LUNs;
//   4. the CLI, whole process: `mpcheckgen --help` against `node -e 0`,
//      `generate` of every embedded spec, `validate` of one spec.
//
// Options: --only runner,cycle,generate (a partial run prints its figures
// and writes nothing), --out FILE (default BENCHMARKS.md at the repo root).
// Progress goes to stderr; the table to stdout.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { TEST_HOST_PACKAGES } from "../support/global-setup.ts";
import { ensureHostPackages } from "../support/host-packages.ts";
import { BUILD_DIR, COMPILERS, ROOT } from "../support/cc.ts";
import { kvmUsable } from "../vm/qemu.ts";
import {
  analyseCycles,
  analyseRunner,
  analyseStorm,
  type GeneratorFigures,
  type Layout,
  type RunnerBenchOutput,
  type RunnerFigures,
} from "./analyse.ts";
import { buildBenchPrograms, type BenchPrograms } from "./programs.ts";
import { markdown, table, type Commands, type MachineInfo, type Report } from "./report.ts";
import { fmtRatio, fmtSpread, pairedRatios, spread } from "./stats.ts";
import { benchHostCycles, benchHostStorm, buildHostSets, cycleArgs, HOST_BENCH, hostCommand, stormArgs } from "./host-cycle.ts";
import { DEFAULT_MPD_BENCH, runMpdBench, type MpdBenchOptions, type MpdFigures } from "./mpd-bench.ts";
import { DEFAULT_VM_BENCH, idleArgv, idleFigures, POOL_THREADS, runVmBench, stormArgv, variantArgv, VM_MEMORY_MB, type VmBenchOptions } from "./vm-cycle.ts";
import { IDLE_BUILD_USEC } from "./programs.ts";

const RUNNER_ARGS = { rounds: 10_000, inFlight: 1000, reps: 9 };
const GENERATE_RUNS = 7;
const COMPILER = "gcc";

const log = (msg: string): void => {
  process.stderr.write(`mpcheckgen bench: ${msg}\n`);
};

class BenchError extends Error {}

function run(cmd: string, args: string[], what: string, timeoutMs = 600_000): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.error) throw new BenchError(`${what}: cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new BenchError(`${what} failed (exit ${r.status}${r.signal ? `, signal ${r.signal}` : ""}):\n$ ${[cmd, ...args].join(" ")}\n${r.stderr}${r.stdout}`.trimEnd());
  }
  return r.stdout;
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new BenchError(`${what} printed no JSON object (${(e as Error).message}):\n${text.slice(0, 2000)}`);
  }
}

const rel = (p: string): string => relative(ROOT, p);

// ------------------------------------------------------------ 1. runner

function benchRunner(p: BenchPrograms): { figures: RunnerFigures; command: string } {
  const args = ["-n", String(RUNNER_ARGS.rounds), "-f", String(RUNNER_ARGS.inFlight), "-r", String(RUNNER_ARGS.reps)];
  log(`runner round trip: ${RUNNER_ARGS.reps} × ${RUNNER_ARGS.rounds} round trips and ${RUNNER_ARGS.inFlight} in flight, against pthread_create + pthread_join`);
  const t0 = performance.now();
  const out = parseJson<RunnerBenchOutput>(run(p.runnerBench, args, "runner-bench"), "runner-bench");
  const figures = analyseRunner(out);
  log(
    `runner round trip: ${fmtSpread(figures.sequential.wallUs, 1, " µs")} against ${fmtSpread(figures.sequential.floorWallUs, 1, " µs")} ` +
      `(${fmtRatio(figures.sequential.wallRatio)}), in flight ${fmtRatio(figures.inFlight.wallRatio)}, in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  log(
    `persistent runner round trip: ${fmtSpread(figures.persistentSequential.wallUs, 1, " µs")} (${fmtRatio(figures.persistentSequential.wallRatio)} of the floor), ` +
      `in flight ${fmtRatio(figures.persistentInFlight.wallRatio)}`,
  );
  return { figures, command: `${rel(p.runnerBench)} ${args.join(" ")}` };
}

// ------------------------------------------------------------ 4. generate

let cliLoadAvg: number | undefined;

function benchGenerate(): { figures: GeneratorFigures; command: string } {
  const cli = join(ROOT, "bin/mpcheckgen.js");
  const node = process.execPath;
  // the CLI is compiled at install; a stale build would be rebuilt by the first run
  run(node, [join(ROOT, "bin/build.js")], "bin/build.js");
  const timed = (args: string[], what: string, env?: NodeJS.ProcessEnv): number => {
    const t0 = performance.now();
    const r = spawnSync(node, args, { encoding: "utf8", cwd: ROOT, timeout: 120_000, ...(env ? { env } : {}) });
    const s = (performance.now() - t0) / 1000;
    if (r.error || r.status !== 0) throw new BenchError(`${what} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
    return s;
  };
  const t = { node: [] as number[], help: [] as number[], generate: [] as number[], validate: [] as number[], generateCold: [] as number[], validateCold: [] as number[] };
  // a changed spec: its caches (source index, bundle, type check, formatted C) empty, V8's code cache of
  // the dependencies kept (copied from the default cache, which the first round fills)
  const v8Cache = join(ROOT, "node_modules/.cache/mpcheckgen/v8");
  const coldEnv = (): NodeJS.ProcessEnv => {
    const cache = mkdtempSync(join(tmpdir(), "mpcg-bench-cache-"));
    if (existsSync(v8Cache)) cpSync(v8Cache, join(cache, "generator/v8"), { recursive: true });
    return { ...process.env, MPCHECKGEN_CACHE: cache };
  };
  let files = 0;
  log(
    `CLI: ${GENERATE_RUNS + 1} rounds of node -e 0, mpcheckgen --help, generate --out <tmp>, validate specs/tur.ts ` +
      "(the first round not counted)",
  );
  for (let i = 0; i <= GENERATE_RUNS; i++) {
    const dir = mkdtempSync(join(tmpdir(), "mpcg-bench-gen-"));
    try {
      t.node.push(timed(["-e", "0"], "node -e 0"));
      t.help.push(timed([cli, "--help"], "mpcheckgen --help"));
      t.generate.push(timed([cli, "generate", "--out", dir], "mpcheckgen generate"));
      files = countFiles(dir);
      if (files === 0) throw new BenchError("mpcheckgen generate wrote no file");
      t.validate.push(timed([cli, "validate", "specs/tur.ts"], "mpcheckgen validate"));
      const cold = coldEnv();
      try {
        t.generateCold.push(timed([cli, "generate", "--out", join(dir, "cold")], "mpcheckgen generate (empty spec caches)", cold));
        t.validateCold.push(timed([cli, "validate", "specs/tur.ts"], "mpcheckgen validate (empty spec caches)", cold));
      } finally {
        rmSync(cold.MPCHECKGEN_CACHE!, { recursive: true, force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const counted = (xs: number[]) => xs.slice(1);
  cliLoadAvg = loadavg()[0];
  const figures: GeneratorFigures = {
    wallS: spread(counted(t.generate)),
    firstS: t.generate[0]!,
    files,
    nodeS: spread(counted(t.node)),
    helpS: spread(counted(t.help)),
    helpRatio: spread(pairedRatios(counted(t.help), counted(t.node))),
    validateS: spread(counted(t.validate)),
    generateColdS: spread(counted(t.generateCold)),
    validateColdS: spread(counted(t.validateCold)),
  };
  log(
    `CLI: --help ${fmtSpread(figures.helpS, 3, " s")} (${fmtRatio(figures.helpRatio)} of node -e 0, ${fmtSpread(figures.nodeS, 3, " s")}), ` +
      `generate ${fmtSpread(figures.wallS, 2, " s")} (first run ${figures.firstS.toFixed(2)} s), validate ${fmtSpread(figures.validateS, 2, " s")}; ` +
      `with empty spec caches: generate ${fmtSpread(figures.generateColdS!, 2, " s")}, validate ${fmtSpread(figures.validateColdS!, 2, " s")}`,
  );
  return { figures, command: "node bin/mpcheckgen.js generate --out <new temporary directory>" };
}

function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    n += statSync(p).isDirectory() ? countFiles(p) : 1;
  }
  return n;
}

// ------------------------------------------------------------ machine

function machine(vm: MachineInfo["vm"]): MachineInfo {
  const c = cpus();
  const gcc = spawnSync(COMPILERS[COMPILER], ["--version"], { encoding: "utf8" }).stdout?.split("\n")[0] ?? COMPILER;
  let kvm: string;
  const has = (m: string) => {
    try {
      return statSync(`/sys/module/${m}`).isDirectory();
    } catch {
      return false;
    }
  };
  if (kvmUsable()) kvm = "real VMX/SVM (kvm_intel or kvm_amd); the VM harness may use it";
  else if (has("kvm_pvm")) kvm = "/dev/kvm is PVM (kvm_pvm), which cannot run Debian's kernels; the VM runs under TCG";
  else kvm = "no usable KVM; the VM runs under TCG";
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    cpus: c.length,
    cpuModel: c[0]?.model.trim() ?? "?",
    memGb: totalmem() / 2 ** 30,
    kernel: release(),
    node: process.versions.node,
    compiler: gcc,
    kvm,
    loadAvg: cliLoadAvg,
    vm,
  };
}

// ------------------------------------------------------------ main

const PARTS = ["runner", "host", "cycle", "multipathd", "generate"] as const;

/** --mpd rounds=1,cycles=3,flips=1: the multipathd phase's options (a shorter run to try it) */
function mpdOptions(text: string | undefined): MpdBenchOptions {
  const o: MpdBenchOptions = { ...DEFAULT_MPD_BENCH };
  for (const kv of (text ?? "").split(",").filter((x) => x.trim() !== "")) {
    const m = /^\s*(\w+)=(\d+)\s*$/.exec(kv);
    if (!m || !(m[1]! in o) || Number(m[2]) < 1) throw new BenchError(`--mpd: expected KEY=N (N ≥ 1) with KEY one of ${Object.keys(o).join(", ")}, got ${JSON.stringify(kv)}`);
    o[m[1] as keyof MpdBenchOptions] = Number(m[2]);
  }
  return o;
}
type Part = (typeof PARTS)[number];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: "string" },
      out: { type: "string" },
      mpd: { type: "string" },
      render: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(
      `usage: npm run bench [-- --only ${PARTS.join(",")}] [-- --out FILE] [-- --mpd rounds=N,luns=N,hosts=N,warmup=N,cycles=N,flips=N]\n` +
        "       npm run bench -- --render build/bench/report.json [--out FILE]   (BENCHMARKS.md again from a run's figures)\n",
    );
    return 0;
  }
  if (values.render) {
    const report = parseJson<Report>(readFileSync(values.render, "utf8"), values.render);
    const out = values.out ?? join(ROOT, "BENCHMARKS.md");
    writeFileSync(out, markdown(report));
    log(`wrote ${rel(out)} from the figures in ${values.render} (measured ${report.machine.date})`);
    return 0;
  }
  const only = values.only ? values.only.split(",").map((s) => s.trim()) : [...PARTS];
  for (const p of only) if (!PARTS.includes(p as Part)) throw new BenchError(`unknown part ${JSON.stringify(p)}; parts: ${PARTS.join(", ")}`);
  const want = (p: Part) => only.includes(p);
  const mpdo = mpdOptions(values.mpd);
  const full = PARTS.every(want) && JSON.stringify(mpdo) === JSON.stringify(DEFAULT_MPD_BENCH);
  const outFile = values.out ?? join(ROOT, "BENCHMARKS.md");
  const t0 = performance.now();

  ensureHostPackages(TEST_HOST_PACKAGES);
  log(`building the benchmark programs (${COMPILER}, upstream flags)`);
  const progs = buildBenchPrograms(COMPILER);
  const layout = parseJson<Layout>(run(progs.layout, [progs.set.plugin("tur")], "layout"), "layout");

  const runner = want("runner") ? benchRunner(progs) : undefined;

  let host: Report["host"] | undefined;
  if (want("host")) {
    log(
      `host: the async framework with persistent runners, a thread per check and synchronous checks over simulated SG_IO: ` +
        `${HOST_BENCH.rounds} rounds of ${HOST_BENCH.warmup} + ${HOST_BENCH.cycles} cycles over 1024 paths, then a timeout storm over ${HOST_BENCH.stormPaths}`,
    );
    const sets = buildHostSets(COMPILER);
    const cycles = benchHostCycles(sets, log);
    log(
      `host check cycle: persistent ${fmtSpread(cycles.wallMs.persistent, 1, " ms")}, thread per check ${fmtSpread(cycles.wallMs.perCheck, 1, " ms")} ` +
        `(${fmtRatio(cycles.wallRatio.persistentPerCheck)})`,
    );
    const storm = benchHostStorm(sets, log);
    host = {
      cycles,
      storm,
      commands: {
        persistent: hostCommand(sets.persistent, cycleArgs("persistent")).replace(ROOT + "/", ""),
        perCheck: hostCommand(sets.perCheck, cycleArgs("perCheck")).replace(ROOT + "/", ""),
        sync: hostCommand(sets.persistent, cycleArgs("sync")).replace(ROOT + "/", ""),
        idle: `${hostCommand(sets.idle, cycleArgs("persistent")).replace(ROOT + "/", "")} (with --idle-ms ${HOST_BENCH.idleWaitMs})`,
        storm: hostCommand(sets.persistent, stormArgs()).replace(ROOT + "/", ""),
      },
    };
  }

  const vmo: VmBenchOptions = DEFAULT_VM_BENCH;
  let vm: Awaited<ReturnType<typeof runVmBench>> | undefined;
  if (want("cycle")) {
    log(
      `VM: 1024 scsi_debug LUNs; ${vmo.rounds} rounds of SG_IO loop / thread per path / kept-alive workers / ${POOL_THREADS} threads with one queue / TUR checker, persistent (and built with RUNNER_BATCH_WORKERS=0) and thread per check (${vmo.warmup} + ${vmo.cycles} cycles each), ` +
        "then a timeout storm; about a minute under TCG",
    );
    vm = await runVmBench(progs, vmo, log);
  }
  const cycles = vm ? analyseCycles(vm, vmo) : undefined;
  const storm = vm ? analyseStorm(vm, vmo) : undefined;
  if (cycles) {
    log(
      `check cycle: checker ${fmtSpread(cycles.wallMs.checker, 1, " ms")}, SG_IO loop ${fmtSpread(cycles.wallMs.loop, 1, " ms")} ` +
        `(${fmtRatio(cycles.wallRatio.checkerLoop)}), thread per path ${fmtSpread(cycles.wallMs.threads, 1, " ms")} (checker ${fmtRatio(cycles.wallRatio.checkerThreads)}), ` +
        `kept-alive workers ${fmtSpread(cycles.wallMs.workers, 1, " ms")} (checker ${fmtRatio(cycles.wallRatio.checkerWorkers!)}), ` +
        `thread-per-check checker ${fmtSpread(cycles.wallMs.perCheck, 1, " ms")} (persistent ${fmtRatio(cycles.wallRatio.checkerPerCheck)})`,
    );
  }
  if (storm) log(`timeout storm: peak ${storm.peakThreads} threads, ${storm.threadsAtExit} at exit`);
  const vmIdle = vm ? idleFigures(vm.require("check cycles"), IDLE_BUILD_USEC) : undefined;
  if (vmIdle) {
    log(
      `VM memory per path: ${vmIdle.aliveRssKbPerPath.toFixed(2)} kB + ${vmIdle.aliveKstackKbPerPath.toFixed(2)} kB kernel stack with ${vmIdle.threadsAlive} workers; ` +
        `${vmIdle.idledRssKbPerPath.toFixed(2)} kB + ${vmIdle.idledKstackKbPerPath.toFixed(2)} kB with ${vmIdle.threadsIdled} left after ${(vmIdle.waitedMs / 1000).toFixed(1)} s`,
    );
  }

  let mpd: MpdFigures | undefined;
  if (want("multipathd")) {
    log(
      `multipathd: Debian's multipathd in the VM over ${mpdo.hosts * mpdo.luns} scsi_debug paths, ${mpdo.rounds} rounds of stock tur and the generated tur and alua ` +
        `(persistent and thread per check), ${mpdo.warmup} + ${mpdo.cycles} checker cycles each; then ${mpdo.flips} ALUA flips each way on LIO; several minutes under TCG`,
    );
    mpd = await runMpdBench(mpdo, log);
    for (const c of mpd.checkers) {
      log(`multipathd: ${c.label}: ${fmtSpread(c.cpuMsPerCycle, 0, " ms")} CPU per cycle (${fmtRatio(c.cpuRatio)} of stock tur)`);
    }
    for (const f of mpd.flips) log(`multipathd: ALUA flip, ${f.label}: ${fmtSpread(f.ms, 0, " ms")} (${f.ratio.toFixed(2)}× stock tur)`);
  }

  const generator = want("generate") ? benchGenerate() : undefined;

  const totalS = (performance.now() - t0) / 1000;
  mkdirSync(join(BUILD_DIR, "bench"), { recursive: true });
  const raw = join(BUILD_DIR, "bench/results.json");
  writeFileSync(raw, JSON.stringify({ layout, runner: runner?.figures, host, cycles, storm, vmIdle, mpd, generator: generator?.figures }, null, 2) + "\n");
  if (vm) writeFileSync(join(BUILD_DIR, "bench/vm-records.jsonl"), vm.vm.records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  if (!full || !runner || !host || !vm || !cycles || !storm || !vmIdle || !mpd || !generator) {
    process.stdout.write(`${JSON.stringify({ layout, runner: runner?.figures, host, cycles, storm, vmIdle, mpd, generator: generator?.figures }, null, 2)}\n`);
    log(`partial run (--only ${only.join(",")}): figures in ${rel(raw)}; ${rel(outFile)} not written`);
    return 0;
  }
  const v = (x: string[]) => x.join(" ");
  const commands: Commands = {
    runnerBench: runner.command,
    layout: `${rel(progs.layout)} ${rel(progs.set.plugin("tur"))}`,
    variants: {
      loop: v(variantArgv("loop", vmo)),
      threads: v(variantArgv("threads", vmo)),
      workers: v(variantArgv("workers", vmo)),
      pool: v(variantArgv("pool", vmo)),
      checker: v(variantArgv("checker", vmo)),
      unbatched: v(variantArgv("unbatched", vmo)),
      perCheck: v(variantArgv("perCheck", vmo)),
      idle: v(idleArgv(vmo)),
    },
    storm: `${v(stormArgv(vmo))} --stop-file STOP cycle`,
    generate: generator.command,
  };
  const report: Report = {
    machine: machine({
      accel: vm.vm.accel + (vm.vm.kvmFallback ? ` (KVM fell back: ${vm.vm.kvmFallback})` : ""),
      kernel: vm.vm.kernelVersion,
      memoryMb: VM_MEMORY_MB,
      vcpus: cycles.vmCpus,
      clocksource: cycles.clocksource,
      bootS: vm.vm.bootMs / 1000,
      runS: vm.vm.totalMs / 1000,
    }),
    commands,
    runner: runner.figures,
    runnerArgs: RUNNER_ARGS,
    host,
    layout,
    cycles,
    storm,
    vm: vmo,
    generator: generator.figures,
    vmIdle,
    mpd,
    totalS,
  };
  process.stdout.write(`\n${table(report)}\n\n`);
  // every figure of the run: --render writes BENCHMARKS.md from it again
  writeFileSync(join(BUILD_DIR, "bench/report.json"), JSON.stringify(report, null, 1) + "\n");
  writeFileSync(outFile, markdown(report));
  log(`wrote ${rel(outFile)} (raw figures in ${rel(raw)}) in ${(totalS / 60).toFixed(1)} min`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // the harness' and the build's errors say what failed; the stack only with MPCHECKGEN_BENCH_DEBUG
    const msg = e instanceof Error ? (process.env.MPCHECKGEN_BENCH_DEBUG && e.stack ? e.stack : e.message) : String(e);
    process.stderr.write(`mpcheckgen bench: ${msg}\n`);
    process.exitCode = 1;
  },
);
