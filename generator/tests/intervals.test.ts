// The fact semantics: value sets as sorted, disjoint, non-adjacent
// intervals. Exact expected sets, and properties against a brute-force
// model over small domains.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { complement, contains, fromValues, intersect, isEmpty, isSubset, size, union, values } from "../model/intervals.ts";

describe("intervals", () => {
	it("fromValues merges adjacent and repeated values", () => {
		expect(fromValues([5, 1, 2, 3, 9, 9, 10])).toEqual([
			[1, 3],
			[5, 5],
			[9, 10],
		]);
		expect(fromValues([])).toEqual([]);
	});
	it("union, intersect and complement of known sets", () => {
		expect(union([[0, 2]], [[3, 4]])).toEqual([[0, 4]]);
		expect(union([[0, 1]], [[5, 6]])).toEqual([
			[0, 1],
			[5, 6],
		]);
		expect(intersect([[0, 10]], [[5, 20]])).toEqual([[5, 10]]);
		expect(intersect([[0, 1]], [[2, 3]])).toEqual([]);
		expect(complement([[1, 3]], [0, 5])).toEqual([
			[0, 0],
			[4, 5],
		]);
		expect(complement([], [0, 0xffff])).toEqual([[0, 0xffff]]);
		expect(complement([[0, 0xffff]], [0, 0xffff])).toEqual([]);
	});
	it("membership, subsets and sizes", () => {
		expect(contains([[4, 4]], 4)).toBe(true);
		expect(contains([[4, 4]], 5)).toBe(false);
		expect(isSubset([[2, 3]], [[0, 9]])).toBe(true);
		expect(isSubset([[2, 30]], [[0, 9]])).toBe(false);
		expect(size([[0, 9], [20, 20]])).toBe(11);
		expect(isEmpty([])).toBe(true);
		expect(values([[1, 3]])).toEqual([1, 2, 3]);
	});
	it("every operation agrees with sets of numbers (domain 0..40)", () => {
		const set = fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 30 });
		fc.assert(
			fc.property(set, set, (a, b) => {
				const A = fromValues(a);
				const B = fromValues(b);
				const sa = new Set(a);
				const sb = new Set(b);
				const all = Array.from({ length: 41 }, (_, i) => i);
				expect(values(union(A, B))).toEqual(all.filter((v) => sa.has(v) || sb.has(v)));
				expect(values(intersect(A, B))).toEqual(all.filter((v) => sa.has(v) && sb.has(v)));
				expect(values(complement(A, [0, 40]))).toEqual(all.filter((v) => !sa.has(v)));
				expect(isSubset(A, B)).toBe(a.every((v) => sb.has(v)));
				for (const v of all) expect(contains(A, v)).toBe(sa.has(v));
			}),
			{ numRuns: 300 },
		);
	});
});
