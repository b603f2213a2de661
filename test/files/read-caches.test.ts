/**
 * Every read cache driven by a scripted access pattern over a 100-byte file with 10-byte
 * blocks: exact hits, misses, fetches (with the ranges asked of the backend) and bytes
 * requested, plus the bytes returned against the reference.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FsError, LocalFileSystem, MemoryFileSystem, makeReadCache, readCacheNames, registerReadCache, ReadCache } from "../../src/index.js";
import { BlockCache } from "../../src/files/read-caches.js";
import { errorOf } from "../support/errors.js";
import { deferred, patterned, recordingFetcher, settle } from "./support.js";

const data = patterned(100);

function cacheOver(name: string, options?: Record<string, unknown>) {
  const { fetcher, calls } = recordingFetcher(data);
  const cache = makeReadCache(name, { blockSize: 10, size: data.byteLength, fetcher, options });
  /** Read [start, end) and check the bytes against the reference. */
  const read = async (start: number, end: number) => {
    const out = await cache.read(start, end);
    expect(Array.from(out)).toEqual(Array.from(data.subarray(start, end)));
  };
  return { cache, calls, read };
}

describe("read caches: scripted access patterns", () => {
  it("none: every read is one fetch of exactly what was asked", async () => {
    const { cache, calls, read } = cacheOver("none");
    await read(0, 5);
    await read(5, 10);
    await read(0, 5);
    expect(cache.stats).toEqual({ hits: 0, misses: 3, fetches: 3, bytesRequested: 15 });
    expect(calls).toEqual([[0, 5], [5, 10], [0, 5]]);
  });

  it("readahead: the request plus one block; a read running past the buffer fetches only the rest", async () => {
    const { cache, calls, read } = cacheOver("readahead");
    await read(0, 5); // miss: [0, 15)
    await read(5, 10); // hit
    await read(10, 15); // hit
    await read(12, 20); // miss: keeps 12..15, fetches [15, 30)
    await read(20, 25); // hit
    await read(0, 3); // miss: behind the buffer, [0, 13)
    await read(95, 100); // miss: clipped at the end of the file
    expect(calls).toEqual([[0, 15], [15, 30], [0, 13], [95, 100]]);
    expect(cache.stats).toEqual({ hits: 3, misses: 4, fetches: 4, bytesRequested: 48 });
  });

  it("readahead take() over owned fetches: hands over buffer memory and forgets it", async () => {
    const { fetcher, calls } = recordingFetcher(data);
    const cache = makeReadCache("readahead", { blockSize: 10, size: 100, fetcher, ownedFetches: true });
    const a = await cache.take(0, 5); // miss: [0, 15)
    const b = await cache.take(5, 10); // hit, a view of the same fetched buffer
    expect(b.buffer).toBe(a.buffer);
    a.fill(0);
    b.fill(0);
    expect(Array.from(await cache.take(10, 15))).toEqual(Array.from(data.subarray(10, 15))); // hit
    expect(Array.from(await cache.take(5, 8))).toEqual(Array.from(data.subarray(5, 8))); // handed out before: a miss
    expect(calls).toEqual([[0, 15], [5, 18]]);
    expect(cache.stats).toEqual({ hits: 2, misses: 2, fetches: 2, bytesRequested: 28 });
  });

  it("none take() over owned fetches hands over the fetched memory itself", async () => {
    const fetched: Uint8Array[] = [];
    const cache = makeReadCache("none", {
      blockSize: 10,
      size: 100,
      ownedFetches: true,
      fetcher: async (s, e) => {
        fetched.push(data.slice(s, e));
        return fetched[fetched.length - 1]!;
      },
    });
    expect(await cache.take(3, 9)).toBe(fetched[0]);
  });

  it("take() without owned fetches is a copy and forgets nothing", async () => {
    for (const name of readCacheNames().filter((n) => n !== "parts" && !n.startsWith("test-"))) {
      const { cache, calls } = cacheOver(name);
      const a = await cache.take(0, 5);
      a.fill(0);
      expect(Array.from(await cache.take(0, 5)), name).toEqual(Array.from(data.subarray(0, 5)));
      if (name !== "none") expect(calls.filter(([s]) => s === 0), name).toHaveLength(1); // served again from the cache
    }
  });

  it("bytes: one window extended forward, trimmed to a block behind the read", async () => {
    const { cache, calls, read } = cacheOver("bytes");
    await read(0, 5); // miss: window [0, 15)
    await read(5, 10); // hit
    await read(12, 20); // miss: extend with [15, 30); window becomes [2, 30)
    await read(2, 4); // hit: still in the window
    await read(0, 2); // miss: before the window, [0, 12)
    await read(40, 45); // miss: past the window, [40, 55)
    await read(55, 60); // miss: starts at the window's end, extend with [55, 70); window [45, 70)
    await read(44, 46); // miss: byte 44 was trimmed, [44, 56)
    expect(calls).toEqual([[0, 15], [15, 30], [0, 12], [40, 55], [55, 70], [44, 56]]);
    expect(cache.stats).toEqual({ hits: 2, misses: 6, fetches: 6, bytesRequested: 84 });
  });

  it("blockcache: per-block counts, runs of missing blocks in one request, LRU of maxBlocks", async () => {
    const { cache, calls, read } = cacheOver("blockcache", { maxBlocks: 3 });
    await read(0, 5); // block 0 miss
    await read(5, 25); // block 0 hit, blocks 1-2 missing: one request [10, 30)
    await read(0, 30); // blocks 0-2 hit
    await read(35, 36); // block 3 miss, evicts block 0 (least recently used)
    await read(0, 1); // block 0 miss again, evicts block 1
    await read(95, 100); // block 9 miss, evicts block 2
    expect(calls).toEqual([[0, 10], [10, 30], [30, 40], [0, 10], [90, 100]]);
    expect(cache.stats).toEqual({ hits: 4, misses: 6, fetches: 5, bytesRequested: 60 });
    expect((cache as BlockCache).cachedBlocks).toEqual([0, 3, 9]);
  });

  it("blockcache: concurrent reads of one block share a fetch", async () => {
    const { cache, calls, read } = cacheOver("blockcache");
    await Promise.all([read(0, 4), read(3, 8), read(6, 10)]);
    expect(calls).toEqual([[0, 10]]);
    expect(cache.stats).toEqual({ hits: 2, misses: 1, fetches: 1, bytesRequested: 10 });
  });

  it("first: block 0 kept; a read is a hit only when block 0 alone serves it", async () => {
    const { cache, calls, read } = cacheOver("first");
    await read(0, 5); // miss: fetch block 0
    await read(2, 8); // hit
    await read(5, 15); // miss: block 0 plus [10, 15)
    await read(20, 30); // miss: outside block 0, not kept
    await read(0, 10); // hit
    expect(calls).toEqual([[0, 10], [10, 15], [20, 30]]);
    expect(cache.stats).toEqual({ hits: 2, misses: 3, fetches: 3, bytesRequested: 25 });
  });

  it("all: the whole file on the first read, hits afterwards", async () => {
    const { cache, calls, read } = cacheOver("all");
    await read(10, 20);
    await read(0, 100);
    await read(50, 51);
    expect(calls).toEqual([[0, 100]]);
    expect(cache.stats).toEqual({ hits: 2, misses: 1, fetches: 1, bytesRequested: 100 });
  });

  it("all: given data is used without fetching, and must be the file's size", async () => {
    const { fetcher, calls } = recordingFetcher(data);
    const cache = makeReadCache("all", { blockSize: 10, size: 100, fetcher, options: { data } });
    expect(Array.from(await cache.read(40, 60))).toEqual(Array.from(data.subarray(40, 60)));
    expect(calls).toEqual([]);
    expect(cache.stats).toEqual({ hits: 1, misses: 0, fetches: 0, bytesRequested: 0 });
    expect(() => makeReadCache("all", { blockSize: 10, size: 100, fetcher, options: { data: data.subarray(0, 50) } })).toThrow(FsError);
  });

  it("parts: known ranges (touching ones joined) are served, never fetched; others are an error", async () => {
    const parts: Array<[number, Uint8Array]> = [
      [50, data.subarray(50, 60)],
      [10, data.subarray(10, 20)],
      [0, data.subarray(0, 10)],
      [15, data.subarray(15, 25)], // overlaps the part at 10
    ];
    const before = parts.map(([o]) => o);
    const { cache, calls, read } = cacheOver("parts", { data: parts });
    await read(5, 15); // across the seam at 10
    await read(18, 25); // across the overlap
    await read(50, 60);
    const err = await errorOf(cache.read(55, 65));
    expect(err.code).toBe("EIO");
    expect(calls).toEqual([]);
    expect(cache.stats).toEqual({ hits: 3, misses: 1, fetches: 0, bytesRequested: 0 });
    expect(parts.map(([o]) => o)).toEqual(before); // the caller's list is left alone
  });

  it("parts: an object of offset -> bytes works too", async () => {
    const { cache, read } = cacheOver("parts", { data: { 0: data.subarray(0, 30), 30: data.subarray(30, 40) } });
    await read(25, 35);
    expect(cache.stats.hits).toBe(1);
  });

  it("background: blockcache plus a fetch of the next block after each read", async () => {
    const { cache, calls, read } = cacheOver("background");
    await read(0, 5); // block 0 miss; prefetch block 1
    await settle();
    await read(10, 15); // block 1 hit (prefetched); prefetch block 2
    await settle();
    await read(40, 45); // block 4 miss; prefetch block 5
    await settle();
    await read(95, 100); // block 9 miss; no block 10 to prefetch
    await settle();
    expect(calls).toEqual([[0, 10], [10, 20], [20, 30], [40, 50], [50, 60], [90, 100]]);
    expect(cache.stats).toEqual({ hits: 1, misses: 3, fetches: 6, bytesRequested: 60 });
  });

  /** A background cache whose fetch of block 1 waits for `gate` (and fails once if asked). */
  function gatedBackground(failOnce: boolean) {
    const gate = deferred();
    const calls: Array<[number, number]> = [];
    let fail = failOnce;
    const cache = makeReadCache("background", {
      blockSize: 10,
      size: 100,
      fetcher: async (s, e) => {
        calls.push([s, e]);
        if (s === 10 && (fail || !failOnce)) {
          await gate.promise;
          if (fail) {
            fail = false;
            throw new FsError("EIO", "flaky");
          }
        }
        return data.slice(s, e);
      },
    });
    return { cache, calls, gate };
  }

  it("background: a read waits for the block being prefetched instead of fetching it again", async () => {
    const { cache, calls, gate } = gatedBackground(false);
    await cache.read(0, 10);
    const pending = cache.read(10, 20); // block 1 is in flight
    gate.resolve();
    expect(Array.from(await pending)).toEqual(Array.from(data.subarray(10, 20)));
    expect(calls.filter(([s]) => s === 10)).toHaveLength(1);
    expect(cache.stats.hits).toBe(1);
  });

  it("background: a failed prefetch does not fail the read that needs the block", async () => {
    const { cache, calls, gate } = gatedBackground(true);
    await cache.read(0, 10); // prefetch of block 1 starts and will fail
    const pending = cache.read(10, 20); // waits for the prefetch, then fetches again
    gate.resolve();
    expect(Array.from(await pending)).toEqual(Array.from(data.subarray(10, 20)));
    expect(calls.filter(([s]) => s === 10)).toHaveLength(2);
    // The block the read used came from its own fetch: a miss, not a hit.
    expect(cache.stats.misses).toBe(2);
    expect(cache.stats.hits).toBe(0);
  });

  it("background: blocks landing after clear() (file closed) are not kept", async () => {
    const gate = deferred();
    const cache = makeReadCache("background", {
      blockSize: 10,
      size: 100,
      fetcher: async (s, e) => {
        if (s === 10) await gate.promise;
        return data.slice(s, e);
      },
    }) as BlockCache;
    await cache.read(0, 10);
    cache.clear();
    gate.resolve();
    await settle();
    expect(cache.cachedBlocks).toEqual([]);
  });
});

describe("read caches: wrong answers from the backend", () => {
  for (const name of ["none", "readahead", "bytes", "blockcache", "first", "all", "background"]) {
    it(`${name}: a short fetch is an EIO error, never padded`, async () => {
      const cache = makeReadCache(name, { blockSize: 10, size: 100, fetcher: async (s, e) => data.slice(s, Math.max(s, e - 1)) });
      const err = await errorOf(cache.read(0, 5));
      expect(err.code).toBe("EIO");
      expect(err.message).toMatch(/returned \d+ bytes instead of \d+/);
    });

    it(`${name}: a long fetch is an EIO error too`, async () => {
      const cache = makeReadCache(name, { blockSize: 10, size: 100, fetcher: async (s, e) => patterned(e - s + 1) });
      expect((await errorOf(cache.read(0, 5))).code).toBe("EIO");
    });
  }

  it("a local file shorter than the size given at open reports EIO, not padding", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fsspec-caches-"));
    try {
      const fs = new LocalFileSystem();
      await fs.pipeFile(`${dir}/f`, data);
      const f = await fs.open(`${dir}/f`, "rb", { size: 120, blockSize: 50, cacheType: "none" });
      expect(Array.from(await f.read(100))).toEqual(Array.from(data));
      expect((await errorOf(f.read(10))).code).toBe("EIO");
      const g = await fs.open(`${dir}/f`, "rb", { size: 120, blockSize: 50 });
      g.seek(90);
      // readahead asks for [90, 120): the backend's 10 bytes are not taken as the answer.
      expect((await errorOf(g.read(10))).code).toBe("EIO");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("read cache registry", () => {
  it("lists the built-in caches and refuses unknown names with EINVAL", async () => {
    expect(readCacheNames()).toEqual(expect.arrayContaining(["none", "readahead", "bytes", "blockcache", "first", "parts", "all", "background"]));
    const fs = new MemoryFileSystem({ store: "private" });
    await fs.pipeFile("/f", data);
    expect((await errorOf(fs.open("/f", "rb", { cacheType: "nope" }))).code).toBe("EINVAL");
  });

  it("registers a cache by name; a second registration needs clobber", async () => {
    class EveryOther extends ReadCache {
      async read(start: number, end: number): Promise<Uint8Array> {
        this.stats.misses++;
        return this.fetch(start, end);
      }
    }
    registerReadCache("test-every-other", EveryOther);
    expect(() => registerReadCache("test-every-other", EveryOther)).toThrow(/already registered/);
    registerReadCache("test-every-other", EveryOther, { clobber: true });
    const fs = new MemoryFileSystem({ store: "private" });
    await fs.pipeFile("/f", data);
    const f = await fs.open("/f", "rb", { cacheType: "test-every-other" });
    expect(Array.from(await f.read(7))).toEqual(Array.from(data.subarray(0, 7)));
    expect(f.cacheType).toBe("test-every-other");
    expect(f.cacheStats).toEqual({ hits: 0, misses: 1, fetches: 1, bytesRequested: 7 });
  });

  it("the file exposes its cache's name and counters; default readahead with 5 MiB blocks", async () => {
    const fs = new MemoryFileSystem({ store: "private" });
    await fs.pipeFile("/f", data);
    const f = await fs.open("/f");
    expect(f.cacheType).toBe("readahead");
    expect(f.blockSize).toBe(5 * 2 ** 20);
    await f.read(10);
    await f.read(10);
    expect(f.cacheStats).toEqual({ hits: 1, misses: 1, fetches: 1, bytesRequested: 100 });
    const g = await fs.open("/f", "rb", { cacheType: "blockcache", blockSize: 16, cacheOptions: { maxBlocks: 2 } });
    await g.read(40);
    expect(g.cacheType).toBe("blockcache");
    expect(g.cacheStats).toEqual({ hits: 0, misses: 3, fetches: 1, bytesRequested: 48 });
  });
});
