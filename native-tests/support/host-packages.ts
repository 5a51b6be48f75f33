// Makes sure the Debian packages a native test needs are installed on the
// host. As root the missing ones are installed with apt-get; otherwise the
// caller gets an Error naming the exact command to run.
import { spawnSync } from "node:child_process";

/** Host packages the qemu VM harness needs (native-tests/vm). */
export const VM_HOST_PACKAGES: readonly string[] = [
  "qemu-system-x86",
  "busybox-static",
  "sg3-utils",
  "kmod",
  "cpio",
  "gcc",
  "libc6-dev",
];

const PKG_NAME = /^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?$/;

/** True when dpkg reports the package as fully installed. */
export function isPackageInstalled(pkg: string): boolean {
  const r = spawnSync("dpkg-query", ["-W", "-f=${Status}", pkg], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (r.error) {
    throw new Error(
      `mpcheckgen: cannot run dpkg-query (${r.error.message}); ` +
        "this harness needs a Debian-based host",
    );
  }
  return r.status === 0 && r.stdout.trim() === "install ok installed";
}

/** The packages of `pkgs` that are not installed (order kept, duplicates removed). */
export function missingPackages(pkgs: readonly string[]): string[] {
  const seen = new Set<string>();
  const missing: string[] = [];
  for (const p of pkgs) {
    if (!PKG_NAME.test(p)) throw new Error(`mpcheckgen: invalid Debian package name ${JSON.stringify(p)}`);
    if (seen.has(p)) continue;
    seen.add(p);
    if (!isPackageInstalled(p)) missing.push(p);
  }
  return missing;
}

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** Runs a command with its stdout and stderr both sent to our stderr. */
function runToStderr(cmd: string, args: string[]): number {
  process.stderr.write(`mpcheckgen: $ ${[cmd, ...args].join(" ")}\n`);
  const r = spawnSync(cmd, args, {
    stdio: ["ignore", 2, 2],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (r.error) throw new Error(`mpcheckgen: cannot run ${cmd}: ${r.error.message}`);
  return r.status ?? 128 + 1;
}

/**
 * Installs the Debian packages of `pkgs` that are missing.
 * - Nothing missing: returns at once (one dpkg-query per package).
 * - Root: `apt-get install -y --no-install-recommends …`; when that fails,
 *   `apt-get update` and one more try. Progress goes to stderr.
 * - Not root: throws an Error whose message holds the command to run.
 */
export function ensureHostPackages(pkgs: readonly string[]): void {
  const missing = missingPackages(pkgs);
  if (missing.length === 0) return;
  const installArgs = ["install", "-y", "--no-install-recommends", ...missing];
  if (!isRoot()) {
    throw new Error(
      `mpcheckgen: missing host packages: ${missing.join(" ")}\n` +
        `Install them with:\n  sudo apt-get install --no-install-recommends ${missing.join(" ")}`,
    );
  }
  process.stderr.write(`mpcheckgen: installing missing host packages: ${missing.join(" ")}\n`);
  let rc = runToStderr("apt-get", installArgs);
  if (rc !== 0) {
    process.stderr.write("mpcheckgen: apt-get install failed; running apt-get update and retrying\n");
    const urc = runToStderr("apt-get", ["update"]);
    if (urc !== 0) process.stderr.write(`mpcheckgen: apt-get update exited ${urc}\n`);
    rc = runToStderr("apt-get", installArgs);
  }
  const still = missingPackages(missing);
  if (rc !== 0 || still.length > 0) {
    throw new Error(
      `mpcheckgen: could not install host packages ${still.join(" ") || missing.join(" ")} ` +
        `(apt-get exited ${rc}). Try by hand:\n  apt-get update && ` +
        `apt-get install --no-install-recommends ${missing.join(" ")}`,
    );
  }
  process.stderr.write(`mpcheckgen: installed ${missing.join(" ")}\n`);
}
