// Small statistics for the benchmarks: medians with their range, and
// ratios taken pair by pair (each repetition against the floor measured
// beside it in the same run).

/** A figure over repetitions: median, min and max. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median of nothing");
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) throw new Error("spread of nothing");
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** Ratios a[i] / b[i] of paired repetitions. */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length || a.length === 0) throw new Error(`cannot pair ${a.length} with ${b.length} repetitions`);
  return a.map((x, i) => x / b[i]!);
}

/** "1.23 (1.10–1.40)" with `digits` decimals. */
export function fmtSpread(s: Spread, digits = 2, unit = ""): string {
  const f = (x: number) => x.toFixed(digits);
  return s.min === s.max ? `${f(s.median)}${unit}` : `${f(s.median)}${unit} (${f(s.min)}–${f(s.max)})`;
}

/** A ratio: "1.23× (1.10–1.40)". */
export function fmtRatio(s: Spread): string {
  return fmtSpread(s, 2, "×");
}
