// The generated ALUA checker against real kernel SCSI devices in the qemu VM,
// loaded by the checker host the way multipathd 0.15 loads checkers
// (dlopen libcheckalua.so, init → check → pending … → free, through the
// generated async checker framework).
//
// - LIO (tcm_loop, configfs only): one rd_mcp backstore exported through
//   four tcm_loop targets, i.e. four paths to one LU:
//     head  (relative port 1) in target port group "head" (id 2),
//     alua  (relative port 2) in target port group "tpg1" (id 1),
//     tur   (relative port 3) in target port group "tpg1" (id 1),
//     tail  (relative port 4) in target port group "tail" (id 3).
//   RTPG lists the groups in creation order: head, tpg1, tail. "head" is
//   always kept in another state than tpg1: a checker that read the wrong
//   descriptor would report the wrong state. The ALUA checker also checks
//   path "tail", whose group is listed last: LIO's extended-format RTPG data
//   gives a RETURN DATA LENGTH 4 bytes short (it leaves out the extended
//   header) and transfers only that much, so the last descriptor's port
//   list runs past the data; its 8-byte header, with the state, still fits,
//   and the checker reads it (the spec accepts a cut port list of the
//   path's own group, as the kernel and sg3-utils do).
//   tpg1's alua_access_state is set in turn to 0, 1, 2, 3, 14, 15 and 0
//   while the ALUA checker checks path "alua" and the TUR checker path
//   "tur", both in the background; then the target port is set offline
//   (LIO's secondary state), and finally path "alua" is moved into group
//   "head" (UA 3F/03) and that group changes state (UA 2A/06).
// - scsi_debug with vpd_use_hostno=0 add_host=3: each host's LUN reports the
//   state host_no % 3 for its group; the checker must agree with sg_rtpg.
//
// Expected outcomes are the spec's (the interpreter's) for what the devices
// answer, checked from check to check with the per-path context carried on:
// the devices are modelled after the answers vm.md and this test measured,
// and each phase also reads the device's real answers (sgcdb) and runs the
// interpreter on those bytes, which must give the same outcome. The issue's
// own list (UP, UP, GHOST, DOWN, DOWN, PENDING) is asserted on top.
//
// LIO cannot present state 14 (offline) through RTPG: kernel 6.1 accepts the
// configfs write, then answers every command of the group's ports, INQUIRY
// and RTPG in both formats included, with ILLEGAL REQUEST 05/24/00 ("Unknown
// ALUA access state: 0x0e"). The checker's DOWN there is "REPORT TARGET PORT
// GROUPS rejected", not "offline", and the test says so; it does not fake
// the state.
//
// The side-by-side table of the TUR and ALUA checkers in README.md is
// produced here: MPCHECKGEN_UPDATE_README=1 writes it, otherwise README.md
// must hold exactly the observed table.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDecoder } from "../../generator/interp/decode.ts";
import { initialContext, interpretCheck, type ContextValues, type SimAnswer } from "../../generator/interp/interpret.ts";
import { loadSpec } from "../../generator/load.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { BUILD_DIR, ROOT } from "../support/cc.ts";
import { buildC, harnessFile } from "./cbuild.ts";
import type { ExtraFile } from "./initramfs.ts";
import {
  buildCheckerVm,
  checker,
  hostTrace,
  messageText,
  outcomeText,
  PATH,
  predictChecks,
  publishTable,
  scenarioTable,
  sgAnswer,
  vmPluginPath,
  type BackgroundHostRun,
  type CheckPrediction,
  type CommandDevice,
  type HostCheck,
  type HostRun,
  type HostTrace,
  type Outcome,
  type PathStateName,
  type TableRow,
} from "./checker-vm.ts";
import {
  assertScenarioOk,
  formatScenario,
  getStep,
  runScenarios,
  scenario,
  stepData,
  type DeviceRef,
  type Scenario,
  type ScenarioResult,
  type ScenarioResults,
} from "./scenario.ts";

const README = join(ROOT, "README.md");
const TABLE_BEGIN = "<!-- alua-tur-table:begin -->";
const TABLE_END = "<!-- alua-tur-table:end -->";
const UPDATE_README = process.env.MPCHECKGEN_UPDATE_README === "1";
/** Another build of the ALUA plugin to test (e.g. a mutant), instead of the generated one. */
const PLUGIN_OVERRIDE = process.env.MPCHECKGEN_ALUA_PLUGIN;

const SGCDB = "/opt/mpcg/sgcdb";
const INTERVAL_MS = 200;
/** Slack on top of the interval for a check to start after a change, under TCG on 2 cores. */
const START_SLACK_MS = 1500;
/** The longest an ALUA or TUR check of these devices may take (a few commands of a few ms each). */
const CHECK_MS_MAX = 2000;
const SD_HOSTS = 3;

// ------------------------------------------------------------ bytes

const be16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const be32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
const hexOf = (b: readonly number[]): string => b.map((x) => x.toString(16).padStart(2, "0")).join("");
const bytesOf = (hex: string): number[] => (hex.match(/../g) ?? []).map((h) => parseInt(h, 16));

/** CDBs the controls send: the checker's own (INQUIRY VPD 0x83, RTPG extended and plain), and TUR. */
const CDB = {
  inquiry83: "120183080000",
  rtpgExtended: "a32a00000000000010000000",
  rtpgPlain: "a30a00000000000010000000",
  tur: "000000000000",
};

/** VPD page 0x83: an NAA designator, the relative target port (type 4) and the target port group (type 5). */
function vpd83(relPort: number, tpg: number): number[] {
  const naa = [0x01, 0x03, 0x00, 0x10, 0x60, 0x01, 0x40, 0x5a, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1];
  const rel = [0x01, 0x14, 0x00, 0x04, 0, 0, ...be16(relPort)];
  const grp = [0x01, 0x15, 0x00, 0x04, 0, 0, ...be16(tpg)];
  const body = [...naa, ...rel, ...grp];
  return [0x00, 0x83, ...be16(body.length), ...body];
}

interface PortGroup {
  id: number;
  state: number;
  ports: readonly number[];
  /** supported-states byte (LIO: T O U S AN AO = 0xcf) */
  supported?: number;
}

/** REPORT TARGET PORT GROUPS data; the extended header when `transitionTime` is given. */
function rtpgData(groups: readonly PortGroup[], transitionTime?: number): number[] {
  const body = groups.flatMap((g) => [g.state, g.supported ?? 0xcf, ...be16(g.id), 0, 0, 0, g.ports.length, ...g.ports.flatMap((p) => [0, 0, ...be16(p)])]);
  if (transitionTime === undefined) return [...be32(body.length), ...body];
  return [...be32(body.length + 4), 0x10, transitionTime, 0, 0, ...body];
}

const good = (data?: number[]): SimAnswer => ({ status: 0, info: 0, ...(data ? { data } : {}) });
const SENSE_KEYS: Record<number, string> = { 0x2: "NOT READY", 0x5: "ILLEGAL REQUEST", 0x6: "UNIT ATTENTION" };
const senseText = (key: number, asc: number, ascq: number): string =>
  `${SENSE_KEYS[key] ?? `sense key ${key}`} ${[key, asc, ascq].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join("/")}`;
const isRtpg = (cdb: readonly number[]): boolean => cdb[0] === 0xa3 && (cdb[1]! & 0x1f) === 0x0a;
const extendedRequested = (cdb: readonly number[]): boolean => (cdb[1]! & 0xe0) === 0x20;

// ------------------------------------------------------------ access states

const STATE_NAMES: Record<number, string> = {
  0x0: "active/optimized",
  0x1: "active/non-optimized",
  0x2: "standby",
  0x3: "unavailable",
  0x4: "LBA dependent",
  0xe: "offline",
  0xf: "transitioning",
};
/** The access state a checker message names. */
const MESSAGE_STATE: Record<string, number> = {
  activeOptimized: 0x0,
  nonOptimized: 0x1,
  standby: 0x2,
  unavailable: 0x3,
  lbaDependent: 0x4,
  offline: 0xe,
  transitioning: 0xf,
};

// ------------------------------------------------------------ device models

/**
 * LIO's RTPG data in the extended format, as measured: RETURN DATA LENGTH
 * counts the descriptors only (not the 4 bytes of the extended header, SPC-4
 * says n - 3), and only that length + 4 bytes are transferred, so the last
 * 4 bytes of the last descriptor are cut.
 */
function lioRtpgExtended(groups: readonly PortGroup[], transitionTime: number): number[] {
  const full = rtpgData(groups, transitionTime);
  const descriptors = full.length - 8;
  return [...be32(descriptors), ...full.slice(4, descriptors + 4)];
}

/** A LIO port, as measured: LIO honours the extended header (implicit_trans_secs 0), with its short length. */
function lioPort(o: {
  text: string;
  relPort: number;
  tpg: number;
  groups: readonly PortGroup[];
  unitAttention?: [number, number];
  /** every command gets this sense (state 14: 05/24/00; target port offline: 02/04/12) */
  reject?: [number, number, number];
}): CommandDevice {
  return {
    text: o.text,
    ...(o.unitAttention ? { unitAttention: sgAnswer.unitAttention(...o.unitAttention) } : {}),
    answer: (cdb) => {
      if (o.reject) return sgAnswer.checkCondition(...o.reject);
      if (cdb[0] === 0x12) return good(vpd83(o.relPort, o.tpg));
      if (isRtpg(cdb)) return good(extendedRequested(cdb) ? lioRtpgExtended(o.groups, 0) : rtpgData(o.groups));
      return good();
    },
  };
}

/** What a LIO port answers to TEST UNIT READY in each state of its group (vm.md §f). */
const LIO_TUR: Record<number, SimAnswer> = {
  0x0: sgAnswer.good(),
  0x1: sgAnswer.good(),
  0x2: sgAnswer.notReady(0x04, 0x0b),
  0x3: sgAnswer.notReady(0x04, 0x0c),
  0xe: sgAnswer.illegalRequest(0x24, 0x00),
  0xf: sgAnswer.notReady(0x04, 0x0a),
};

function turPort(text: string, answer: SimAnswer, unitAttention?: [number, number]): CommandDevice {
  return { text, ...(unitAttention ? { unitAttention: sgAnswer.unitAttention(...unitAttention) } : {}), answer: () => answer };
}

/** A scsi_debug LUN with vpd_use_hostno=0 (vm.md §e, measured): plain RTPG format only, power-on UA 06/29/01. */
function scsiDebugLun(host: number): CommandDevice {
  const a = ((host + 1) & 0x7f) << 8;
  const groups: PortGroup[] = [
    { id: a, state: host % 3, ports: [1], supported: 0x0f },
    { id: a + 0x80, state: 0x3, ports: [2], supported: 0x08 },
  ];
  return {
    text: `host ${host}: power-on UA 06/29/01; group 0x${a.toString(16)} ${STATE_NAMES[host % 3]}, group 0x${(a + 0x80).toString(16)} unavailable`,
    unitAttention: sgAnswer.unitAttention(0x29, 0x01),
    answer: (cdb) => {
      if (cdb[0] === 0x12) return good(vpd83(1, a));
      if (isRtpg(cdb)) return good(rtpgData(groups));
      return good();
    },
  };
}

// ------------------------------------------------------------ the LIO plan

const GROUP_TPG1 = { name: "tpg1", id: 1 };
const GROUP_HEAD = { name: "head", id: 2 };
const GROUP_TAIL = { name: "tail", id: 3 };
const REL_PORT = { head: 1, alua: 2, tur: 3, tail: 4 };
/** Group tail stays active/non-optimized. */
const TAIL_STATE = 1;

/** The LIO configuration during a phase. */
interface LioConfig {
  tpg1: number;
  head: number;
  /** the group of path "alua" */
  aluaGroup: 1 | 2;
  /** the target ports of "alua" and "tur" are offline (LIO's secondary state, alua_tg_pt_offline=1) */
  portsOffline: boolean;
}

/** One phase: from a step on, LIO is configured so. */
interface LioPhase {
  key: string;
  /** the row title in the tables */
  title: string;
  config: LioConfig;
  /** the UA each path's first command (that can report one) gets in this phase */
  aluaUa?: [number, number];
  tailUa?: [number, number];
  turUa?: [number, number];
  /** the issue's requirement for the ALUA checker in this phase (the tpg1 states) */
  issue?: PathStateName;
  /** a row of the side-by-side table in README.md */
  sideBySide?: boolean;
  /** what the phase shows, for the notes */
  note?: string;
}

/** A state of the other group that differs from tpg1's. */
const contrast = (s: number): number => (s === 0 ? 2 : 0);

const base: LioConfig = { tpg1: 0, head: 0, aluaGroup: 1, portsOffline: false };
const ISSUE_STATES: [number, PathStateName][] = [
  [0, "up"],
  [1, "up"],
  [2, "ghost"],
  [3, "down"],
  [14, "down"],
  [15, "pending"],
];
const UA_ALUA_CHANGED: [number, number] = [0x2a, 0x06];
const UA_INQUIRY_CHANGED: [number, number] = [0x3f, 0x03];

const LIO_PHASES: LioPhase[] = [
  {
    key: "initial",
    title: "new LUN, default state 0",
    config: base,
    // measured: setting a LUN's alua_tg_pt_gp raises 06/3F/03
    aluaUa: UA_INQUIRY_CHANGED,
    turUa: UA_INQUIRY_CHANGED,
    tailUa: UA_INQUIRY_CHANGED,
  },
  ...ISSUE_STATES.map(
    ([s, issue]): LioPhase => ({
      key: `state ${s}`,
      title: `${s} ${STATE_NAMES[s]}`,
      config: { ...base, tpg1: s, head: contrast(s) },
      aluaUa: UA_ALUA_CHANGED,
      turUa: UA_ALUA_CHANGED,
      issue,
      sideBySide: true,
      ...(s === 14
        ? {
            note:
              "LIO cannot present state 14: it accepts the write, then rejects every command of the group's ports, INQUIRY and RTPG in both formats, " +
              "with ILLEGAL REQUEST 05/24/00 (dmesg: Unknown ALUA access state: 0x0e); DOWN comes from the rejected RTPG, not from an offline state",
          }
        : {}),
    }),
  ),
  {
    key: "state 0 after 15",
    title: "0 active/optimized, from transitioning",
    config: { ...base, tpg1: 0, head: contrast(0) },
    aluaUa: UA_ALUA_CHANGED,
    turUa: UA_ALUA_CHANGED,
    issue: "up",
    note: "a change while the checker runs (transitioning → active/optimized) is seen on the next check",
  },
  {
    key: "target port offline",
    title: "target port offline (alua_tg_pt_offline=1)",
    config: { ...base, head: contrast(0), portsOffline: true },
    sideBySide: true,
    note: "LIO's own offline: the ports' secondary state; every command, INQUIRY and RTPG included, gets NOT READY 02/04/12, no UA",
  },
  {
    key: "target port online",
    title: "target port online again",
    config: { ...base, head: contrast(0) },
  },
  {
    key: "moved to group head",
    title: "path moved into group head (standby)",
    config: { ...base, head: 2, aluaGroup: 2 },
    aluaUa: UA_INQUIRY_CHANGED,
    note:
      "moving the path into another group raises UA 06/3F/03 (INQUIRY DATA HAS CHANGED): the checker reads VPD 0x83 again " +
      "and reports its new group's state (head, standby)",
  },
  {
    key: "group head changes",
    title: "group head → 1 active/non-optimized",
    config: { ...base, head: 1, aluaGroup: 2 },
    aluaUa: UA_ALUA_CHANGED,
    note: "the 06/2A/06 of the new group makes the checker read VPD 0x83 again: it now reports its new group's state",
  },
];

function lioGroups(c: LioConfig): PortGroup[] {
  // RTPG lists the groups in creation order (head, tpg1, tail) and skips empty ones
  const headPorts = c.aluaGroup === 2 ? [REL_PORT.head, REL_PORT.alua] : [REL_PORT.head];
  const tpg1Ports = c.aluaGroup === 2 ? [REL_PORT.tur] : [REL_PORT.alua, REL_PORT.tur];
  return [
    { id: GROUP_HEAD.id, state: c.head, ports: headPorts },
    { id: GROUP_TPG1.id, state: c.tpg1, ports: tpg1Ports },
    { id: GROUP_TAIL.id, state: TAIL_STATE, ports: [REL_PORT.tail] },
  ];
}

function lioAluaDevice(p: LioPhase): CommandDevice {
  const c = p.config;
  const own = c.aluaGroup === 2 ? c.head : c.tpg1;
  const reject: [number, number, number] | undefined = c.portsOffline ? [0x2, 0x04, 0x12] : own === 14 ? [0x5, 0x24, 0x00] : undefined;
  const ua = p.aluaUa ? `UA ${senseText(6, ...p.aluaUa).split(" ").at(-1)}, then ` : "";
  const text = reject ? `${ua}every command ${senseText(...reject)}` : `${ua}VPD 0x83 group ${c.aluaGroup}, RTPG: group ${c.aluaGroup} ${STATE_NAMES[own]}`;
  return lioPort({ text, relPort: REL_PORT.alua, tpg: c.aluaGroup, groups: lioGroups(c), ...(p.aluaUa ? { unitAttention: p.aluaUa } : {}), ...(reject ? { reject } : {}) });
}

function lioTailDevice(p: LioPhase): CommandDevice {
  const ua = p.tailUa ? `UA ${senseText(6, ...p.tailUa).split(" ").at(-1)}, then ` : "";
  return lioPort({
    text: `${ua}VPD 0x83 group ${GROUP_TAIL.id}, RTPG: group ${GROUP_TAIL.id} (listed last) ${STATE_NAMES[TAIL_STATE]}, extended data 4 bytes short`,
    relPort: REL_PORT.tail,
    tpg: GROUP_TAIL.id,
    groups: lioGroups(p.config),
    ...(p.tailUa ? { unitAttention: p.tailUa } : {}),
  });
}

function lioTurDevice(p: LioPhase): CommandDevice {
  const c = p.config;
  const answer = c.portsOffline ? sgAnswer.notReady(0x04, 0x12) : LIO_TUR[c.tpg1]!;
  return turPort(`TUR in group tpg1 state ${c.tpg1}${c.portsOffline ? ", port offline" : ""}`, answer, p.turUa);
}

// ------------------------------------------------------------ scenarios

interface LioPlan {
  aluaRun: BackgroundHostRun;
  turRun: BackgroundHostRun;
  alua: DeviceRef;
  tur: DeviceRef;
  tail: DeviceRef;
  /** by phase key: the step that starts it (none for the first), its control steps */
  steps: Map<string, { start?: string; aluaControl: string; turControl: string; tailControl: string; rtpgTool: string }>;
}

let lioPlan: LioPlan | undefined;
const LIO_SCENARIO = "LIO ALUA states";
const SD_SCENARIO = "scsi_debug RTPG";

/** The LIO scenario; it needs the predictions (each phase waits for its settled outcomes). */
const lioScenario = (): Scenario => scenario(LIO_SCENARIO, (b) => {
  const mk = (target: string, gp: { name: string; id: number }) => b.lio.createLun({ uld: ["sg"], target, tgPtGp: gp });
  // head first: its group is created first and listed first by RTPG
  const head = mk("naa.5001405aaaaaaa01", GROUP_HEAD);
  const alua = mk("naa.5001405aaaaaaa02", GROUP_TPG1);
  const tur = mk("naa.5001405aaaaaaa03", GROUP_TPG1);
  const tail = mk("naa.5001405aaaaaaa04", GROUP_TAIL);
  void head;
  b.writeSysfs(`${tail.tgPtGpPath}/alua_access_state`, TAIL_STATE, { label: "group tail state" });
  // the scenario takes about 15 s; a failed until() stops only its own host, so this bounds a failing run
  const duration = 90_000;
  const aluaRun = checker(b, "alua", { intervalMs: INTERVAL_MS }).start([alua.dev, tail.dev], { label: "alua", durationMs: duration });
  const turRun = checker(b, "tur", { intervalMs: INTERVAL_MS }).start([tur.dev], { label: "tur", durationMs: duration });
  const steps: LioPlan["steps"] = new Map();
  let cur = LIO_PHASES[0]!.config;
  const lunDir = (l: typeof alua): string => `${l.tpgPath}/lun/lun_0`;
  const headGroup = `${alua.backstorePath}/alua/${GROUP_HEAD.name}`;

  for (const [i, p] of LIO_PHASES.entries()) {
    const c = p.config;
    let start: string | undefined;
    if (i > 0) {
      aluaRun.mark(`${p.key}: mark alua`);
      turRun.mark(`${p.key}: mark tur`);
      const write = (path: string, value: string | number, label: string): void => {
        b.writeSysfs(path, value, { label });
        start = label;
      };
      // the other group first: it raises no UA on the checked paths while they are not its members
      if (c.head !== cur.head && c.aluaGroup === cur.aluaGroup && c.aluaGroup === 1) write(`${headGroup}/alua_access_state`, c.head, `${p.key}: group head state ${c.head}`);
      if (c.portsOffline !== cur.portsOffline) {
        b.writeSysfs(`${lunDir(tur)}/alua_tg_pt_offline`, c.portsOffline ? 1 : 0, { label: `${p.key}: tur port offline=${c.portsOffline ? 1 : 0}` });
        write(`${lunDir(alua)}/alua_tg_pt_offline`, c.portsOffline ? 1 : 0, `${p.key}: alua port offline=${c.portsOffline ? 1 : 0}`);
      }
      if (c.aluaGroup !== cur.aluaGroup) write(`${lunDir(alua)}/alua_tg_pt_gp`, c.aluaGroup === 2 ? GROUP_HEAD.name : GROUP_TPG1.name, `${p.key}: move alua into group ${c.aluaGroup}`);
      if (c.head !== cur.head && c.aluaGroup === 2 && cur.aluaGroup === 2) write(`${headGroup}/alua_access_state`, c.head, `${p.key}: group head state ${c.head}`);
      if (p.key.startsWith("state ")) write(`${alua.tgPtGpPath}/alua_access_state`, c.tpg1, `${p.key}: tpg1 state ${c.tpg1}`);
      if (!start) throw new Error(`phase ${p.key} changes nothing`);
    }
    const a = predictedLio.get(p.key)!;
    const ua = a.alua.at(-1)!;
    const tu = a.tur.at(-1)!;
    // three results in a row of the phase's settled outcome, all recorded after the change
    const tl = a.tail.at(-1)!;
    const u = { times: 3, sinceMark: i > 0, timeoutMs: 10_000 };
    aluaRun.until(stateName(ua.state), { ...u, msgid: ua.msgid, devices: [alua.dev], label: `${p.key}: alua settles` });
    aluaRun.until(stateName(tl.state), { ...u, msgid: tl.msgid, devices: [tail.dev], label: `${p.key}: tail settles` });
    turRun.until(stateName(tu.state), { ...u, msgid: tu.msgid, label: `${p.key}: tur settles` });
    // controls, once the checkers have taken any UA: the devices' answers, byte for byte
    const aluaControl = `${p.key}: control alua`;
    b.run([SGCDB, alua.dev.sg, CDB.inquiry83, CDB.rtpgExtended, CDB.rtpgPlain], { json: true, label: aluaControl });
    const rtpgTool = `${p.key}: sg_rtpg`;
    b.run(["sg_rtpg", "-d", alua.dev.sg], { label: rtpgTool });
    const turControl = `${p.key}: control tur`;
    b.run([SGCDB, "-l", 0, tur.dev.sg, CDB.tur], { json: true, label: turControl });
    const tailControl = `${p.key}: control tail`;
    b.run([SGCDB, tail.dev.sg, CDB.inquiry83, CDB.rtpgExtended, CDB.rtpgPlain], { json: true, label: tailControl });
    steps.set(p.key, { ...(start ? { start } : {}), aluaControl, turControl, tailControl, rtpgTool });
    cur = c;
  }
  aluaRun.stop();
  turRun.stop();
  lioPlan = { aluaRun, turRun, alua: alua.dev, tur: tur.dev, tail: tail.dev, steps };
});

interface SdPlan {
  run: HostRun;
  devices: DeviceRef[];
}
let sdPlan: SdPlan | undefined;

const sdScenario = (): Scenario => scenario(SD_SCENARIO, (b) => {
  const d0 = b.scsiDebug.load({ vpd_use_hostno: 0, add_host: SD_HOSTS });
  const devices = [d0];
  for (let i = 1; i < SD_HOSTS; i++) devices.push(b.findSgDevice({ procName: "scsi_debug", index: i, label: `find scsi_debug device ${i}` }));
  // the checker first: its RTPG takes the power-on UA (INQUIRY does not)
  const run = checker(b, "alua").check(devices, { label: "alua", checks: 3, intervalMs: 100 });
  for (const d of devices) {
    b.run(["sg_turs", d.sg], { label: `${d.name}: sg_turs` });
    b.run(["sg_rtpg", "-d", d.sg], { label: `${d.name}: sg_rtpg` });
    b.run(["sg_vpd", "-p", "di", d.sg], { label: `${d.name}: sg_vpd` });
    b.run([SGCDB, d.sg, CDB.inquiry83, CDB.rtpgExtended, CDB.rtpgPlain], { json: true, label: `${d.name}: control` });
  }
  sdPlan = { run, devices };
});

// ------------------------------------------------------------ predictions

let alua: CheckerModel;
let tur: CheckerModel;
const predictedLio = new Map<string, { alua: CheckPrediction[]; tur: CheckPrediction[]; tail: CheckPrediction[] }>();

const stateName = (s: number): PathStateName => (Object.entries(PATH).find(([, v]) => v === s)![0] as PathStateName);
const msgId = (model: CheckerModel, key: string): number => {
  const m = model.messages.find((x) => x.key === key);
  if (!m) throw new Error(`${model.name} has no message ${key}`);
  return m.id;
};
const msgKey = (model: CheckerModel, id: number): string | undefined => model.messages.find((m) => m.id === id)?.key;

/** The spec's outcomes, phase by phase, the per-path context carried on. */
function predictLio(): void {
  predictedLio.clear();
  let actx = initialContext(alua);
  let tctx = initialContext(tur);
  let lctx = initialContext(alua);
  for (const p of LIO_PHASES) {
    const a = predictChecks(alua, lioAluaDevice(p), { context: actx, checks: 3 });
    const t = predictChecks(tur, lioTurDevice(p), { context: tctx, checks: 3 });
    const l = predictChecks(alua, lioTailDevice(p), { context: lctx, checks: 3 });
    actx = a.at(-1)!.context;
    tctx = t.at(-1)!.context;
    lctx = l.at(-1)!.context;
    predictedLio.set(p.key, { alua: a, tur: t, tail: l });
  }
}

const fold = (os: readonly Outcome[]): Outcome[] => os.filter((o, i) => i === 0 || o.state !== os[i - 1]!.state || o.msgid !== os[i - 1]!.msgid);
const seqText = (os: readonly Outcome[], model: CheckerModel): string => fold(os).map((o) => outcomeText(o, model)).join(" → ");

/** The outcome the spec gives for one check against answers a device really gave (the steady answers of a phase). */
function interpretReal(model: CheckerModel, context: ContextValues, answers: Map<string, SimAnswer>): Outcome {
  const r = interpretCheck(model, (cmd) => {
    const a = answers.get(hexOf(cmd.cdb).slice(0, 4) === "a32a" ? "rtpgExtended" : hexOf(cmd.cdb).slice(0, 4) === "a30a" ? "rtpgPlain" : cmd.cdb[0] === 0x12 ? "inquiry83" : "tur");
    if (!a) throw new Error(`no real answer for CDB ${hexOf(cmd.cdb)}`);
    return a;
  }, context);
  return { state: r.pathState, msgid: r.msgid };
}

// ------------------------------------------------------------ real answers

/** One JSON line of sgcdb. */
interface CdbAnswer {
  cdb: string;
  errno?: number;
  open_errno?: number;
  status?: number;
  host_status?: number;
  driver_status?: number;
  info?: number;
  resid?: number;
  sense?: string;
  sense_key?: number | null;
  asc?: number | null;
  ascq?: number | null;
  data?: string;
  good?: boolean;
}

/** A real answer as the interpreter's SimAnswer. */
function simOf(a: CdbAnswer): SimAnswer {
  if (a.errno) return { errno: a.errno };
  return {
    status: a.status ?? 0,
    hostStatus: a.host_status ?? 0,
    driverStatus: a.driver_status ?? 0,
    info: a.info ?? 0,
    ...(a.sense ? { sense: bytesOf(a.sense) } : {}),
    ...(a.data ? { data: bytesOf(a.data) } : {}),
  };
}

function realAnswers(r: ScenarioResult, label: string): Map<string, CdbAnswer> {
  const rows = stepData<CdbAnswer>(r, label);
  const byCdb = new Map<string, CdbAnswer>();
  for (const [k, cdb] of Object.entries(CDB)) {
    const a = rows.find((x) => x.cdb === cdb);
    if (a) byCdb.set(k, a);
  }
  return byCdb;
}

/** "GOOD", "NOT READY 02/04/0B", … */
function answerText(a: CdbAnswer | undefined): string {
  if (!a) return "–";
  if (a.errno) return `errno ${a.errno}`;
  if (a.good) return "GOOD";
  if (a.sense_key !== null && a.sense_key !== undefined) return senseText(a.sense_key, a.asc!, a.ascq!);
  return `status 0x${(a.status ?? 0).toString(16)}, host 0x${(a.host_status ?? 0).toString(16)}`;
}

/** The path's own group in the real VPD 0x83 and RTPG data (the TS decoders): "group 1: 0x02 standby". */
function ownGroup(answers: Map<string, CdbAnswer>, which: "rtpgExtended" | "rtpgPlain" = "rtpgExtended"): { tpg: number; state?: number; text: string } | undefined {
  const vpd = answers.get("inquiry83");
  const rtpg = answers.get(which);
  if (!vpd?.good || !vpd.data) return undefined;
  const v = runDecoder("vpd83TargetPortGroup", new Uint8Array(bytesOf(vpd.data)), bytesOf(vpd.data).length, {});
  if (v.outcome !== "found") return undefined;
  const tpg = v.fields.targetPortGroup as number;
  if (!rtpg?.good || !rtpg.data) return { tpg, text: answerText(rtpg) };
  const d = bytesOf(rtpg.data);
  const g = runDecoder("rtpgTargetPortGroup", new Uint8Array(4096).map((_, i) => d[i] ?? 0), d.length, { targetPortGroup: tpg });
  if (g.outcome !== "found") return { tpg, text: `group ${tpg} ${g.outcome}` };
  const st = g.fields.accessState as number;
  return { tpg, state: st, text: `group ${tpg}: 0x${st.toString(16).padStart(2, "0")} ${STATE_NAMES[st] ?? "reserved"}` };
}

// ------------------------------------------------------------ sg_rtpg / sg_vpd

/** The groups of `sg_rtpg -d` output: id and asymmetric access state. */
function parseSgRtpg(lines: readonly string[]): { id: number; state: number }[] {
  const out: { id: number; state: number }[] = [];
  let id: number | undefined;
  for (const l of lines) {
    const g = /target port group id\s*:\s*0x([0-9a-f]+)/i.exec(l);
    if (g) id = parseInt(g[1]!, 16);
    const s = /asymmetric access state\s*:\s*0x([0-9a-f]+)/i.exec(l);
    if (s && id !== undefined) {
      out.push({ id, state: parseInt(s[1]!, 16) });
      id = undefined;
    }
  }
  return out;
}

/** The target port group of `sg_vpd -p di` output. */
function parseSgVpdTpg(lines: readonly string[]): number | undefined {
  for (const l of lines) {
    const m = /Target port group:\s*0x([0-9a-f]+)/i.exec(l);
    if (m) return parseInt(m[1]!, 16);
  }
  return undefined;
}

// ------------------------------------------------------------ observed phases

/**
 * The checks of a phase: those that started after its change, plus the one
 * that was running across it (it may have seen the new state, or taken its
 * UA), up to the start of the next phase's change.
 */
interface PhaseChecks {
  straddler?: HostCheck;
  checks: HostCheck[];
}

function phaseChecks(r: ScenarioResult, trace: HostTrace, dev: DeviceRef, i: number): PhaseChecks {
  const all = trace.checks(dev);
  const plan = lioPlan!;
  const p = LIO_PHASES[i]!;
  const start = plan.steps.get(p.key)!.start;
  const next = LIO_PHASES[i + 1];
  const nextStart = next ? plan.steps.get(next.key)!.start : undefined;
  const end = nextStart ? getStep(r, `${next!.key}: mark alua`).beginT! : Infinity;
  if (!start) return { checks: all.filter((c) => c.startT < end) };
  const st = getStep(r, start);
  const checks = all.filter((c) => c.startT >= st.endT! && c.startT < end);
  const straddler = all.filter((c) => c.startT < st.endT! && c.endT > st.beginT!).at(-1);
  return { ...(straddler ? { straddler } : {}), checks };
}

/**
 * Matches a phase's checks with the spec's prediction: either the checks
 * after the change follow it from its first check, or the check running
 * across the change already took its first (the UA) and the rest follow on.
 * Returns the matched sequence, or undefined.
 */
function matchPhase(pc: PhaseChecks, predicted: readonly CheckPrediction[], model: CheckerModel): { seq: Outcome[]; firstIndex: number } | undefined {
  const want = seqText(predicted, model);
  if (pc.checks.length && seqText(pc.checks, model) === want) return { seq: pc.checks, firstIndex: 0 };
  if (pc.straddler && seqText([pc.straddler, ...pc.checks], model) === want) return { seq: [pc.straddler, ...pc.checks], firstIndex: 1 };
  return undefined;
}

const cellOf = (seq: readonly Outcome[], model: CheckerModel): string =>
  fold(seq)
    .map((o) => `${stateName(o.state).toUpperCase()} "${messageText(model, o.msgid)}"`)
    .join(", then ");

// ------------------------------------------------------------ running

let results: ScenarioResults;
let wallMs = 0;

describe("the generated ALUA checker on real SCSI devices (qemu VM)", { timeout: 900_000 }, () => {
  beforeAll(async () => {
    const t0 = performance.now();
    alua = (await loadSpec("specs/alua.ts")) as CheckerModel;
    tur = (await loadSpec("specs/tur.ts")) as CheckerModel;
    predictLio();
    const build = buildCheckerVm("clang", ["alua", "tur"]);
    const sgcdb = await buildC({ src: harnessFile("sgcdb.c") });
    const files: ExtraFile[] = [
      ...build.files.map((f) => (PLUGIN_OVERRIDE && f.dest === vmPluginPath("alua") ? { ...f, src: PLUGIN_OVERRIDE } : f)),
      { src: sgcdb, dest: SGCDB, mode: 0o755 },
    ];
    // one boot for every scenario
    results = await runScenarios([sdScenario(), lioScenario()], { label: "alua", files });
    wallMs = performance.now() - t0;
  }, 900_000);

  afterAll(() => {
    if (!results) return;
    mkdirSync(`${BUILD_DIR}/vm-results`, { recursive: true });
    writeFileSync(`${BUILD_DIR}/vm-results/alua.records.jsonl`, results.vm.records.map((r) => JSON.stringify(r)).join("\n") + "\n");
    publishTable(`${BUILD_DIR}/vm-results/alua.md`, resultsTable());
  });

  it("boots one VM and runs every scenario in it", () => {
    const vm = results.vm;
    expect(vm.kernelVersion).toMatch(/^\d+\.\d+\.\d+-\d+-cloud-amd64$/);
    expect(vm.garbled).toBe(0);
    expect(vm.records.filter((r) => r.event === "scenario-end")).toHaveLength(2);
    for (const r of results.values()) expect(r.teardown.status, `teardown after ${r.name}\n${formatScenario(r)}`).toBe(0);
    if (PLUGIN_OVERRIDE) process.stderr.write(`\nALUA plugin override: ${PLUGIN_OVERRIDE}\n`);
  });

  describe("LIO: the ALUA checker follows the state of its own target port group", () => {
    it("the spec predicts what the issue asks for each state", () => {
      for (const p of LIO_PHASES) {
        if (!p.issue) continue;
        const settled = predictedLio.get(p.key)!.alua.at(-1)!;
        expect(stateName(settled.state), `${p.key}: spec`).toBe(p.issue);
      }
      // the messages, by the model's IDs (ids start at 100 in declaration order)
      const settledMsg = (k: string) => msgKey(alua, predictedLio.get(k)!.alua.at(-1)!.msgid);
      expect(settledMsg("state 0")).toBe("activeOptimized");
      expect(settledMsg("state 1")).toBe("nonOptimized");
      expect(settledMsg("state 2")).toBe("standby");
      expect(settledMsg("state 3")).toBe("unavailable");
      expect(settledMsg("state 14"), "LIO rejects RTPG in state 14: not the offline message").toBe("rtpgRejected");
      expect(settledMsg("state 15")).toBe("transitioning");
      expect(msgId(alua, "activeOptimized")).toBe(100);
    });

    it("the checker host ran and ended cleanly", () => {
      const r = results.require(LIO_SCENARIO);
      assertScenarioOk(r);
      for (const run of [lioPlan!.aluaRun, lioPlan!.turRun]) {
        const t = hostTrace(r, run);
        expect(t.status, `${run.label}: exit status\n${t.dump()}`).toBe(0);
        expect(t.event("exit"), t.dump()).toBeDefined();
      }
    });

    it.each(LIO_PHASES.map((p, i) => [p.key, i] as const))("%s: ALUA and TUR checkers as the spec predicts", (_key, i) => {
      const r = results.require(LIO_SCENARIO);
      assertScenarioOk(r);
      const p = LIO_PHASES[i]!;
      const pred = predictedLio.get(p.key)!;
      const steps = lioPlan!.steps.get(p.key)!;
      for (const [model, run, dev, predicted] of [
        [alua, lioPlan!.aluaRun, lioPlan!.alua, pred.alua],
        [tur, lioPlan!.turRun, lioPlan!.tur, pred.tur],
        [alua, lioPlan!.aluaRun, lioPlan!.tail, pred.tail],
      ] as const) {
        const trace = hostTrace(r, run);
        const pc = phaseChecks(r, trace, dev, i);
        const m = matchPhase(pc, predicted, model);
        expect(
          m ? seqText(m.seq, model) : `${pc.straddler ? `(across the change: ${outcomeText(pc.straddler, model)}) ` : ""}${seqText(pc.checks, model)}`,
          `${run.label} in phase "${p.key}" (${trace.describe(dev, model)})\n${trace.dump()}`,
        ).toBe(seqText(predicted, model));
        if (!m) continue;
        // the change is seen by the next check: it starts within an interval (+ TCG slack) of the change
        if (steps.start) {
          const st = getStep(r, steps.start);
          const first = m.seq[0] as HostCheck;
          expect(first.startT - st.endT!, `${run.label}: the first check of "${p.key}" starts soon after the change`).toBeLessThan(INTERVAL_MS + START_SLACK_MS);
        }
        for (const c of m.seq as HostCheck[]) expect(c.ms, `${run.label}: check ${c.check} duration`).toBeLessThan(CHECK_MS_MAX);
        // the checker's own messages carry the plugin's text
        for (const c of m.seq as HostCheck[]) {
          const own = model.messages.find((x) => x.id === c.msgid);
          if (own) expect(c.checkerMessage).toBe(own.text);
        }
      }
      // the premise: the device gave the answers the prediction assumed (the spec on the real bytes, steady answers)
      const real = realAnswers(r, steps.aluaControl);
      const sims = new Map([...real].map(([k, a]) => [k, simOf(a)]));
      const before = predictedLio.get(p.key)!.alua.at(-2)!.context;
      expect(outcomeText(interpretReal(alua, before, sims), alua), `${p.key}: the spec on the real answers of path alua`).toBe(
        outcomeText(pred.alua.at(-1)!, alua),
      );
      const realTur = realAnswers(r, steps.turControl);
      expect(outcomeText(interpretReal(tur, initialContext(tur), new Map([...realTur].map(([k, a]) => [k, simOf(a)]))), tur)).toBe(
        outcomeText(pred.tur.at(-1)!, tur),
      );
      const realTail = realAnswers(r, steps.tailControl);
      expect(
        outcomeText(interpretReal(alua, pred.tail.at(-2)!.context, new Map([...realTail].map(([k, a]) => [k, simOf(a)]))), alua),
        `${p.key}: the spec on the real answers of path tail`,
      ).toBe(outcomeText(pred.tail.at(-1)!, alua));
    });

    it("the real RTPG data holds the written state for the path's own group, in both formats", () => {
      const r = results.require(LIO_SCENARIO);
      for (const p of LIO_PHASES) {
        const c = p.config;
        const own = c.aluaGroup === 2 ? c.head : c.tpg1;
        const real = realAnswers(r, lioPlan!.steps.get(p.key)!.aluaControl);
        if (c.portsOffline || own === 14) {
          const want = c.portsOffline ? "NOT READY 02/04/12" : "ILLEGAL REQUEST 05/24/00";
          for (const k of ["inquiry83", "rtpgExtended", "rtpgPlain"]) expect(answerText(real.get(k)), `${p.key}: ${k}`).toBe(want);
          continue;
        }
        for (const which of ["rtpgExtended", "rtpgPlain"] as const) {
          const g = ownGroup(real, which);
          expect(g?.tpg, `${p.key}: VPD 0x83 group`).toBe(c.aluaGroup);
          expect(g?.state, `${p.key}: ${which} state of the own group`).toBe(own);
        }
        // LIO honours the extended header
        expect(bytesOf(real.get("rtpgExtended")!.data!)[4]! & 0x70).toBe(0x10);
        // sg_rtpg (sg3-utils) reads the same state for that group
        const groups = parseSgRtpg(getStep(r, lioPlan!.steps.get(p.key)!.rtpgTool).output);
        expect(groups.find((g) => g.id === c.aluaGroup)?.state, `${p.key}: sg_rtpg`).toBe(own);
      }
    });

    it("state 14: LIO rejects every command with 05/24/00, so the checker reports DOWN: the re-read rejected, then 'RTPG rejected'", () => {
      const r = results.require(LIO_SCENARIO);
      const real = realAnswers(r, lioPlan!.steps.get("state 14")!.aluaControl);
      expect(answerText(real.get("rtpgExtended"))).toBe("ILLEGAL REQUEST 05/24/00");
      expect(answerText(real.get("rtpgPlain"))).toBe("ILLEGAL REQUEST 05/24/00");
      const pred = predictedLio.get("state 14")!.alua;
      // the spec: the UA 2A/06 makes the checker read VPD 0x83 again, which LIO rejects too: DOWN (generic, msgid 5)
      // for a path whose group is known, never WILD; the next checks get the RTPG rejected
      expect(fold(pred).map((o) => `${stateName(o.state)}/${msgKey(alua, o.msgid) ?? o.msgid}`)).toEqual(["down/5", "down/rtpgRejected"]);
      // LIO does present 0x0e, but only to the ports of other groups: path tail's RTPG lists tpg1 as offline
      const tail = realAnswers(r, lioPlan!.steps.get("state 14")!.tailControl);
      const d = bytesOf(tail.get("rtpgPlain")!.data!);
      const g = runDecoder("rtpgTargetPortGroup", new Uint8Array(4096).map((_, i) => d[i] ?? 0), d.length, { targetPortGroup: GROUP_TPG1.id });
      expect(g.fields.accessState, "tpg1 in path tail's RTPG").toBe(0xe);
      // and the context stays sensible: the group is still known, the plain format is not stuck
      expect(pred.at(-1)!.context).toMatchObject({ tpgKnown: 1, targetPortGroup: 1, rtpgPlain: 0 });
    });

    it("the per-path context: after 06/2A/06 the checker reads VPD 0x83 again and follows its new group", () => {
      const r = results.require(LIO_SCENARIO);
      const trace = hostTrace(r, lioPlan!.aluaRun);
      const i = LIO_PHASES.findIndex((p) => p.key === "group head changes");
      const pc = phaseChecks(r, trace, lioPlan!.alua, i);
      const last = pc.checks.at(-1)!;
      expect(msgKey(alua, last.msgid), trace.describe(lioPlan!.alua, alua)).toBe("nonOptimized");
      expect(predictedLio.get("group head changes")!.alua.at(-1)!.context).toMatchObject({ tpgKnown: 1, targetPortGroup: 2, accessState: 1 });
      expect(predictedLio.get("group head changes")!.alua[0]!.commands.map((c) => c.slice(0, 4))).toEqual(["a32a", "1201", "a32a"]);
    });

    it("after a move into another group (UA 06/3F/03) the checker reads VPD 0x83 again and reports its new group", () => {
      const r = results.require(LIO_SCENARIO);
      const trace = hostTrace(r, lioPlan!.aluaRun);
      const i = LIO_PHASES.findIndex((p) => p.key === "moved to group head");
      const pc = phaseChecks(r, trace, lioPlan!.alua, i);
      expect(fold(pc.checks).map((o) => msgKey(alua, o.msgid)).at(-1), trace.describe(lioPlan!.alua, alua)).toBe("standby");
      expect(predictedLio.get("moved to group head")!.alua.at(-1)!.context).toMatchObject({ tpgKnown: 1, targetPortGroup: 2 });
      const real = realAnswers(r, lioPlan!.steps.get("moved to group head")!.aluaControl);
      expect(ownGroup(real)?.text, "the path's real group and state").toBe("group 2: 0x02 standby");
    });

    it("LIO's extended RTPG data is 4 bytes short: the path whose group is listed last still gets its group's state", () => {
      const r = results.require(LIO_SCENARIO);
      for (const p of LIO_PHASES) {
        const real = realAnswers(r, lioPlan!.steps.get(p.key)!.tailControl);
        const ext = bytesOf(real.get("rtpgExtended")!.data!);
        const plain = bytesOf(real.get("rtpgPlain")!.data!);
        const returned = (ext[0]! << 24) | (ext[1]! << 16) | (ext[2]! << 8) | ext[3]!;
        // the same descriptors in both formats; the extended length leaves out the extended header, and that much is sent
        expect(ext[4]! & 0x70, `${p.key}: extended header`).toBe(0x10);
        expect(returned, `${p.key}: RETURN DATA LENGTH (SPC-4 would have ${plain.length})`).toBe(plain.length - 4);
        expect(ext.length, `${p.key}: bytes transferred`).toBe(returned + 4);
        expect(ext.slice(8), `${p.key}: descriptors, cut`).toEqual(plain.slice(4, returned + 4 - 4));
        // the plain format has the tail group's state
        expect(ownGroup(real, "rtpgPlain")?.state, `${p.key}: plain format, own group`).toBe(TAIL_STATE);
        expect(fold(predictedLio.get(p.key)!.tail).map((o) => msgKey(alua, o.msgid)).at(-1), p.key).not.toBe("rtpgTruncated");
      }
    });

    it("a LIO path whose group is listed last is reported as its group's state", () => {
      const r = results.require(LIO_SCENARIO);
      const trace = hostTrace(r, lioPlan!.aluaRun);
      const last = trace.checks(lioPlan!.tail).at(-1)!;
      expect(outcomeText(last, alua)).toBe(outcomeText({ state: PATH.up, msgid: msgId(alua, "nonOptimized") }, alua));
    });

    it("after a move into another group (UA 06/3F/03) the last check reports the new group's state", () => {
      const r = results.require(LIO_SCENARIO);
      const trace = hostTrace(r, lioPlan!.aluaRun);
      const i = LIO_PHASES.findIndex((p) => p.key === "moved to group head");
      const pc = phaseChecks(r, trace, lioPlan!.alua, i);
      expect(outcomeText(pc.checks.at(-1)!, alua)).toBe(outcomeText({ state: PATH.ghost, msgid: msgId(alua, "standby") }, alua));
    });

    it("README.md holds the side-by-side table of this run", () => {
      const table = sideBySideTable();
      const text = readFileSync(README, "utf8");
      const a = text.indexOf(TABLE_BEGIN);
      const b = text.indexOf(TABLE_END);
      expect(a, `README.md lacks ${TABLE_BEGIN}`).toBeGreaterThanOrEqual(0);
      expect(b, `README.md lacks ${TABLE_END}`).toBeGreaterThan(a);
      const block = `${TABLE_BEGIN}\n${table}${TABLE_END}`;
      if (UPDATE_README) {
        writeFileSync(README, text.slice(0, a) + block + text.slice(b + TABLE_END.length));
        process.stderr.write(`\nREADME.md: side-by-side table written\n${table}\n`);
        return;
      }
      expect(text.slice(a, b + TABLE_END.length), "README.md's table differs from this run (MPCHECKGEN_UPDATE_README=1 rewrites it)").toBe(block);
    });
  });

  describe("scsi_debug (vpd_use_hostno=0, add_host=3): the checker agrees with sg_rtpg", () => {
    it("each host's LUN reports host_no % 3, as sg_rtpg shows it", () => {
      const r = results.require(SD_SCENARIO);
      assertScenarioOk(r);
      const trace = hostTrace(r, sdPlan!.run);
      expect(trace.status, trace.dump()).toBe(0);
      const hosts = new Set<number>();
      for (const dev of sdPlan!.devices) {
        const info = r.devices[dev.name]!;
        hosts.add(info.host);
        const checks = trace.checks(dev);
        expect(checks, trace.dump()).toHaveLength(3);
        // the spec's prediction for this host's LUN (power-on UA on the first RTPG)
        const predicted = predictChecks(alua, scsiDebugLun(info.host), { checks: 3 });
        expect(checks.map((c) => outcomeText(c, alua)), `host ${info.host}`).toEqual(predicted.map((c) => outcomeText(c, alua)));
        // the issue: host_no % 3 → active/optimized, active/non-optimized, standby
        const want = [
          ["up", "activeOptimized"],
          ["up", "nonOptimized"],
          ["ghost", "standby"],
        ][info.host % 3]!;
        for (const c of checks) expect([stateName(c.state), msgKey(alua, c.msgid)], `host ${info.host} check ${c.check}`).toEqual(want);
        // sg_rtpg and sg_vpd (sg3-utils) on the same device
        const tpg = parseSgVpdTpg(getStep(r, `${dev.name}: sg_vpd`).output);
        expect(tpg, `sg_vpd -p di on ${info.sg}`).toBe(((info.host + 1) & 0x7f) << 8);
        const groups = parseSgRtpg(getStep(r, `${dev.name}: sg_rtpg`).output);
        expect(getStep(r, `${dev.name}: sg_rtpg`).status, formatScenario(r)).toBe(0);
        expect(groups.length, `sg_rtpg -d on ${info.sg}`).toBe(2);
        const own = groups.find((g) => g.id === tpg);
        expect(own, `sg_rtpg lists group ${tpg}`).toBeDefined();
        for (const c of checks) expect(MESSAGE_STATE[msgKey(alua, c.msgid)!], `checker vs sg_rtpg, host ${info.host}`).toBe(own!.state);
        // the premise: the spec on the device's real answers
        const real = realAnswers(r, `${dev.name}: control`);
        expect(outcomeText(interpretReal(alua, initialContext(alua), new Map([...real].map(([k, a]) => [k, simOf(a)]))), alua)).toBe(
          outcomeText(predicted.at(-1)!, alua),
        );
      }
      expect(hosts.size, "three hosts").toBe(SD_HOSTS);
    });
  });
});

// ------------------------------------------------------------ tables

/** The side-by-side table of README.md (deterministic: outcomes and answers only, no counts or times). */
function sideBySideTable(): string {
  const r = results.require(LIO_SCENARIO);
  const rows = [
    "| LIO, the path's target port group | LIO answers TEST UNIT READY | LIO answers REPORT TARGET PORT GROUPS | TUR checker | ALUA checker | ALUA checker, a path of group tail (active/non-optimized, listed last) |",
    "|---|---|---|---|---|---|",
  ];
  for (const [i, p] of LIO_PHASES.entries()) {
    if (!p.sideBySide) continue;
    const steps = lioPlan!.steps.get(p.key)!;
    const real = realAnswers(r, steps.aluaControl);
    const realTur = realAnswers(r, steps.turControl);
    const rtpg = real.get("rtpgExtended")?.good ? (ownGroup(real)?.text ?? "–") : answerText(real.get("rtpgExtended"));
    const cells = (["alua", "tur", "tail"] as const).map((k) => {
      const model = k === "tur" ? tur : alua;
      const run = k === "tur" ? lioPlan!.turRun : lioPlan!.aluaRun;
      const m = matchPhase(phaseChecks(r, hostTrace(r, run), lioPlan![k], i), predictedLio.get(p.key)![k], model);
      return m ? cellOf(m.seq, model) : "(no match with the spec)";
    });
    rows.push(`| ${p.title} | ${answerText(realTur.get("tur"))} | ${rtpg} | ${cells[1]} | ${cells[0]} | ${cells[2]} |`);
  }
  return rows.join("\n") + "\n";
}

/** build/vm-results/alua.md: every phase and host, expected and observed, and the VM's timings. */
function resultsTable(): string {
  const rows: TableRow[] = [];
  const lio = results.get(LIO_SCENARIO);
  if (lio && lioPlan) {
    for (const [i, p] of LIO_PHASES.entries()) {
      for (const [model, run, dev, key] of [
        [alua, lioPlan.aluaRun, lioPlan.alua, "alua"],
        [tur, lioPlan.turRun, lioPlan.tur, "tur"],
        [alua, lioPlan.aluaRun, lioPlan.tail, "tail"],
      ] as const) {
        const predicted = predictedLio.get(p.key)![key];
        let observed: string;
        let ms: number | null = null;
        try {
          const pc = phaseChecks(lio, hostTrace(lio, run), dev, i);
          const m = matchPhase(pc, predicted, model);
          observed = m
            ? seqText(m.seq, model) + (m.firstIndex ? " (first across the change)" : "")
            : `${pc.straddler ? `(across: ${outcomeText(pc.straddler, model)}) ` : ""}${seqText(pc.checks, model)}`;
          const first = m?.seq[0] as HostCheck | undefined;
          const start = lioPlan.steps.get(p.key)!.start;
          if (first && start) ms = first.endT - getStep(lio, start).endT!;
        } catch (e) {
          observed = `(no trace: ${(e as Error).message.split("\n")[0]})`;
        }
        rows.push({
          scenario: `LIO ${p.title} — ${key === "tail" ? "alua checker, path tail" : `${key} checker`}`,
          expected: seqText(predicted, model),
          observed: { clang: observed },
          elapsedMs: { clang: ms },
        });
      }
    }
  }
  const sd = results.get(SD_SCENARIO);
  if (sd && sdPlan) {
    for (const dev of sdPlan.devices) {
      const info = sd.devices[dev.name];
      let observed = "(no trace)";
      let expected = "–";
      try {
        const trace = hostTrace(sd, sdPlan.run);
        observed = trace.describe(dev, alua);
        const groups = parseSgRtpg(getStep(sd, `${dev.name}: sg_rtpg`).output);
        const tpg = parseSgVpdTpg(getStep(sd, `${dev.name}: sg_vpd`).output);
        const own = groups.find((g) => g.id === tpg);
        observed += `; sg_rtpg: group 0x${(tpg ?? 0).toString(16)} ${own ? STATE_NAMES[own.state] : "?"}`;
        if (info) expected = seqText(predictChecks(alua, scsiDebugLun(info.host), { checks: 3 }), alua) + ` (host ${info.host} % 3 = ${info.host % 3})`;
      } catch (e) {
        observed = `(no trace: ${(e as Error).message.split("\n")[0]})`;
      }
      rows.push({
        scenario: `scsi_debug ${info ? `host ${info.host}` : dev.name} — alua checker`,
        expected,
        observed: { clang: observed },
        elapsedMs: { clang: sd.elapsedMs },
      });
    }
  }
  const notes = [
    `time: for LIO phases, from the end of the change to the end of the first check that reported the new state; for scsi_debug, the scenario`,
    `${results.size} scenarios in one boot; everything (spec load, builds, image, VM): ${(wallMs / 1000).toFixed(1)} s`,
    ...LIO_PHASES.filter((p) => p.note).map((p) => `${p.title}: ${p.note}`),
    ...LIO_PHASES.map((p) => `${p.title}: alua path: ${lioAluaDevice(p).text}; tur path: ${lioTurDevice(p).text}; tail path: ${lioTailDevice(p).text}`),
    ...(PLUGIN_OVERRIDE ? [`ALUA plugin override: ${PLUGIN_OVERRIDE}`] : []),
  ];
  return scenarioTable("ALUA checker on real SCSI devices", rows, [{ name: "clang", results, wallMs }], notes);
}
