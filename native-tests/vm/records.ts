// Stream parser for the VM's serial console. Only lines that carry the
// record marker are parsed, with JSON.parse; everything else (kernel
// messages, stray output) only feeds the console tail.

/** Every record line on the console starts with this (after any noise). */
export const RECORD_MARKER = "@MPCG@ ";

/** One structured record reported by the VM. */
export interface VmRecord {
  event: string;
  /** CLOCK_MONOTONIC of the VM in ms */
  t?: number;
  scenario?: string;
  step?: number;
  label?: string;
  [key: string]: unknown;
}

/**
 * Line splitter + record parser. Feed it console bytes; it calls onRecord
 * for each record and keeps the last `tailLines` console lines.
 */
export class ConsoleParser {
  private partial = "";
  private readonly tail: string[] = [];
  private readonly decoder = new TextDecoder("utf-8");
  lines = 0;
  garbled = 0;

  constructor(
    private readonly onRecord: (rec: VmRecord) => void,
    private readonly tailLines = 60,
  ) {}

  push(chunk: Buffer | Uint8Array): void {
    const text = this.partial + this.decoder.decode(chunk, { stream: true });
    const parts = text.split("\n");
    this.partial = parts.pop() ?? "";
    for (const p of parts) this.line(p);
    // A line without newline that grows without bound is still console output.
    if (this.partial.length > 1 << 20) {
      this.line(this.partial);
      this.partial = "";
    }
  }

  end(): void {
    const rest = this.partial + this.decoder.decode();
    this.partial = "";
    if (rest.length > 0) this.line(rest);
  }

  consoleTail(): string[] {
    return [...this.tail];
  }

  private line(raw: string): void {
    const line = raw.replace(/\r+$/, "").replace(/\r/g, "");
    this.lines++;
    this.tail.push(line);
    if (this.tail.length > this.tailLines) this.tail.shift();
    const at = line.indexOf(RECORD_MARKER);
    if (at < 0) return;
    const json = line.slice(at + RECORD_MARKER.length);
    let rec: VmRecord;
    try {
      const v: unknown = JSON.parse(json);
      if (typeof v !== "object" || v === null || Array.isArray(v) || typeof (v as VmRecord).event !== "string") {
        throw new Error("not a record object");
      }
      rec = v as VmRecord;
    } catch (e) {
      this.garbled++;
      rec = { event: "garbled", raw: line, error: (e as Error).message };
    }
    this.onRecord(normalizeRecord(rec));
  }
}

/** Turns {"event":"data","raw":"<json>"} into {"event":"data","data":<parsed>}. */
export function normalizeRecord(rec: VmRecord): VmRecord {
  if (rec.event === "data" && typeof rec.raw === "string") {
    const { raw, ...rest } = rec;
    try {
      return { ...rest, data: JSON.parse(raw) as unknown };
    } catch (e) {
      return { ...rest, event: "output", stream: "stdout", text: raw, parse_error: (e as Error).message };
    }
  }
  return rec;
}
