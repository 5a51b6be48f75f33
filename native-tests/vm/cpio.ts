// Writes "newc" cpio archives (the format the kernel unpacks as initramfs).
// Entries are given in memory; parent directories are added automatically.
import { gzipSync } from "node:zlib";

export type CpioEntry =
  | { type: "file"; path: string; data: Buffer; mode?: number }
  | { type: "dir"; path: string; mode?: number }
  | { type: "symlink"; path: string; target: string }
  | { type: "chardev"; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function normalize(p: string): string {
  const parts = p.split("/").filter((x) => x !== "" && x !== ".");
  if (parts.some((x) => x === "..")) throw new Error(`cpio: '..' is not allowed in ${JSON.stringify(p)}`);
  if (parts.length === 0) throw new Error(`cpio: empty path ${JSON.stringify(p)}`);
  return parts.join("/");
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/**
 * Builds an uncompressed newc archive. Later entries with the same path
 * replace earlier ones; directories are created for every parent path.
 */
export function buildNewc(entries: CpioEntry[]): Buffer {
  const byPath = new Map<string, CpioEntry>();
  for (const e of entries) {
    const path = normalize(e.path);
    const segs = path.split("/");
    for (let i = 1; i < segs.length; i++) {
      const parent = segs.slice(0, i).join("/");
      const existing = byPath.get(parent);
      if (existing && existing.type !== "dir") {
        throw new Error(`cpio: ${parent} is both a ${existing.type} and a directory (for ${path})`);
      }
      if (!existing) byPath.set(parent, { type: "dir", path: parent, mode: 0o755 });
    }
    byPath.set(path, { ...e, path } as CpioEntry);
  }
  // Parents before children: sort by path (a prefix sorts first).
  const sorted = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const chunks: Buffer[] = [];
  let ino = 1;
  const mtime = 0; // reproducible archives
  const push = (name: string, mode: number, nlink: number, data: Buffer, rmaj = 0, rmin = 0): void => {
    const nameBuf = Buffer.from(name + "\0");
    const header =
      "070701" +
      hex8(ino++) +
      hex8(mode) +
      hex8(0) + // uid
      hex8(0) + // gid
      hex8(nlink) +
      hex8(mtime) +
      hex8(data.length) +
      hex8(0) + // devmajor
      hex8(0) + // devminor
      hex8(rmaj) +
      hex8(rmin) +
      hex8(nameBuf.length) +
      hex8(0); // check
    chunks.push(Buffer.from(header, "ascii"), nameBuf, Buffer.alloc(pad4(110 + nameBuf.length)));
    if (data.length > 0) chunks.push(data, Buffer.alloc(pad4(data.length)));
  };
  for (const e of sorted) {
    switch (e.type) {
      case "dir":
        push(e.path, S_IFDIR | (e.mode ?? 0o755), 2, Buffer.alloc(0));
        break;
      case "file":
        push(e.path, S_IFREG | (e.mode ?? 0o644), 1, e.data);
        break;
      case "symlink":
        push(e.path, S_IFLNK | 0o777, 1, Buffer.from(e.target));
        break;
      case "chardev":
        push(e.path, S_IFCHR | (e.mode ?? 0o600), 1, Buffer.alloc(0), e.major, e.minor);
        break;
    }
  }
  ino = 0;
  push("TRAILER!!!", 0, 1, Buffer.alloc(0));
  return Buffer.concat(chunks);
}

/** newc archive compressed with gzip -1 (the kernel accepts concatenated members). */
export function buildNewcGz(entries: CpioEntry[]): Buffer {
  return gzipSync(buildNewc(entries), { level: 1 });
}
