/**
 * Caches under damage: a cached copy that is not what was recorded (truncated, overwritten,
 * metadata naming the wrong file) is never served, and a cache storage that runs out of space
 * keeps nothing of the failed write and stays usable for other files.
 */
import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  CachingFileSystem, LocalFileSystem, MemoryFileSystem, WholeFileCacheFileSystem,
  type AbstractFileSystem, type BlockCacheOptions, type NodeFsLike, type WholeFileCacheOptions,
} from "../../src/index.js";
import { HuggingFaceFileSystem } from "../../src/implementations/hf.js";
import { errorOf } from "../support/errors.js";
import { startHfServer, type TestHfServer } from "../../src/testing/hf-server.js";
import { QuotaMemoryFileSystem, quotaVolume } from "../support/quota-fs.js";
import { CountingMemoryFileSystem, hex, makeBytes, text } from "./support/counting.js";

const DATA = makeBytes(100, 7);

afterEach(() => {
  delete process.env.FSSPEC_TS_OFFLINE;
});

async function target(): Promise<CountingMemoryFileSystem> {
  const t = new CountingMemoryFileSystem();
  await t.pipe("/f.bin", DATA);
  t.reset();
  return t;
}

const metadataOf = async (storageFs: AbstractFileSystem, dir = "/cache") => JSON.parse(await storageFs.readText(`${dir}/cache`));

describe("filecache: a damaged copy is never served", () => {
  const setup = async (more: Partial<WholeFileCacheOptions> = {}) => {
    const t = await target();
    const storageFs = new MemoryFileSystem({ store: "private" });
    const make = (extra: Partial<WholeFileCacheOptions> = {}) =>
      new WholeFileCacheFileSystem({ fs: t, storageFs, cacheStorage: "/cache", skipInstanceCache: true, ...more, ...extra });
    const fs = make();
    await fs.catFile("/f.bin");
    const fn: string = (await metadataOf(storageFs))["/f.bin"].fn;
    t.reset();
    return { target: t, storageFs, fs, make, fn };
  };

  it("a truncated copy is downloaded again (its size is checked on every hit)", async () => {
    const { target: t, storageFs, fs, fn } = await setup();
    await storageFs.pipe(`/cache/${fn}`, DATA.subarray(0, 60));
    expect(hex(await fs.catFile("/f.bin"))).toBe(hex(DATA));
    expect(t.counts.reads).toBeGreaterThan(0);
    expect(hex(await storageFs.catFile(`/cache/${fn}`))).toBe(hex(DATA));
    const f = await fs.open("/f.bin");
    expect(f.size).toBe(100);
    await f.close();
  });

  it("offline, a truncated copy is EIO, not served short", async () => {
    const { storageFs, make, fn } = await setup();
    await storageFs.pipe(`/cache/${fn}`, DATA.subarray(0, 60));
    process.env.FSSPEC_TS_OFFLINE = "1";
    const err = await errorOf(make().catFile("/f.bin"));
    expect(err.code).toBe("EIO");
    expect(err.message).toMatch(/damaged/);
  });

  it("a copy overwritten in place with other bytes of the same size fails its sha256 and is downloaded again", async () => {
    const { target: t, storageFs, make, fn } = await setup();
    await new Promise((r) => setTimeout(r, 5));
    await storageFs.pipe(`/cache/${fn}`, new Uint8Array(100).fill(1));
    expect(hex(await make().catFile("/f.bin"))).toBe(hex(DATA));
    expect(t.counts.reads).toBeGreaterThan(0);
  });

  it("a damaged copy in a read-only layer is skipped online (fetched into the writable one) and EIO offline", async () => {
    const { target: t, storageFs, fn } = await setup();
    await storageFs.pipe(`/cache/${fn}`, DATA.subarray(0, 10));
    const layered = () => new WholeFileCacheFileSystem({ fs: t, storageFs, cacheStorage: ["/cache", "/rw"], skipInstanceCache: true });
    expect(hex(await layered().catFile("/f.bin"))).toBe(hex(DATA));
    expect(hex(await storageFs.catFile(`/cache/${fn}`))).toBe(hex(DATA.subarray(0, 10)));
    expect(Object.keys(await metadataOf(storageFs, "/rw"))).toEqual(["/f.bin"]);
    await storageFs.rm("/rw", { recursive: true });
    process.env.FSSPEC_TS_OFFLINE = "1";
    expect((await errorOf(layered().catFile("/f.bin"))).code).toBe("EIO");
  });

  for (const fn of ["cache", "../f.bin", "sub/f.bin", ".fsspec-metalock", ".fsspec-lock-0123", ".fsspec-partial-x", ".", ""]) {
    it(`metadata naming ${JSON.stringify(fn)} as the file is dropped; the real bytes are served`, async () => {
      const { storageFs, make } = await setup();
      const md = await metadataOf(storageFs);
      md["/f.bin"] = { ...md["/f.bin"], fn, size: undefined, sha256: undefined };
      await storageFs.pipe("/cache/cache", JSON.stringify(md));
      await storageFs.pipe("/f.bin", "outside the cache directory");
      await storageFs.pipe("/cache/sub/f.bin", "below the cache directory");
      // An entry lock or a temporary holds bytes too: they must not be served either (a metadata
      // lock file would be a live lock, which the next save would wait for).
      if (fn.startsWith(".fsspec-") && fn !== ".fsspec-metalock") await storageFs.pipe(`/cache/${fn}`, "a lock or a temporary");
      expect(hex(await make().catFile("/f.bin"))).toBe(hex(DATA));
      expect((await metadataOf(storageFs))["/f.bin"].fn).not.toBe(fn);
    });
  }
});

describe("blockcache: a damaged or foreign data file is never served", () => {
  const setup = async (more: Partial<BlockCacheOptions> = {}) => {
    const t = await target();
    const storageFs = new MemoryFileSystem({ store: "private" });
    const make = () => new CachingFileSystem({ fs: t, storageFs, cacheStorage: "/cache", blockSize: 10, skipInstanceCache: true, ...more });
    return { target: t, storageFs, make };
  };

  it("metadata naming the metadata file itself as a complete entry is dropped", async () => {
    const { storageFs, make } = await setup();
    await make().catFile("/f.bin", 0, 10);
    const md = await metadataOf(storageFs);
    md["/f.bin"] = { ...md["/f.bin"], fn: "cache", blocks: true };
    await storageFs.pipe("/cache/cache", JSON.stringify(md));
    expect(hex(await make().catFile("/f.bin"))).toBe(hex(DATA));
  });

  it("a complete entry whose data file is short is dropped and read again", async () => {
    const { target: t, storageFs, make } = await setup();
    await make().catFile("/f.bin");
    const { fn } = (await metadataOf(storageFs))["/f.bin"];
    await storageFs.pipe(`/cache/${fn}`, DATA.subarray(0, 55));
    t.reset();
    expect(hex(await make().catFile("/f.bin"))).toBe(hex(DATA));
    expect(t.counts.reads).toBeGreaterThan(0);
  });

  it("a data file cut short under an opened file: the read comes from the target (same version), the entry goes", async () => {
    const { storageFs, make } = await setup();
    const fs = make();
    await fs.catFile("/f.bin");
    const { fn } = (await metadataOf(storageFs))["/f.bin"];
    const f = await fs.open("/f.bin");
    await storageFs.pipe(`/cache/${fn}`, DATA.subarray(0, 55));
    f.seek(50);
    expect(hex(await f.read(20))).toBe(hex(DATA.subarray(50, 70)));
    await f.close();
    expect(await storageFs.exists(`/cache/${fn}`)).toBe(false);
  });
});

describe("cache storage out of space", () => {
  const big = makeBytes(2000, 3);
  const small = makeBytes(300, 5);
  const memfsLocal = (fs: NodeFsLike) => new LocalFileSystem({ fs });

  async function source(): Promise<CountingMemoryFileSystem> {
    const t = new CountingMemoryFileSystem();
    await t.pipe({ "/big.bin": big, "/small.bin": small });
    return t;
  }

  const storages = [
    ["memory storage", (quota: number) => {
      const fs = new QuotaMemoryFileSystem(quota);
      return { fs, files: async () => (await fs.find("/cache")).map((p) => p.slice("/cache/".length)), refused: () => fs.refused };
    }],
    ["local storage", (quota: number) => {
      const q = quotaVolume(quota);
      const fs = memfsLocal(q.fs);
      const files = () => Object.entries(q.vol.toJSON()).filter(([, content]) => content !== null);
      return { fs, files: async () => files().map(([p]) => p.slice("/cache/".length)), refused: q.refused };
    }],
  ] as const;

  for (const [name, makeStorage] of storages) {
    it(`(${name}) blockcache: the data file of a read that ran out of space is removed; other files are cached after it`, async () => {
      const t = await source();
      const storage = makeStorage(1400);
      const make = () => new CachingFileSystem({ fs: t, storageFs: storage.fs, cacheStorage: "/cache", blockSize: 500, skipInstanceCache: true });
      const fs = make();
      expect(hex(await fs.catFile("/big.bin", 0, 500))).toBe(hex(big.subarray(0, 500)));
      const err = await errorOf(fs.catFile("/big.bin", 0, 1500));
      expect(err.message).toMatch(/ENOSPC/);
      expect(storage.refused()).toBeGreaterThan(0);
      // Nothing of /big.bin is left: only the metadata (and no entry for it).
      expect((await storage.files()).filter((f) => !f.startsWith(".fsspec-"))).toEqual(["cache"]);
      expect(Object.keys(JSON.parse(await storage.fs.readText("/cache/cache")))).toEqual([]);
      expect(hex(await fs.catFile("/small.bin"))).toBe(hex(small));
      t.reset();
      expect(hex(await make().catFile("/small.bin"))).toBe(hex(small));
      expect(t.counts.reads).toBe(0);
    });

    it(`(${name}) filecache: a download that ran out of space leaves nothing; other files are cached after it`, async () => {
      const t = await source();
      const storage = makeStorage(1500);
      const make = () => new WholeFileCacheFileSystem({ fs: t, storageFs: storage.fs, cacheStorage: "/cache", skipInstanceCache: true, downloadChunkSize: 256 });
      const fs = make();
      expect((await errorOf(fs.catFile("/big.bin"))).message).toMatch(/ENOSPC/);
      expect((await storage.files()).filter((f) => !f.startsWith(".fsspec-lock-"))).toEqual([]);
      expect(hex(await fs.catFile("/small.bin"))).toBe(hex(small));
      t.reset();
      expect(hex(await make().catFile("/small.bin"))).toBe(hex(small));
      expect(t.counts.reads).toBe(0);
    });
  }

  it("filecache: a copy whose metadata cannot be saved (out of space) is removed, not left unrecorded", async () => {
    const t = await source();
    const storage = new QuotaMemoryFileSystem(2300);
    const fs = new WholeFileCacheFileSystem({ fs: t, storageFs: storage, cacheStorage: "/cache", skipInstanceCache: true });
    // The 2000 bytes fit; the metadata naming them does not.
    expect((await errorOf(fs.catFile("/big.bin"))).message).toMatch(/ENOSPC/);
    expect(storage.refused).toBeGreaterThan(0);
    expect((await storage.find("/cache")).filter((f) => !f.includes("/.fsspec-lock-"))).toEqual([]);
    expect(text(await fs.catFile("/small.bin"))).toBe(text(small));
  });
});

describe("filecache: adopting a file seeded by hand checks the digest the target states", () => {
  const WEIGHTS = makeBytes(5000, 13);
  const sha = createHash("sha256").update(WEIGHTS).digest("hex");
  let srv: TestHfServer;
  let hf: HuggingFaceFileSystem;
  beforeAll(async () => {
    srv = await startHfServer();
    srv.createRepo("org/seeded");
    srv.commit("org/seeded", { "w.bin": { data: WEIGHTS, lfs: true } });
    hf = new HuggingFaceFileSystem({ endpoint: srv.url, token: false, retryDelay: 1, skipInstanceCache: true });
  });
  afterAll(async () => {
    await hf.close();
    await srv.close();
  });
  const layer = (storageFs: AbstractFileSystem) => new WholeFileCacheFileSystem({ fs: hf, storageFs, cacheStorage: "/cache", sameNames: true, skipInstanceCache: true });

  it("a seeded file of the right size but other bytes is not adopted: it is downloaded over", async () => {
    const storageFs = new MemoryFileSystem({ store: "private" });
    await storageFs.pipe("/cache/w.bin", new Uint8Array(WEIGHTS.byteLength).fill(7));
    srv.resetCounts();
    expect(hex(await layer(storageFs).catFile("org/seeded/w.bin"))).toBe(hex(WEIGHTS));
    expect(srv.count("resolve")).toBeGreaterThan(0);
    expect(hex(await storageFs.catFile("/cache/w.bin"))).toBe(hex(WEIGHTS));
  });

  it("a seeded file with the stated sha256 is adopted without a download, its sha256 recorded", async () => {
    const storageFs = new MemoryFileSystem({ store: "private" });
    await storageFs.pipe("/cache/w.bin", WEIGHTS);
    srv.resetCounts();
    expect(hex(await layer(storageFs).catFile("org/seeded/w.bin"))).toBe(hex(WEIGHTS));
    expect(srv.count("resolve")).toBe(0);
    expect((await metadataOf(storageFs))["org/seeded/w.bin"]).toMatchObject({ size: WEIGHTS.byteLength, sha256: sha });
  });
});
