// dealLongestFirst(): how the scenarios of one run are dealt to the VMs
// booted side by side (no VM here).
import { describe, expect, it } from "vitest";
import { dealLongestFirst } from "./scenario.ts";

describe("dealLongestFirst", () => {
	it("gives the longest item a VM of its own and keeps the given order within each", () => {
		const items = ["a:2", "b:2", "c:60", "d:7", "e:2", "f:7"];
		const cost = (s: string) => Number(s.split(":")[1]);
		const lists = dealLongestFirst(items, 2, cost);
		expect(lists).toEqual([["c:60"], ["a:2", "b:2", "d:7", "e:2", "f:7"]]);
		expect(lists.flat().sort()).toEqual([...items].sort());
	});
	it("balances equal costs and leaves out empty lists", () => {
		expect(dealLongestFirst([1, 2, 3, 4], 2, () => 1)).toEqual([
			[1, 3],
			[2, 4],
		]);
		expect(dealLongestFirst(["only"], 2, () => 5)).toEqual([["only"]]);
		expect(dealLongestFirst([], 2, () => 1)).toEqual([]);
	});
	it("refuses a group count that is not a positive integer", () => {
		expect(() => dealLongestFirst([1], 0, () => 1)).toThrow(/positive integer/);
		expect(() => dealLongestFirst([1], 1.5, () => 1)).toThrow(/positive integer/);
	});
});
