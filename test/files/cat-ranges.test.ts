/**
 * catRanges over a memory backend that counts its `_catFile` calls: which ranges share a
 * request, how many requests are made and how many at once, per-range errors, the results'
 * memory, and (property) that catFile and catRanges slice exactly like Uint8Array.slice.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FsError, LocalFileSystem, type AbstractFileSystem } from "../../src/index.js";
import { errorOf } from "../support/errors.js";
import { CountingMemoryFs, patterned } from "./support.js";

const data = patterned(1000);

async function setup(): Promise<CountingMemoryFs> {
  const fs = new CountingMemoryFs();
  await fs.pipeFile("/a", data);
  await fs.pipeFile("/b", data.subarray(0, 100));
  fs.reset();
  return fs;
}

/** Results must be Uint8Arrays equal to the reference slices. */
function expectSlices(results: Array<Uint8Array | Error>, expected: Array<[number, number]>, ref = data): void {
  expect(results).toHaveLength(expected.length);
  results.forEach((res, i) => {
    expect(res, `result ${i}`).toBeInstanceOf(Uint8Array);
    expect(Array.from(res as Uint8Array)).toEqual(Array.from(ref.slice(...expected[i]!)));
  });
}

describe("catRanges: merge decisions and fetch counts", () => {
  it("ranges within maxGap share one request; results come back in the caller's order", async () => {
    const fs = await setup();
    const out = await fs.catRanges("/a", [500, 0, 120], [510, 100, 130], { maxGap: 400 });
    expectSlices(out, [[500, 510], [0, 100], [120, 130]]);
    expect(fs.catCalls).toEqual([["/a", 0, 510]]);
  });

  it("a gap over maxGap splits requests", async () => {
    const fs = await setup();
    await fs.catRanges("/a", [0, 15], [10, 20], { maxGap: 5 });
    expect(fs.catCalls).toEqual([["/a", 0, 20]]);
    fs.reset();
    await fs.catRanges("/a", [0, 16], [10, 20], { maxGap: 5 });
    expect(fs.catCalls).toEqual([["/a", 0, 10], ["/a", 16, 20]]);
  });

  it("maxGap 0 disables merging: one request per range", async () => {
    const fs = await setup();
    const out = await fs.catRanges("/a", [0, 10, 5], [10, 20, 15], { maxGap: 0 });
    expectSlices(out, [[0, 10], [10, 20], [5, 15]]);
    expect(fs.calls.cat).toBe(3);
  });

  it("maxBlock caps merged requests", async () => {
    const fs = await setup();
    const out = await fs.catRanges("/a", [0, 100, 200, 300], [100, 200, 300, 400], { maxBlock: 250 });
    expectSlices(out, [[0, 100], [100, 200], [200, 300], [300, 400]]);
    expect(fs.catCalls).toEqual([["/a", 0, 200], ["/a", 200, 400]]);
  });

  it("overlapping and duplicate ranges are fetched once; results never share bytes", async () => {
    const fs = await setup();
    const out = (await fs.catRanges("/a", [0, 50, 50], [100, 150, 150])) as Uint8Array[];
    expectSlices(out, [[0, 100], [50, 150], [50, 150]]);
    expect(fs.calls.cat).toBe(1);
    out[1]!.fill(0);
    expectSlices([out[0]!, out[2]!], [[0, 100], [50, 150]]);
  });

  it("ranges of several files are grouped per file (one request each), in the caller's order", async () => {
    const fs = await setup();
    const out = await fs.catRanges(["/b", "/a", "/b", "/a"], [0, 0, 50, 900], [10, 10, 60, 1000]);
    expectSlices(out.slice(1, 2).concat(out.slice(3)), [[0, 10], [900, 1000]]);
    expectSlices([out[0]!, out[2]!], [[0, 10], [50, 60]], data.subarray(0, 100));
    expect(fs.calls.cat).toBe(2);
    expect(fs.catCalls.map(([p]) => p).sort()).toEqual(["/a", "/b"]);
  });

  it("dense merged results are views of one fetched buffer (no copy of the merged bytes)", async () => {
    const fs = await setup();
    const out = (await fs.catRanges("/a", [0, 100, 200], [100, 200, 300])) as Uint8Array[];
    expect(new Set(out.map((b) => b.buffer)).size).toBe(1);
    expect(out.map((b) => b.byteOffset - out[0]!.byteOffset)).toEqual([0, 100, 200]);
  });

  it("mostly-gap merged results are copies, so the fetched buffer is not pinned", async () => {
    const fs = await setup();
    const out = (await fs.catRanges("/a", [0, 990], [4, 994])) as Uint8Array[];
    expect(fs.calls.cat).toBe(1);
    for (const b of out) expect(b.buffer.byteLength).toBe(4);
  });

  it("1,000 random 4-byte ranges: one request with the default gap, 1,000 with maxGap 0", async () => {
    const fs = await setup();
    const starts = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 996);
    const ends = starts.map((s) => s + 4);
    const merged = await fs.catRanges("/a", starts, ends);
    expectSlices(merged, starts.map((s, i) => [s, ends[i]!]));
    expect(fs.calls.cat).toBe(1);
    fs.reset();
    await fs.catRanges("/a", starts, ends, { maxGap: 0 });
    expect(fs.calls.cat).toBe(1000);
  });

  it("runs at most `concurrency` requests at once (the filesystem's setting by default)", async () => {
    const fs = await setup();
    const starts = Array.from({ length: 12 }, (_, i) => i * 50);
    const ends = starts.map((s) => s + 10);
    await fs.catRanges("/a", starts, ends, { maxGap: 0, concurrency: 3 });
    expect(fs.calls.cat).toBe(12);
    expect(fs.peak).toBe(3);
    const narrow = new CountingMemoryFs({ concurrency: 2 });
    await narrow.pipeFile("/a", data);
    narrow.reset();
    await narrow.catRanges("/a", starts, ends, { maxGap: 0 });
    expect(narrow.peak).toBe(2);
  });
});

describe("catRanges: offsets and arguments", () => {
  it("negative offsets count from the end, null means the end, past the end is clipped", async () => {
    const fs = await setup();
    const out = await fs.catRanges("/a", [-10, 990, 0, 2000, 50], [null, 5000, -990, 3000, 40]);
    expectSlices(out, [[990, 1000], [990, 1000], [0, 10], [1000, 1000], [50, 50]]);
  });

  it("one path for many ranges, or many paths with one range each", async () => {
    const fs = await setup();
    expectSlices(await fs.catRanges(["/a", "/a"], 10, 20), [[10, 20], [10, 20]]);
    expect(await fs.catRanges([], [], [])).toEqual([]);
  });

  it("lists of different lengths are EINVAL; non-integer offsets are EINVAL", async () => {
    const fs = await setup();
    expect((await errorOf(fs.catRanges(["/a", "/b"], [0], [1, 2]))).code).toBe("EINVAL");
    expect((await errorOf(fs.catRanges("/a", [0.5], [1]))).code).toBe("EINVAL");
  });
});

describe("catRanges: errors per range", () => {
  it('onError "return" (the default): a missing file fails its own ranges only', async () => {
    const fs = await setup();
    const out = await fs.catRanges(["/a", "/missing", "/a", "/missing"], [0, 0, 10, -5], [5, 5, 15, null]);
    expectSlices([out[0]!, out[2]!], [[0, 5], [10, 15]]);
    expect((out[1] as FsError).code).toBe("ENOENT");
    expect((out[3] as FsError).code).toBe("ENOENT");
  });

  it('a failing request fails every range it serves; onError "omit" drops them', async () => {
    const fs = await setup();
    const out = await fs.catRanges(["/a", "/nope", "/b"], [0, 0, 0], [1, 1, 1], { onError: "omit" });
    expect(out).toHaveLength(2);
    expect(out.every((b) => b instanceof Uint8Array)).toBe(true);
  });

  it('onError "raise" rejects with the first error', async () => {
    const fs = await setup();
    expect((await errorOf(fs.catRanges(["/a", "/nope"], [0, 0], [1, 1], { onError: "raise" }))).code).toBe("ENOENT");
  });

  it("an aborted signal stops the batch", async () => {
    const fs = await setup();
    const ac = new AbortController();
    ac.abort();
    expect((await errorOf(fs.catRanges("/a", [0], [1], { signal: ac.signal }))).code).toBe("EABORT");
  });
});

/** The two files of `setup` on memory (counting) and on local disk. */
const arithmeticBackends: Array<[string, () => Promise<{ fs: AbstractFileSystem; a: string; b: string; done: () => Promise<void> }>]> = [
  ["memory", async () => ({ fs: await setup(), a: "/a", b: "/b", done: async () => {} })],
  [
    "file",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "fsspec-ranges-"));
      const fs = new LocalFileSystem();
      await fs.pipeFile(`${dir}/a`, data);
      await fs.pipeFile(`${dir}/b`, data.subarray(0, 100));
      return { fs, a: `${dir}/a`, b: `${dir}/b`, done: () => rm(dir, { recursive: true, force: true }) };
    },
  ],
];

for (const [name, make] of arithmeticBackends) {
  describe(`range arithmetic over ${name} (property): catFile and catRanges agree with Uint8Array.slice`, () => {
    const offset = fc.oneof(fc.integer({ min: -1200, max: 1200 }), fc.constant(null));

    it("catFile(path, start, end)", async () => {
      const { fs, a, done } = await make();
      try {
        await fc.assert(
          fc.asyncProperty(offset, offset, async (start, end) => {
            const got = await fs.catFile(a, start, end);
            expect(Buffer.from(got).equals(data.slice(start ?? 0, end ?? undefined))).toBe(true);
          }),
          { numRuns: 300 },
        );
      } finally {
        await done();
      }
    });

    it("catRanges(paths, starts, ends, {maxGap, maxBlock})", async () => {
      const { fs, a, b, done } = await make();
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.tuple(fc.constantFrom(a, b), offset, offset), { maxLength: 30 }),
            fc.nat({ max: 300 }),
            fc.integer({ min: 1, max: 1200 }),
            async (ranges, maxGap, maxBlock) => {
              const out = await fs.catRanges(
                ranges.map(([p]) => p),
                ranges.map(([, s]) => s),
                ranges.map(([, , e]) => e),
                { maxGap, maxBlock },
              );
              ranges.forEach(([p, s, e], i) => {
                const ref = p === a ? data : data.subarray(0, 100);
                expect(Buffer.from(out[i] as Uint8Array).equals(ref.slice(s ?? 0, e ?? undefined))).toBe(true);
              });
            },
          ),
          { numRuns: 200 },
        );
      } finally {
        await done();
      }
    });
  });
}
