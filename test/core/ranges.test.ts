import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { broadcastRanges, needsSize, planRangeJobs, resolveRange } from "../../src/core/ranges.js";

describe("range arithmetic", () => {
  it.each([
    [0, 5, 20, { start: 0, end: 5 }],
    [-5, null, 20, { start: 15, end: 20 }],
    [-5, -2, 20, { start: 15, end: 18 }],
    [15, 100, 20, { start: 15, end: 20 }],
    [100, 200, 20, { start: 20, end: 20 }],
    [10, 5, 20, { start: 10, end: 10 }],
    [-100, 2, 20, { start: 0, end: 2 }],
    [3, 9, undefined, { start: 3, end: 9 }],
  ] as const)("resolveRange(%s, %s, size %s)", (s, e, size, want) => {
    expect(resolveRange(s, e, size)).toEqual(want);
  });

  it("property: a resolved range reads what Uint8Array.slice would", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64 }), fc.option(fc.integer({ min: -80, max: 80 })), fc.option(fc.integer({ min: -80, max: 80 })), (size, s, e) => {
        const data = Uint8Array.from({ length: size }, (_, i) => i);
        const r = resolveRange(s, e, size);
        expect([...data.subarray(r.start, r.end)]).toEqual([...data.slice(s ?? 0, e ?? undefined)]);
      }),
    );
  });

  it("needsSize only for offsets from the end or an open end", () => {
    expect(needsSize(0, 10)).toBe(false);
    expect(needsSize(-1, 10)).toBe(true);
    expect(needsSize(0, null)).toBe(true);
    expect(needsSize(0, -3)).toBe(true);
  });

  it("broadcastRanges repeats scalars and rejects lists of different lengths", () => {
    expect(broadcastRanges("p", [0, 5], 9)).toEqual({ paths: ["p", "p"], starts: [0, 5], ends: [9, 9] });
    expect(broadcastRanges(["a", "b"], 0, null)).toEqual({ paths: ["a", "b"], starts: [0, 0], ends: [null, null] });
    expect(() => broadcastRanges(["a"], [0, 1], [1, 2])).toThrow(/starts has 2 entries but there are 1 ranges/);
  });

  it("planRangeJobs maps merged members back to the caller's slots", () => {
    const jobs = planRangeJobs("/f", [7, 3, 5], [{ start: 100, end: 110 }, { start: 0, end: 10 }, { start: 12, end: 20 }], 4, 1 << 20);
    expect(jobs.map((j) => [j.merged.start, j.merged.end, j.slots])).toEqual([
      [0, 20, [3, 5]],
      [100, 110, [7]],
    ]);
  });
});
