// Fetches (never installs) Debian binary packages for the test VM: the
// packages named, plus the library packages they need, found by a fixed
// point over the ldd closure of their ELF files:
//   apt-get download NAME=VERSION → dpkg -x into one root → ldd every ELF
//   file with LD_LIBRARY_PATH pointing into the root → a library that
//   resolves to the host is looked up with `dpkg -S` and its package is
//   fetched too (except the C runtime: libc6 and libgcc-s1 come from the
//   host, like every other program in the image).
// Each package is cached under <cache>/debs/<package>_<version>/ with a
// completion marker; a set of packages is the union of their roots.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cacheRoot, fmtSeconds, progress, runAsync, runSync, sha256, tmpSibling, writeFileAtomic } from "./util.ts";

/** Packages whose files always come from the host (the image's C runtime). */
export const HOST_RUNTIME_PACKAGES: readonly string[] = ["libc6", "libgcc-s1"];

export interface DebPackage {
  name: string;
  version: string;
  /** dpkg -x root of this package */
  root: string;
}

const MARKER = ".mpcheckgen-complete.json";
const PKG_NAME = /^[a-z0-9][a-z0-9+.-]*$/;

/** Candidate versions of PKGS, from one `apt-cache policy` call. */
function candidateVersions(pkgs: readonly string[]): Map<string, string> {
  const r = runSync("apt-cache", ["policy", ...pkgs], { allowFail: true, what: "apt-cache policy" });
  const out = new Map<string, string>();
  let cur: string | undefined;
  for (const line of r.stdout.split("\n")) {
    let m = /^(\S+?)(:amd64)?:$/.exec(line);
    if (m) {
      cur = m[1];
      continue;
    }
    m = /^\s+Candidate:\s*(\S+)/.exec(line);
    if (m && cur && m[1] !== "(none)") out.set(cur, m[1]!);
  }
  const missing = pkgs.filter((p) => !out.has(p));
  if (missing.length) {
    throw new Error(
      `mpcheckgen vm: apt knows no Debian package ${missing.join(", ")} (apt-cache policy); ` +
        "is a bookworm main repository configured and 'apt-get update' done?",
    );
  }
  return out;
}

function pkgDir(name: string, version: string): string {
  return join(cacheRoot(), "debs", `${name}_${version.replace(/:/g, "%3a")}`);
}

const memo = new Map<string, Promise<DebPackage>>();

/** One package, downloaded and extracted into the cache on first use. */
export function ensureDebPackage(name: string, version: string): Promise<DebPackage> {
  if (!PKG_NAME.test(name)) throw new Error(`mpcheckgen vm: invalid Debian package name ${JSON.stringify(name)}`);
  let p = memo.get(name);
  if (!p) {
    p = fetchPackage(name, version);
    memo.set(name, p);
    p.catch(() => memo.delete(name));
  }
  return p;
}

async function fetchPackage(name: string, version: string): Promise<DebPackage> {
  const dir = pkgDir(name, version);
  const root = join(dir, "root");
  if (existsSync(join(dir, MARKER))) return { name, version, root };
  const work = tmpSibling(dir);
  mkdirSync(work, { recursive: true });
  try {
    const t0 = Date.now();
    await runAsync("apt-get", ["download", `${name}=${version}`], { cwd: work, what: `apt-get download ${name}` });
    const deb = readdirSync(work).find((f) => f.endsWith(".deb"));
    if (!deb) throw new Error(`mpcheckgen vm: apt-get download ${name} produced no .deb in ${work}`);
    await runAsync("dpkg", ["-x", join(work, deb), join(work, "root")], { what: `dpkg -x ${deb}` });
    rmSync(join(work, deb), { force: true });
    writeFileSync(join(work, MARKER), JSON.stringify({ name, version }) + "\n");
    progress(`fetched ${name} ${version} in ${fmtSeconds(Date.now() - t0)}`);
    if (existsSync(join(dir, MARKER))) return { name, version, root };
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(work, dir);
    } catch (e) {
      if (!existsSync(join(dir, MARKER))) throw e;
    }
    return { name, version, root };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const LIB_SUBDIRS = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib", "usr/lib", "lib/systemd", "usr/lib/systemd", "lib/multipath"];

function libDirsOf(packages: readonly DebPackage[]): string[] {
  const dirs: string[] = [];
  for (const p of packages) for (const d of LIB_SUBDIRS) if (existsSync(join(p.root, d))) dirs.push(join(p.root, d));
  return dirs;
}

/** Library paths (resolved) that ldd gives for FILE, and the names it cannot find. */
export function lddWithin(file: string, libDirs: readonly string[]): { libs: string[]; missing: string[] } {
  const r = runSync("ldd", [file], {
    allowFail: true,
    what: `ldd ${file}`,
    env: { ...process.env, LD_LIBRARY_PATH: libDirs.join(":") },
  });
  const libs: string[] = [];
  const missing: string[] = [];
  if (/not a dynamic executable|statically linked/.test(r.stdout + r.stderr)) return { libs, missing };
  for (const line of r.stdout.split("\n")) {
    const l = line.trim();
    let m = /^(\S+)\s+=>\s+not found/.exec(l);
    if (m) missing.push(m[1]!);
    else if ((m = /^\S+\s+=>\s+(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(l))) libs.push(m[1]!);
    else if ((m = /^(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(l))) libs.push(m[1]!);
  }
  return { libs, missing };
}

const ownerMemo = new Map<string, string | undefined>();

/** The host package owning PATH (dpkg -S, also under the /usr-merged twin), or undefined. */
function hostOwner(path: string): string | undefined {
  if (ownerMemo.has(path)) return ownerMemo.get(path);
  let owner: string | undefined;
  for (const p of [path, path.replace(/^\/usr\//, "/"), path.replace(/^\/(lib|lib64|bin|sbin)\//, "/usr/$1/")]) {
    const r = runSync("dpkg", ["-S", p], { allowFail: true, what: `dpkg -S ${p}` });
    const m = /^([a-z0-9][a-z0-9+.-]*)(:[a-z0-9]+)?(, [^:]+)*: /m.exec(r.stdout);
    if (r.status === 0 && m) {
      owner = m[1];
      break;
    }
  }
  ownerMemo.set(path, owner);
  return owner;
}

/** Direct library Depends of PKGS (lib* names only), from one `apt-cache depends` call. */
function libDepends(pkgs: readonly string[]): string[] {
  const r = runSync(
    "apt-cache",
    ["depends", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", ...pkgs],
    { allowFail: true, what: "apt-cache depends" },
  );
  return [...r.stdout.matchAll(/^\s*\|?(?:Pre)?Depends:\s*(lib[a-z0-9+.-]+)$/gm)].map((m) => m[1]!);
}

/** A file of the image taken from the packages or the host. */
export interface DebFile {
  /** host path (inside a package root, or a host library) */
  src: string;
  /** absolute path inside the image */
  dest: string;
}

export interface DebSet {
  /** every package fetched, the requested ones first */
  packages: DebPackage[];
  /** the host path of FILE (absolute path inside a package), or undefined */
  find(file: string): string | undefined;
  /** files matching PATTERN inside the packages ("*" matches within one path component) */
  glob(pattern: string): DebFile[];
  /** the ELF files asked for, plus every library they load (from the packages, or from the host for the C runtime) */
  closure: DebFile[];
}

export interface DebSetOptions {
  /** more packages to fetch from the start */
  extra?: readonly string[];
  /**
   * ELF files (package paths, "*" allowed in the last component) whose
   * library closure is resolved: a library only the host has pulls in the
   * package owning it (dpkg -S) unless that is a HOST_RUNTIME_PACKAGES one.
   */
  elfs?: readonly string[];
}

function globIn(packages: readonly DebPackage[], pattern: string): DebFile[] {
  if (!pattern.startsWith("/")) throw new Error(`package path must be absolute: ${pattern}`);
  const out: DebFile[] = [];
  const parts = pattern.split("/").filter(Boolean);
  const seen = new Set<string>();
  for (const pkg of packages) {
    let cur = [""];
    for (const part of parts) {
      const next: string[] = [];
      for (const c of cur) {
        if (!part.includes("*")) {
          if (existsSync(join(pkg.root, c, part))) next.push(`${c}/${part}`);
          continue;
        }
        const re = new RegExp(`^${part.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
        let names: string[] = [];
        try {
          names = readdirSync(join(pkg.root, c));
        } catch {
          /* not a directory */
        }
        for (const n of names.sort()) if (re.test(n)) next.push(`${c}/${n}`);
      }
      cur = next;
    }
    for (const c of cur) {
      if (seen.has(c)) continue;
      seen.add(c);
      out.push({ src: join(pkg.root, c), dest: c });
    }
  }
  return out;
}

function isElfFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    const b = readFileSync(path).subarray(0, 4);
    return b.length === 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
  } catch {
    return false;
  }
}

interface SetCache {
  packages: { name: string; version: string }[];
  closure: { src: string; dest: string }[];
}

/**
 * The packages PKGS plus their direct library Depends and OPTS.extra, all
 * fetched and extracted, with the library closure of OPTS.elfs (see the file
 * comment). Cached under <cache>/debs/sets/, keyed by the request and apt's
 * package cache, so a repeated call runs no apt command.
 */
export async function ensureDebSet(pkgs: readonly string[], opts: DebSetOptions = {}): Promise<DebSet> {
  for (const p of [...pkgs, ...(opts.extra ?? [])]) {
    if (!PKG_NAME.test(p)) throw new Error(`mpcheckgen vm: invalid Debian package name ${JSON.stringify(p)}`);
  }
  let aptStamp = "none";
  try {
    const st = statSync("/var/cache/apt/pkgcache.bin");
    aptStamp = `${st.size}:${st.mtimeMs}`;
  } catch {
    /* no cache file: always resolve */
  }
  const key = sha256("debset-1", JSON.stringify(pkgs), JSON.stringify(opts.extra ?? []), JSON.stringify(opts.elfs ?? []), aptStamp);
  const cacheFile = join(cacheRoot(), "debs", "sets", `${key.slice(0, 24)}.json`);
  const make = (packages: DebPackage[], closure: DebFile[]): DebSet => ({
    packages,
    closure,
    find: (file) => packages.map((p) => join(p.root, file)).find((f) => existsSync(f)),
    glob: (pattern) => globIn(packages, pattern),
  });
  if (existsSync(cacheFile)) {
    try {
      const c = JSON.parse(readFileSync(cacheFile, "utf8")) as SetCache;
      const packages = c.packages.map((p) => ({ ...p, root: join(pkgDir(p.name, p.version), "root") }));
      if (packages.every((p) => existsSync(join(pkgDir(p.name, p.version), MARKER))) && c.closure.every((f) => existsSync(f.src))) {
        return make(packages, c.closure);
      }
    } catch {
      /* damaged: resolve again */
    }
  }

  const t0 = Date.now();
  const want: string[] = [];
  const addWant = (n: string): void => {
    if (!HOST_RUNTIME_PACKAGES.includes(n) && !want.includes(n)) want.push(n);
  };
  for (const p of [...pkgs, ...(opts.extra ?? []), ...libDepends(pkgs)]) addWant(p);
  const versions = new Map<string, string>();
  for (let round = 0; round < 10; round++) {
    const unknown = want.filter((n) => !versions.has(n));
    if (unknown.length) for (const [n, v] of candidateVersions(unknown)) versions.set(n, v);
    const packages = await Promise.all(want.map((n) => ensureDebPackage(n, versions.get(n)!)));
    const dirs = libDirsOf(packages);
    const files = new Map<string, DebFile>();
    const added: string[] = [];
    const missing = new Map<string, string>();
    for (const pat of opts.elfs ?? []) {
      const found = globIn(packages, pat);
      if (found.length === 0) throw new Error(`mpcheckgen vm: no file ${pat} in the Debian packages ${want.join(", ")}`);
      for (const f of found) {
        if (!isElfFile(f.src)) continue;
        files.set(f.dest, f);
        const r = lddWithin(f.src, dirs);
        for (const m of r.missing) missing.set(m, f.dest);
        for (const lib of r.libs) {
          const pkg = packages.find((p) => lib.startsWith(p.root + "/"));
          if (pkg) {
            files.set(lib.slice(pkg.root.length), { src: lib, dest: lib.slice(pkg.root.length) });
            continue;
          }
          const owner = hostOwner(lib);
          if (owner && !HOST_RUNTIME_PACKAGES.includes(owner)) {
            if (!want.includes(owner) && !added.includes(owner)) added.push(owner);
          } else {
            files.set(lib, { src: lib, dest: lib });
          }
        }
      }
    }
    if (added.length === 0) {
      if (missing.size) {
        throw new Error(
          "mpcheckgen vm: libraries found neither in the fetched Debian packages nor on the host: " +
            [...missing].map(([l, f]) => `${l} (needed by ${f})`).join(", ") +
            ". Name their packages in DebSetOptions.extra.",
        );
      }
      const closure = [...files.values()];
      const c: SetCache = { packages: packages.map((p) => ({ name: p.name, version: p.version })), closure };
      writeFileAtomic(cacheFile, JSON.stringify(c, null, 1) + "\n");
      progress(`Debian package set ${pkgs.join(" ")}: ${packages.length} packages, ${closure.length} files resolved in ${fmtSeconds(Date.now() - t0)}`);
      return make(packages, closure);
    }
    for (const a of added) addWant(a);
  }
  throw new Error("mpcheckgen vm: the library closure of the Debian packages did not converge in 10 rounds");
}
