// Builds the VM's initramfs (gzip'd newc cpio, written in TS) and caches it
// under <cache>/initramfs/<hash>.cpio.gz, keyed by the content of every file
// it holds. Contents:
//   - static busybox (/bin/busybox; applets are installed at boot)
//   - the kernel module closure of a module list, paths kept, depmod'ed
//   - sg3-utils tools with their ldd closure
//   - caller files; dynamically linked ELF files get their ldd closure,
//     dynamic loader included
// A small per-run overlay (scenario script) is appended as a second gzip'd
// cpio member with appendOverlay(): the kernel unpacks both.
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { buildNewcGz, type CpioEntry } from "./cpio.ts";
import type { KernelInfo } from "./kernel.ts";
import { cacheRoot, fmtMB, fmtSeconds, progress, runSync, sha256, writeFileAtomic } from "./util.ts";

/** Modules the harness' tests need (the cloud kernel has no scsi_dh_alua). */
export const VM_MODULES: readonly string[] = [
  "scsi_mod",
  "sd_mod",
  "sg",
  "scsi_debug",
  "configfs",
  "target_core_mod",
  "target_core_file",
  "target_core_iblock",
  "tcm_loop",
];

/** sg3-utils tools put into every image (with their libraries). */
export const SG_TOOLS: readonly string[] = ["sg_turs", "sg_inq", "sg_rtpg", "sg_vpd", "sg_raw"];

export interface ExtraFile {
  /** host path (symlinks are followed) */
  src: string;
  /** absolute path inside the image */
  dest: string;
  /** permission bits; default: the host file's */
  mode?: number;
  /**
   * add the ldd closure of a dynamic ELF file (default true); false for
   * files whose libraries the caller supplies itself (e.g. from Debian
   * packages, see debpkgs.ts)
   */
  ldd?: boolean;
}

export interface InlineFile {
  dest: string;
  data: string | Buffer;
  mode?: number;
}

export interface InitramfsOptions {
  kernel: KernelInfo;
  /** module names; their dependency closure is included (default VM_MODULES) */
  modules?: readonly string[];
  /** files copied from the host; dynamic ELF files bring their ldd closure */
  files?: readonly ExtraFile[];
  /** generated files */
  inline?: readonly InlineFile[];
  /** sg3-utils tools (default SG_TOOLS) */
  sgTools?: readonly string[];
  /** static busybox (default /bin/busybox from busybox-static) */
  busybox?: string;
}

export interface InitramfsImage {
  path: string;
  /** hex digest that names the image */
  key: string;
  bytes: number;
  cached: boolean;
  /** image paths of the dynamic libraries pulled in via ldd */
  libraries: string[];
  /** module files included (image paths) */
  modules: string[];
}

const FORMAT_VERSION = "mpcg-initramfs-1";

function isElf(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    closeSync(fd);
  }
}

/**
 * The ldd closure of an ELF file: absolute paths of the libraries and the
 * dynamic loader. Empty for static executables. Throws on "not found".
 */
export function lddClosure(path: string): string[] {
  if (!isElf(path)) return [];
  const r = runSync("ldd", [path], { allowFail: true, what: `ldd ${path}` });
  const text = r.stdout + r.stderr;
  if (/not a dynamic executable|statically linked/.test(text)) return [];
  if (r.status !== 0) throw new Error(`mpcheckgen vm: ldd ${path} failed (exit ${r.status}):\n${text}`);
  const libs: string[] = [];
  const missing: string[] = [];
  for (const line of r.stdout.split("\n")) {
    const l = line.trim();
    if (!l) continue;
    let m = /^(\S+)\s+=>\s+not found/.exec(l);
    if (m) {
      missing.push(m[1]!);
      continue;
    }
    m = /^\S+\s+=>\s+(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(l);
    if (m) {
      libs.push(m[1]!);
      continue;
    }
    m = /^(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(l);
    if (m) libs.push(m[1]!); // the dynamic loader
    // linux-vdso.so.1 and similar have no path
  }
  if (missing.length) {
    throw new Error(`mpcheckgen vm: ${path} needs libraries that the host lacks: ${missing.join(", ")}`);
  }
  return libs;
}

function which(cmd: string): string {
  for (const d of (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    const p = join(d, cmd);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  throw new Error(`mpcheckgen vm: ${cmd} not found on the host (install sg3-utils)`);
}

/** The module files (absolute host paths) of the closure of `modules`. */
export function moduleClosure(kernel: KernelInfo, modules: readonly string[]): string[] {
  if (modules.length === 0) return [];
  const r = runSync("modprobe", ["-d", kernel.modulesRoot, "-S", kernel.version, "--show-depends", "-a", ...modules], {
    allowFail: true,
    what: "resolving the module closure",
  });
  const notFound = [...r.stderr.matchAll(/Module (\S+) not found/g)].map((m) => m[1]);
  if (notFound.length || r.status !== 0) {
    throw new Error(
      `mpcheckgen vm: kernel ${kernel.version} has no module(s) ${notFound.join(", ") || "?"} ` +
        `(modprobe exit ${r.status}): ${r.stderr.trim()}`,
    );
  }
  const files = new Set<string>();
  for (const line of r.stdout.split("\n")) {
    const m = /^insmod\s+(\S+)/.exec(line.trim());
    if (m) files.add(m[1]!);
  }
  return [...files];
}

/** Base images kept in the cache (least recently used ones are deleted). */
const KEEP_IMAGES = 16;

function pruneImages(dir: string, keep: number): void {
  try {
    const imgs = readdirSync(dir)
      .filter((f) => f.endsWith(".cpio.gz"))
      .map((f) => ({ p: join(dir, f), m: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => b.m - a.m);
    for (const old of imgs.slice(keep)) rmSync(old.p, { force: true });
  } catch {
    /* pruning is best effort (another process may prune at the same time) */
  }
}

interface Planned {
  dest: string;
  src?: string;
  data?: Buffer;
  mode: number;
}

/** Builds (or finds in the cache) the base initramfs image. */
export async function buildInitramfs(opts: InitramfsOptions): Promise<InitramfsImage> {
  const t0 = Date.now();
  const { kernel } = opts;
  const modules = opts.modules ?? VM_MODULES;
  const busybox = opts.busybox ?? "/bin/busybox";
  if (!existsSync(busybox)) throw new Error(`mpcheckgen vm: ${busybox} is missing (install busybox-static)`);
  if (lddClosure(busybox).length > 0) throw new Error(`mpcheckgen vm: ${busybox} is not static (install busybox-static)`);

  const plan = new Map<string, Planned>();
  const add = (p: Planned): void => {
    if (!p.dest.startsWith("/")) throw new Error(`mpcheckgen vm: image path must be absolute: ${p.dest}`);
    plan.set(p.dest, p);
  };
  const libraries = new Set<string>();
  const addWithLibs = (src: string, dest: string, mode?: number, ldd = true): void => {
    if (!existsSync(src)) throw new Error(`mpcheckgen vm: file for the image is missing: ${src}`);
    add({ dest, src, mode: mode ?? statSync(src).mode & 0o7777 });
    if (!ldd) return;
    for (const lib of lddClosure(src)) {
      libraries.add(lib);
      if (!plan.has(lib)) add({ dest: lib, src: lib, mode: 0o755 });
    }
  };

  add({ dest: "/bin/busybox", src: busybox, mode: 0o755 });
  for (const tool of opts.sgTools ?? SG_TOOLS) addWithLibs(which(tool), `/usr/bin/${tool}`, 0o755);
  for (const f of opts.files ?? []) addWithLibs(f.src, f.dest, f.mode, f.ldd ?? true);
  for (const f of opts.inline ?? []) {
    add({ dest: f.dest, data: Buffer.isBuffer(f.data) ? f.data : Buffer.from(f.data), mode: f.mode ?? 0o644 });
  }

  const moduleFiles = moduleClosure(kernel, modules);
  const modBase = join(kernel.modulesRoot, "lib", "modules", kernel.version);

  // The key covers every input byte, so a changed library or module rebuilds.
  const keyParts: string[] = [FORMAT_VERSION, kernel.pkg, kernel.pkgVersion, kernel.version, JSON.stringify(modules)];
  for (const p of [...plan.values()].sort((a, b) => (a.dest < b.dest ? -1 : 1))) {
    keyParts.push(p.dest, String(p.mode), sha256(p.data ?? readFileSync(p.src!)));
  }
  for (const m of moduleFiles.sort()) keyParts.push(relative(modBase, m), sha256(readFileSync(m)));
  const key = sha256(...keyParts);
  const out = join(cacheRoot(), "initramfs", `${key.slice(0, 24)}.cpio.gz`);
  const imageModules = moduleFiles.map((m) => `/lib/modules/${kernel.version}/${relative(modBase, m)}`);
  if (existsSync(out)) {
    const now = new Date();
    utimesSync(out, now, now); // most recently used, for pruning
    return { path: out, key, bytes: statSync(out).size, cached: true, libraries: [...libraries], modules: imageModules };
  }

  progress(`building initramfs (${plan.size} files, ${moduleFiles.length} modules)`);
  const entries: CpioEntry[] = [
    { type: "dir", path: "dev", mode: 0o755 },
    { type: "chardev", path: "dev/console", major: 5, minor: 1, mode: 0o600 },
    { type: "chardev", path: "dev/null", major: 1, minor: 3, mode: 0o666 },
    ...["proc", "sys", "tmp", "run", "root", "etc", "mnt", "bin", "sbin", "usr/bin", "usr/sbin"].map(
      (d): CpioEntry => ({ type: "dir", path: d, mode: d === "tmp" ? 0o1777 : 0o755 }),
    ),
  ];
  for (const p of plan.values()) {
    entries.push({ type: "file", path: p.dest, data: p.data ?? readFileSync(p.src!), mode: p.mode });
  }

  // Modules: copy the closure with paths kept, then depmod the staging tree
  // so busybox modprobe inside the VM finds modules.dep.
  const stage = mkdtempSync(join(tmpdir(), "mpcg-modules-"));
  try {
    const stageBase = join(stage, "lib", "modules", kernel.version);
    mkdirSync(stageBase, { recursive: true });
    for (const m of moduleFiles) {
      const dst = join(stageBase, relative(modBase, m));
      mkdirSync(dirname(dst), { recursive: true });
      copyFileSync(m, dst);
    }
    for (const f of ["modules.builtin", "modules.builtin.modinfo", "modules.order"]) {
      if (existsSync(join(modBase, f))) copyFileSync(join(modBase, f), join(stageBase, f));
    }
    runSync("depmod", ["-b", stage, kernel.version], { what: "depmod on the initramfs modules" });
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else entries.push({ type: "file", path: relative(stage, p), data: readFileSync(p), mode: 0o644 });
      }
    };
    walk(join(stage, "lib"));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }

  const gz = buildNewcGz(entries);
  writeFileAtomic(out, gz);
  pruneImages(dirname(out), KEEP_IMAGES);
  progress(`initramfs ${fmtMB(gz.length)} built in ${fmtSeconds(Date.now() - t0)} (${out})`);
  return { path: out, key, bytes: gz.length, cached: false, libraries: [...libraries], modules: imageModules };
}

/**
 * Writes `out` = base image followed by a gzip'd cpio member holding the
 * overlay files (later files replace earlier ones when the kernel unpacks).
 */
export function appendOverlay(base: string, overlay: readonly InlineFile[], out: string): void {
  const entries: CpioEntry[] = overlay.map((f) => ({
    type: "file",
    path: f.dest,
    data: Buffer.isBuffer(f.data) ? f.data : Buffer.from(f.data),
    mode: f.mode ?? 0o644,
  }));
  writeFileSync(out, Buffer.concat([readFileSync(base), buildNewcGz(entries)]));
}
