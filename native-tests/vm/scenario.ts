// TypeScript scenario API: device set-up and actions described as data,
// compiled to the shell script (/scenarios.sh) that the VM's /init runs.
// One boot runs many scenarios in sequence; after each one the VM tears
// down LIO and unloads every module it loaded (lib.sh: mpcg_teardown).
//
//   const s = scenario("healthy", (b) => {
//     const dev = b.scsiDebug.load({ delay: 0 });
//     b.run(["sgprobe", dev.sg], { json: true, label: "tur1" });
//   });
//   const results = await runScenarios([s]);
//   stepData(results.require("healthy"), "tur1")
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { ensureHostPackages, VM_HOST_PACKAGES } from "../support/host-packages.ts";
import { buildHarnessHelpers, harnessFile } from "./cbuild.ts";
import { appendOverlay, buildInitramfs, VM_MODULES, type ExtraFile, type InlineFile } from "./initramfs.ts";
import { ensureKernel, type KernelInfo } from "./kernel.ts";
import { runVm, type VmOptions, type VmRun } from "./qemu.ts";
import type { VmRecord } from "./records.ts";
import { fmtSeconds, progress } from "./util.ts";

// ------------------------------------------------------------ shell words

/** A shell variable set by an earlier step (e.g. a device found in sysfs). */
export class ShellVar {
  constructor(readonly name: string) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid shell variable name ${name}`);
  }
}

/** Concatenation of literal text and variables, forming one shell word. */
export class Concat {
  readonly parts: readonly (string | number | ShellVar)[];
  constructor(parts: readonly Arg[]) {
    const flat: (string | number | ShellVar)[] = [];
    for (const p of parts) {
      if (p instanceof Concat) flat.push(...p.parts);
      else flat.push(p);
    }
    this.parts = flat;
  }
}

/** One shell word: literal text, a variable, or a concatenation. */
export type Arg = string | number | ShellVar | Concat;

export function concat(...parts: Arg[]): Concat {
  return new Concat(parts);
}

/**
 * The running scenario's own directory in the VM ($MPCG_TMP): created empty
 * before its first step, removed after its teardown. Files that steps share
 * (a background program's log, a stop file) belong here, so that a step can
 * never read a file an earlier scenario of the boot left under the same name.
 */
export const SCENARIO_TMP = new ShellVar("MPCG_TMP");

/** Single-quotes a literal for sh ('it'\''s'). */
export function shq(s: string): string {
  if (s.includes("\0")) throw new Error("NUL byte in shell word");
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Readable form of an argument for default labels ($d1_sg for variables). */
export function argText(a: Arg): string {
  if (a instanceof ShellVar) return `$${a.name}`;
  if (a instanceof Concat) return a.parts.map((p) => (p instanceof ShellVar ? `$${p.name}` : String(p))).join("");
  return String(a);
}

/** Renders one argument as exactly one shell word. */
export function renderArg(a: Arg): string {
  if (a instanceof ShellVar) return `"\${${a.name}}"`;
  if (a instanceof Concat) {
    const s = a.parts.map((p) => (p instanceof ShellVar ? `"\${${p.name}}"` : shq(String(p)))).join("");
    return s === "" ? "''" : s;
  }
  return shq(String(a));
}

// ------------------------------------------------------------ steps

export interface Step {
  index: number;
  label: string;
  kind: string;
  /** a failing required step ends the scenario with scenario-error */
  required: boolean;
  /** shell command (one line) */
  command: string;
}

/** Device found by findSgDevice(): shell variables usable as arguments. */
export interface DeviceRef {
  /** /dev/sgN */
  sg: ShellVar;
  /** /dev/sdX, empty when sd_mod is not loaded */
  sd: ShellVar;
  /** H:C:T:L */
  hctl: ShellVar;
  /** SCSI host number */
  host: ShellVar;
  /** /sys/class/scsi_device/H:C:T:L/device */
  sysfs: ShellVar;
  /** the variable prefix, also the "var" of the device record */
  name: string;
}

export interface StepOptions {
  /** label for lookups in the results (default derived from the command; made unique) */
  label?: string;
  /** override: does failure end the scenario? */
  required?: boolean;
  /** per-step timeout in ms (the step is killed and reports status 124) */
  timeoutMs?: number;
}

export interface RunOptions extends StepOptions {
  /** stdout lines starting with '{' are JSON records (results: StepResult.data) */
  json?: boolean;
}

/** A step started with ScenarioBuilder.background(): join() waits for it. */
export interface BackgroundStep {
  readonly index: number;
  readonly label: string;
  /** the shell variable holding the pid of its vmstep */
  readonly pid: ShellVar;
}

export interface FindDeviceOptions extends StepOptions {
  /** SCSI host proc_name: "scsi_debug", "tcm_loopback" */
  procName?: string;
  /** INQUIRY vendor / model as in sysfs (trailing blanks ignored) */
  vendor?: string;
  model?: string;
  /** LUN number */
  lun?: number;
  /** n-th match in /sys/class/scsi_device glob order (default 0) */
  index?: number;
  /** also wait for /dev/sdX (needs sd_mod) */
  requireSd?: boolean;
  /** file holding "H:C:T" (tcm_loop: tpgt_N/address) */
  addressFile?: Arg;
  /**
   * only hosts whose number is `rem` modulo `mod` (scsi_debug with
   * vpd_use_hostno=0 reports the ALUA state host_no % 3, and host numbers
   * go on counting across scenarios)
   */
  hostModulo?: { mod: number; rem: number };
}

export type ScsiDebugParams = Record<string, string | number | boolean>;

export interface ScsiDebugLoadOptions extends StepOptions {
  /** upper-level drivers to load first (default ["sg"]; add "sd_mod" for /dev/sdX) */
  uld?: readonly ("sg" | "sd_mod")[];
  /** number of devices to wait for (default add_host × num_tgts × max_luns) */
  expectDevices?: number;
}

export interface LioLunOptions extends StepOptions {
  /** backstore device name (default "rd0"); reusing a name reuses the backstore */
  name?: string;
  /** backstore: rd_mcp (default) or fileio with a file in the VM's tmpfs */
  backstore?: { type: "rd_mcp"; pages?: number } | { type: "fileio"; sizeMb?: number };
  /** vpd_unit_serial (required by LIO for VPD pages); default derived from name */
  serial?: string;
  /** target WWN (default naa.5001405aaaaaaaaa) */
  target?: string;
  /** initiator WWN for the nexus (default naa.5001405bbbbbbbbb) */
  initiator?: string;
  tpgt?: number;
  lun?: number;
  /** explicit target port group (default { name: "tpg1", id: 1 }) */
  tgPtGp?: { name: string; id: number };
  /** initial ALUA state (0 AO, 1 ANO, 2 standby, 3 unavailable, 14 offline, 15 transitioning) */
  aluaState?: number;
  /**
   * alua_access_type of a group created here: 1 implicit only (INQUIRY
   * TPGS=1, so the initiator never sends SET TARGET PORT GROUPS), 2 explicit
   * only, 3 both (LIO's default)
   */
  aluaAccessType?: 1 | 2 | 3;
  /** upper-level drivers (default ["sg", "sd_mod"]) */
  uld?: readonly ("sg" | "sd_mod")[];
}

export interface LioLun {
  dev: DeviceRef;
  /** configfs path of the backstore device */
  backstorePath: string;
  /** configfs path of the target port group */
  tgPtGpPath: string;
  /** configfs path of the tpgt */
  tpgPath: string;
  /** adds a step that writes alua_access_state of the LUN's group */
  setAluaState(state: number, opts?: StepOptions): void;
}

const CFG_T = "/sys/kernel/config/target";

const DEFAULT_STEP_TIMEOUT = 120_000;

function paramWords(params: ScsiDebugParams | readonly string[] | undefined): string[] {
  if (!params) return [];
  if (Array.isArray(params)) return [...(params as readonly string[])];
  return Object.entries(params as ScsiDebugParams).map(([k, v]) => `${k}=${typeof v === "boolean" ? (v ? 1 : 0) : v}`);
}

/** Builds the steps of one scenario. Methods add steps in call order. */
export class ScenarioBuilder {
  readonly steps: Step[] = [];
  private readonly labels = new Set<string>();
  private devCount = 0;
  private readonly lioBackstores = new Set<string>();
  private readonly lioTpgs = new Set<string>();
  private readonly lioGroups = new Set<string>();
  private configfsMounted = false;
  /** background steps not joined yet */
  private readonly unjoined = new Set<number>();

  constructor(readonly name: string) {}

  private uniqueLabel(label: string): string {
    let l = label;
    for (let n = 2; this.labels.has(l); n++) l = `${label} #${n}`;
    this.labels.add(l);
    return l;
  }

  private add(kind: string, defLabel: string, required: boolean, opts: StepOptions, build: (i: number, label: string) => string): Step {
    const index = this.steps.length;
    const label = this.uniqueLabel(opts.label ?? defLabel);
    const req = opts.required ?? required;
    let command = build(index, label);
    if (req) command += ` || mpcg_fail ${index} ${shq(label)} ${shq(`${kind} failed`)}`;
    const step: Step = { index, label, kind, required: req, command };
    this.steps.push(step);
    return step;
  }

  /**
   * A step that runs argv through vmstep (output forwarded as records).
   * With `background`, the shell does not wait for it: it runs alongside
   * the next steps and its pid goes into $mpcg_bg_<index>.
   */
  exec(kind: string, argv: readonly Arg[], required: boolean, opts: RunOptions & { defLabel?: string; background?: boolean } = {}): Step {
    if (argv.length === 0) throw new Error("empty argv");
    if (opts.background && (opts.required ?? required)) throw new Error("a background step cannot be required");
    const def = opts.defLabel ?? argv.map(argText).join(" ");
    return this.add(kind, def, required, opts, (i, label) =>
      [
        "vmstep run",
        `-s "$S" -n ${i} -l ${shq(label)} -k ${shq(kind)}`,
        opts.json ? "-j" : "",
        `-T ${opts.timeoutMs ?? DEFAULT_STEP_TIMEOUT}`,
        "--",
        ...argv.map(renderArg),
        opts.background ? `& mpcg_bg_${i}=$!` : "",
      ]
        .filter((w) => w !== "")
        .join(" "),
    );
  }

  /** A step that runs a lib.sh function in the scenario's shell. */
  private sh(kind: string, fn: string, args: readonly Arg[], required: boolean, opts: StepOptions, defLabel: string): Step {
    return this.add(kind, defLabel, required, opts, (i, label) =>
      [`mpcg_sh ${i} ${shq(label)} ${shq(kind)} ${fn}`, ...args.map(renderArg)].join(" "),
    );
  }

  /** modprobe NAME [params] (required by default). */
  modprobe(name: string, params?: ScsiDebugParams | readonly string[], opts: StepOptions = {}): this {
    this.exec("modprobe", ["modprobe", name, ...paramWords(params)], true, { timeoutMs: 60_000, ...opts, defLabel: `modprobe ${name}` });
    return this;
  }

  /** rmmod NAME (required by default). */
  rmmod(name: string, opts: StepOptions = {}): this {
    this.exec("rmmod", ["rmmod", name], true, { timeoutMs: 60_000, ...opts, defLabel: `rmmod ${name}` });
    return this;
  }

  /**
   * Writes VALUE plus "\n" (like echo; opts.raw: VALUE only) to a sysfs or
   * configfs file in one write(); on failure the step status is the errno.
   * Required by default.
   */
  writeSysfs(path: Arg, value: Arg, opts: StepOptions & { raw?: boolean } = {}): this {
    this.exec("write", [opts.raw ? "=writeraw" : "=write", path, value], true, {
      ...opts,
      defLabel: `write ${argText(value)} > ${argText(path)}`,
    });
    return this;
  }

  sleep(ms: number, opts: StepOptions = {}): this {
    this.exec("sleep", ["=sleep", Math.max(0, Math.round(ms))], true, { ...opts, defLabel: `sleep ${ms}` });
    return this;
  }

  /** Runs a program in the VM (not required by default: its status is a result). */
  run(argv: readonly Arg[], opts: RunOptions = {}): this {
    this.exec("run", argv, false, opts);
    return this;
  }

  /**
   * Starts a program in the background: it is a step of its own (records,
   * status, its timeout) that runs while the next steps run. join() waits
   * for it; a scenario also waits for its background steps before it ends
   * (and before a failed set-up step ends it), so none outlives its
   * scenario. Never required: its status is a result.
   */
  background(argv: readonly Arg[], opts: RunOptions = {}): BackgroundStep {
    const st = this.exec("background", argv, false, { ...opts, background: true });
    const bg: BackgroundStep = { index: st.index, label: st.label, pid: new ShellVar(`mpcg_bg_${st.index}`) };
    this.unjoined.add(st.index);
    return bg;
  }

  /** Waits for a background step; the join step's status is the background step's. */
  join(bg: BackgroundStep, opts: StepOptions = {}): this {
    if (!this.unjoined.delete(bg.index)) throw new Error(`background step ${JSON.stringify(bg.label)} is not running (joined twice?)`);
    this.sh("join", "mpcg_join", [bg.pid], false, opts, `join ${bg.label}`);
    return this;
  }

  /** Runs `sh -c SCRIPT`; device variables are exported (e.g. "$d1_sg"). */
  shell(script: string, opts: RunOptions = {}): this {
    this.exec("shell", ["sh", "-c", script], false, { ...opts, defLabel: opts.label ?? `sh -c ${script.slice(0, 40)}` });
    return this;
  }

  /** Finds a SCSI device in sysfs (waits up to timeoutMs, default 10 s) and exports its sg/sd/hctl. */
  findSgDevice(opts: FindDeviceOptions = {}): DeviceRef {
    if (opts.hostModulo && !(Number.isInteger(opts.hostModulo.mod) && opts.hostModulo.mod >= 1 && Number.isInteger(opts.hostModulo.rem) && opts.hostModulo.rem >= 0 && opts.hostModulo.rem < opts.hostModulo.mod)) {
      throw new Error(`findSgDevice: hostModulo needs integers mod ≥ 1 and 0 ≤ rem < mod, got ${JSON.stringify(opts.hostModulo)}`);
    }
    const name = `d${++this.devCount}`;
    const ref: DeviceRef = {
      name,
      sg: new ShellVar(`${name}_sg`),
      sd: new ShellVar(`${name}_sd`),
      hctl: new ShellVar(`${name}_hctl`),
      host: new ShellVar(`${name}_host`),
      sysfs: new ShellVar(`${name}_sysfs`),
    };
    this.sh(
      "find-device",
      "mpcg_find_dev",
      [
        name,
        opts.procName ?? "",
        opts.vendor ?? "",
        opts.model ?? "",
        opts.lun === undefined ? "" : opts.lun,
        opts.index ?? 0,
        opts.timeoutMs ?? 10_000,
        opts.requireSd ? 1 : 0,
        opts.addressFile ?? "",
        opts.hostModulo ? `${opts.hostModulo.mod}:${opts.hostModulo.rem}` : "",
      ],
      true,
      { ...opts, timeoutMs: undefined },
      `find device ${name}`,
    );
    return ref;
  }

  /** Waits until exactly COUNT devices exist on hosts named PROC_NAME. */
  waitDevices(procName: string, count: number, opts: StepOptions & { needSg?: boolean } = {}): this {
    this.sh(
      "wait-devices",
      "mpcg_wait_devs",
      [procName, count, opts.timeoutMs ?? 20_000, opts.needSg ? 1 : 0],
      true,
      opts,
      `wait for ${count} ${procName} device(s)`,
    );
    return this;
  }

  /** echo STATE > device/state ("running" or "offline"; others give EINVAL). */
  setDeviceState(dev: DeviceRef, state: string, opts: StepOptions = {}): this {
    return this.writeSysfs(concat(dev.sysfs, "/state"), state, { label: `${dev.name} state ${state}`, ...opts });
  }

  /** sg_turs until GOOD (consumes pending unit attentions); required by default. */
  clearUnitAttentions(dev: DeviceRef, maxTries = 5, opts: StepOptions = {}): this {
    this.sh("tur-until-good", "mpcg_tur_until_good", [dev.sg, maxTries], true, opts, `clear unit attentions ${dev.name}`);
    return this;
  }

  /** scsi_debug helpers. */
  readonly scsiDebug = {
    /**
     * Loads the upper-level drivers, then `modprobe scsi_debug PARAMS`, waits
     * for its devices (and their sg nodes), and returns device 0.
     */
    load: (params: ScsiDebugParams = {}, opts: ScsiDebugLoadOptions = {}): DeviceRef => {
      const uld = opts.uld ?? ["sg"];
      for (const m of uld) this.modprobe(m);
      this.modprobe("scsi_debug", params, { label: opts.label ?? "load scsi_debug", ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
      const num = (k: string, d: number): number => (params[k] === undefined ? d : Number(params[k]));
      const expect = opts.expectDevices ?? num("add_host", 1) * num("num_tgts", 1) * num("max_luns", 1);
      this.waitDevices("scsi_debug", expect, { needSg: uld.includes("sg"), label: "wait for scsi_debug devices" });
      return this.findSgDevice({ procName: "scsi_debug", requireSd: uld.includes("sd_mod"), label: "find scsi_debug device 0" });
    },
    /** rmmod scsi_debug and wait until its devices are gone. */
    unload: (opts: StepOptions = {}): void => {
      this.rmmod("scsi_debug", opts);
      this.waitDevices("scsi_debug", 0, { label: "wait for scsi_debug devices to go" });
    },
  };

  private mountConfigfs(): void {
    if (this.configfsMounted) return;
    this.configfsMounted = true;
    this.sh("configfs", "mpcg_configfs", [], true, {}, "mount configfs");
  }

  /** LIO helpers (configfs only). */
  readonly lio = {
    /**
     * An LIO LUN over tcm_loop: backstore (rd_mcp or fileio) with
     * vpd_unit_serial set before export, tpgt + nexus, LUN symlink, an
     * explicit target port group (id ≥ 1), optional initial ALUA state.
     * Returns the device as seen by the initiator side.
     */
    createLun: (opts: LioLunOptions = {}): LioLun => {
      const name = opts.name ?? "rd0";
      if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`invalid LIO backstore name ${name}`);
      const bs = opts.backstore ?? { type: "rd_mcp" as const };
      const hba = bs.type === "rd_mcp" ? "rd_mcp_0" : "fileio_0";
      const bsPath = `${CFG_T}/core/${hba}/${name}`;
      const target = opts.target ?? "naa.5001405aaaaaaaaa";
      const initiator = opts.initiator ?? "naa.5001405bbbbbbbbb";
      const tpgt = opts.tpgt ?? 1;
      const lun = opts.lun ?? 0;
      const gp = opts.tgPtGp ?? { name: "tpg1", id: 1 };
      if (gp.id < 1) throw new Error("use an explicit tg_pt_gp id ≥ 1 (id 0 is the default group)");
      const tpgPath = `${CFG_T}/loopback/${target}/tpgt_${tpgt}`;
      const lunPath = `${tpgPath}/lun/lun_${lun}`;
      const gpPath = `${bsPath}/alua/${gp.name}`;
      const uld = opts.uld ?? ["sg", "sd_mod"];
      const t = (l: string): StepOptions => ({ label: `lio ${name}: ${l}` });

      for (const m of uld) this.modprobe(m);
      this.modprobe("target_core_mod");
      if (bs.type === "fileio") this.modprobe("target_core_file");
      this.modprobe("tcm_loop");
      this.mountConfigfs();
      if (!this.lioBackstores.has(bsPath)) {
        this.lioBackstores.add(bsPath);
        const serial = opts.serial ?? `5001405a-0000-4000-8000-${Buffer.from(name).toString("hex").padEnd(12, "0").slice(0, 12)}`;
        this.exec("lio", ["mkdir", "-p", bsPath], true, t("backstore"));
        if (bs.type === "rd_mcp") {
          this.writeSysfs(`${bsPath}/control`, `rd_pages=${bs.pages ?? 4096}`, t("control"));
        } else {
          const size = (bs.sizeMb ?? 16) * 1024 * 1024;
          this.writeSysfs(`${bsPath}/control`, `fd_dev_name=/tmp/lio-${name}.img,fd_dev_size=${size}`, t("control"));
        }
        this.writeSysfs(`${bsPath}/enable`, "1", t("enable"));
        this.writeSysfs(`${bsPath}/wwn/vpd_unit_serial`, serial, t("vpd_unit_serial"));
      }
      this.exec("lio", ["mkdir", "-p", lunPath], true, t(`lun_${lun}`));
      if (!this.lioTpgs.has(tpgPath)) {
        this.lioTpgs.add(tpgPath);
        this.writeSysfs(`${tpgPath}/nexus`, initiator, t("nexus"));
      }
      this.exec("lio", ["ln", "-s", bsPath, `${lunPath}/mpcg_port`], true, t("export"));
      if (!this.lioGroups.has(gpPath)) {
        this.lioGroups.add(gpPath);
        this.exec("lio", ["mkdir", "-p", gpPath], true, t(`tg_pt_gp ${gp.name}`));
        this.writeSysfs(`${gpPath}/tg_pt_gp_id`, String(gp.id), t("tg_pt_gp_id"));
        if (opts.aluaAccessType !== undefined) this.writeSysfs(`${gpPath}/alua_access_type`, String(opts.aluaAccessType), t("alua_access_type"));
      }
      this.writeSysfs(`${lunPath}/alua_tg_pt_gp`, gp.name, t("alua_tg_pt_gp"));
      if (opts.aluaState !== undefined) this.writeSysfs(`${gpPath}/alua_access_state`, String(opts.aluaState), t(`alua state ${opts.aluaState}`));
      const dev = this.findSgDevice({
        procName: "tcm_loopback",
        lun,
        addressFile: `${tpgPath}/address`,
        requireSd: uld.includes("sd_mod"),
        label: opts.label ?? `lio ${name}: find device`,
        timeoutMs: opts.timeoutMs,
      });
      return {
        dev,
        backstorePath: bsPath,
        tgPtGpPath: gpPath,
        tpgPath,
        setAluaState: (state: number, o: StepOptions = {}) => {
          this.writeSysfs(`${gpPath}/alua_access_state`, String(state), { label: `lio ${name}: alua state ${state}`, ...o });
        },
      };
    },
    /** Removes every LIO object now (it also happens after each scenario). */
    teardown: (opts: StepOptions = {}): void => {
      this.sh("lio-teardown", "mpcg_lio_teardown", [], true, opts, "lio teardown");
    },
  };
}

export interface ScenarioOptions {
  /** free-form description (not used by the VM) */
  description?: string;
}

export interface Scenario {
  name: string;
  steps: readonly Step[];
  description?: string;
}

/** Describes one scenario; `build` adds its steps. */
export function scenario(name: string, build: (b: ScenarioBuilder) => void, opts: ScenarioOptions = {}): Scenario {
  if (!name || /[\0\n\r]/.test(name)) throw new Error(`invalid scenario name ${JSON.stringify(name)}`);
  const b = new ScenarioBuilder(name);
  build(b);
  return { name, steps: b.steps, description: opts.description };
}

/** The /scenarios.sh that runs `scenarios` in order. */
export function compileScenarios(scenarios: readonly Scenario[]): string {
  const names = new Set<string>();
  for (const s of scenarios) {
    if (names.has(s.name)) throw new Error(`duplicate scenario name ${JSON.stringify(s.name)}`);
    names.add(s.name);
  }
  const out = ["#!/bin/sh", "# Generated by native-tests/vm/scenario.ts: do not edit.", ". /lib/mpcg/lib.sh", ""];
  scenarios.forEach((s, i) => {
    out.push(`# scenario ${i}: ${s.name.replace(/[^\x20-\x7e]/g, "?")}`, `mpcg_s${i}() {`);
    for (const st of s.steps) out.push(`\t${st.command}`);
    // background steps never outlive their scenario
    out.push("\twait", "}", `mpcg_scenario ${shq(s.name)} mpcg_s${i}`, "");
  });
  out.push("mpcg_finish", "");
  return out.join("\n");
}

// ------------------------------------------------------------ results

export interface StepResult {
  index: number;
  label: string;
  kind: string;
  required: boolean;
  /** a step-begin record arrived */
  ran: boolean;
  /** exit status (errno for writes, 124 timeout, 128+N signal); null if it never ended */
  status: number | null;
  signal: number | null;
  timedOut: boolean;
  elapsedMs: number | null;
  /** VM CLOCK_MONOTONIC (ms) at step begin / end */
  beginT: number | null;
  endT: number | null;
  argv: string[] | null;
  /** parsed JSON lines (run with json: true) */
  data: unknown[];
  /** non-JSON output lines */
  output: string[];
  records: VmRecord[];
}

export interface DeviceInfo {
  var: string;
  sg: string;
  sd: string;
  hctl: string;
  host: number;
  vendor: string;
  model: string;
}

export interface ScenarioResult {
  name: string;
  /** ok: all steps ran; error: a required step failed; not-run: no scenario-end record */
  status: "ok" | "error" | "not-run";
  error?: { step: number; label: string; status: number; reason: string };
  elapsedMs: number | null;
  steps: StepResult[];
  records: VmRecord[];
  devices: Record<string, DeviceInfo>;
  teardown: { status: number | null; elapsedMs: number | null; output: string[] };
}

/** Results by scenario name, plus the VM run they came from. */
export class ScenarioResults extends Map<string, ScenarioResult> {
  /** every VM the scenarios ran in (`vm` is the first) */
  readonly vms: readonly VmRun[];
  constructor(
    readonly vm: VmRun,
    entries: [string, ScenarioResult][],
    vms: readonly VmRun[] = [vm],
  ) {
    super(entries);
    this.vms = vms;
  }
  /** The result of a scenario, or an Error naming the known ones. */
  require(name: string): ScenarioResult {
    const r = this.get(name);
    if (!r) throw new Error(`no result for scenario ${JSON.stringify(name)}; have: ${[...this.keys()].join(", ")}`);
    return r;
  }
}

const num = (v: unknown): number | null => (typeof v === "number" ? v : null);

/** Groups VM records into per-scenario results. */
export function collectResults(scenarios: readonly Scenario[], records: readonly VmRecord[]): Map<string, ScenarioResult> {
  const res = new Map<string, ScenarioResult>();
  for (const s of scenarios) {
    res.set(s.name, {
      name: s.name,
      status: "not-run",
      elapsedMs: null,
      steps: s.steps.map((st) => ({
        index: st.index,
        label: st.label,
        kind: st.kind,
        required: st.required,
        ran: false,
        status: null,
        signal: null,
        timedOut: false,
        elapsedMs: null,
        beginT: null,
        endT: null,
        argv: null,
        data: [],
        output: [],
        records: [],
      })),
      records: [],
      devices: {},
      teardown: { status: null, elapsedMs: null, output: [] },
    });
  }
  for (const rec of records) {
    if (typeof rec.scenario !== "string") continue;
    const r = res.get(rec.scenario);
    if (!r) continue;
    r.records.push(rec);
    if (rec.label === "teardown" && rec.step === undefined) {
      if (rec.event === "output" && typeof rec.text === "string") r.teardown.output.push(rec.text);
    }
    switch (rec.event) {
      case "scenario-end":
        r.elapsedMs = num(rec.elapsed_ms);
        if (r.status === "not-run") r.status = rec.status === 0 ? "ok" : "error";
        continue;
      case "scenario-error":
        r.status = "error";
        r.error = {
          step: num(rec.step) ?? -1,
          label: String(rec.label ?? ""),
          status: num(rec.status) ?? -1,
          reason: String(rec.reason ?? ""),
        };
        continue;
      case "teardown":
        r.teardown.status = num(rec.status);
        r.teardown.elapsedMs = num(rec.elapsed_ms);
        continue;
    }
    const st = typeof rec.step === "number" ? r.steps[rec.step] : undefined;
    if (!st) continue;
    st.records.push(rec);
    switch (rec.event) {
      case "step-begin":
        st.ran = true;
        st.beginT = num(rec.t);
        if (Array.isArray(rec.argv)) st.argv = rec.argv.map(String);
        break;
      case "step-end":
        st.status = num(rec.status);
        st.signal = num(rec.signal);
        st.timedOut = rec.timed_out === true;
        st.elapsedMs = num(rec.elapsed_ms);
        st.endT = num(rec.t);
        break;
      case "data":
        st.data.push(rec.data);
        break;
      case "output":
        if (typeof rec.text === "string") st.output.push(rec.text);
        break;
      case "device":
        r.devices[String(rec.var)] = {
          var: String(rec.var),
          sg: String(rec.sg ?? ""),
          sd: String(rec.sd ?? ""),
          hctl: String(rec.hctl ?? ""),
          host: num(rec.host) ?? -1,
          vendor: String(rec.vendor ?? ""),
          model: String(rec.model ?? ""),
        };
        break;
    }
  }
  return res;
}

/** Human-readable dump of a scenario result (for assertion messages). */
export function formatScenario(r: ScenarioResult): string {
  const lines = [
    `scenario ${JSON.stringify(r.name)}: ${r.status}${r.elapsedMs !== null ? ` in ${fmtSeconds(r.elapsedMs)}` : ""}` +
      (r.error ? ` — step ${r.error.step} "${r.error.label}" failed (status ${r.error.status}): ${r.error.reason}` : ""),
  ];
  for (const s of r.steps) {
    lines.push(
      `  [${s.index}] ${s.label} (${s.kind}${s.required ? ", required" : ""}): ` +
        (s.ran ? `status ${s.status}${s.timedOut ? " TIMED OUT" : ""}${s.elapsedMs !== null ? `, ${s.elapsedMs.toFixed(0)} ms` : ""}` : "not run"),
    );
    for (const o of s.output.slice(-15)) lines.push(`      | ${o}`);
    for (const d of s.data.slice(-10)) lines.push(`      > ${JSON.stringify(d)}`);
  }
  lines.push(`  teardown: status ${r.teardown.status}`);
  for (const o of r.teardown.output) lines.push(`      | ${o}`);
  return lines.join("\n");
}

/** The step with this label, or an Error that shows the whole scenario. */
export function getStep(r: ScenarioResult, label: string): StepResult {
  const s = r.steps.find((x) => x.label === label);
  if (!s) throw new Error(`scenario ${r.name} has no step labelled ${JSON.stringify(label)}\n${formatScenario(r)}`);
  return s;
}

/** JSON records a step printed (run with json: true); Error if the step did not run. */
export function stepData<T = Record<string, unknown>>(r: ScenarioResult, label: string): T[] {
  const s = getStep(r, label);
  if (!s.ran) throw new Error(`step ${JSON.stringify(label)} of ${r.name} did not run\n${formatScenario(r)}`);
  return s.data as T[];
}

/** Throws (with the full scenario dump) unless the scenario ran to its end without error. */
export function assertScenarioOk(r: ScenarioResult): void {
  if (r.status !== "ok") throw new Error(`scenario failed\n${formatScenario(r)}`);
}

// ------------------------------------------------------------ running

export interface RunScenariosOptions extends Omit<VmOptions, "initrd" | "kernel"> {
  /** host files for the image: test programs, plugins (dynamic ELF files get their ldd closure) */
  files?: readonly ExtraFile[];
  /** generated files for the image */
  inline?: readonly InlineFile[];
  /** kernel modules for the image (default VM_MODULES) */
  modules?: readonly string[];
  kernel?: KernelInfo;
  /** print one progress line per finished scenario (default true) */
  progress?: boolean;
}

/** The harness files every image holds (paths inside the VM). */
export async function harnessImageFiles(): Promise<ExtraFile[]> {
  const h = await buildHarnessHelpers();
  return [
    { src: harnessFile("init.sh"), dest: "/init", mode: 0o755 },
    { src: harnessFile("lib.sh"), dest: "/lib/mpcg/lib.sh", mode: 0o644 },
    { src: h.vmstep, dest: "/usr/bin/vmstep", mode: 0o755 },
    { src: h.vmexit, dest: "/usr/bin/vmexit", mode: 0o755 },
    { src: h.sgprobe, dest: "/usr/bin/sgprobe", mode: 0o755 },
  ];
}

/**
 * Boots one VM that runs all `scenarios` in order and returns their results
 * by name. Throws VmError when the VM fails (boot, panic, timeout, no end).
 * Scenario failures do not throw: check ScenarioResult.status.
 */
export async function runScenarios(scenarios: readonly Scenario[], opts: RunScenariosOptions = {}): Promise<ScenarioResults> {
  const script = compileScenarios(scenarios);
  ensureHostPackages(VM_HOST_PACKAGES);
  const kernel = opts.kernel ?? (await ensureKernel());
  const image = await buildInitramfs({
    kernel,
    modules: opts.modules ?? VM_MODULES,
    files: [...(await harnessImageFiles()), ...(opts.files ?? [])],
    inline: opts.inline,
  });
  const dir = mkdtempSync(join(tmpdir(), "mpcg-vm-"));
  try {
    const initrd = join(dir, "initrd.cpio.gz");
    appendOverlay(image.path, [{ dest: "/scenarios.sh", data: script, mode: 0o755 }], initrd);
    const name = opts.label ? `${opts.label}: ` : "";
    const userOnRecord = opts.onRecord;
    const vm = await runVm({
      ...opts,
      kernel,
      initrd,
      onRecord: (rec) => {
        if (opts.progress !== false) {
          if (rec.event === "boot") progress(`${name}booted kernel ${String(rec.kernel)} (uptime ${String(rec.uptime_s)} s)`);
          if (rec.event === "scenario-end") {
            progress(
              `${name}scenario ${JSON.stringify(rec.scenario)} ${rec.status === 0 ? "ok" : "FAILED"} in ${fmtSeconds(num(rec.elapsed_ms) ?? 0)}`,
            );
          }
          if (rec.event === "scenario-error") {
            progress(`${name}scenario ${JSON.stringify(rec.scenario)}: step ${String(rec.step)} "${String(rec.label)}" failed (status ${String(rec.status)})`);
          }
        }
        userOnRecord?.(rec);
      },
    });
    return new ScenarioResults(vm, [...collectResults(scenarios, vm.records).entries()]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Deals `items` into at most `groups` lists, longest first (by `cost`), each
 * to the list with the least cost so far; within a list the given order is
 * kept. Empty lists are left out.
 */
export function dealLongestFirst<T>(items: readonly T[], groups: number, cost: (item: T) => number): T[][] {
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`dealLongestFirst: groups must be a positive integer, not ${groups}`);
  const lists = Array.from({ length: groups }, () => ({ at: [] as number[], cost: 0 }));
  const order = items.map((item, i) => ({ i, c: cost(item) })).sort((a, b) => b.c - a.c || a.i - b.i);
  for (const o of order) {
    const l = lists.reduce((a, b) => (b.cost < a.cost ? b : a));
    l.at.push(o.i);
    l.cost += o.c;
  }
  return lists.filter((l) => l.at.length > 0).map((l) => l.at.sort((a, b) => a - b).map((i) => items[i]!));
}

/** How many VMs runScenariosSideBySide() boots at once by default: 2, or 1 on a machine with one core (TCG runs a VM on one core). */
export function sideBySideVms(): number {
  return Math.min(2, availableParallelism());
}

export interface SideBySideOptions extends RunScenariosOptions {
  /** how many VMs to boot at once (default: 2, 1 on a machine with one core) */
  vms?: number;
  /** a scenario's expected duration (any unit, e.g. seconds under TCG), for dealing them out (default 1 each) */
  cost?: (s: Scenario) => number;
}

/**
 * Runs `scenarios` in VMs booted side by side (one image, the scenarios
 * dealt longest first), as runScenarios() runs them in one: the results of
 * every VM in one map.
 */
export async function runScenariosSideBySide(scenarios: readonly Scenario[], opts: SideBySideOptions = {}): Promise<ScenarioResults> {
  const { vms = sideBySideVms(), cost = () => 1, ...run } = opts;
  const groups = dealLongestFirst(scenarios, vms, cost);
  if (groups.length <= 1) return runScenarios(scenarios, run);
  const label = run.label ?? "VM";
  const kernel = run.kernel ?? (await ensureKernel());
  const parts = await Promise.all(groups.map((g, i) => runScenarios(g, { ...run, kernel, label: `${label} (VM ${i + 1} of ${groups.length})` })));
  return new ScenarioResults(
    parts[0]!.vm,
    parts.flatMap((p) => [...p.entries()]),
    parts.map((p) => p.vm),
  );
}
