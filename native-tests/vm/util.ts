// Small helpers shared by the VM harness modules: cache location, progress
// output, command execution with readable errors, hashing.
import { spawn, spawnSync, type SpawnSyncOptions } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** Cache root: $MPCHECKGEN_CACHE, else $HOME/.cache/mpcheckgen. */
export function cacheRoot(): string {
  const env = process.env.MPCHECKGEN_CACHE;
  const root = env && env.length > 0 ? env : join(process.env.HOME || homedir(), ".cache", "mpcheckgen");
  mkdirSync(root, { recursive: true });
  return root;
}

/** One progress line on stderr, prefixed "mpcheckgen vm: ". */
export function progress(msg: string): void {
  process.stderr.write(`mpcheckgen vm: ${msg}\n`);
}

export function sha256(...parts: (string | Buffer)[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    const b = typeof p === "string" ? Buffer.from(p) : p;
    h.update(String(b.length));
    h.update(":");
    h.update(b);
  }
  return h.digest("hex");
}

export function fileHash(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

export function fmtSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function fmtMB(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  status: number;
}

/**
 * Runs a command synchronously and returns its output; throws an Error with
 * the command line, exit status and stderr when it fails (unless allowFail).
 */
export function runSync(
  cmd: string,
  args: string[],
  opts: SpawnSyncOptions & { allowFail?: boolean; what?: string } = {},
): RunResult {
  const { allowFail, what, ...spawnOpts } = opts;
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
    ...spawnOpts,
  });
  if (r.error) {
    throw new Error(`mpcheckgen vm: cannot run ${cmd}${what ? ` (${what})` : ""}: ${r.error.message}`);
  }
  const res: RunResult = {
    stdout: String(r.stdout ?? ""),
    stderr: String(r.stderr ?? ""),
    status: r.status ?? 128 + 9,
  };
  if (res.status !== 0 && !allowFail) {
    throw new Error(
      `mpcheckgen vm: ${what ? what + ": " : ""}command failed (exit ${res.status}${r.signal ? `, signal ${r.signal}` : ""}): ` +
        `${[cmd, ...args].join(" ")}\n${tail(res.stderr || res.stdout, 30)}`,
    );
  }
  return res;
}

/** Async variant of runSync (lets two VM preparations overlap). */
export function runAsync(cmd: string, args: string[], opts: { cwd?: string; what?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (e) => reject(new Error(`mpcheckgen vm: cannot run ${cmd}: ${e.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve({ stdout, stderr, status: 0 });
      else
        reject(
          new Error(
            `mpcheckgen vm: ${opts.what ? opts.what + ": " : ""}command failed (exit ${code}${signal ? `, signal ${signal}` : ""}): ` +
              `${[cmd, ...args].join(" ")}\n${tail(stderr || stdout, 30)}`,
          ),
        );
    });
  });
}

export function tail(text: string, lines: number): string {
  const l = text.split("\n");
  return l.slice(Math.max(0, l.length - lines)).join("\n");
}

/** A unique sibling path for writing `path` atomically. */
export function tmpSibling(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** Writes a file atomically (temp file + rename), creating the directory. */
export function writeFileAtomic(path: string, data: string | Buffer, mode?: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tmpSibling(path);
  try {
    writeFileSync(tmp, data, mode === undefined ? undefined : { mode });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

export { existsSync };
