/** coalesceRanges (which ranges share a request) and sliceMerged (cutting the answer apart). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { coalesceRanges } from "../../src/index.js";
import { DEFAULT_MAX_BLOCK, DEFAULT_MAX_GAP, sliceMerged, type ByteRange } from "../../src/files/coalesce.js";

const r = (start: number, end: number): ByteRange => ({ start, end });
const plan = (ranges: ByteRange[], maxGap?: number, maxBlock?: number) =>
  coalesceRanges(ranges, maxGap, maxBlock).map((m) => [m.start, m.end, m.members]);

describe("coalesceRanges", () => {
  it("defaults: 1 MiB gap, 256 MiB block", () => {
    expect(DEFAULT_MAX_GAP).toBe(2 ** 20);
    expect(DEFAULT_MAX_BLOCK).toBe(256 * 2 ** 20);
    expect(plan([r(0, 10), r(10 + 2 ** 20, 2 ** 21)])).toEqual([[0, 2 ** 21, [0, 1]]]);
    expect(plan([r(0, 10), r(11 + 2 ** 20, 2 ** 21)])).toEqual([[0, 10, [0]], [11 + 2 ** 20, 2 ** 21, [1]]]);
  });

  it.each([
    ["a gap equal to maxGap merges", [r(0, 10), r(15, 20)], 5, undefined, [[0, 20, [0, 1]]]],
    ["a gap one over maxGap does not", [r(0, 10), r(16, 20)], 5, undefined, [[0, 10, [0]], [16, 20, [1]]]],
    ["touching ranges merge", [r(0, 10), r(10, 20)], 1, undefined, [[0, 20, [0, 1]]]],
    ["overlaps merge (no gap)", [r(0, 10), r(5, 15)], 1, undefined, [[0, 15, [0, 1]]]],
    ["a range inside another merges without growing it", [r(0, 20), r(5, 10)], 1, undefined, [[0, 20, [0, 1]]]],
    ["duplicates merge", [r(3, 7), r(3, 7)], 1, undefined, [[3, 7, [0, 1]]]],
    ["out-of-order input is sorted; members name input indexes", [r(50, 60), r(0, 10), r(20, 30)], 20, undefined, [[0, 60, [1, 2, 0]]]],
    ["maxGap 0 disables merging, even of overlaps", [r(0, 10), r(10, 20), r(5, 8)], 0, undefined, [[0, 10, [0]], [5, 8, [2]], [10, 20, [1]]]],
    ["maxBlock caps a merged request", [r(0, 10), r(10, 20), r(20, 30)], 5, 20, [[0, 20, [0, 1]], [20, 30, [2]]]],
    ["a single range larger than maxBlock is still one request", [r(0, 100), r(100, 110)], 5, 50, [[0, 100, [0]], [100, 110, [1]]]],
    ["a range inside an oversized request joins it", [r(0, 100), r(20, 30)], 5, 50, [[0, 100, [0, 1]]]],
    ["maxBlock counts the gap bytes too", [r(0, 10), r(30, 40)], 100, 39, [[0, 10, [0]], [30, 40, [1]]]],
    ["empty ranges ride along", [r(0, 10), r(12, 12), r(14, 20)], 2, undefined, [[0, 20, [0, 1, 2]]]],
    ["no ranges, no requests", [], 1, undefined, []],
  ] as Array<[string, ByteRange[], number, number | undefined, unknown[]]>)("%s", (_name, ranges, maxGap, maxBlock, expected) => {
    expect(plan(ranges, maxGap, maxBlock)).toEqual(expected);
  });

  it("property: every range is inside exactly one request; requests are disjoint, sorted and within bounds", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 1000 }), fc.nat({ max: 200 })), { maxLength: 40 }),
        fc.nat({ max: 100 }),
        fc.integer({ min: 1, max: 500 }),
        (pairs, maxGap, maxBlock) => {
          const ranges = pairs.map(([s, n]) => r(s, s + n));
          const merged = coalesceRanges(ranges, maxGap, maxBlock);
          const seen = merged.flatMap((m) => m.members).sort((a, b) => a - b);
          expect(seen).toEqual(ranges.map((_, i) => i));
          for (const m of merged) {
            for (const i of m.members) {
              expect(ranges[i]!.start).toBeGreaterThanOrEqual(m.start);
              expect(ranges[i]!.end).toBeLessThanOrEqual(m.end);
            }
            // Merging never makes a request larger than maxBlock (one range may be larger itself).
            const largest = Math.max(...m.members.map((i) => ranges[i]!.end - ranges[i]!.start));
            expect(m.end - m.start).toBeLessThanOrEqual(Math.max(maxBlock, largest));
          }
          for (let k = 1; k < merged.length; k++) {
            expect(merged[k]!.start).toBeGreaterThanOrEqual(merged[k - 1]!.start);
            if (maxGap > 0) expect(merged[k]!.start - merged[k - 1]!.end > maxGap || merged[k]!.end - merged[k - 1]!.start > maxBlock).toBe(true);
          }
        },
      ),
    );
  });
});

describe("sliceMerged", () => {
  const data = Uint8Array.from({ length: 100 }, (_, i) => i);

  it("dense requests hand back views into the fetched buffer, in member order", () => {
    const ranges = [r(40, 50), r(0, 30), r(30, 40)];
    const [m] = coalesceRanges(ranges, 1);
    const out = sliceMerged(m!, ranges, data.subarray(0, 50));
    expect(out.map((b) => [b[0], b.byteLength])).toEqual([[0, 30], [30, 10], [40, 10]]);
    for (const b of out) expect(b.buffer).toBe(data.buffer);
  });

  it("overlapping members: the later one is a copy, so no two results share bytes", () => {
    const ranges = [r(0, 20), r(10, 30)];
    const [m] = coalesceRanges(ranges, 1);
    const [a, b] = sliceMerged(m!, ranges, data.subarray(0, 30));
    expect(a!.buffer).toBe(data.buffer);
    expect(b!.buffer).not.toBe(data.buffer);
    expect(Array.from(b!)).toEqual(Array.from(data.subarray(10, 30)));
  });

  it("mostly-gap requests copy every result, so the big buffer can be freed", () => {
    const ranges = [r(0, 5), r(90, 95)];
    const [m] = coalesceRanges(ranges, 100);
    const out = sliceMerged(m!, ranges, data.subarray(0, 95));
    for (const b of out) expect(b.buffer.byteLength).toBe(5);
    expect(out.map((b) => Array.from(b))).toEqual([[0, 1, 2, 3, 4], [90, 91, 92, 93, 94]]);
  });

  it("a short answer (file ended early) gives short or empty slices", () => {
    const ranges = [r(0, 10), r(10, 30), r(40, 50)];
    const [m] = coalesceRanges(ranges, 20);
    const out = sliceMerged(m!, ranges, data.subarray(0, 25));
    expect(out.map((b) => b.byteLength)).toEqual([10, 15, 0]);
  });
});
