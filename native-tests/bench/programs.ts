// The benchmark programs, built like every native test program (cc.ts:
// upstream's flags, -Werror): runner-bench against the generated
// libmpathutil, layout (the framework's struct sizes, from the generated
// sources), sg-cycle (the SG_IO floors of a check cycle), plus the checker
// host and the TUR plugin (buildNativeSet) for the VM.
import { join } from "node:path";
import { buildNativeSet, GEN, type NativeSet } from "../support/build.ts";
import { compile, ROOT, type Compiler } from "../support/cc.ts";

export const BENCH_DIR = join(ROOT, "native-tests/bench");
const SUPPORT_DIR = join(ROOT, "native-tests/support");

/** RUNNER_IDLE_USEC of the idle build: a pool thread ends 0.5 s after its last check (the default is 60 s) */
export const IDLE_BUILD_USEC = 500_000;

export interface BenchPrograms {
  compiler: Compiler;
  set: NativeSet;
  /** the same native set built with ASYNC_THREAD_PER_CHECK (the VM cycle's thread-per-check checker) */
  perCheckSet: NativeSet;
  /** the same native set built with RUNNER_BATCH_WORKERS=0 (the VM cycle's checker with SCHED_OTHER workers) */
  unbatchedSet: NativeSet;
  /** the same native set with a short RUNNER_IDLE_USEC (IDLE_BUILD_USEC): the VM's memory after the workers idled out (built on first use) */
  readonly idleSet: NativeSet;
  runnerBench: string;
  layout: string;
  sgCycle: string;
}

/** Builds (or finds cached) every benchmark program with one compiler. */
export function buildBenchPrograms(compiler: Compiler): BenchPrograms {
  const set = buildNativeSet({ compiler });
  const link = [`-L${set.libDir}`, "-lmpathutil", `-Wl,-rpath,${set.libDir}`];
  const runnerBench = compile({
    compiler,
    kind: "executable",
    name: "runner-bench",
    sources: [join(BENCH_DIR, "runner-bench.c")],
    includeDirs: [GEN.abi, GEN.mpathutil],
    ldflags: link,
    extraInputs: [set.libmpathutil],
  }).output;
  const layout = compile({
    compiler,
    kind: "executable",
    name: "layout",
    sources: [join(BENCH_DIR, "layout.c"), join(SUPPORT_DIR, "dlog.c")],
    includeDirs: [GEN.abi, GEN.mpathutil, GEN.multipath],
    // it includes the generated runner.c and async_checker.c
    extraInputs: [GEN.runner, GEN.glue],
    ldflags: ["-ldl"],
  }).output;
  const sgCycle = compile({
    compiler,
    kind: "executable",
    name: "sg-cycle",
    sources: [join(BENCH_DIR, "sg-cycle.c")],
  }).output;
  const perCheckSet = buildNativeSet({ compiler, defines: { ASYNC_THREAD_PER_CHECK: 1 } });
  const unbatchedSet = buildNativeSet({ compiler, defines: { RUNNER_BATCH_WORKERS: 0 } });
  let idleSet: NativeSet | undefined;
  return {
    compiler,
    set,
    perCheckSet,
    unbatchedSet,
    get idleSet() {
      return (idleSet ??= buildNativeSet({ compiler, defines: { RUNNER_IDLE_USEC: IDLE_BUILD_USEC } }));
    },
    runnerBench,
    layout,
    sgCycle,
  };
}

/** The C sources of the benchmarks (for the format and build checks). */
export const BENCH_C_SOURCES = ["runner-bench.c", "layout.c", "sg-cycle.c"].map((f) => join(BENCH_DIR, f));
