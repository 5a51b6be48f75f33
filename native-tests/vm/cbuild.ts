// Builds C helper programs for the VM (static by default) into the cache,
// keyed by source content, compiler version and flags.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { ROOT } from "../support/cc.ts";
import { cacheRoot, progress, runAsync, runSync, sha256, tmpSibling } from "./util.ts";

export interface CBuildOptions {
  /** C source file */
  src: string;
  /** output name (default: source basename without .c) */
  name?: string;
  /** link statically (default true) */
  static?: boolean;
  /** extra compiler/linker flags, placed after the source, e.g. ["-shared", "-fPIC", "-lm"] */
  flags?: string[];
  /** compiler (default $CC or gcc) */
  cc?: string;
}

const ccVersionMemo = new Map<string, string>();
function ccVersion(cc: string): string {
  let v = ccVersionMemo.get(cc);
  if (v === undefined) {
    v = runSync(cc, ["--version"], { what: `${cc} --version` }).stdout.split("\n")[0] ?? "";
    ccVersionMemo.set(cc, v);
  }
  return v;
}

/** Compiles `src` (cached) and returns the path of the executable. */
export async function buildC(opts: CBuildOptions): Promise<string> {
  const cc = opts.cc ?? process.env.CC ?? "gcc";
  const isStatic = opts.static ?? true;
  const name = opts.name ?? basename(opts.src).replace(/\.c$/, "");
  const base = ["-O2", "-Wall", "-Wextra", ...(isStatic ? ["-static"] : [])];
  // Extra flags go after the source so that libraries (-lm, -ldl) are linked
  // (Debian's linker drops libraries named before the objects needing them).
  const argv = [...base, "-o", "OUT", opts.src, ...(opts.flags ?? [])];
  const key = sha256(readFileSync(opts.src), ccVersion(cc), cc, JSON.stringify(argv)).slice(0, 16);
  const dir = join(cacheRoot(), "bin");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${name}-${key}`);
  if (existsSync(out)) return out;
  const tmp = tmpSibling(out);
  progress(`compiling ${basename(opts.src)}${isStatic ? " (static)" : ""}`);
  try {
    await runAsync(cc, argv.map((a) => (a === "OUT" ? tmp : a)), { what: `compiling ${opts.src}` });
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { force: true });
  }
  return out;
}

/**
 * Absolute path of a file of the harness (its C sources, init.sh), in
 * native-tests/vm/; named from the repository root, so that the code works
 * bundled into the CLI (`mpcheckgen test --vm`) too.
 */
export function harnessFile(name: string): string {
  return join(ROOT, "native-tests/vm", name);
}

let helpers: Promise<{ vmstep: string; vmexit: string; sgprobe: string }> | undefined;

/**
 * The harness' static VM helpers: vmstep (records), vmexit (isa-debug-exit),
 * sgprobe (SG_IO TUR). Built once per process, also when several VMs are
 * prepared at the same time.
 */
export function buildHarnessHelpers(): Promise<{ vmstep: string; vmexit: string; sgprobe: string }> {
  helpers ??= Promise.all([
    buildC({ src: harnessFile("vmstep.c") }),
    buildC({ src: harnessFile("vmexit.c") }),
    buildC({ src: harnessFile("sgprobe.c") }),
  ]).then(
    ([vmstep, vmexit, sgprobe]) => ({ vmstep, vmexit, sgprobe }),
    (e: unknown) => {
      helpers = undefined;
      throw e;
    },
  );
  return helpers;
}
