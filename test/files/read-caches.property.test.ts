/**
 * Random reads, seeks, readIntos and readlines with random block sizes, for every cache type,
 * over the memory backend and over real files (LocalFileSystem on a temp dir): every answer
 * must equal the same operation on the reference bytes.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isFsError, LocalFileSystem, MemoryFileSystem, type AbstractFileSystem, type BufferedFile } from "../../src/index.js";
import { patterned } from "./support.js";

const CACHES = ["none", "readahead", "bytes", "blockcache", "first", "parts", "all", "background"] as const;
const SIZES = [0, 1, 777, 10_000, 65_537];

type Op =
  | { op: "read"; n: number }
  | { op: "readInto"; n: number }
  | { op: "readline" }
  | { op: "seek"; offset: number; whence: 0 | 1 | 2 }
  | { op: "tell" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("read" as const), n: fc.integer({ min: -1, max: 20_000 }) }),
  fc.record({ op: fc.constant("readInto" as const), n: fc.integer({ min: 0, max: 20_000 }) }),
  fc.record({ op: fc.constant("readline" as const) }),
  fc.record({
    op: fc.constant("seek" as const),
    offset: fc.integer({ min: -70_000, max: 70_000 }),
    whence: fc.constantFrom(0 as const, 1 as const, 2 as const),
  }),
  fc.record({ op: fc.constant("tell" as const) }),
);

/** Split the file into parts at random points, for the parts cache (it must know every byte). */
function partsOf(data: Uint8Array, cuts: number[]): Array<[number, Uint8Array]> {
  const points = [...new Set([0, ...cuts.map((c) => c % (data.byteLength + 1)), data.byteLength])].sort((a, b) => a - b);
  const out: Array<[number, Uint8Array]> = [];
  for (let i = 0; i + 1 < points.length; i++) out.push([points[i]!, data.slice(points[i]!, points[i + 1]!)]);
  return out;
}

/** Run `ops` on `f` and on a model of the reference bytes, comparing every answer. */
async function check(f: BufferedFile, ref: Uint8Array, ops: Op[]): Promise<void> {
  let pos = 0;
  for (const o of ops) {
    if (o.op === "read") {
      const got = await f.read(o.n);
      const end = o.n < 0 ? ref.byteLength : Math.min(ref.byteLength, pos + o.n);
      expect(Buffer.from(got).equals(ref.subarray(Math.min(pos, end), end))).toBe(true);
      pos = Math.max(pos, end);
    } else if (o.op === "readInto") {
      const target = new Uint8Array(o.n);
      const n = await f.readInto(target);
      const end = Math.min(ref.byteLength, pos + o.n);
      const want = ref.subarray(Math.min(pos, end), end);
      expect(n).toBe(want.byteLength);
      expect(Buffer.from(target.subarray(0, n)).equals(want)).toBe(true);
      pos = Math.max(pos, end);
    } else if (o.op === "readline") {
      const got = await f.readline();
      const from = Math.min(pos, ref.byteLength);
      const nl = ref.indexOf(10, from);
      const end = nl < 0 ? ref.byteLength : nl + 1;
      expect(Buffer.from(got).equals(ref.subarray(from, end))).toBe(true);
      pos = Math.max(pos, end);
    } else if (o.op === "seek") {
      const base = o.whence === 0 ? 0 : o.whence === 1 ? pos : ref.byteLength;
      const next = base + o.offset;
      if (next < 0) {
        let code: string | undefined;
        try {
          f.seek(o.offset, o.whence);
        } catch (err) {
          code = isFsError(err) ? err.code : "not an FsError";
        }
        expect(code).toBe("EINVAL");
      } else {
        expect(f.seek(o.offset, o.whence)).toBe(next);
        pos = next;
      }
    } else {
      expect(f.tell()).toBe(pos);
    }
  }
  expect(f.tell()).toBe(pos);
}

const backends: Array<{ name: string; make: () => Promise<{ fs: AbstractFileSystem; root: string; done: () => Promise<void> }> }> = [
  {
    name: "memory",
    make: async () => ({ fs: new MemoryFileSystem({ store: "private" }), root: "/prop", done: async () => {} }),
  },
  {
    name: "file",
    make: async () => {
      const dir = await mkdtemp(join(tmpdir(), "fsspec-cache-prop-"));
      return { fs: new LocalFileSystem(), root: dir, done: () => rm(dir, { recursive: true, force: true }) };
    },
  },
];

for (const backend of backends) {
  describe(`read caches over ${backend.name}: random operations agree with the reference bytes`, () => {
    let fs: AbstractFileSystem;
    let root: string;
    let done: () => Promise<void>;
    const refs = SIZES.map((n, i) => patterned(n, i + 7));

    beforeAll(async () => {
      ({ fs, root, done } = await backend.make());
      for (const [i, ref] of refs.entries()) await fs.pipeFile(`${root}/f${i}`, ref);
    });
    afterAll(async () => {
      await done();
    });

    for (const cacheType of CACHES) {
      it(cacheType, async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.nat({ max: SIZES.length - 1 }),
            fc.integer({ min: 1, max: 5000 }),
            fc.integer({ min: 1, max: 4 }),
            fc.array(fc.nat(), { maxLength: 6 }),
            fc.array(opArb, { minLength: 1, maxLength: 25 }),
            async (fileIndex, blockSize, maxBlocks, cuts, ops) => {
              const ref = refs[fileIndex]!;
              const cacheOptions = cacheType === "parts" ? { data: partsOf(ref, cuts) } : { maxBlocks };
              const f = await fs.open(`${root}/f${fileIndex}`, "rb", { cacheType, blockSize, cacheOptions });
              try {
                await check(f, ref, ops);
                if (cacheType === "parts") expect(f.cacheStats.fetches).toBe(0);
              } finally {
                await f.close();
              }
            },
          ),
          { numRuns: 60 },
        );
      });
    }
  });
}
