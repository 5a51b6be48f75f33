// Boots the test VM with qemu-system-x86_64 and collects its records.
// Accelerator: KVM only with real VMX/SVM (/sys/module/kvm_intel or
// kvm_amd; /dev/kvm alone may be PVM, which cannot run Debian kernels),
// with a short deadline for the first record and a fall-back to TCG.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { ensureKernel, type KernelInfo } from "./kernel.ts";
import { ConsoleParser, type VmRecord } from "./records.ts";
import { fmtSeconds, progress } from "./util.ts";

export type Accel = "tcg" | "kvm";

export interface VmOptions {
  /** complete initramfs (see initramfs.ts) */
  initrd: string;
  /** kernel to boot (default: ensureKernel()) */
  kernel?: KernelInfo;
  /** extra kernel command-line words */
  append?: readonly string[];
  /** guest RAM in MiB (default 512) */
  memoryMb?: number;
  /** wall-clock limit of the whole run in ms (default $MPCHECKGEN_VM_TIMEOUT_MS or 600000) */
  timeoutMs?: number;
  /**
   * kill the VM when no record has come for this long after the first one
   * (a hang), whatever the wall-clock limit: a slow boot on a loaded host
   * does not count against it
   */
  silenceMs?: number;
  /** "auto" (default, or $MPCHECKGEN_VM_ACCEL), "tcg" or "kvm" (falls back to TCG when it fails) */
  accel?: "auto" | Accel;
  /** with KVM: ms to wait for the first record before falling back to TCG (default 20000) */
  kvmFirstRecordMs?: number;
  /** called for every record as it arrives */
  onRecord?: (rec: VmRecord) => void;
  /** name used in messages */
  label?: string;
  /** qemu-system-x86_64 binary */
  qemu?: string;
  /** print the one-line summary to stderr (default true) */
  summary?: boolean;
  /** also write the whole console output to this file (debugging) */
  consoleLog?: string;
}

export interface VmRun {
  accel: Accel;
  /** why KVM was abandoned, when it was tried */
  kvmFallback?: string;
  /** `uname -r` reported by /init */
  kernelVersion: string;
  /** ms from qemu start to the first record from /init */
  bootMs: number;
  /** ms from qemu start to qemu exit (of the run that counted) */
  totalMs: number;
  records: VmRecord[];
  /** code handed to vmexit (qemu exit status (N<<1)|1), or null */
  exitCode: number | null;
  /** raw qemu exit status and signal */
  qemuStatus: number | null;
  qemuSignal: string | null;
  /** last console lines (kernel messages and records) */
  consoleTail: string[];
  /** lines that carried the marker but were not valid JSON */
  garbled: number;
  consoleLines: number;
}

/** A VM that could not boot, crashed, hung or ended without its end record. */
export class VmError extends Error {
  constructor(
    message: string,
    readonly run: VmRun,
    readonly qemuStderr: string,
  ) {
    super(message);
    this.name = "VmError";
  }
}

/** KVM with real VMX/SVM only: PVM's /dev/kvm cannot run stock kernels. */
export function kvmUsable(): boolean {
  return (
    (existsSync("/sys/module/kvm_intel") || existsSync("/sys/module/kvm_amd")) && existsSync("/dev/kvm")
  );
}

interface Attempt {
  run: VmRun;
  stderr: string;
  ended: boolean;
  timedOut: boolean;
  /** killed after this many ms without a record (silenceMs) */
  silentFor?: number;
  /** KVM attempt abandoned before the first record */
  abandoned?: string;
}

function qemuArgs(accel: Accel, kernel: KernelInfo, opts: VmOptions): string[] {
  // no_timer_check: under TCG on a loaded host the boot's IO-APIC timer
  // check can miss its ticks and panic ("IO-APIC + timer doesn't work!")
  const append = ["console=ttyS0", "quiet", "loglevel=3", "panic=-1", "cryptomgr.notests", "no_timer_check", ...(opts.append ?? [])];
  return [
    ...(accel === "kvm" ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg", "-cpu", "max"]),
    "-m",
    `${opts.memoryMb ?? 512}M`,
    "-smp",
    "1",
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-serial",
    "stdio",
    "-no-reboot",
    "-device",
    "isa-debug-exit,iobase=0xf4,iosize=0x04",
    "-kernel",
    kernel.vmlinuz,
    "-initrd",
    opts.initrd,
    "-append",
    append.join(" "),
  ];
}

function wallClockLimit(opts: VmOptions): number {
  return opts.timeoutMs ?? (Number(process.env.MPCHECKGEN_VM_TIMEOUT_MS) || 600_000);
}

function attempt(accel: Accel, kernel: KernelInfo, opts: VmOptions, firstRecordMs: number | null): Promise<Attempt> {
  const timeoutMs = wallClockLimit(opts);
  const qemu = opts.qemu ?? "qemu-system-x86_64";
  return new Promise((resolve) => {
    const t0 = performance.now();
    const records: VmRecord[] = [];
    let bootMs = -1;
    let kernelVersion = "";
    let ended = false;
    let timedOut = false;
    let silentFor: number | undefined;
    let lastRecord = 0;
    let abandoned: string | undefined;
    let stderr = "";
    const parser = new ConsoleParser((rec) => {
      if (bootMs < 0) bootMs = performance.now() - t0;
      lastRecord = performance.now();
      if (rec.event === "boot" && typeof rec.kernel === "string") kernelVersion = rec.kernel;
      if (rec.event === "end") ended = true;
      records.push(rec);
      if (opts.onRecord) {
        try {
          opts.onRecord(rec);
        } catch (e) {
          progress(`onRecord callback threw: ${(e as Error).message}`);
        }
      }
    });
    const child = spawn(qemu, qemuArgs(accel, kernel, opts), { stdio: ["pipe", "pipe", "pipe"] });
    const kill = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    };
    const wall = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    const silence =
      opts.silenceMs === undefined
        ? undefined
        : setInterval(() => {
            if (bootMs >= 0 && performance.now() - lastRecord > opts.silenceMs!) {
              silentFor = opts.silenceMs;
              kill();
            }
          }, 250);
    const first =
      firstRecordMs === null
        ? undefined
        : setTimeout(() => {
            if (bootMs < 0) {
              abandoned = `no record within ${fmtSeconds(firstRecordMs)}`;
              kill();
            }
          }, firstRecordMs);
    const log = opts.consoleLog ? createWriteStream(opts.consoleLog) : undefined;
    child.stdout.on("data", (d: Buffer) => {
      log?.write(d);
      parser.push(d);
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      if (stderr.length > 16384) stderr = stderr.slice(-16384);
    });
    let spawnError: Error | undefined;
    child.on("error", (e) => {
      spawnError = e;
    });
    child.on("close", (code, signal) => {
      clearTimeout(wall);
      if (silence) clearInterval(silence);
      if (first) clearTimeout(first);
      parser.end();
      log?.end();
      const totalMs = performance.now() - t0;
      if (spawnError) stderr += `\ncannot start ${qemu}: ${spawnError.message}`;
      if (accel === "kvm" && bootMs < 0 && !abandoned) {
        abandoned = `qemu exited (status ${code}, signal ${signal}) before the first record`;
      }
      const exitCode = code !== null && code % 2 === 1 ? (code - 1) >> 1 : null;
      resolve({
        run: {
          accel,
          kernelVersion,
          bootMs,
          totalMs,
          records,
          exitCode,
          qemuStatus: code,
          qemuSignal: signal,
          consoleTail: parser.consoleTail(),
          garbled: parser.garbled,
          consoleLines: parser.lines,
        },
        stderr: stderr.trim(),
        ended,
        timedOut,
        silentFor,
        abandoned,
      });
    });
  });
}

function describe(run: VmRun, stderr: string): string {
  const tail = run.consoleTail.map((l) => `  | ${l}`).join("\n");
  return (
    `\n--- qemu: status ${run.qemuStatus}, signal ${run.qemuSignal}, accel ${run.accel}, ${run.records.length} records, ` +
    `${fmtSeconds(run.totalMs)}` +
    (stderr ? `\n--- qemu stderr:\n${stderr}` : "") +
    `\n--- console tail (${run.consoleTail.length} of ${run.consoleLines} lines):\n${tail}`
  );
}

/**
 * Boots the VM, streams its console, and returns the parsed records.
 * Throws VmError (with the console tail) when the VM cannot start, times
 * out, panics, or ends without the end record of /init.
 */
export async function runVm(opts: VmOptions): Promise<VmRun> {
  const kernel = opts.kernel ?? (await ensureKernel());
  if (!existsSync(opts.initrd)) throw new Error(`mpcheckgen vm: initrd ${opts.initrd} does not exist`);
  const wanted = opts.accel ?? (process.env.MPCHECKGEN_VM_ACCEL as VmOptions["accel"] | undefined) ?? "auto";
  const name = opts.label ? `${opts.label}: ` : "";
  let kvmFallback: string | undefined;
  let a: Attempt | undefined;
  if (wanted === "kvm" || (wanted === "auto" && kvmUsable())) {
    a = await attempt("kvm", kernel, opts, opts.kvmFirstRecordMs ?? 20_000);
    if (a.abandoned) {
      kvmFallback = a.abandoned + (a.stderr ? ` (${a.stderr.split("\n").slice(-3).join(" / ")})` : "");
      progress(`${name}KVM failed: ${kvmFallback}; falling back to TCG`);
      a = undefined;
    }
  }
  if (!a) a = await attempt("tcg", kernel, opts, null);
  const run: VmRun = { ...a.run, ...(kvmFallback ? { kvmFallback } : {}) };

  if (a.silentFor !== undefined) {
    throw new VmError(
      `mpcheckgen vm: ${name}VM sent no record for ${fmtSeconds(a.silentFor)} (hung) and was killed` + describe(run, a.stderr),
      run,
      a.stderr,
    );
  }
  if (a.timedOut) {
    throw new VmError(
      `mpcheckgen vm: ${name}VM exceeded its wall-clock limit of ${fmtSeconds(wallClockLimit(opts))} and was killed` +
        describe(run, a.stderr),
      run,
      a.stderr,
    );
  }
  if (run.bootMs < 0) {
    throw new VmError(`mpcheckgen vm: ${name}VM never reported from /init (boot failed)` + describe(run, a.stderr), run, a.stderr);
  }
  if (!a.ended) {
    const panic = run.consoleTail.some((l) => /Kernel panic|end Kernel panic/.test(l));
    throw new VmError(
      `mpcheckgen vm: ${name}VM ended without its end record (${panic ? "kernel panic" : "crash or early exit"})` +
        describe(run, a.stderr),
      run,
      a.stderr,
    );
  }
  if (opts.summary ?? true) {
    const scenarios = run.records.filter((r) => r.event === "scenario-end").length;
    progress(
      `${name}${run.accel.toUpperCase()}, kernel ${run.kernelVersion}, boot ${fmtSeconds(run.bootMs)}, ` +
        `${scenarios} scenario${scenarios === 1 ? "" : "s"} in ${fmtSeconds(run.totalMs)}` +
        (run.garbled ? `, ${run.garbled} garbled record line(s)` : "") +
        (kvmFallback ? " (KVM fell back to TCG)" : ""),
    );
  }
  return run;
}
