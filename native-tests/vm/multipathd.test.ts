// Debian's own multipathd (multipath-tools 0.9.4 on bookworm) in the VM,
// loading checker plugins, and the multipathd of Debian's 0.9.4 tree with
// the series of `mpcheckgen patch` applied (its own runner, its in-tree
// alua), on real kernel SCSI devices: one boot of the
// generic amd64 kernel (scsi_dh_alua), udevd running, one multipath.conf per
// checker (path_checker NAME, detect_checker no). For every checker of
// CHECKERS the same scenarios run; each phase polls `multipathd show paths`
// and `show topology` until every path shows the expected
//   path-group state / dm state / checker state / device state
// and records how long after the action multipathd showed it. A reader does
// O_DIRECT I/O through /dev/mapper/<wwid> for the whole scenario and checks
// every byte of a pattern written first; there is always a usable path, so
// it must see no error and no wrong byte.
//
// - LIO: one rd_mcp backstore exported through two tcm_loop targets in two
//   target port groups (ALUA): the active group moves (AO ↔ standby), the
//   inactive group goes unavailable, transitioning and offline (14), and a
//   target port goes offline (LIO's secondary state) and online.
// - scsi_debug (vpd_use_hostno=0 add_host=3: three paths to one LU in the
//   states active/optimized, active/non-optimized, standby): a path
//   offline then running; a command-timeout storm (opts=4, every_nth=1,
//   all paths: scsi_debug cannot time out one host only) in which all paths
//   go faulty and come back while multipathd's CLI keeps answering and its
//   thread count stays bounded; a device deleted.
//
// Expected states are stock multipath-tools 0.9.4 behaviour (checkers-
// behaviour.md): standby → ghost; unavailable, transitioning (0.9.4 tur:
// DOWN), offline → faulty. A checker added to CHECKERS must produce the same
// states (the generated 0.9 tur and alua plugins are meant to).
//
// Writes build/vm-results/multipathd.md: one row per phase, one column per
// checker (observed state, time until shown).
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILD_DIR, ROOT } from "../support/cc.ts";
import { buildTree, ensureDebianBinaries, prepareTree } from "../tree/index.ts";
import { buildPlugin09 } from "../tree/plugin09.ts";
import { publishTable } from "./checker-vm.ts";
import { concat, runScenarios, ScenarioResults } from "./scenario.ts";
import {
  loadedPlugins,
  mpScenario,
  PLUGIN_DIR,
  startedMultipathd,
  multipathdImage,
  phaseResults,
  readerResult,
  type MpScenario,
  type MultipathdImage,
  type PhaseResult,
  type PluginFile,
} from "./multipathd.ts";

/** A checker to run the scenarios with, and where its expected states differ between checkers. */
interface CheckerCase {
  /** path_checker NAME: a stock checker or the name of one of PLUGINS */
  name: string;
  /** the column's name where it is not NAME (the tree's multipathd runs path_checker alua too) */
  label?: string;
  /** a tree's multipathd (TreeMultipathd prefix) instead of Debian's */
  prefix?: string;
  /**
   * checker state of scsi_debug's standby path: scsi_debug reports the ALUA
   * state only in REPORT TARGET PORT GROUPS and answers TEST UNIT READY with
   * GOOD in every state, so tur says "ready"; an RTPG-based checker (alua)
   * says "ghost"
   */
  scsiDebugStandby: "ready" | "ghost";
}

/**
 * More checkers from the environment, without editing this file:
 * MPCHECKGEN_MULTIPATHD_PLUGINS="NAME[:ready|ghost]=PATH,…" copies PATH to
 * /lib/multipath/libcheckNAME.so and runs the scenarios with path_checker
 * NAME as well (":ghost": the checker reports scsi_debug's standby path as
 * ghost, see scsiDebugStandby).
 */
function envPlugins(): { cases: CheckerCase[]; plugins: PluginFile[] } {
  const spec = process.env.MPCHECKGEN_MULTIPATHD_PLUGINS ?? "";
  const cases: CheckerCase[] = [];
  const plugins: PluginFile[] = [];
  for (const item of spec.split(",").filter((x) => x.trim() !== "")) {
    const m = /^([A-Za-z0-9_]+)(?::(ready|ghost))?=(.+)$/.exec(item.trim());
    if (!m) throw new Error(`MPCHECKGEN_MULTIPATHD_PLUGINS: expected NAME[:ready|ghost]=PATH, got ${JSON.stringify(item)}`);
    cases.push({ name: m[1]!, scsiDebugStandby: (m[2] as "ready" | "ghost" | undefined) ?? "ready" });
    plugins.push({ name: m[1]!, src: m[3]! });
  }
  return { cases, plugins };
}
const fromEnv = envPlugins();

/**
 * The generated 0.9 plugins (generated/0.9/, linked against Debian's own
 * 0.9.4 libraries): the generated tur, installed as "gentur" beside the
 * stock one, and alua, which reads scsi_debug's standby path as ghost.
 */
const GENERATED: readonly (CheckerCase & { spec: string })[] = [
  { name: "gentur", spec: "tur", scsiDebugStandby: "ready" },
  { name: "alua", spec: "alua", scsiDebugStandby: "ghost" },
];
/**
 * The multipathd of Debian's 0.9.4 tree with the series of `mpcheckgen
 * patch` applied (git am of the written patches onto the tree imported
 * into git), built with plugindir=TREE_PREFIX/multipath: its own runner in
 * libmpathutil and its in-tree alua checker.
 */
const TREE_PREFIX = "/opt/mptree";
const TREE_CASE: CheckerCase = { name: "alua", label: "alua (patched tree)", prefix: TREE_PREFIX, scsiDebugStandby: "ghost" };
/** Checkers to run the scenarios with (one column each in the table): Debian's own tur is the reference. */
const CHECKERS: readonly CheckerCase[] = [{ name: "tur", scsiDebugStandby: "ready" }, TREE_CASE, ...GENERATED, ...fromEnv.cases];
const labelOf = (c: CheckerCase) => c.label ?? c.name;

/** Debian's 0.9.4 tree, the series applied with git am, built for TREE_PREFIX (kept for the run; removed after). */
async function patchedTree(): Promise<{ dir: string; subjects: string[]; remove: () => void }> {
  const tree = await prepareTree("0.9.4");
  const env = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { cwd: tree.dir, encoding: "utf8", env });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} in ${tree.dir}: exit ${r.status}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  try {
    run("git", ["init", "-q"]);
    run("git", ["add", "-A"]);
    run("git", ["-c", "user.name=Base", "-c", "user.email=base@example.org", "commit", "-qm", "multipath-tools 0.9.4 (Debian)"]);
    run("git", ["config", "user.name", "Test Author"]);
    run("git", ["config", "user.email", "test@example.org"]);
    const out = join(tree.dir, "..", "patches");
    run("node", [join(ROOT, "bin/mpcheckgen.js"), "patch", "--tree", tree.dir, "--out", out, "--no-check"]);
    const files = readdirSync(out).filter((f) => /^000[1-9]-.*\.patch$/.test(f)).sort().map((f) => join(out, f));
    run("git", ["am", "-q", ...files]);
    const subjects = run("git", ["log", "--format=%s", "HEAD~" + files.length + "..HEAD"]).trim().split("\n").reverse();
    await buildTree(tree.dir, { makeArgs: [`plugindir=${TREE_PREFIX}/multipath`] });
    return { dir: tree.dir, subjects, remove: () => tree.remove() };
  } catch (e) {
    tree.remove();
    throw e;
  }
}

/** Extra plugins copied into the VM's plugin dir: the generated 0.9 plugins, and any from the environment. */
async function plugins(): Promise<PluginFile[]> {
  const deb = await ensureDebianBinaries("0.9.4");
  return [...GENERATED.map((g) => ({ name: g.name, src: buildPlugin09(g.spec, deb) })), ...fromEnv.plugins];
}

const SD = "/sys/bus/pseudo/drivers/scsi_debug";
const T1 = "naa.5001405aaaaaaa11";
const T2 = "naa.5001405aaaaaaa12";
/** bound of multipathd's threads during the timeout storm: threads before the storm + this */
const STORM_EXTRA_THREADS = 6;
/**
 * multipathd's CLI must answer every poll: a poll fails when the daemon
 * answers "timeout" (it could not handle the command within uxsock_timeout,
 * 4 s, e.g. while its checker loop held the lock) or gives no answer within
 * mpcli's 10 s; the bound on the answer time is loose, as TCG on a busy
 * 2-core host is slow
 */
const CLI_LIMIT_MS = 10_000;

function lioScenario(checker: CheckerCase): MpScenario {
  return mpScenario("LIO ALUA", checker.name, (b, m) => {
    // implicit ALUA only: with explicit ALUA, scsi_dh_alua's path-group
    // activation sends SET TARGET PORT GROUPS and moves a group the test
    // just put in standby back to active/optimized
    const p1 = b.lio.createLun({ name: "mp0", target: T1, tgPtGp: { name: "tpg1", id: 1 }, aluaState: 0, aluaAccessType: 1 });
    const p2 = b.lio.createLun({ name: "mp0", target: T2, tgPtGp: { name: "tpg2", id: 2 }, aluaState: 2, aluaAccessType: 1 });
    const lun1 = `${p1.tpgPath}/lun/lun_0`;
    m.start().waitMap(2).loaded().startReader();
    m.expect("LIO: tpg1 AO, tpg2 standby", [
      [p1.dev, "active/active/ready/running"],
      [p2.dev, "enabled/active/ghost/running"],
    ]);
    m.action("failover", () => {
      p2.setAluaState(0, { label: "tpg2 → AO" });
      p1.setAluaState(2, { label: "tpg1 → standby" });
    });
    m.expect("LIO: failover (tpg2 AO, tpg1 standby)", [
      [p2.dev, "active/active/ready/running"],
      [p1.dev, "enabled/active/ghost/running"],
    ]);
    m.action("unavailable", () => p1.setAluaState(3, { label: "tpg1 → unavailable" }));
    m.expect("LIO: tpg1 unavailable", [
      [p1.dev, "*/failed/faulty/running"],
      [p2.dev, "active/active/ready/running"],
    ]);
    m.action("transitioning", () => p1.setAluaState(15, { label: "tpg1 → transitioning" }));
    m.expect("LIO: tpg1 transitioning", [
      [p1.dev, "*/failed/faulty/running"],
      [p2.dev, "active/active/ready/running"],
    ]);
    m.action("offline", () => p1.setAluaState(14, { label: "tpg1 → offline (14)" }));
    m.expect("LIO: tpg1 offline (14)", [
      [p1.dev, "*/failed/faulty/running"],
      [p2.dev, "active/active/ready/running"],
    ]);
    m.action("failback", () => {
      p1.setAluaState(0, { label: "tpg1 → AO" });
      p2.setAluaState(2, { label: "tpg2 → standby" });
    });
    m.expect("LIO: failback (tpg1 AO, tpg2 standby)", [
      [p1.dev, "active/active/ready/running"],
      [p2.dev, "enabled/active/ghost/running"],
    ]);
    m.action("port offline", () => {
      p2.setAluaState(1, { label: "tpg2 → ANO" });
      b.writeSysfs(`${lun1}/alua_tg_pt_offline`, 1, { label: "tpg1 port offline" });
    });
    m.expect("LIO: tpg2 ANO, target port 1 offline", [
      [p1.dev, "*/failed/faulty/running"],
      [p2.dev, "active/active/ready/running"],
    ]);
    m.action("port online", () => b.writeSysfs(`${lun1}/alua_tg_pt_offline`, 0, { label: "tpg1 port online" }));
    m.expect("LIO: target port 1 online", [
      [p1.dev, "active/active/ready/running"],
      [p2.dev, "enabled/active/ready/running"],
    ]);
    m.stopReader().stop();
  }, { label: labelOf(checker), prefix: checker.prefix });
}

function scsiDebugScenario(checker: CheckerCase): MpScenario {
  const standby = `enabled/active/${checker.scsiDebugStandby}/running`;
  return mpScenario("scsi_debug", checker.name, (b, m) => {
    b.scsiDebug.load({ vpd_use_hostno: 0, add_host: 3, delay: 0 }, { uld: ["sg", "sd_mod"] });
    // scsi_debug's RTPG state is host_no % 3: AO, ANO, standby
    const d = [0, 1, 2].map((rem) => b.findSgDevice({ procName: "scsi_debug", hostModulo: { mod: 3, rem }, requireSd: true }));
    const [ao, ano, sb] = d as [(typeof d)[0], (typeof d)[0], (typeof d)[0]];
    // short SCSI timeouts: the reader's I/O in the storm fails over in seconds
    for (const x of d) b.writeSysfs(concat(x.sysfs, "/timeout"), 3, { label: `${x.name} timeout 3 s` });
    m.start().waitMap(3).loaded().startReader();
    const healthy: [typeof ao, string][] = [
      [ao, "active/active/ready/running"],
      [ano, "enabled/active/ready/running"],
      [sb, standby],
    ];
    m.expect("scsi_debug: AO, ANO, standby", healthy);
    m.action("offline", () => b.setDeviceState(ao, "offline", { label: "AO path offline" }));
    m.expect("scsi_debug: AO path offline", [
      [ao, "*/failed/faulty/offline"],
      [ano, "active/active/ready/running"],
      [sb, standby],
    ]);
    m.action("running", () => b.setDeviceState(ao, "running", { label: "AO path running" }));
    m.expect("scsi_debug: AO path running again", healthy);
    m.action("storm", () => {
      b.writeSysfs(`${SD}/every_nth`, 1, { label: "every_nth=1" });
      b.writeSysfs(`${SD}/opts`, 4, { label: "storm: ignore every command (opts=4)" });
    });
    // all paths faulty, and staying so for 6 s: three checker timeouts
    // (checker_timeout 2) per path while the threads are counted
    m.expect(
      "scsi_debug: command timeouts on all paths",
      d.map((x): [typeof ao, string] => [x, "*/failed/*/running"]),
      30_000,
      { holdMs: 6000 },
    );
    m.action("storm over", () => b.writeSysfs(`${SD}/opts`, 0, { label: "storm over (opts=0)" }));
    m.expect("scsi_debug: timeouts over", healthy, 30_000);
    m.action("delete", () => b.writeSysfs(concat(ao.sysfs, "/delete"), 1, { label: "AO device deleted" }));
    // 45 s: after the storm, a loaded TCG guest took multipathd 22 s to act
    // on the remove uevent (its CLI unanswered meanwhile), with Debian's tur
    m.expect(
      "scsi_debug: AO device deleted",
      [
        [ao, "absent"],
        [ano, "active/active/ready/running"],
        [sb, standby],
      ],
      45_000,
    );
    m.stopReader().stop();
  }, { label: labelOf(checker), prefix: checker.prefix });
}

interface CheckerRun {
  checker: string;
  scenarios: MpScenario[];
}

const runs: CheckerRun[] = CHECKERS.map((c) => ({ checker: labelOf(c), scenarios: [lioScenario(c), scsiDebugScenario(c)] }));
const CHECKER_NAMES = CHECKERS.map(labelOf);
let tree: Awaited<ReturnType<typeof patchedTree>> | undefined;
let image: MultipathdImage;
let results: ScenarioResults;
let wallMs = 0;

describe("Debian's multipathd in the VM", () => {
  beforeAll(async () => {
    const t0 = Date.now();
    mkdirSync(join(BUILD_DIR, "vm-results"), { recursive: true });
    tree = await patchedTree();
    image = await multipathdImage({
      checkers: [...new Set(CHECKERS.map((c) => c.name))],
      plugins: await plugins(),
      trees: [{ dir: tree.dir, prefix: TREE_PREFIX }],
    });
    // two VMs at once, the checkers dealt out in turn (tur and gentur in one,
    // the patched tree's alua and the alua plugin in the other: about even)
    const groups = [runs.filter((_, i) => i % 2 === 0), runs.filter((_, i) => i % 2 === 1)].filter((g) => g.length > 0);
    const parts = await Promise.all(
      groups.map((g, i) =>
        runScenarios(
          g.flatMap((r) => r.scenarios),
          {
            ...image.runOptions,
            label: `multipathd-${i}`,
            timeoutMs: 120_000 + 300_000 * g.length,
            consoleLog: join(BUILD_DIR, "vm-results", `multipathd-console-${i}.log`),
          },
        ),
      ),
    );
    results = new ScenarioResults(parts[0]!.vm, parts.flatMap((r) => [...r.entries()]));
    wallMs = Date.now() - t0;
    writeTable();
  }, 400_000 + 300_000 * (CHECKERS.length - 1));

  afterAll(() => tree?.remove());

  it("the patched tree: the five commits of mpcheckgen patch applied with git am, its multipathd built", () => {
    expect(tree!.subjects).toHaveLength(5);
    expect(tree!.subjects.at(-1)).toBe("libmultipath: checkers: add the alua checker");
  });

  for (const c of CHECKERS) {
    const dir = c.prefix ? `${c.prefix}/multipath` : PLUGIN_DIR;
    it(`${labelOf(c)}: ${c.prefix ? `the tree's multipathd (${c.prefix}/sbin/multipathd)` : "Debian's multipathd"} loads the ${c.name} checker from ${dir}`, () => {
      for (const s of runs.find((r) => r.checker === labelOf(c))!.scenarios) {
        const r = results.require(s.name);
        expect(startedMultipathd(r), s.name).toBe(c.prefix ? `${c.prefix}/sbin/multipathd` : "/sbin/multipathd");
        const libs = loadedPlugins(r);
        expect(libs, s.name).toContain(`${dir}/libcheck${c.name}.so`);
        for (const l of libs!) expect(l.startsWith(`${dir}/`), `${s.name}: ${l}`).toBe(true);
      }
    });
  }

  it("boots the amd64 kernel with Debian's multipath-tools", () => {
    expect(results.vm.kernelVersion).toMatch(/-amd64$/);
    expect(results.vm.kernelVersion).not.toMatch(/cloud/);
    expect(image.multipathToolsVersion).toMatch(/^multipath-tools 0\.9\.4/);
  });

  for (const run of runs) {
    for (const s of run.scenarios) {
      describe(s.name, () => {
        it("runs every step of the scenario", () => {
          const r = results.require(s.name);
          const failed = r.steps.filter((st) => st.required && st.status !== 0);
          expect(r.status, failed.map((f) => `${f.label}: ${f.output.slice(-20).join("\n")}`).join("\n")).toBe("ok");
          expect(r.teardown.status, r.teardown.output.join("\n")).toBe(0);
        });
        for (const ph of s.phases) {
          it(`shows ${ph.label}`, () => {
            const p = phaseResults(results.require(s.name), s).find((x) => x.label === ph.label)!;
            expect(p.problem).toBeUndefined();
            expect(p.matched, `expected ${p.expected}, observed ${p.observed}`).toBe(true);
          });
        }
        it("keeps I/O through the map working, every byte right", () => {
          const rd = readerResult(results.require(s.name));
          expect(rd, "no reader summary").toBeDefined();
          expect(rd!.errors, JSON.stringify(rd!.events)).toBe(0);
          expect(rd!.mismatches).toBe(0);
          expect(rd!.reads).toBeGreaterThan(100);
          expect(rd!.ok).toBe(true);
        });
        if (s.name.endsWith("scsi_debug")) {
          it("keeps multipathd answering with bounded threads during the timeout storm", () => {
            const ps = phaseResults(results.require(s.name), s);
            const before = ps.find((p) => p.label === "scsi_debug: AO path running again")!;
            const storm = ps.find((p) => p.label === "scsi_debug: command timeouts on all paths")!;
            const after = ps.find((p) => p.label === "scsi_debug: timeouts over")!;
            for (const p of [storm, after]) {
              expect(p.cliFailures, p.label).toBe(0);
              expect(p.cliMaxMs!, p.label).toBeLessThan(CLI_LIMIT_MS);
              expect(p.threadsMax!, p.label).toBeLessThanOrEqual(before.threads! + STORM_EXTRA_THREADS);
            }
            expect(before.threads!).toBeGreaterThan(0);
          });
        }
      });
    }
  }
});

/** A phase's observed cell: states where they differ from the expected, else "as expected". */
function cellOf(p: PhaseResult, refExpected: string): string {
  const exp = p.expected === refExpected ? "" : ` (expected here: ${p.expected})`;
  if (p.problem) return `NOT SHOWN: ${p.problem}${exp}`;
  return (p.matched ? p.observed : `MISMATCH: ${p.observed}`) + exp;
}

function writeTable(): void {
  const lines = [
    "# Debian's multipathd in the VM",
    "",
    `${image.multipathToolsVersion}, kernel ${results.vm.kernelVersion}, ${results.vm.accel.toUpperCase()}; ` +
      "path states as PG/DM/CHK/DEVST (path group, dm state, checker state, device state); " +
      "time = from the end of the action until `multipathd show topology` (polled through mpcli, 0.1 s apart plus the time of a poll) showed it.",
    "",
    `| scenario | phase | expected (${CHECKER_NAMES[0]}) | ${CHECKER_NAMES.map((c) => `observed (${c}) | time (${c})`).join(" | ")} |`,
    `|---|---|---|${CHECKER_NAMES.map(() => "---|---:|").join("")}`,
  ];
  const base = runs[0]!;
  for (const [si, s] of base.scenarios.entries()) {
    for (const [pi, ph] of s.phases.entries()) {
      const p0 = phaseResults(results.require(s.name), s)[pi]!;
      const cols = runs.map((run) => {
        const rs = run.scenarios[si]!;
        const p = phaseResults(results.require(rs.name), rs)[pi]!;
        return `${cellOf(p, p0.expected)} | ${p.msAfterAction === null ? "–" : `${(p.msAfterAction / 1000).toFixed(1)} s`}`;
      });
      lines.push(`| ${s.name.replace(/^[^:]+: /, "")} | ${ph.label.replace(/^[^:]+: /, "")} | ${p0.expected} | ${cols.join(" | ")} |`);
    }
  }
  lines.push(
    "",
    "| checker | scenario | reads through the map | errors | wrong blocks | longest read | multipathd threads (peak) | CLI answer (longest) |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
  );
  for (const run of runs) {
    for (const s of run.scenarios) {
      const r = results.require(s.name);
      const rd = readerResult(r);
      const ps = phaseResults(r, s);
      const thr = Math.max(...ps.map((p) => p.threadsMax ?? -1));
      const cli = Math.max(...ps.map((p) => p.cliMaxMs ?? -1));
      lines.push(
        `| ${run.checker} | ${s.name.replace(/^[^:]+: /, "")} | ${rd?.reads ?? "–"} | ${rd?.errors ?? "–"} | ${rd?.mismatches ?? "–"} | ` +
          `${rd ? `${(rd.maxReadMs / 1000).toFixed(1)} s` : "–"} | ${thr} | ${cli} ms |`,
      );
    }
  }
  const vm = results.vm;
  lines.push(
    "",
    `Boot (qemu start to /init): ${(vm.bootMs / 1000).toFixed(1)} s; VM run ${(vm.totalMs / 1000).toFixed(1)} s; ` +
      `with package fetch/cache, helpers and image ${(wallMs / 1000).toFixed(1)} s. ` +
      `Scenarios: ${[...results.values()].map((r) => `${r.name} ${((r.elapsedMs ?? 0) / 1000).toFixed(1)} s`).join(", ")}.`,
    "",
  );
  const md = lines.join("\n");
  publishTable(join(BUILD_DIR, "vm-results", "multipathd.md"), md);
  writeFileSync(join(BUILD_DIR, "vm-results", "multipathd.json"), JSON.stringify([...results.values()].map((r) => ({ name: r.name, status: r.status, elapsedMs: r.elapsedMs })), null, 1));
}
