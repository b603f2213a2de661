/** blockcache over memory targets: blocks fetched once, in runs, shared and merged across instances. */
import { createFsFromVolume, Volume } from "memfs";
import { afterEach, describe, expect, it } from "vitest";
import { CachingFileSystem, DirFileSystem, LocalFileSystem, MemoryFileSystem, type AbstractFileSystem, type BlockCacheOptions, type NodeFsLike } from "../../src/index.js";
import { errorOf } from "../support/errors.js";
import { CountingMemoryFileSystem, hex, makeBytes, text } from "./support/counting.js";

const DATA = makeBytes(100, 7);

async function setup(options: Partial<BlockCacheOptions> = {}, storageFs: AbstractFileSystem = new MemoryFileSystem({ store: "private" })) {
  const target = new CountingMemoryFileSystem();
  await target.pipe("/f.bin", DATA);
  target.reset();
  const make = (more: Partial<BlockCacheOptions> = {}) =>
    new CachingFileSystem({ fs: target, storageFs, cacheStorage: "/cache", blockSize: 10, ...options, ...more });
  return { target, storageFs, fs: make(), make };
}

const slice = (s: number, e: number) => hex(DATA.subarray(s, e));
const entryOf = async (storageFs: AbstractFileSystem, path = "/f.bin") => JSON.parse(await storageFs.readText("/cache/cache"))[path];

afterEach(() => {
  delete process.env.FSSPEC_TS_OFFLINE;
});

describe("blockcache", () => {
  it("fetches the missing blocks of a read in one request and never again", async () => {
    const { target, storageFs, fs } = await setup();
    expect(hex(await fs.catFile("/f.bin", 5, 35))).toBe(slice(5, 35));
    expect(target.counts).toMatchObject({ reads: 1, bytes: 40 });
    expect(hex(await fs.catFile("/f.bin", 0, 40))).toBe(slice(0, 40));
    expect(target.counts.reads).toBe(1);
    expect(hex(await fs.catFile("/f.bin", 30, 75))).toBe(slice(30, 75));
    expect(target.counts).toMatchObject({ reads: 2, bytes: 80 });
    expect((await entryOf(storageFs)).blocks).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(hex(await fs.catFile("/f.bin"))).toBe(slice(0, 100));
    expect(target.counts).toMatchObject({ reads: 3, bytes: 100 });
    expect(await entryOf(storageFs)).toMatchObject({ original: "/f.bin", blocks: true, size: 100, blocksize: 10, uid: null });
    target.reset();
    expect(hex(await fs.catFile("/f.bin", -3))).toBe(slice(97, 100));
    expect(target.counts.reads).toBe(0);
  });

  it("separate runs of missing blocks become separate ranged requests in one catRanges", async () => {
    const { target, fs } = await setup();
    await fs.catFile("/f.bin", 20, 40);
    target.reset();
    expect(hex(await fs.catFile("/f.bin", 0, 60))).toBe(slice(0, 60));
    expect(target.counts).toMatchObject({ reads: 2, bytes: 40 });
  });

  it("concurrent readers of the same blocks share one fetch", async () => {
    const { target, fs } = await setup();
    const got = await Promise.all(Array.from({ length: 6 }, () => fs.catFile("/f.bin", 0, 50)));
    expect(new Set(got.map(hex))).toEqual(new Set([slice(0, 50)]));
    expect(target.counts).toMatchObject({ reads: 1, bytes: 50 });
  });

  it("opened files read through the cached blocks; a second pass makes no request", async () => {
    const { target, fs } = await setup();
    const offsets = [93, 4, 55, 17, 71, 38, 0, 88];
    const pass = async () => {
      const f = await fs.open("/f.bin");
      const out: string[] = [];
      for (const off of offsets) {
        f.seek(off);
        out.push(hex(await f.read(7)));
      }
      await f.close();
      return out;
    };
    expect(await pass()).toEqual(offsets.map((o) => slice(o, Math.min(100, o + 7))));
    const first = target.counts.reads;
    expect(first).toBeGreaterThan(0);
    expect(await pass()).toEqual(offsets.map((o) => slice(o, Math.min(100, o + 7))));
    expect(target.counts.reads).toBe(first);
  });

  it("another instance (a later process) reuses the blocks, and both instances' blocks are merged", async () => {
    const { target, storageFs, fs, make } = await setup();
    await fs.catFile("/f.bin", 0, 20);
    const other = make({ skipInstanceCache: true });
    target.reset();
    expect(hex(await other.catFile("/f.bin", 0, 20))).toBe(slice(0, 20));
    expect(target.counts.reads).toBe(0);
    await other.catFile("/f.bin", 50, 60);
    await fs.catFile("/f.bin", 80, 90);
    expect((await entryOf(storageFs)).blocks).toEqual([0, 1, 5, 8]);
  });

  it("checkFiles starts a new entry (and data file) when the remote changes", async () => {
    const { target, storageFs, fs } = await setup({ checkFiles: true });
    await fs.catFile("/f.bin", 0, 10);
    const oldFn = (await entryOf(storageFs)).fn;
    await target.pipe("/f.bin", "changed content");
    expect(text(await fs.catFile("/f.bin", 0, 7))).toBe("changed");
    const entry = await entryOf(storageFs);
    expect(entry.fn).not.toBe(oldFn);
    expect(entry.size).toBe(15);
    expect(await storageFs.exists(`/cache/${oldFn}`)).toBe(false);
  });

  it("expired entries are fetched again", async () => {
    const { target, storageFs, fs, make } = await setup({ expiryMs: 60_000 });
    await fs.catFile("/f.bin", 0, 10);
    const md = JSON.parse(await storageFs.readText("/cache/cache"));
    md["/f.bin"].time -= 3600;
    await storageFs.pipe("/cache/cache", JSON.stringify(md));
    target.reset();
    await make({ skipInstanceCache: true }).catFile("/f.bin", 0, 10);
    expect(target.counts.reads).toBe(1);
  });

  it("offline: cached blocks are served, others are ENOENT, the target is untouched", async () => {
    const { target, fs, make } = await setup();
    await fs.catFile("/f.bin", 0, 30);
    target.reset();
    process.env.FSSPEC_TS_OFFLINE = "1";
    const off = make({ skipInstanceCache: true });
    expect(hex(await off.catFile("/f.bin", 5, 25))).toBe(slice(5, 25));
    expect((await errorOf(off.catFile("/f.bin", 25, 45))).code).toBe("ENOENT");
    expect(await off.size("/f.bin")).toBe(100);
    expect((await errorOf(off.catFile("/other"))).code).toBe("ENOENT");
    expect(target.counts).toEqual({ reads: 0, bytes: 0, infos: 0, ukeys: 0 });
  });

  it("a complete file in a read-only layer is read without requests; a partial one is not used", async () => {
    const target = new CountingMemoryFileSystem();
    const storageFs = new MemoryFileSystem({ store: "private" });
    await target.pipe({ "/whole": DATA, "/part": DATA });
    const seeder = new CachingFileSystem({ fs: target, storageFs, cacheStorage: "/ro", blockSize: 10 });
    await seeder.catFile("/whole");
    await seeder.catFile("/part", 0, 10);
    target.reset();
    const fs = new CachingFileSystem({ fs: target, storageFs, cacheStorage: ["/ro", "/rw"], blockSize: 10 });
    expect(hex(await fs.catFile("/whole"))).toBe(slice(0, 100));
    expect(target.counts.reads).toBe(0);
    expect(hex(await fs.catFile("/part", 0, 10))).toBe(slice(0, 10));
    expect(target.counts.reads).toBe(1);
    expect((await errorOf(fs.popFromCache("/whole"))).code).toBe("EACCES");
  });

  it("writes go to the target and drop the cached blocks", async () => {
    const { target, fs } = await setup();
    await fs.catFile("/f.bin", 0, 10);
    await fs.pipe("/f.bin", "rewritten");
    expect(await target.readText("/f.bin")).toBe("rewritten");
    expect(text(await fs.catFile("/f.bin"))).toBe("rewritten");
    const w = await fs.open("/g", "wb");
    await w.write("new");
    await w.close();
    expect(text(await fs.catFile("/g"))).toBe("new");
  });

  it("writes sparse files with positioned writes on local storage", async () => {
    const vol = new Volume();
    const storageFs = new LocalFileSystem({ fs: createFsFromVolume(vol) as unknown as NodeFsLike });
    const { target, fs } = await setup({}, storageFs);
    await fs.catFile("/f.bin", 60, 70);
    await fs.catFile("/f.bin", 10, 20);
    const entry = JSON.parse(String(vol.readFileSync("/cache/cache", "utf8")))["/f.bin"];
    const onDisk = vol.readFileSync(`/cache/${entry.fn}`) as Buffer;
    expect(onDisk.byteLength).toBe(70);
    expect(hex(onDisk.subarray(60, 70))).toBe(slice(60, 70));
    expect(hex(onDisk.subarray(10, 20))).toBe(slice(10, 20));
    target.reset();
    expect(hex(await fs.catFile("/f.bin", 12, 65))).toBe(slice(12, 65));
    expect(target.counts).toMatchObject({ reads: 1, bytes: 40 });
    expect((await fs.listCache()).map((e) => [e.path, e.complete])).toEqual([["/f.bin", false]]);
  });

  it("refuses compression and bad block sizes", async () => {
    const target = new MemoryFileSystem({ store: "private" });
    expect((await errorOf(Promise.resolve().then(() => new CachingFileSystem({ fs: target, compression: "gzip" })))).code).toBe("EINVAL");
    expect((await errorOf(Promise.resolve().then(() => new CachingFileSystem({ fs: target, blockSize: 0 })))).code).toBe("EINVAL");
  });
});

describe("blockcache: entries removed under a reader", () => {
  const NEW = makeBytes(100, 9);
  const memfsLocal = () => new LocalFileSystem({ fs: createFsFromVolume(new Volume()) as unknown as NodeFsLike });

  for (const [name, storage] of [["memory", () => new MemoryFileSystem({ store: "private" })], ["local", memfsLocal]] as const) {
    it(`(${name}) an entry popped by another instance is never filled again with zeros where its blocks were`, async () => {
      const { storageFs, fs: a, make } = await setup({}, storage());
      const f = await a.open("/f.bin");
      expect(hex(await f.read(10))).toBe(slice(0, 10));
      expect(await make().popFromCache("/f.bin")).toBe(true);
      // The reader holds the entry: the next block must not recreate its data file as a sparse one.
      f.seek(50);
      expect(hex(await f.read(10))).toBe(slice(50, 60));
      f.seek(0);
      expect(hex(await f.read(20))).toBe(slice(0, 20));
      await f.close();
      expect(hex(await make().catFile("/f.bin", 0, 60))).toBe(slice(0, 60));
      expect(hex(await a.catFile("/f.bin", 0, 60))).toBe(slice(0, 60));
      expect(await entryOf(storageFs)).toBeDefined();
    });
  }

  it("with cacheCheckMs 0 another instance's removal starts a new entry at once", async () => {
    const { fs: a, make } = await setup({ cacheCheckMs: 0 });
    await a.catFile("/f.bin", 0, 10);
    expect(await make().popFromCache("/f.bin")).toBe(true);
    await a.catFile("/f.bin", 10, 20);
    expect(hex(await make().catFile("/f.bin", 0, 20))).toBe(slice(0, 20));
    expect(hex(await a.catFile("/f.bin", 0, 20))).toBe(slice(0, 20));
  });

  it("a complete file popped by another instance is fetched again, not ENOENT on a cache path", async () => {
    const { target, fs: a, make } = await setup();
    await a.catFile("/f.bin");
    expect(await make().popFromCache("/f.bin")).toBe(true);
    target.reset();
    expect(hex(await a.catFile("/f.bin", 0, 20))).toBe(slice(0, 20));
    expect(target.counts.reads).toBe(1);
  });

  it("a file opened before a write through the layer records nothing for the old version", async () => {
    const { target, fs: a, make } = await setup();
    const f = await a.open("/f.bin");
    await f.read(10);
    await a.pipe("/f.bin", NEW);
    f.seek(50);
    // The cached blocks are gone and the target holds another version: never a mix of the two.
    expect((await errorOf(f.read(10))).code).toBe("ECHANGED");
    await f.close();
    expect(hex(await make().catFile("/f.bin"))).toBe(hex(NEW));
    expect(hex(await target.catFile("/f.bin"))).toBe(hex(NEW));
  });

  it("a write drops the blocks another instance cached after this one last read the metadata", async () => {
    const { target, fs: a, make } = await setup();
    await target.pipe("/g.bin", DATA);
    await a.catFile("/g.bin", 0, 10); // a's view of the metadata is from now
    await make().catFile("/f.bin");
    await a.pipe("/f.bin", NEW);
    expect(hex(await make().catFile("/f.bin"))).toBe(hex(NEW));
  });

  it("popFromCache finds blocks another instance cached after this one last read the metadata", async () => {
    const { target, fs: a, make } = await setup();
    await target.pipe("/g.bin", DATA);
    await a.catFile("/g.bin", 0, 10);
    await make().catFile("/f.bin");
    expect(await a.popFromCache("/f.bin")).toBe(true);
    expect(await make().popFromCache("/f.bin")).toBe(false);
  });

  it("clearCache while an entry is not saved yet, then listCache: no crash, nothing listed", async () => {
    const { fs } = await setup();
    const f = await fs.open("/f.bin"); // an entry made, not saved before its first block
    await fs.clearCache();
    expect(await fs.listCache()).toEqual([]);
    await fs.catFile("/f.bin", 0, 10);
    expect((await fs.listCache()).map((e) => e.path)).toEqual(["/f.bin"]);
    await f.close();
  });

  it("instances sharing memory storage fill blocks at once without losing each other's bytes", async () => {
    const { fs: a, make } = await setup({ cacheCheckMs: 0 });
    await a.catFile("/f.bin", 0, 10);
    const others = Array.from({ length: 9 }, () => make());
    await Promise.all(others.map((fs, i) => fs.catFile("/f.bin", (i + 1) * 10, (i + 2) * 10)));
    expect(hex(await make().catFile("/f.bin"))).toBe(slice(0, 100));
  });

  it("offsets from the end are answered from the entry, without an info call", async () => {
    const { target, fs } = await setup();
    await fs.catFile("/f.bin");
    target.reset();
    expect(hex(await fs.catFile("/f.bin", -3))).toBe(slice(97, 100));
    expect(hex(await fs.catFile("/f.bin", -30, -20))).toBe(slice(70, 80));
    expect(hex(await fs.catFile("/f.bin", 90, -5))).toBe(slice(90, 95));
    expect(target.counts).toEqual({ reads: 0, bytes: 0, infos: 0, ukeys: 0 });
    expect((await errorOf(fs.catFile("/f.bin", -1.5))).code).toBe("EINVAL");
  });
});

describe("blockcache: the blocks of an entry come from one version of the file", () => {
  // The same size as DATA, and written within the same millisecond: only the content differs.
  const NEW = makeBytes(100, 9);

  it("a file rewritten after block 0 was cached is read whole from the new version, here and in a later instance", async () => {
    const { target, storageFs, fs, make } = await setup();
    expect(hex(await fs.catFile("/f.bin", 0, 10))).toBe(slice(0, 10));
    await target.pipe("/f.bin", NEW);
    expect(hex(await fs.catFile("/f.bin"))).toBe(hex(NEW));
    expect(hex(await make().catFile("/f.bin"))).toBe(hex(NEW));
    expect(await entryOf(storageFs)).toMatchObject({ blocks: true, version: { size: 100, key: expect.any(String) } });
  });

  it("an instance holding old blocks, after another instance's entry replaced them, reads the new version", async () => {
    const { target, fs: a, make } = await setup({ cacheCheckMs: 0 });
    await a.catFile("/f.bin", 0, 10);
    await target.pipe("/f.bin", NEW);
    const b = make();
    expect(hex(await b.catFile("/f.bin", 50, 60))).toBe(hex(NEW.subarray(50, 60)));
    expect(hex(await a.catFile("/f.bin"))).toBe(hex(NEW));
    expect(hex(await b.catFile("/f.bin"))).toBe(hex(NEW));
  });

  it("offsets from the end of a file that changed are resolved against the new version", async () => {
    const { target, fs } = await setup();
    await fs.catFile("/f.bin", 0, 10);
    const longer = makeBytes(130, 3);
    await target.pipe("/f.bin", longer);
    expect(hex(await fs.catFile("/f.bin", -20))).toBe(hex(longer.subarray(110)));
  });

  it("over a target without pinned reads (dir), the target's ukey is checked after each fetch", async () => {
    const inner = new MemoryFileSystem({ store: "private" });
    await inner.pipe("/root/f.bin", DATA);
    const target = new DirFileSystem({ path: "/root", fs: inner });
    const fs = new CachingFileSystem({ fs: target, storageFs: new MemoryFileSystem({ store: "private" }), cacheStorage: "/cache", blockSize: 10 });
    const f = await fs.open("/f.bin");
    expect(hex(await f.read(10))).toBe(slice(0, 10));
    await inner.pipe("/root/f.bin", NEW);
    f.seek(40);
    expect((await errorOf(f.read(10))).code).toBe("ECHANGED");
    await f.close();
    expect(hex(await fs.catFile("/f.bin"))).toBe(hex(NEW));
  });

  it("a partial entry without a recorded version (an older writer's) is started again, not completed", async () => {
    const { storageFs, fs, make } = await setup();
    await fs.catFile("/f.bin", 0, 10);
    const md = JSON.parse(await storageFs.readText("/cache/cache"));
    delete md["/f.bin"].version;
    await storageFs.pipe("/cache/cache", JSON.stringify(md));
    // Block 0 of that entry is some other version's.
    await storageFs.pipe(`/cache/${md["/f.bin"].fn}`, new Uint8Array(10).fill(0xee));
    expect(hex(await make().catFile("/f.bin"))).toBe(slice(0, 100));
  });
});
