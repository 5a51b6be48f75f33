// End-to-end proof of the VM harness: real scsi_debug and LIO/tcm_loop
// devices in a qemu VM, probed with sgprobe (SG_IO TEST UNIT READY) and
// sg3-utils. All scenarios of the main suite share ONE boot.
// Needs: root or the VM host packages installed, the Debian repository
// reachable on first run (kernel download). Timeouts: see README.md.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureHostPackages, VM_HOST_PACKAGES } from "../support/host-packages.ts";
import { buildC, harnessFile } from "./cbuild.ts";
import { appendOverlay, buildInitramfs } from "./initramfs.ts";
import { ensureKernel } from "./kernel.ts";
import { runVm, VmError } from "./qemu.ts";
import {
  assertScenarioOk,
  formatScenario,
  getStep,
  harnessImageFiles,
  runScenarios,
  scenario,
  stepData,
  type ScenarioResult,
  type ScenarioResults,
} from "./scenario.ts";

/** One JSON line of sgprobe. */
interface Tur {
  device: string;
  seq: number;
  t_ms: number;
  ioctl_rc?: number;
  errno?: number;
  open_errno?: number;
  status?: number;
  host_status?: number;
  driver_status?: number;
  sb_len_wr?: number;
  sense_format?: string;
  sense_key: number | null;
  asc: number | null;
  ascq: number | null;
  good: boolean;
}

const sense = (t: Tur | undefined): string =>
  t && t.sense_key !== null ? [t.sense_key, t.asc, t.ascq].map((n) => (n ?? 0).toString(16).padStart(2, "0")).join("/") : "none";

/** The single TUR of a step, with the scenario dump on failure. */
function tur(r: ScenarioResult, label: string): Tur {
  const d = stepData<Tur>(r, label);
  if (d.length !== 1) throw new Error(`step ${label}: expected one sgprobe line, got ${d.length}\n${formatScenario(r)}`);
  return d[0]!;
}

const TRICKY = `it's a "test" with $HOME, \`backticks\`, \\ and ; | & * ?`;

const SCENARIOS = [
  scenario("healthy", (b) => {
    const dev = b.scsiDebug.load({}, { uld: ["sg"] });
    b.run(["sgprobe", dev.sg], { json: true, label: "tur1" });
    b.run(["sgprobe", dev.sg], { json: true, label: "tur2" });
    b.run(["sg_turs", "-v", dev.sg], { label: "sg_turs" });
    b.run(["sg_inq", dev.sg], { label: "sg_inq" });
  }),
  scenario("setup-error", (b) => {
    b.modprobe("mpcg_no_such_module");
    b.run(["echo", "must not run"], { label: "after-error" });
  }),
  scenario("notready", (b) => {
    // sg only: sd's probe would wait for the device to become ready.
    const dev = b.scsiDebug.load({ tur_ms_to_ready: 4000 }, { uld: ["sg"] });
    b.run(["sgprobe", dev.sg], { json: true, label: "tur-ua" });
    b.run(["sgprobe", dev.sg], { json: true, label: "tur-notready" });
    b.run(["sgprobe", "-n", 100, "-i", 100, "-u", dev.sg], { json: true, label: "poll" });
  }),
  scenario("offline", (b) => {
    const dev = b.scsiDebug.load({}, { uld: ["sg", "sd_mod"] });
    b.clearUnitAttentions(dev);
    b.run(["sgprobe", dev.sg], { json: true, label: "before" });
    b.setDeviceState(dev, "offline");
    b.run(["sgprobe", dev.sg], { json: true, label: "offline-sg" });
    b.run(["sgprobe", dev.sd], { json: true, label: "offline-sd" });
    b.setDeviceState(dev, "blocked", { required: false, label: "invalid-state" });
    b.setDeviceState(dev, "running");
    b.run(["sgprobe", dev.sg], { json: true, label: "after" });
  }),
  scenario("lio-standby", (b) => {
    const lun = b.lio.createLun({ uld: ["sg", "sd_mod"] });
    b.clearUnitAttentions(lun.dev);
    b.run(["sgprobe", lun.dev.sg], { json: true, label: "active" });
    lun.setAluaState(2);
    b.run(["sgprobe", lun.dev.sg], { json: true, label: "ua" });
    b.run(["sgprobe", lun.dev.sg], { json: true, label: "standby" });
    b.run(["sg_rtpg", "-d", lun.dev.sg], { label: "rtpg" });
  }),
  scenario("background", (b) => {
    const bg = b.background(["sh", "-c", `sleep 0.5; echo '{"bg":1}'; exit 3`], { json: true, label: "bg" });
    b.run(["echo", "fg"], { label: "fg" });
    b.join(bg, { label: "join" });
    b.background(["sh", "-c", "sleep 0.3; echo late"], { label: "unjoined" });
  }),
  scenario("dynamic-elf", (b) => {
    // dlprobe is dynamically linked; the plugin needs libm, which only the
    // plugin's own ldd closure brings into the image.
    b.run(["/opt/mpcg/dlprobe", "/lib/multipath/libmpcgdemo.so"], { json: true, label: "dlopen" });
  }),
  scenario("quoting-and-output", (b) => {
    b.run(["printf", "%s\\n", TRICKY], { label: "printf" });
    b.shell(`echo '{"n":1,"s":"x"}'; echo plain; echo '{broken'; echo err >&2; exit 3`, { json: true, label: "mixed" });
    b.run(["sgprobe", "-t", 5, "/dev/no-such-device"], { json: true, label: "no-device" });
    b.run(["seq", 1, 3000], { label: "many-lines" });
    b.sleep(100, { label: "short-sleep" });
    b.run(["sleep", 5], { label: "killed", timeoutMs: 500 });
  }),
];

describe("VM harness: one boot, several scenarios", { timeout: 600_000 }, () => {
  let res: ScenarioResults;
  let wallMs = 0;

  beforeAll(async () => {
    const t0 = performance.now();
    const [dlprobe, plugin] = await Promise.all([
      buildC({ src: harnessFile("fixtures/dlprobe.c"), static: false }),
      buildC({ src: harnessFile("fixtures/plugin.c"), name: "libmpcgdemo.so", static: false, flags: ["-shared", "-fPIC", "-lm"] }),
    ]);
    res = await runScenarios(SCENARIOS, {
      label: "harness",
      files: [
        { src: dlprobe, dest: "/opt/mpcg/dlprobe", mode: 0o755 },
        { src: plugin, dest: "/lib/multipath/libmpcgdemo.so", mode: 0o755 },
      ],
    });
    wallMs = performance.now() - t0;
    process.stderr.write(
      `mpcheckgen vm: harness test: accel ${res.vm.accel}, boot ${(res.vm.bootMs / 1000).toFixed(2)} s, ` +
        `VM ${(res.vm.totalMs / 1000).toFixed(2)} s, with preparation ${(wallMs / 1000).toFixed(2)} s\n`,
    );
  }, 600_000);

  it("boots the cloud kernel, reports records and exits through isa-debug-exit", () => {
    expect(res.vm.kernelVersion).toMatch(/^\d+\.\d+\.\d+-\d+-cloud-amd64$/);
    expect(res.vm.bootMs).toBeGreaterThan(0);
    expect(res.vm.bootMs).toBeLessThan(res.vm.totalMs);
    expect(res.vm.garbled).toBe(0);
    // exit code = number of scenarios that ended with an error (setup-error)
    expect(res.vm.exitCode).toBe(1);
    const events = res.vm.records.map((r) => r.event);
    expect(events[0]).toBe("boot");
    expect(events.at(-1)).toBe("end");
    expect(res.vm.records.filter((r) => r.event === "scenario-end")).toHaveLength(SCENARIOS.length);
    for (const s of SCENARIOS) {
      const r = res.require(s.name);
      expect(r.elapsedMs, s.name).toBeGreaterThan(0);
      expect(r.teardown.status, `teardown after ${s.name}\n${formatScenario(r)}`).toBe(0);
    }
  });

  it("(a) healthy scsi_debug LUN: first TUR is UNIT ATTENTION 06/29/xx, second is GOOD", () => {
    const r = res.require("healthy");
    assertScenarioOk(r);
    expect(r.devices.d1?.sg).toMatch(/^\/dev\/sg\d+$/);
    expect(r.devices.d1?.vendor).toBe("Linux");
    expect(r.devices.d1?.model).toBe("scsi_debug");
    const t1 = tur(r, "tur1");
    expect(t1.ioctl_rc).toBe(0);
    expect(t1.status).toBe(0x02);
    expect(t1.driver_status).toBe(0x08);
    expect(t1.sense_format).toBe("fixed");
    expect([t1.sense_key, t1.asc], sense(t1)).toEqual([0x6, 0x29]);
    expect(getStep(r, "tur1").status).toBe(1);
    const t2 = tur(r, "tur2");
    expect(t2.good, sense(t2)).toBe(true);
    expect(t2.status).toBe(0);
    expect(getStep(r, "tur2").status).toBe(0);
    expect(getStep(r, "sg_turs").status).toBe(0);
    expect(getStep(r, "sg_inq").output.join("\n")).toMatch(/Vendor identification:\s*Linux/);
  });

  it("a failing set-up step ends its scenario with scenario-error; later scenarios still run", () => {
    const r = res.require("setup-error");
    expect(r.status).toBe("error");
    expect(r.error?.label).toBe("modprobe mpcg_no_such_module");
    expect(r.error?.status).not.toBe(0);
    expect(getStep(r, "modprobe mpcg_no_such_module").status).not.toBe(0);
    expect(getStep(r, "after-error").ran).toBe(false);
    expect(res.require("notready").status).toBe("ok");
  });

  it("(b) tur_ms_to_ready=4000: NOT READY 02/04/01, then GOOD after about 4 s", () => {
    const r = res.require("notready");
    assertScenarioOk(r);
    expect(sense(tur(r, "tur-ua"))).toMatch(/^06\/29\//);
    const nr = tur(r, "tur-notready");
    expect(sense(nr)).toBe("02/04/01");
    const poll = stepData<Tur>(r, "poll");
    const last = poll.at(-1)!;
    expect(last.good, formatScenario(r)).toBe(true);
    for (const p of poll.slice(0, -1)) expect(sense(p)).toBe("02/04/01");
    const loadBegin = getStep(r, "load scsi_debug").beginT!;
    const readyAfter = last.t_ms - loadBegin;
    expect(readyAfter).toBeGreaterThan(3500);
    expect(readyAfter).toBeLessThan(8000);
    // the last NOT READY answer came at most one poll interval (+ slack) before GOOD
    const lastNr = poll.length > 1 ? poll.at(-2)!.t_ms : nr.t_ms;
    expect(last.t_ms - lastNr).toBeLessThan(1000);
  });

  it("(c) offline via sysfs gives ENXIO, back to running gives GOOD", () => {
    const r = res.require("offline");
    assertScenarioOk(r);
    expect(r.devices.d1?.sd).toMatch(/^\/dev\/sd[a-z]+$/);
    expect(tur(r, "before").good).toBe(true);
    const off = tur(r, "offline-sg");
    expect(off.ioctl_rc).toBe(-1);
    expect(off.errno).toBe(6); // ENXIO
    const offSd = tur(r, "offline-sd");
    expect(offSd.open_errno).toBe(6); // open(/dev/sdX) of an offline device
    expect(getStep(r, "invalid-state").status).toBe(22); // EINVAL: only running/offline can be written
    const after = tur(r, "after");
    expect(after.good, sense(after)).toBe(true);
  });

  it("(d) LIO tcm_loop LUN in ALUA standby: 06/2A/06 once, then 02/04/0B", () => {
    const r = res.require("lio-standby");
    assertScenarioOk(r);
    expect(r.devices.d1?.vendor).toBe("LIO-ORG");
    expect(tur(r, "active").good).toBe(true);
    expect(sense(tur(r, "ua"))).toBe("06/2a/06");
    const sb = tur(r, "standby");
    expect(sense(sb)).toBe("02/04/0b");
    expect(sb.status).toBe(0x02);
    expect(getStep(r, "rtpg").output.join("\n")).toMatch(/asymmetric access state\s*:\s*0x02 \(standby\)/);
  });

  it("runs background steps alongside later steps; join() waits for one, the scenario for the rest", () => {
    const r = res.require("background");
    assertScenarioOk(r);
    const bg = getStep(r, "bg");
    const fg = getStep(r, "fg");
    const join = getStep(r, "join");
    expect(bg.status).toBe(3);
    expect(bg.data).toEqual([{ bg: 1 }]);
    expect(bg.kind).toBe("background");
    // the foreground step ran while the background step slept
    expect(fg.endT!, formatScenario(r)).toBeLessThan(bg.endT!);
    expect(join.status).toBe(3);
    expect(join.endT!).toBeGreaterThanOrEqual(bg.endT!);
    const unjoined = getStep(r, "unjoined");
    expect(unjoined.status).toBe(0);
    expect(unjoined.output).toEqual(["late"]);
    const end = r.records.find((x) => x.event === "scenario-end")!;
    expect(unjoined.endT!).toBeLessThanOrEqual(end.t!);
  });

  it("runs dynamically linked programs that dlopen() plugins (ldd closures in the image)", () => {
    const r = res.require("dynamic-elf");
    assertScenarioOk(r);
    expect(stepData(r, "dlopen"), formatScenario(r)).toEqual([{ loaded: true, value: 42 }]);
    expect(getStep(r, "dlopen").status).toBe(0);
  });

  it("quotes arguments, separates JSON from plain output, reports statuses and timeouts", () => {
    const r = res.require("quoting-and-output");
    assertScenarioOk(r);
    expect(getStep(r, "printf").output).toEqual([TRICKY]);
    const mixed = getStep(r, "mixed");
    expect(mixed.status).toBe(3);
    expect(mixed.data).toEqual([{ n: 1, s: "x" }]);
    expect(mixed.output).toEqual(expect.arrayContaining(["plain", "{broken", "err"]));
    const nd = tur(r, "no-device");
    expect(nd.open_errno).toBe(2);
    expect(getStep(r, "no-device").status).toBe(2);
    // a step's output is drained completely, in order, even when it exits
    // long before its lines have crossed the serial console
    expect(getStep(r, "many-lines").output).toEqual(Array.from({ length: 3000 }, (_, i) => String(i + 1)));
    expect(getStep(r, "short-sleep").status).toBe(0);
    const killed = getStep(r, "killed");
    expect(killed.timedOut).toBe(true);
    expect(killed.status).toBe(124);
    expect(killed.elapsedMs!).toBeLessThan(3000);
  });
});

describe("VM failures are errors, never skips", { timeout: 600_000 }, () => {
  it("a panicking VM and a hanging VM (run concurrently) both reject with VmError and the console tail", async () => {
    ensureHostPackages(VM_HOST_PACKAGES);
    const kernel = await ensureKernel();
    const image = await buildInitramfs({ kernel, files: await harnessImageFiles() });
    const dir = mkdtempSync(join(tmpdir(), "mpcg-vmfail-"));
    try {
      // /init that reports boot and then exits: the kernel panics (PID 1 died).
      const panicInitrd = join(dir, "panic.cpio.gz");
      appendOverlay(
        image.path,
        [{ dest: "/init", mode: 0o755, data: `#!/bin/busybox sh\n/usr/bin/vmstep emit '{"event":"boot","kernel":"x"}'\nexit 3\n` }],
        panicInitrd,
      );
      // a scenario that sleeps past the wall-clock limit
      const hangInitrd = join(dir, "hang.cpio.gz");
      appendOverlay(
        image.path,
        [{ dest: "/scenarios.sh", mode: 0o755, data: ". /lib/mpcg/lib.sh\nvmstep emit '{\"event\":\"hanging\"}'\nsleep 600\n" }],
        hangInitrd,
      );
      const [panic, hang] = await Promise.allSettled([
        runVm({ kernel, initrd: panicInitrd, label: "panic-check", timeoutMs: 120_000 }),
        // a hang is a VM that goes silent: 5 s without a record after
        // "hanging", however long a loaded host takes to boot it
        runVm({ kernel, initrd: hangInitrd, label: "hang-check", timeoutMs: 180_000, silenceMs: 5_000 }),
      ]);
      expect(panic.status).toBe("rejected");
      const pe = (panic as PromiseRejectedResult).reason as unknown;
      expect(pe).toBeInstanceOf(VmError);
      expect((pe as VmError).message).toMatch(/without its end record \(kernel panic\)/);
      expect((pe as VmError).run.consoleTail.join("\n")).toMatch(/Kernel panic - not syncing: Attempted to kill init/);
      expect((pe as VmError).run.records.map((r) => r.event)).toEqual(["boot"]);

      expect(hang.status).toBe("rejected");
      const he = (hang as PromiseRejectedResult).reason as unknown;
      expect(he).toBeInstanceOf(VmError);
      expect((he as VmError).message).toMatch(/sent no record for 5\.0 s \(hung\) and was killed/);
      expect((he as VmError).run.records.map((r) => r.event)).toEqual(["boot", "hanging"]);
      expect((he as VmError).message).toContain("console tail");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
