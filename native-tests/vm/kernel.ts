// Fetches (never installs) Debian's cloud kernel for the test VM:
// linux-image-cloud-amd64 → real package via apt-cache depends →
// apt-get download → dpkg -x → depmod -b, cached under
// <cache>/kernel/<package>_<version>/ with a completion marker.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureHostPackages } from "../support/host-packages.ts";
import { cacheRoot, fmtMB, fmtSeconds, isRoot, progress, runAsync, runSync, tmpSibling } from "./util.ts";

export interface KernelInfo {
  /** `uname -r` inside the VM, e.g. 6.1.0-56-cloud-amd64 */
  version: string;
  /** path of the kernel image (bzImage) */
  vmlinuz: string;
  /** directory that contains lib/modules/<version> (the dpkg -x root) */
  modulesRoot: string;
  /** exact Debian package, e.g. linux-image-6.1.0-56-cloud-amd64 */
  pkg: string;
  /** Debian version of that package, e.g. 6.1.192-2 */
  pkgVersion: string;
}

export interface KernelOptions {
  /** metapackage to resolve; default linux-image-cloud-amd64 */
  metaPackage?: string;
}

const MARKER = ".mpcheckgen-complete.json";
const memo = new Map<string, Promise<KernelInfo>>();

/** Returns the cached cloud kernel, downloading and extracting it on first use. */
export function ensureKernel(opts: KernelOptions = {}): Promise<KernelInfo> {
  const meta = opts.metaPackage ?? process.env.MPCHECKGEN_KERNEL_META ?? "linux-image-cloud-amd64";
  let p = memo.get(meta);
  if (!p) {
    p = ensureKernelUncached(meta);
    memo.set(meta, p);
    p.catch(() => memo.delete(meta));
  }
  return p;
}

function aptCacheDepends(meta: string): string | undefined {
  const r = runSync("apt-cache", ["depends", meta], { allowFail: true, what: "resolving the kernel package" });
  const m = /^\s*Depends:\s*(linux-image-\S+)/m.exec(r.stdout);
  return m?.[1];
}

function resolvePackage(meta: string): string {
  let pkg = aptCacheDepends(meta);
  if (!pkg && isRoot()) {
    progress(`apt-cache knows no ${meta}; running apt-get update`);
    runSync("apt-get", ["update"], { what: "apt-get update", stdio: ["ignore", 2, 2] });
    pkg = aptCacheDepends(meta);
  }
  if (!pkg) {
    throw new Error(
      `mpcheckgen vm: cannot resolve ${meta}: 'apt-cache depends ${meta}' names no linux-image package. ` +
        (isRoot() ? "Is a Debian bookworm main repository configured?" : "Run 'sudo apt-get update' first."),
    );
  }
  return pkg;
}

function packageFacts(pkg: string): { version: string; size: number } {
  const r = runSync("apt-cache", ["show", "--no-all-versions", pkg], { what: `apt-cache show ${pkg}` });
  const version = /^Version:\s*(\S+)/m.exec(r.stdout)?.[1];
  const size = Number(/^Size:\s*(\d+)/m.exec(r.stdout)?.[1] ?? "0");
  if (!version) throw new Error(`mpcheckgen vm: apt-cache show ${pkg} gives no Version:\n${r.stdout.slice(0, 2000)}`);
  return { version, size };
}

function findLayout(root: string): { version: string; vmlinuz: string } {
  const modBase = [join(root, "lib", "modules"), join(root, "usr", "lib", "modules")].find((d) => existsSync(d));
  if (!modBase) throw new Error(`mpcheckgen vm: extracted kernel in ${root} has no lib/modules`);
  const versions = readdirSync(modBase).filter((v) => statSync(join(modBase, v)).isDirectory());
  if (versions.length !== 1) {
    throw new Error(`mpcheckgen vm: expected one kernel version under ${modBase}, found: ${versions.join(", ") || "none"}`);
  }
  const version = versions[0]!;
  const vmlinuz = join(root, "boot", `vmlinuz-${version}`);
  if (!existsSync(vmlinuz)) throw new Error(`mpcheckgen vm: ${vmlinuz} is missing from the kernel package`);
  return { version, vmlinuz };
}

async function ensureKernelUncached(meta: string): Promise<KernelInfo> {
  const pkg = resolvePackage(meta);
  const { version: pkgVersion, size } = packageFacts(pkg);
  const dir = join(cacheRoot(), "kernel", `${pkg}_${pkgVersion}`);
  const marker = join(dir, MARKER);
  if (existsSync(marker)) {
    try {
      const info = JSON.parse(readFileSync(marker, "utf8")) as KernelInfo;
      if (existsSync(info.vmlinuz) && existsSync(join(info.modulesRoot, "lib", "modules", info.version, "modules.dep"))) {
        progress(`${pkg} ${pkgVersion}: cached (${dir})`);
        return info;
      }
    } catch {
      /* unreadable marker: redo */
    }
    progress(`${pkg} ${pkgVersion}: cache entry is damaged, fetching again`);
  }
  // depmod (kmod) and dpkg are needed; apt-get is part of apt.
  ensureHostPackages(["kmod"]);

  const work = tmpSibling(dir);
  mkdirSync(work, { recursive: true });
  try {
    const t0 = Date.now();
    progress(`downloading ${pkg} ${pkgVersion} (${fmtMB(size)})`);
    await runAsync("apt-get", ["download", `${pkg}=${pkgVersion}`], { cwd: work, what: `apt-get download ${pkg}` });
    const deb = readdirSync(work).find((f) => f.endsWith(".deb"));
    if (!deb) throw new Error(`mpcheckgen vm: apt-get download ${pkg} produced no .deb in ${work}`);
    const t1 = Date.now();
    progress(`downloaded ${deb} in ${fmtSeconds(t1 - t0)}; extracting`);
    const root = join(work, "root");
    await runAsync("dpkg", ["-x", join(work, deb), root], { what: `dpkg -x ${deb}` });
    rmSync(join(work, deb), { force: true });
    const { version } = findLayout(root);
    // depmod -b looks for <root>/lib/modules/<version>.
    if (!existsSync(join(root, "lib", "modules", version))) {
      throw new Error(`mpcheckgen vm: ${pkg} keeps its modules outside lib/modules; depmod -b cannot handle that`);
    }
    await runAsync("depmod", ["-b", root, version], { what: "depmod -b on the extracted kernel" });
    const t2 = Date.now();
    progress(`extracted ${pkg} (kernel ${version}) and ran depmod in ${fmtSeconds(t2 - t1)}`);

    const finalRoot = join(dir, "root");
    const info: KernelInfo = {
      version,
      vmlinuz: join(finalRoot, "boot", `vmlinuz-${version}`),
      modulesRoot: finalRoot,
      pkg,
      pkgVersion,
    };
    // Marker written last, into the work dir, which is then renamed in place.
    writeFileSync(join(work, MARKER), JSON.stringify(info, null, 2) + "\n");
    if (existsSync(marker)) return info; // another process finished the same kernel meanwhile
    rmSync(dir, { recursive: true, force: true }); // a half-extracted leftover
    try {
      renameSync(work, dir);
    } catch (e) {
      // Another process may have finished the same kernel first.
      if (!existsSync(marker)) throw e;
    }
    return info;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
