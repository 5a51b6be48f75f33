// The generated TUR checker against real kernel SCSI devices: scsi_debug and
// LIO/tcm_loop LUNs in the qemu VM, checked by the checker host the way
// multipathd 0.15 checks paths (dlopen libchecktur.so, init → check →
// pending … → free, through the generated async checker framework).
//
// Each scenario says what the device answers in each phase (the SG_IO
// answers vm.md measured); the expected path states are what the TUR spec
// predicts for those answers (through the interpreter), or the framework
// for a check whose command never returns. Every scenario runs in one VM
// boot per compiler: a clang-built and a gcc-built host and plugin, in two
// VMs at the same time, which must behave identically.
import { mkdirSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSpec } from "../../generator/load.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { BUILD_DIR, type Compiler } from "../support/cc.ts";
import {
  buildCheckerVm,
  checker,
  hostTrace,
  MSGID,
  outcomeText,
  PATH,
  predict,
  predictCheckerTimeout,
  predictedSequence,
  publishTable,
  scenarioTable,
  sgAnswer,
  type DeviceBehaviour,
  type HostRun,
  type HostTrace,
  type Prediction,
  type TableRow,
  type VmTiming,
} from "./checker-vm.ts";
import {
  assertScenarioOk,
  concat,
  formatScenario,
  getStep,
  runScenarios,
  scenario,
  stepData,
  type DeviceRef,
  type Scenario,
  type ScenarioBuilder,
  type ScenarioResult,
  type ScenarioResults,
} from "./scenario.ts";

const COMPILERS: readonly Compiler[] = ["clang", "gcc"];
const SCSI_DEBUG = "/sys/bus/pseudo/drivers/scsi_debug";
const ENXIO = 6;
const ENODEV = 19;
const TUR_MS_TO_READY = 4000;
const TIMEOUT_PATHS = 4;
const CONSECUTIVE_TIMEOUTS = 20;
const CHECKER_TIMEOUT_MS = 1000;

// ------------------------------------------------------------ device behaviour (vm.md)

const device = {
  freshScsiDebugLun: { text: "power-on UA 06/29/00, then GOOD", answers: [sgAnswer.unitAttention(0x29, 0x00), sgAnswer.good()] },
  becomingReady: { text: "power-on UA, then NOT READY 02/04/01", answers: [sgAnswer.unitAttention(0x29, 0x00), sgAnswer.notReady(0x04, 0x01)] },
  good: { text: "GOOD", answers: [sgAnswer.good()] },
  // measured: the first TUR of a new LIO LUN (explicit tg_pt_gp) gets 06/3F/03
  freshLioLun: { text: "UA 06/3F/03 (inquiry data changed), then GOOD", answers: [sgAnswer.unitAttention(0x3f, 0x03), sgAnswer.good()] },
  offline: { text: "offline: SG_IO fails with ENXIO", answers: [sgAnswer.ioctlError(ENXIO)] },
  deleted: { text: "deleted: SG_IO fails with ENODEV", answers: [sgAnswer.ioctlError(ENODEV)] },
  aluaChange: (text: string, then: DeviceBehaviour["answers"][number]): DeviceBehaviour => ({
    text: `UA 06/2A/06, then ${text}`,
    answers: [sgAnswer.unitAttention(0x2a, 0x06), then],
  }),
} satisfies Record<string, DeviceBehaviour | ((...a: never[]) => DeviceBehaviour)>;

/** One phase of a scenario: from a step on, the device behaves so. */
interface Phase {
  /** the step that starts the phase (none: from the start) */
  after?: string;
  device: DeviceBehaviour | { timeout: string };
  /**
   * The first check that starts after the step already has the phase's
   * outcome (default true). Not so when earlier checks' threads are still
   * stuck in SG_IO.
   */
  immediate?: boolean;
  /**
   * An sgprobe step (TEST UNIT READY) in this phase, once the checker has
   * consumed any unit attention: the device gives the behaviour's last,
   * repeating answer.
   */
  control?: string;
}

interface TurScenario {
  scenario: Scenario;
  /** the behaviour the scenario shows */
  title: string;
  /** the checker host run the phases are about */
  run: HostRun;
  devices: readonly DeviceRef[];
  phases: readonly Phase[];
  /** further assertions on one VM's result */
  verify?: (r: ScenarioResult, trace: HostTrace, predicted: readonly Prediction[]) => void;
  /** measured facts for the table's notes */
  facts?: (r: ScenarioResult, trace: HostTrace) => string;
}

type Parts = Omit<TurScenario, "scenario" | "title" | "verify" | "facts">;

function turScenario(
  name: string,
  title: string,
  build: (b: ScenarioBuilder) => Parts,
  verify?: TurScenario["verify"],
  facts?: TurScenario["facts"],
): TurScenario {
  let parts: Parts | undefined;
  const s = scenario(name, (b) => {
    parts = build(b);
  });
  return { scenario: s, title, ...parts!, ...(verify ? { verify } : {}), ...(facts ? { facts } : {}) };
}

const range = (xs: readonly number[]): string => {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo === hi ? `${Math.round(lo)}` : `${Math.round(lo)}–${Math.round(hi)}`;
};

/** The LUNs 0..n-1 of a scsi_debug host; only sg is loaded, so each has its power-on UA pending. */
function scsiDebugLuns(b: ScenarioBuilder, n: number, params: Record<string, number> = {}): DeviceRef[] {
  const lun0 = b.scsiDebug.load({ max_luns: n, ...params });
  const luns = [lun0];
  for (let lun = 1; lun < n; lun++) luns.push(b.findSgDevice({ procName: "scsi_debug", lun, label: `find scsi_debug LUN ${lun}` }));
  return luns;
}

/** One JSON line of sgprobe. */
interface Tur {
  device?: string;
  errno?: number;
  open_errno?: number;
  good?: boolean;
  status?: number;
  sense_key?: number | null;
  asc?: number | null;
  ascq?: number | null;
}

/** An sgprobe TUR as the answer vocabulary of DeviceBehaviour, to compare with it. */
function probedAnswer(t: Tur): { errno?: number; good?: boolean; sense?: [number, number, number] } {
  if (t.errno) return { errno: t.errno };
  if (t.good) return { good: true };
  return { sense: [t.sense_key ?? -1, t.asc ?? -1, t.ascq ?? -1] };
}

function describedAnswer(b: DeviceBehaviour): ReturnType<typeof probedAnswer> {
  const a = b.answers.at(-1)!;
  if (a.errno) return { errno: a.errno };
  if (!a.sense) return { good: true };
  return { sense: [a.sense[2]! & 0x0f, a.sense[12]!, a.sense[13]!] };
}

/** Adds an sgprobe step; its label. */
function control(b: ScenarioBuilder, dev: DeviceRef, label: string): string {
  b.run(["sgprobe", dev.sg], { json: true, label });
  return label;
}

const SCENARIOS: TurScenario[] = [
  turScenario(
    "healthy LUN",
    "a fresh scsi_debug LUN (power-on UA pending) is UP from the first check: the UA is retried inside the check",
    (b) => {
      const [lun0, lun1] = scsiDebugLuns(b, 2);
      // control: a fresh LUN's first TUR gets the power-on UNIT ATTENTION
      b.run(["sgprobe", lun1!.sg], { json: true, label: "control: first TUR of LUN 1" });
      const run = checker(b, "tur").check([lun0!], { label: "tur", checks: 3, intervalMs: 100 });
      return { run, devices: [lun0!], phases: [{ device: device.freshScsiDebugLun }] };
    },
    (r, trace) => {
      const [control] = stepData<Tur>(r, "control: first TUR of LUN 1");
      expect([control?.sense_key, control?.asc], formatScenario(r)).toEqual([0x6, 0x29]);
      const checks = trace.checks(trace.run.devices[0]!);
      expect(checks).toHaveLength(3);
      expect(checks[0]).toMatchObject({ state: PATH.up, msgid: MSGID.up, check: 1 });
    },
  ),

  turScenario(
    `tur_ms_to_ready=${TUR_MS_TO_READY}`,
    `a scsi_debug LUN with tur_ms_to_ready=${TUR_MS_TO_READY} (sg only) is DOWN (NOT READY), then UP after the delay`,
    (b) => {
      const dev = b.scsiDebug.load({ tur_ms_to_ready: TUR_MS_TO_READY }); // uld: sg only, or sd's probe waits
      const run = checker(b, "tur", { intervalMs: 200 }).start([dev], { label: "tur" });
      run.until("up", { times: 3, timeoutMs: 30_000 });
      run.stop();
      return { run, devices: [dev], phases: [{ device: device.becomingReady }, { device: device.good }] };
    },
    (r, trace) => {
      const load = getStep(r, "load scsi_debug");
      const runs = trace.runs(trace.run.devices[0]!);
      const lastDown = runs[0]!.last;
      const firstUp = runs[1]!.first;
      expect(runs[0]!.first.check, "the very first check is DOWN").toBe(1);
      // the device was created during the load step; it is ready 4 s later
      const readyEarliest = load.beginT! + TUR_MS_TO_READY;
      const readyLatest = load.endT! + TUR_MS_TO_READY;
      expect(firstUp.endT, "the first UP check ends after the delay").toBeGreaterThanOrEqual(readyEarliest - 50);
      expect(lastDown.startT, "the last DOWN check started before the delay").toBeLessThan(readyLatest + 50);
      // the change is seen by the next check: one interval (+ slack for TCG)
      expect(firstUp.startT - lastDown.startT).toBeLessThan(200 + 1000);
      expect(firstUp.endT - readyLatest, "UP soon after the delay").toBeLessThan(2500);
    },
    (r, trace) => {
      const load = getStep(r, "load scsi_debug");
      const runs = trace.runs(trace.run.devices[0]!);
      return `last DOWN check ${Math.round(runs[0]!.last.startT - load.beginT!)} ms, first UP check ${Math.round(runs[1]!.first.startT - load.beginT!)} ms after modprobe began`;
    },
  ),

  turScenario(
    "command timeouts",
    `${TIMEOUT_PATHS} scsi_debug LUNs that stop answering (opts=4, every_nth=1): PENDING, TIMEOUT at the 1 s checker timeout, ` +
      `${CONSECUTIVE_TIMEOUTS} timeouts in a row with at most one extra thread per path, UP again once the LUNs answer`,
    (b) => {
      const devs = scsiDebugLuns(b, TIMEOUT_PATHS);
      const run = checker(b, "tur", { timeoutS: CHECKER_TIMEOUT_MS / 1000, intervalMs: 500, countThreads: true, drainMs: 20_000 }).start(devs, {
        label: "tur",
        durationMs: 120_000,
      });
      run.until("up");
      b.writeSysfs(`${SCSI_DEBUG}/every_nth`, 1, { label: "every_nth=1" });
      b.writeSysfs(`${SCSI_DEBUG}/opts`, 4, { label: "ignore every command (opts=4)" });
      run.until("timeout", { times: CONSECUTIVE_TIMEOUTS, timeoutMs: 90_000 });
      b.writeSysfs(`${SCSI_DEBUG}/opts`, 0, { label: "answer again (opts=0)" });
      run.until("up", { timeoutMs: 60_000 });
      run.stop();
      return {
        run,
        devices: devs,
        phases: [
          { device: device.freshScsiDebugLun },
          { after: "ignore every command (opts=4)", device: { timeout: "no answer within the checker timeout" } },
          // the first checks after opts=0 may still wait for stuck threads
          { after: "answer again (opts=0)", device: device.good, immediate: false },
        ],
      };
    },
    (r, trace) => {
      const devs = trace.run.devices;
      for (const dev of devs) {
        const checks = trace.checks(dev);
        const runs = trace.runs(dev);
        const timeouts = runs.find((x) => x.state === PATH.timeout)!;
        expect(timeouts.count, `${trace.path(dev)}: consecutive timeouts`).toBeGreaterThanOrEqual(CONSECUTIVE_TIMEOUTS);
        expect(timeouts.msgid).toBe(MSGID.timeout);
        // a check that started a runner stays PENDING until the checker timeout
        const started = checks.filter((c) => c.state === PATH.timeout && c.wentPending);
        expect(started.length, `${trace.path(dev)}: timed-out checks that started a runner`).toBeGreaterThanOrEqual(2);
        for (const c of started) {
          expect(c.ms, `${trace.path(dev)} check ${c.check}: no result before the checker timeout`).toBeGreaterThanOrEqual(CHECKER_TIMEOUT_MS);
          expect(c.ms, `${trace.path(dev)} check ${c.check}: TIMEOUT at the checker timeout`).toBeLessThan(CHECKER_TIMEOUT_MS + 1000);
        }
        // the very first timed-out check went PENDING and reported at the timeout
        expect(timeouts.first.wentPending).toBe(true);
      }
      // at most one extra (abandoned) runner thread per path, at any time
      const peak = trace.peakThreads;
      expect(peak, trace.dump()).toBeLessThanOrEqual(2 * devs.length);
      expect(peak, "the stuck threads overlapped the next runners").toBeGreaterThan(devs.length);
      expect(Math.max(...devs.flatMap((d) => trace.checks(d).map((c) => c.threads ?? 0)))).toBeLessThanOrEqual(2 * devs.length);
      expect(trace.event("finished")?.maxThreads).toBe(peak);
      // once the LUNs answer, every thread ends
      expect(trace.event("exit")?.threads, "threads left at exit").toBe(0);
    },
    (_r, trace) => {
      const checks = trace.run.devices.flatMap((d) => trace.checks(d));
      const started = checks.filter((c) => c.state === PATH.timeout && c.wentPending);
      const waited = checks.filter((c) => c.state === PATH.timeout && !c.wentPending);
      return (
        `peak ${trace.peakThreads} runner threads for ${trace.run.devices.length} paths, ${trace.event("exit")?.threads} at exit; ` +
        `${started.length} timed-out checks started a runner (TIMEOUT after ${range(started.map((c) => c.ms))} ms), ` +
        `${waited.length} found the previous runner still stuck (TIMEOUT at once, no new thread)`
      );
    },
  ),

  turScenario(
    "offline",
    "a scsi_debug LUN set offline through sysfs is DOWN (SG_IO errno ENXIO), UP again once set running",
    (b) => {
      const dev = b.scsiDebug.load({});
      const run = checker(b, "tur", { intervalMs: 200 }).start([dev], { label: "tur" });
      run.until("up");
      b.setDeviceState(dev, "offline", { label: "offline" });
      run.until("down");
      const offline = control(b, dev, "control: TUR while offline");
      b.setDeviceState(dev, "running", { label: "running" });
      run.until("up");
      const running = control(b, dev, "control: TUR when running again");
      run.stop();
      return {
        run,
        devices: [dev],
        phases: [
          { device: device.freshScsiDebugLun },
          { after: "offline", device: device.offline, control: offline },
          { after: "running", device: device.good, control: running },
        ],
      };
    },
  ),

  turScenario(
    "deleted",
    "a scsi_debug LUN deleted while the checker holds its fd is DOWN; the checks go on answering DOWN and the host exits cleanly",
    (b) => {
      const dev = b.scsiDebug.load({});
      const run = checker(b, "tur", { intervalMs: 200 }).start([dev], { label: "tur" });
      run.until("up");
      b.writeSysfs(concat(dev.sysfs, "/delete"), 1, { label: "delete" });
      run.until("down", { times: 5 });
      run.stop();
      return { run, devices: [dev], phases: [{ device: device.freshScsiDebugLun }, { after: "delete", device: device.deleted }] };
    },
    (r, trace) => {
      expect(trace.runs(trace.run.devices[0]!).at(-1)!.count).toBeGreaterThanOrEqual(5);
      expect(trace.event("finished"), trace.dump()).toBeDefined();
      expect(trace.event("exit"), trace.dump()).toBeDefined();
      expect(getStep(r, "tur: join").status).toBe(0);
    },
  ),

  turScenario(
    "LIO ALUA states",
    "an LIO (tcm_loop) LUN follows its ALUA state: standby GHOST, transitioning PENDING (transitioning), unavailable DOWN, " +
      "offline DOWN, active/optimized UP; the 06/2A/06 UA after each change is retried inside the check",
    (b) => {
      const lun = b.lio.createLun({ uld: ["sg"] });
      const run = checker(b, "tur", { intervalMs: 200 }).start([lun.dev], { label: "tur" });
      const states: [number, string, DeviceBehaviour, { state: keyof typeof PATH; msgid?: number }][] = [
        [2, "standby", device.aluaChange("NOT READY 02/04/0B", sgAnswer.notReady(0x04, 0x0b)), { state: "ghost" }],
        [15, "transitioning", device.aluaChange("NOT READY 02/04/0A", sgAnswer.notReady(0x04, 0x0a)), { state: "pending", msgid: 100 }],
        [3, "unavailable", device.aluaChange("NOT READY 02/04/0C", sgAnswer.notReady(0x04, 0x0c)), { state: "down" }],
        [0, "active/optimized", device.aluaChange("GOOD", sgAnswer.good()), { state: "up" }],
        [14, "offline", device.aluaChange("ILLEGAL REQUEST 05/24/00", sgAnswer.illegalRequest(0x24, 0x00)), { state: "down" }],
        [0, "active/optimized again", device.aluaChange("GOOD", sgAnswer.good()), { state: "up" }],
      ];
      run.until("up");
      const phases: Phase[] = [{ device: device.freshLioLun }];
      for (const [state, name, behaviour, wait] of states) {
        const label = `ALUA ${name} (${state})`;
        lun.setAluaState(state, { label });
        run.until(wait.state, { msgid: wait.msgid });
        phases.push({ after: label, device: behaviour, control: control(b, lun.dev, `control: TUR in ${name}`) });
      }
      run.stop();
      return { run, devices: [lun.dev], phases };
    },
  ),
];

// ------------------------------------------------------------ running

interface CompilerRun {
  compiler: Compiler;
  results: ScenarioResults;
  wallMs: number;
}

let model: CheckerModel;
let predictions: Map<string, Prediction[]>;
const runs = new Map<Compiler, CompilerRun>();
let totalMs = 0;

function predictPhases(s: TurScenario): Prediction[] {
  return s.phases.map((p) => ("timeout" in p.device ? predictCheckerTimeout(p.device.timeout) : predict(model, p.device)));
}

function observed(r: ScenarioResult, s: TurScenario): string {
  try {
    const t = hostTrace(r, s.run);
    return t.describeAll(model) || "no checks";
  } catch (e) {
    return `(no trace: ${(e as Error).message.split("\n")[0]})`;
  }
}

describe("the generated TUR checker on real SCSI devices (qemu VM)", { timeout: 900_000 }, () => {
  beforeAll(async () => {
    const t0 = performance.now();
    model = (await loadSpec("specs/tur.ts")) as CheckerModel;
    predictions = new Map(SCENARIOS.map((s) => [s.scenario.name, predictPhases(s)]));
    // one boot per compiler, both VMs at once (2 cores)
    const done = await Promise.all(
      COMPILERS.map(async (compiler): Promise<CompilerRun> => {
        const c0 = performance.now();
        const build = buildCheckerVm(compiler, ["tur"]);
        const results = await runScenarios(
          SCENARIOS.map((s) => s.scenario),
          { label: `tur/${compiler}`, files: build.files },
        );
        return { compiler, results, wallMs: performance.now() - c0 };
      }),
    );
    for (const d of done) runs.set(d.compiler, d);
    totalMs = performance.now() - t0;
  }, 900_000);

  afterAll(() => {
    if (runs.size === 0) return;
    const rows: TableRow[] = SCENARIOS.map((s) => ({
      scenario: s.scenario.name,
      expected: predictedSequence(predictions.get(s.scenario.name) ?? [], model),
      observed: Object.fromEntries([...runs.values()].map((c) => [c.compiler, observed(c.results.require(s.scenario.name), s)])),
      elapsedMs: Object.fromEntries([...runs.values()].map((c) => [c.compiler, c.results.require(s.scenario.name).elapsedMs])),
    }));
    // the raw records, for a closer look at a run
    mkdirSync(`${BUILD_DIR}/vm-results`, { recursive: true });
    for (const c of runs.values()) {
      writeFileSync(`${BUILD_DIR}/vm-results/tur-${c.compiler}.records.jsonl`, c.results.vm.records.map((r) => JSON.stringify(r)).join("\n") + "\n");
    }
    const vms: VmTiming[] = [...runs.values()].map((c) => ({ name: c.compiler, results: c.results, wallMs: c.wallMs }));
    const phases = SCENARIOS.map(
      (s) => `${s.scenario.name}: ${(predictions.get(s.scenario.name) ?? []).map((p) => p.because).join("; ")}`,
    );
    const facts: string[] = [];
    for (const s of SCENARIOS) {
      if (!s.facts) continue;
      for (const c of runs.values()) {
        try {
          const r = c.results.require(s.scenario.name);
          facts.push(`${s.scenario.name} (${c.compiler}): ${s.facts(r, hostTrace(r, s.run))}`);
        } catch (e) {
          facts.push(`${s.scenario.name} (${c.compiler}): ${(e as Error).message.split("\n")[0]}`);
        }
      }
    }
    publishTable(
      `${BUILD_DIR}/vm-results/tur.md`,
      scenarioTable("TUR checker on real SCSI devices", rows, vms, [
        `both VMs ran at the same time; everything (spec load, builds, images, both VMs): ${(totalMs / 1000).toFixed(1)} s`,
        "observed: the outcomes of the checks in order, repeats folded (×count); expected: the spec's prediction for the device's answers",
        ...phases,
        ...facts,
      ]),
    );
  });

  it("boots one VM per compiler and runs every scenario in it", () => {
    for (const c of runs.values()) {
      const vm = c.results.vm;
      expect(vm.kernelVersion).toMatch(/^\d+\.\d+\.\d+-\d+-cloud-amd64$/);
      expect(vm.garbled).toBe(0);
      expect(vm.records.filter((r) => r.event === "scenario-end")).toHaveLength(SCENARIOS.length);
      for (const s of SCENARIOS) {
        const r = c.results.require(s.scenario.name);
        expect(r.teardown.status, `${c.compiler}: teardown after ${s.scenario.name}\n${formatScenario(r)}`).toBe(0);
      }
    }
  });

  describe.each(SCENARIOS.map((s) => [s.title, s] as const))("%s", (_title, s) => {
    it.each(COMPILERS)("%s build", (compiler) => {
      const r = runs.get(compiler)!.results.require(s.scenario.name);
      assertScenarioOk(r);
      const trace = hostTrace(r, s.run);
      expect(trace.status, `the checker host's exit status\n${trace.dump()}`).toBe(0);
      const predicted = predictions.get(s.scenario.name)!;
      const expected = predictedSequence(predicted, model);
      for (const dev of s.devices) {
        // the outcomes in order, repeats folded, are what the spec predicts
        expect(trace.sequence(dev, model), `${trace.path(dev)}: ${trace.describe(dev, model)}\n${trace.dump()}`).toBe(expected);
        // and each phase's first check already has its outcome
        const checks = trace.checks(dev);
        s.phases.forEach((p, i) => {
          if (!p.after || p.immediate === false) return;
          const step = getStep(r, p.after);
          const first = checks.find((c) => c.startT >= step.endT!);
          expect(first, `${trace.path(dev)}: a check after "${p.after}"`).toBeDefined();
          expect(outcomeText(first!, model), `${trace.path(dev)}: the first check after "${p.after}" (check ${first!.check})`).toBe(
            outcomeText(predicted[i]!, model),
          );
        });
      }
      // the device answered as the phase says (the prediction's premise)
      for (const p of s.phases) {
        if (!p.control || "timeout" in p.device) continue;
        const [tur] = stepData<Tur>(r, p.control);
        expect(tur && probedAnswer(tur), `${p.control}\n${formatScenario(r)}`).toEqual(describedAnswer(p.device));
      }
      s.verify?.(r, trace, predicted);
    });
  });

  it("the clang and gcc builds give the same state sequences", () => {
    const seq = (c: Compiler) =>
      SCENARIOS.map((s) => {
        const t = hostTrace(runs.get(c)!.results.require(s.scenario.name), s.run);
        return { scenario: s.scenario.name, paths: s.devices.map((d) => t.sequence(d, model)) };
      });
    expect(seq("gcc")).toEqual(seq("clang"));
  });
});
