// The standard device scenarios for any checker (`mpcheckgen test --vm`):
// scsi_debug LUNs healthy, not ready, with a medium error on its first
// blocks, offline, deleted while checked and not answering (command
// timeouts), and an LIO LUN in each ALUA state, in two VMs booted side by
// side for every checker given, the checker host running each author's plugin (on the sg
// node, or on the block device for a checker that reads it with O_DIRECT). What the
// checker reported in each phase is printed. Where the outcome does not
// depend on the device's data, it must be what the spec (ENXIO offline,
// ENODEV deleted, through the interpreter) or the framework (the checker
// timeout) says; the other phases are shown, not judged.
import type { CheckerModel } from "../../generator/model/types.ts";
import type { GeneratedFiles } from "../support/build.ts";
import type { Compiler } from "../support/cc.ts";
import {
  buildCheckerVm,
  checker as hostChecker,
  hostTrace,
  outcomeRuns,
  outcomeText,
  PATH,
  predict,
  sgAnswer,
  type HostCheck,
  type HostRun,
  type Outcome,
} from "./checker-vm.ts";
import { concat, formatScenario, getStep, runScenariosSideBySide, scenario, sideBySideVms, type DeviceRef, type Scenario, type ScenarioResult } from "./scenario.ts";

const SCSI_DEBUG = "/sys/bus/pseudo/drivers/scsi_debug";
const EIO = 5;
const ENXIO = 6;
const ENODEV = 19;
/** What scsi_debug's medium error (opts=2) answers to a READ of its first blocks: MEDIUM ERROR 03/11/00. */
const MEDIUM_ERROR = { opts: 2, medium_error_start: 0, medium_error_count: 64 };

/** How the checker reaches the device: the sg node, or the block device (O_DIRECT reads). */
function transportOf(m: CheckerModel): "sgio" | "directRead" | "mixed" {
  const ts = new Set(m.states.flatMap((s) => (s.kind === "command" ? [s.command.transport === "directRead" ? "directRead" : "sgio"] : [])));
  return ts.size === 1 ? ([...ts][0] as "sgio" | "directRead") : "mixed";
}

/** ALUA states of an LIO target port group (alua_access_state). */
const ALUA_STATES: readonly [number, string][] = [
  [0, "active/optimized"],
  [1, "active/non-optimized"],
  [2, "standby"],
  [3, "unavailable"],
  [14, "offline"],
  [15, "transitioning"],
];

/** A phase: the checks of `run` that started after step `after` ended (all of them without). */
interface Phase {
  what: string;
  run: HostRun;
  dev: DeviceRef;
  after?: string;
  /** the outcome every check of the phase must have, and who says so */
  expect?: Outcome & { because: string };
}

interface AuthorScenario {
  scenario: Scenario;
  phases: Phase[];
  /** about how long it runs under TCG, in seconds (for dealing the scenarios to two VMs) */
  seconds: number;
}

function scenarios(m: CheckerModel, prefix = ""): AuthorScenario[] {
  const name = m.name;
  const out: AuthorScenario[] = [];
  const add = (title: string, build: (phases: Phase[], b: Parameters<Parameters<typeof scenario>[1]>[0]) => void, seconds = 2) => {
    const phases: Phase[] = [];
    out.push({ scenario: scenario(`${prefix}${title}`, (b) => build(phases, b)), phases, seconds });
  };
  const transport = transportOf(m);
  const reads = transport === "directRead";
  // a checker reading the block device opens /dev/sdX: sd_mod too
  const uld = reads ? (["sg", "sd_mod"] as const) : undefined;
  const checker = (b: Parameters<Parameters<typeof scenario>[1]>[0], n: string, o: Parameters<typeof hostChecker>[2] = {}) =>
    hostChecker(b, n, { ...o, ...(reads ? { node: "sd" as const } : {}) });
  const load = (b: Parameters<Parameters<typeof scenario>[1]>[0], params: Record<string, number>) => b.scsiDebug.load(params, uld ? { uld } : {});
  const offline = reads
    ? predict(m, { text: "offline: the read fails (EIO)", answers: [sgAnswer.ioctlError(EIO)] })
    : predict(m, { text: "offline: SG_IO fails with ENXIO", answers: [sgAnswer.ioctlError(ENXIO)] });
  const deleted = reads
    ? predict(m, { text: "deleted: the read fails (EIO)", answers: [sgAnswer.ioctlError(EIO)] })
    : predict(m, { text: "deleted: SG_IO fails with ENODEV", answers: [sgAnswer.ioctlError(ENODEV)] });
  // the medium error is the device's answer to a READ only: judged for checkers that send nothing else
  const readsOnly = m.states.every((s) => s.kind !== "command" || s.command.transport === "directRead" || [0x28, 0x88].includes(s.command.cdb[0]?.kind === "const" ? s.command.cdb[0].value : -1));
  const medium = !readsOnly
    ? undefined
    : reads
      ? predict(m, { text: "medium error: the read fails (EIO)", answers: [sgAnswer.ioctlError(EIO)] })
      : predict(m, { text: "medium error: READ gets MEDIUM ERROR 03/11/00", answers: [sgAnswer.checkCondition(0x3, 0x11, 0x00)] });

  add("healthy", (phases, b) => {
    const dev = load(b, {});
    const run = checker(b, name).check([dev], { label: name, checks: 4, intervalMs: 200 });
    phases.push({ what: "a fresh scsi_debug LUN (power-on unit attention pending)", run, dev });
  });
  // not for a checker reading the block device: sd_mod spins a not-ready
  // disk up for minutes before /dev/sdX exists (and a hung probe stops
  // every later sd_mod load in the boot)
  if (!reads) add("not ready", (phases, b) => {
    const dev = load(b, { tur_ms_to_ready: 600_000 });
    const run = checker(b, name).check([dev], { label: name, checks: 3, intervalMs: 200 });
    phases.push({ what: "a scsi_debug LUN not ready for 600 s (TUR: NOT READY 02/04/01)", run, dev });
  });
  add("medium error", (phases, b) => {
    const dev = load(b, MEDIUM_ERROR);
    const run = checker(b, name).check([dev], { label: name, checks: 3, intervalMs: 200 });
    phases.push({ what: "a scsi_debug LUN with a medium error on its first 64 blocks (opts=2)", run, dev, ...(medium ? { expect: medium } : {}) });
  });
  // a block device set offline cannot be opened: a reading checker's host
  // opens it first (as multipathd holds its paths open) and is watched as
  // the device goes offline
  if (reads) add("offline", (phases, b) => {
    const dev = load(b, {});
    const run = checker(b, name, { intervalMs: 200 }).start([dev], { label: name });
    run.until("any", { times: 2 });
    b.setDeviceState(dev, "offline", { label: "offline" });
    run.mark("mark after offline");
    run.until("any", { times: 3, sinceMark: true });
    run.stop();
    b.setDeviceState(dev, "running", { label: "running" });
    phases.push({ what: "a scsi_debug LUN, before it is set offline", run, dev });
    phases.push({ what: "the LUN set offline while the checker holds it open", run, dev, after: "mark after offline", expect: offline });
  });
  else add("offline", (phases, b) => {
    const dev = load(b, {});
    b.setDeviceState(dev, "offline", { label: "offline" });
    const run = checker(b, name).check([dev], { label: name, checks: 3, intervalMs: 200 });
    b.setDeviceState(dev, "running", { label: "running" });
    phases.push({ what: "a scsi_debug LUN set offline", run, dev, expect: offline });
  });
  add("deleted", (phases, b) => {
    const dev = load(b, {});
    const run = checker(b, name, { intervalMs: 200 }).start([dev], { label: name });
    run.until("any", { times: 2 });
    b.writeSysfs(concat(dev.sysfs, "/delete"), 1, { label: "delete" });
    run.mark("mark after delete");
    run.until("any", { times: 3, sinceMark: true });
    run.stop();
    phases.push({ what: "a scsi_debug LUN, before it is deleted", run, dev });
    phases.push({ what: "the LUN deleted while the checker holds it open", run, dev, after: "mark after delete", expect: deleted });
  });
  add("command timeouts", (phases, b) => {
    const dev = load(b, {});
    // a short SCSI timeout (default 30 s, with retries minutes): the block
    // layer's reads of a checker on the block device, left hanging by the
    // ignored commands, fail soon after the LUN answers again
    if (reads) b.writeSysfs(concat(dev.sysfs, "/timeout"), 3, { label: "SCSI timeout 3 s" });
    const run = checker(b, name, { timeoutS: 1, intervalMs: 500, drainMs: 20_000 }).start([dev], { label: name, durationMs: 120_000 });
    run.until("any", { times: 2 });
    b.writeSysfs(`${SCSI_DEBUG}/every_nth`, 1, { label: "every_nth=1" });
    b.writeSysfs(`${SCSI_DEBUG}/opts`, 4, { label: "ignore every command (opts=4)" });
    run.mark("mark while ignored");
    run.until("timeout", { times: 3, sinceMark: true, timeoutMs: 60_000 });
    b.writeSysfs(`${SCSI_DEBUG}/opts`, 0, { label: "answer again (opts=0)" });
    b.writeSysfs(`${SCSI_DEBUG}/every_nth`, 0, { label: "every_nth=0" });
    run.mark("mark answering");
    run.until("any", { times: 3, sinceMark: true, timeoutMs: 60_000 });
    run.stop();
    phases.push({ what: "a scsi_debug LUN answering", run, dev });
    phases.push({
      what: "the LUN ignoring every command (opts=4), checker timeout 1 s",
      run,
      dev,
      after: "mark while ignored",
      expect: { state: PATH.timeout, msgid: 9, because: "no answer within the checker timeout → framework: timeout" },
    });
    phases.push({ what: "the LUN answering again", run, dev, after: "mark answering" });
  }, 7);
  add("LIO ALUA states", (phases, b) => {
    const lun = b.lio.createLun({ uld: uld ?? ["sg"], aluaState: 0, aluaAccessType: 1 });
    // the block layer retries a read in transitioning for up to (retries +
    // 1) x the SCSI timeout: 3 minutes by default, 18 s with 3 s
    if (reads) b.writeSysfs(concat(lun.dev.sysfs, "/timeout"), 3, { label: "SCSI timeout 3 s" });
    for (const [state, text] of ALUA_STATES) {
      lun.setAluaState(state, { label: `alua state ${state}` });
      const run = checker(b, name).check([lun.dev], { label: `${name}: ${text}`, checks: 3, intervalMs: 200 });
      phases.push({ what: `an LIO LUN, its target port group ${text} (${state})`, run, dev: lun.dev });
    }
    // a read in transitioning hangs for the block layer's retries (60 s in all)
  }, reads ? 60 : 7);
  return out;
}

function folded(checks: readonly HostCheck[], m: CheckerModel): string {
  if (checks.length === 0) return "(no check)";
  return outcomeRuns(checks)
    .map((r) => `${outcomeText(r, m)}${r.count > 1 ? ` ×${r.count}` : ""}`)
    .join(" → ");
}

export interface AuthorVmOptions {
  compiler?: Compiler;
  progress: (message: string) => void;
  out: (line: string) => void;
}

/**
 * Runs the scenarios for the checkers `ms` (their C in `gen`) in two VM
 * boots side by side (one on a one-core machine), the scenarios dealt
 * longest first (their names prefixed with the checker's when there are
 * several); the number of failures.
 */
export async function runAuthorVm(ms: CheckerModel | readonly CheckerModel[], gen: GeneratedFiles, o: AuthorVmOptions): Promise<number> {
  const models = Array.isArray(ms) ? (ms as readonly CheckerModel[]) : [ms as CheckerModel];
  const compiler = o.compiler ?? "clang";
  o.progress(`vm: building the checker host and ${models.map((m) => `libcheck${m.name}.so`).join(", ")} (${compiler}) for the VM image`);
  const build = buildCheckerVm(
    compiler,
    models.map((m) => m.name),
    gen,
  );
  const all = models.flatMap((m) => scenarios(m, models.length > 1 ? `${m.name}: ` : "").map((s) => ({ ...s, m })));
  const seconds = new Map(all.map((s) => [s.scenario, s.seconds]));
  const vms = sideBySideVms();
  o.progress(`vm: booting ${vms === 1 ? "the VM" : `${vms} VMs side by side`} for ${all.length} scenarios (under TCG this takes minutes)`);
  const results = await runScenariosSideBySide(
    all.map((s) => s.scenario),
    { label: `test ${models.map((m) => m.name).join(", ")}`, files: build.files, vms, cost: (s) => seconds.get(s) ?? 2 },
  );
  let failures = 0;
  for (const s of all) {
    const m = s.m;
    const r: ScenarioResult = results.require(s.scenario.name);
    o.out(`vm: ${s.scenario.name}${r.status === "ok" ? "" : ` — FAILED (${r.error ? `step "${r.error.label}": ${r.error.reason}` : r.status})`}`);
    for (const [i, p] of s.phases.entries()) {
      let checks: HostCheck[];
      try {
        const trace = hostTrace(r, p.run);
        const from = p.after ? (getStep(r, p.after).endT ?? Infinity) : -Infinity;
        // up to the next phase of the same run
        const next = s.phases.slice(i + 1).find((q) => q.run === p.run && q.after);
        const to = next ? (getStep(r, next.after!).beginT ?? Infinity) : Infinity;
        checks = trace.checks(p.dev).filter((c) => c.startT >= from && c.startT < to);
      } catch (e) {
        o.out(`  ${p.what}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
        failures++;
        continue;
      }
      const bad = p.expect ? checks.filter((c) => c.state !== p.expect!.state || c.msgid !== p.expect!.msgid) : [];
      const verdict = !p.expect ? "" : checks.length === 0 ? " — FAIL: no check" : bad.length > 0 ? ` — FAIL: expected ${outcomeText(p.expect, m)} (${p.expect.because})` : ` (as expected: ${p.expect.because})`;
      if (p.expect && (checks.length === 0 || bad.length > 0)) failures++;
      o.out(`  ${p.what}: ${folded(checks, m)}${verdict}`);
    }
    if (r.status !== "ok") {
      failures++;
      for (const l of formatScenario(r).split("\n").slice(0, 40)) o.out(`    ${l}`);
    }
  }
  return failures;
}
