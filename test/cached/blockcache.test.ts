/** blockcache over memory targets: blocks fetched once, in runs, shared and merged across instances. */
import { createFsFromVolume, Volume } from "memfs";
import { afterEach, describe, expect, it } from "vitest";
import { CachingFileSystem, LocalFileSystem, MemoryFileSystem, type AbstractFileSystem, type BlockCacheOptions, type NodeFsLike } from "../../src/index.js";
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
    const { target, storageFs, fs, make } = await setup({ expiryTime: 60 });
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
