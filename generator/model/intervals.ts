// Sets of integers as sorted, disjoint, inclusive intervals: the values a
// rule's condition on one fact allows. The validator uses them to find rules
// an earlier rule always pre-empts; the interpreter uses them to evaluate.

export type Interval = readonly [lo: number, hi: number];
export type IntervalSet = readonly Interval[];

export function fromValues(values: readonly number[]): IntervalSet {
	const sorted = [...new Set(values)].sort((a, b) => a - b);
	const out: [number, number][] = [];
	for (const v of sorted) {
		const last = out[out.length - 1];
		if (last && v === last[1] + 1) last[1] = v;
		else out.push([v, v]);
	}
	return out;
}

export function union(a: IntervalSet, b: IntervalSet): IntervalSet {
	const all = [...a, ...b].map((i) => [i[0], i[1]] as [number, number]).sort((x, y) => x[0] - y[0]);
	const out: [number, number][] = [];
	for (const [lo, hi] of all) {
		const last = out[out.length - 1];
		if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
		else out.push([lo, hi]);
	}
	return out;
}

export function intersect(a: IntervalSet, b: IntervalSet): IntervalSet {
	const out: [number, number][] = [];
	let i = 0;
	let j = 0;
	while (i < a.length && j < b.length) {
		const lo = Math.max(a[i][0], b[j][0]);
		const hi = Math.min(a[i][1], b[j][1]);
		if (lo <= hi) out.push([lo, hi]);
		if (a[i][1] < b[j][1]) i++;
		else j++;
	}
	return out;
}

/** The complement of `a` within `domain`. */
export function complement(a: IntervalSet, domain: Interval): IntervalSet {
	const out: [number, number][] = [];
	let next = domain[0];
	for (const [lo, hi] of intersect(a, [domain])) {
		if (lo > next) out.push([next, lo - 1]);
		next = hi + 1;
	}
	if (next <= domain[1]) out.push([next, domain[1]]);
	return out;
}

export function contains(set: IntervalSet, v: number): boolean {
	return set.some(([lo, hi]) => v >= lo && v <= hi);
}

/** Whether every value of `inner` is in `outer`. */
export function isSubset(inner: IntervalSet, outer: IntervalSet): boolean {
	return intersect(inner, outer).reduce((n, [lo, hi]) => n + hi - lo + 1, 0) === size(inner);
}

export function size(set: IntervalSet): number {
	return set.reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
}

export function isEmpty(set: IntervalSet): boolean {
	return set.length === 0;
}

/** All values of a set (for small sets). */
export function values(set: IntervalSet): number[] {
	const out: number[] = [];
	for (const [lo, hi] of set) for (let v = lo; v <= hi; v++) out.push(v);
	return out;
}
