/** filecache over memory targets, with memory cache storage (a memfs-backed local one for local paths). */
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { gzipSync } from "node:zlib";
import { createFsFromVolume, Volume } from "memfs";
import { afterEach, describe, expect, it } from "vitest";
import {
  LocalFileSystem,
  MemoryFileSystem,
  WholeFileCacheFileSystem,
  type FileInfo,
  type NodeFsLike,
  type PipeMode,
  type SignalOptions,
  type WholeFileCacheOptions,
} from "../../src/index.js";
import { lockNameFor } from "../../src/cached/storage.js";
import { errorOf } from "../support/errors.js";
import { CountingMemoryFileSystem, hex, makeBytes, sha256, text } from "./support/counting.js";

function setup(options: Partial<WholeFileCacheOptions> = {}) {
  const target = new CountingMemoryFileSystem();
  const storageFs = new MemoryFileSystem({ store: "private" });
  const make = (more: Partial<WholeFileCacheOptions> = {}) =>
    new WholeFileCacheFileSystem({ fs: target, storageFs, cacheStorage: "/cache", ...options, ...more });
  return { target, storageFs, fs: make(), make };
}

const hashName = (path: string) => createHash("sha256").update(path).digest("hex");
const metadataOf = async (storageFs: MemoryFileSystem, dir = "/cache") => JSON.parse(await storageFs.readText(`${dir}/cache`));
/** Pretend an entry was fetched `seconds` ago, as another process's clock would have written it. */
async function age(storageFs: MemoryFileSystem, path: string, seconds: number, dir = "/cache") {
  const md = await metadataOf(storageFs, dir);
  md[path].time -= seconds;
  await storageFs.pipe(`${dir}/cache`, JSON.stringify(md));
}

afterEach(() => {
  delete process.env.FSSPEC_TS_OFFLINE;
});

describe("filecache: hits and misses", () => {
  it("downloads once, then serves catFile, ranges and opened files from the cache", async () => {
    const { target, fs } = setup();
    const data = makeBytes(100_000);
    await target.pipe("/d/f.bin", data);
    target.reset();
    expect(sha256(await fs.catFile("/d/f.bin"))).toBe(sha256(data));
    expect(target.counts.reads).toBeGreaterThan(0);
    expect(target.counts.bytes).toBe(data.byteLength);
    target.reset();
    expect(hex(await fs.catFile("/d/f.bin", 10, 20))).toBe(hex(data.subarray(10, 20)));
    expect(hex(await fs.catFile("memory:///d/f.bin", -5))).toBe(hex(data.subarray(-5)));
    const f = await fs.open("/d/f.bin");
    f.seek(50_000);
    expect(hex(await f.read(10))).toBe(hex(data.subarray(50_000, 50_010)));
    expect(f.size).toBe(data.byteLength);
    await f.close();
    expect(target.counts).toEqual({ reads: 0, bytes: 0, infos: 0, ukeys: 0 });
  });

  it("stores the file under the sha256 of its path with fsspec-shaped metadata", async () => {
    const { target, storageFs, fs } = setup();
    await target.pipe("/d/a.txt", "hello");
    await fs.catFile("/d/a.txt");
    expect(await storageFs.readText(`/cache/${hashName("/d/a.txt")}`)).toBe("hello");
    const md = await metadataOf(storageFs);
    expect(md["/d/a.txt"]).toMatchObject({ original: "/d/a.txt", fn: hashName("/d/a.txt"), blocks: true, uid: null, size: 5, sha256: sha256(new TextEncoder().encode("hello")) });
    expect(Math.abs(md["/d/a.txt"].time - Date.now() / 1000)).toBeLessThan(3600);
  });

  it("concurrent reads of one file in one process share one download", async () => {
    const { target, fs } = setup({ downloadChunkSize: 1000 });
    await target.pipe("/d/big", makeBytes(10_000));
    target.reset();
    const results = await Promise.all(Array.from({ length: 8 }, () => fs.catFile("/d/big")));
    expect(new Set(results.map(sha256)).size).toBe(1);
    expect(target.counts.reads).toBe(10);
    expect(target.counts.bytes).toBe(10_000);
  });

  it("a new instance over the same storage (a later process) reuses the cached copy", async () => {
    const { target, fs, make } = setup();
    await target.pipe("/x", "cached once");
    await fs.catFile("/x");
    target.reset();
    expect(text(await make({ skipInstanceCache: true }).catFile("/x"))).toBe("cached once");
    expect(target.counts.reads).toBe(0);
  });

  it("missing files and directories fail like the target, and nothing is cached", async () => {
    const { target, storageFs, fs } = setup();
    await target.pipe("/dir/f", "1");
    expect((await errorOf(fs.catFile("/nope"))).code).toBe("ENOENT");
    expect((await errorOf(fs.catFile("/dir"))).code).toBe("EISDIR");
    expect((await errorOf(fs.open("/nope"))).code).toBe("ENOENT");
    expect(await storageFs.find("/cache")).toEqual([]);
  });
});

describe("filecache: validity", () => {
  it("an expired copy is fetched again; fresh ones are not", async () => {
    const { target, storageFs, fs, make } = setup({ expiryMs: 60_000 });
    await target.pipe("/e", "v1");
    await fs.catFile("/e");
    await target.pipe("/e", "v2");
    target.reset();
    expect(text(await make({ skipInstanceCache: true }).catFile("/e"))).toBe("v1");
    expect(target.counts.reads).toBe(0);
    await age(storageFs, "/e", 120);
    expect(text(await make({ skipInstanceCache: true }).catFile("/e"))).toBe("v2");
    expect(target.counts.reads).toBe(1);
  });

  it("expiryMs false keeps copies forever", async () => {
    const { target, storageFs, fs, make } = setup({ expiryMs: false });
    await target.pipe("/e", "v1");
    await fs.catFile("/e");
    await age(storageFs, "/e", 10 * 365 * 24 * 3600);
    await target.pipe("/e", "v2");
    expect(text(await make({ skipInstanceCache: true }).catFile("/e"))).toBe("v1");
  });

  it("checkFiles revalidates with the target's ukey and refetches after the remote changes", async () => {
    const { target, fs } = setup({ checkFiles: true });
    await target.pipe("/c", "old");
    expect(text(await fs.catFile("/c"))).toBe("old");
    target.reset();
    expect(text(await fs.catFile("/c"))).toBe("old");
    expect(target.counts.reads).toBe(0);
    expect(target.counts.ukeys).toBe(1);
    await target.pipe("/c", "newer");
    expect(text(await fs.catFile("/c"))).toBe("newer");
    expect(target.counts.reads).toBe(1);
  });

  it("without checkFiles a changed remote is not noticed until expiry", async () => {
    const { target, fs } = setup();
    await target.pipe("/c", "old");
    await fs.catFile("/c");
    await target.pipe("/c", "new");
    expect(text(await fs.catFile("/c"))).toBe("old");
  });

  it("a download whose size does not match is never published", async () => {
    class Truncating extends CountingMemoryFileSystem {
      protected override async _catFile(path: string, start: number, end: number | undefined, options?: SignalOptions) {
        const data = await super._catFile(path, start, end, options);
        return start > 0 ? data.subarray(0, data.byteLength - 1) : data;
      }
    }
    const target = new Truncating();
    const storageFs = new MemoryFileSystem({ store: "private" });
    const fs = new WholeFileCacheFileSystem({ fs: target, storageFs, cacheStorage: "/cache", downloadChunkSize: 100 });
    await target.pipe("/t", makeBytes(1000));
    const err = await errorOf(fs.catFile("/t"));
    expect(err.code).toBe("EIO");
    expect(err.message).toMatch(/returned \d+ bytes|incomplete/);
    expect(await storageFs.find("/cache")).toEqual([]);
  });

  it("a digest the target states is checked before publishing", async () => {
    class Stating extends CountingMemoryFileSystem {
      digest = "";
      protected override async _info(path: string, options?: SignalOptions): Promise<FileInfo> {
        return { ...(await super._info(path, options)), sha256: this.digest };
      }
    }
    const target = new Stating();
    const storageFs = new MemoryFileSystem({ store: "private" });
    const fs = new WholeFileCacheFileSystem({ fs: target, storageFs, cacheStorage: "/cache" });
    await target.pipe("/s", "payload");
    target.digest = "0".repeat(64);
    expect((await errorOf(fs.catFile("/s"))).message).toMatch(/sha256 differs/);
    expect(await storageFs.find("/cache")).toEqual([]);
    target.digest = sha256(new TextEncoder().encode("payload"));
    expect(text(await fs.catFile("/s"))).toBe("payload");
  });
});

describe("filecache: storage layers", () => {
  async function seededReadOnly() {
    const target = new CountingMemoryFileSystem();
    const storageFs = new MemoryFileSystem({ store: "private" });
    await target.pipe({ "/shared/a": "from ro", "/shared/b": "only remote" });
    const seeder = new WholeFileCacheFileSystem({ fs: target, storageFs, cacheStorage: "/ro" });
    await seeder.catFile("/shared/a");
    target.reset();
    const fs = new WholeFileCacheFileSystem({ fs: target, storageFs, cacheStorage: ["/ro", "/rw"] });
    return { target, storageFs, fs };
  }

  it("reads hit a read-only lower layer first; misses land in the writable layer only", async () => {
    const { target, storageFs, fs } = await seededReadOnly();
    const roBefore = await storageFs.readText("/ro/cache");
    expect(text(await fs.catFile("/shared/a"))).toBe("from ro");
    expect(target.counts.reads).toBe(0);
    expect(text(await fs.catFile("/shared/b"))).toBe("only remote");
    expect(target.counts.reads).toBe(1);
    expect(await storageFs.readText("/ro/cache")).toBe(roBefore);
    expect(Object.keys(await metadataOf(storageFs, "/rw"))).toEqual(["/shared/b"]);
    expect(await storageFs.exists(`/rw/${hashName("/shared/b")}`)).toBe(true);
  });

  it("popFromCache refuses read-only layers with EACCES and removes writable copies", async () => {
    const { fs } = await seededReadOnly();
    await fs.catFile("/shared/b");
    expect((await errorOf(fs.popFromCache("/shared/a"))).code).toBe("EACCES");
    expect(await fs.popFromCache("/shared/b")).toBe(true);
    expect(await fs.popFromCache("/shared/b")).toBe(false);
  });

  it("an expired read-only copy is skipped and refreshed into the writable layer", async () => {
    const { target, storageFs } = await seededReadOnly();
    await age(storageFs, "/shared/a", 3600, "/ro");
    await target.pipe("/shared/a", "refreshed");
    const fs = new WholeFileCacheFileSystem({ fs: target, storageFs, cacheStorage: ["/ro", "/rw"], expiryMs: 60_000 });
    expect(text(await fs.catFile("/shared/a"))).toBe("refreshed");
    expect(await storageFs.exists(`/rw/${hashName("/shared/a")}`)).toBe(true);
  });

  it("a read-only layer seeded by hand without metadata is adopted once, and never written", async () => {
    const target = new CountingMemoryFileSystem();
    const storageFs = new MemoryFileSystem({ store: "private" });
    await target.pipe("/seeded/model.bin", "remote bytes");
    await storageFs.pipe(`/ro/${hashName("/seeded/model.bin")}`, "seeded bytes");
    const fs = new WholeFileCacheFileSystem({ fs: target, storageFs, cacheStorage: ["/ro", "/rw"] });
    target.reset();
    expect(text(await fs.catFile("/seeded/model.bin"))).toBe("seeded bytes");
    expect(text(await fs.catFile("/seeded/model.bin"))).toBe("seeded bytes");
    expect(target.counts).toMatchObject({ reads: 0, infos: 1 });
    expect(await storageFs.find("/ro")).toEqual([`/ro/${hashName("/seeded/model.bin")}`]);
  });

  it("writes through the layer shadow a stale read-only copy", async () => {
    const { fs } = await seededReadOnly();
    await fs.pipe("/shared/a", "rewritten");
    expect(text(await fs.catFile("/shared/a"))).toBe("rewritten");
  });
});

describe("filecache: names", () => {
  it("sameNames keeps the basename; a parent level keeps same-named files apart", async () => {
    const { target, storageFs, fs } = setup({ sameNames: true });
    await target.pipe({ "/m/a/metadata.json": "A", "/m/b/metadata.json": "B" });
    expect(text(await fs.catFile("/m/a/metadata.json"))).toBe("A");
    expect(await storageFs.readText("/cache/metadata.json")).toBe("A");
    // Same name: the second download takes the file over, and the first is fetched again when read.
    expect(text(await fs.catFile("/m/b/metadata.json"))).toBe("B");
    expect(text(await fs.catFile("/m/a/metadata.json"))).toBe("A");
    const levels = setup({ cacheMapper: { type: "basename", directoryLevels: 1 } });
    await levels.target.pipe({ "/m/a/metadata.json": "A", "/m/b/metadata.json": "B" });
    await levels.fs.catFile("/m/a/metadata.json");
    await levels.fs.catFile("/m/b/metadata.json");
    levels.target.reset();
    expect(text(await levels.fs.catFile("/m/a/metadata.json"))).toBe("A");
    expect(levels.target.counts.reads).toBe(0);
    expect((await levels.storageFs.ls("/cache", { detail: false })).sort()).toEqual(["/cache/a_@_metadata.json", "/cache/b_@_metadata.json", "/cache/cache"]);
  });
});

describe("filecache: compression", () => {
  it("decompresses at download (inferred or named) and caches the plain bytes", async () => {
    const { target, storageFs, fs } = setup({ compression: "infer", sameNames: true });
    const plain = makeBytes(50_000);
    await target.pipe("/z/data.bin.gz", gzipSync(plain));
    expect(sha256(await fs.catFile("/z/data.bin.gz"))).toBe(sha256(plain));
    expect(sha256(await storageFs.catFile("/cache/data.bin.gz"))).toBe(sha256(plain));
    const named = setup({ compression: "gzip" });
    await named.target.pipe("/z/blob", gzipSync(plain));
    const f = await named.fs.open("/z/blob");
    expect(f.size).toBe(plain.byteLength);
    await f.close();
  });

  it("a corrupt compressed file fails with EIO and caches nothing", async () => {
    const { target, storageFs, fs } = setup({ compression: "gzip" });
    await target.pipe("/z/bad", "this is not gzip");
    expect((await errorOf(fs.catFile("/z/bad"))).code).toBe("EIO");
    expect(await storageFs.find("/cache")).toEqual([]);
    expect((await errorOf(Promise.resolve().then(() => setup({ compression: "lzma-nope" })))).code).toBe("EINVAL");
  });
});

describe("filecache: writes", () => {
  it("an opened writer uploads on close and the written file becomes the cached copy", async () => {
    const { target, fs } = setup();
    const f = await fs.open("/w/new.txt", "wb");
    await f.write("hello ");
    await f.write("world");
    expect(await target.exists("/w/new.txt")).toBe(false);
    await f.close();
    expect(await target.readText("/w/new.txt")).toBe("hello world");
    target.reset();
    expect(text(await fs.catFile("/w/new.txt"))).toBe("hello world");
    expect(target.counts.reads).toBe(0);
    const g = await fs.open("/w/new.txt", "ab");
    await g.write("!");
    await g.close();
    expect(await target.readText("/w/new.txt")).toBe("hello world!");
    expect((await errorOf(fs.open("/w/new.txt", "xb"))).code).toBe("EEXIST");
  });

  it("transactions upload on commit, and nothing at all when they fail", async () => {
    const { target, storageFs, fs } = setup();
    await fs.transaction(async () => {
      await fs.pipe("/tx/a", "1");
      const f = await fs.open("/tx/b", "wb");
      await f.write("2");
      await f.close();
      expect(await target.exists("/tx/a")).toBe(false);
      expect(await target.exists("/tx/b")).toBe(false);
    });
    expect(await target.readText("/tx/a")).toBe("1");
    expect(await target.readText("/tx/b")).toBe("2");
    await expect(fs.transaction(async () => {
      await fs.pipe("/tx/c", "3");
      throw new Error("boom");
    })).rejects.toThrow("boom");
    expect(await target.exists("/tx/c")).toBe(false);
    expect((await storageFs.ls("/cache", { detail: false })).filter((n) => n.includes(".fsspec-write-"))).toEqual([]);
  });

  it("pipe, rm and copy through the layer drop the stale cached copy", async () => {
    const { target, fs } = setup();
    await target.pipe("/p", "one");
    await fs.catFile("/p");
    await fs.pipe("/p", "two");
    expect(text(await fs.catFile("/p"))).toBe("two");
    await fs.cpFile("/p", "/q");
    expect(text(await fs.catFile("/q"))).toBe("two");
    await fs.rm("/p");
    expect((await errorOf(fs.catFile("/p"))).code).toBe("ENOENT");
  });
});

describe("filecache: offline", () => {
  for (const how of ["option", "environment"] as const) {
    it(`(${how}) serves what is cached even when expired, ENOENT otherwise, never touching the target`, async () => {
      const { target, storageFs, fs, make } = setup({ expiryMs: 60_000 });
      await target.pipe({ "/o/a": "cached", "/o/sub/b": "also", "/o/never": "remote only" });
      await fs.catFile("/o/a");
      await fs.catFile("/o/sub/b");
      await age(storageFs, "/o/a", 3600);
      target.reset();
      if (how === "environment") process.env.FSSPEC_TS_OFFLINE = "1";
      const off = make({ skipInstanceCache: true, ...(how === "option" ? { offline: true } : {}) });
      expect(text(await off.catFile("/o/a"))).toBe("cached");
      const err = await errorOf(off.catFile("/o/never"));
      expect(err.code).toBe("ENOENT");
      expect(err.message).toMatch(/offline/);
      expect(await off.info("/o/a")).toMatchObject({ name: "/o/a", size: 6, type: "file" });
      expect(await off.isDir("/o/sub")).toBe(true);
      expect(await off.ls("/o", { detail: false })).toEqual(["/o/a", "/o/sub"]);
      expect(await off.exists("/o/never")).toBe(false);
      expect((await errorOf(off.pipe("/o/x", "no"))).code).toBe("EACCES");
      expect(target.counts).toEqual({ reads: 0, bytes: 0, infos: 0, ukeys: 0 });
    });
  }

  it("a cache seeded by hand (files under their mapped names) works offline and is adopted online", async () => {
    const { target, storageFs, make } = setup({ sameNames: true });
    await storageFs.pipe("/cache/weights.bin", "seeded bytes");
    const off = make({ offline: true, skipInstanceCache: true });
    expect(text(await off.catFile("/models/x/weights.bin"))).toBe("seeded bytes");
    await target.pipe("/models/x/weights.bin", "remote bytes"); // same size: adopted without a download
    target.reset();
    const on = make({ skipInstanceCache: true });
    expect(text(await on.catFile("/models/x/weights.bin"))).toBe("seeded bytes");
    expect(target.counts.reads).toBe(0);
    expect((await metadataOf(storageFs))["/models/x/weights.bin"]).toMatchObject({ fn: "weights.bin", blocks: true });
    await storageFs.pipe("/cache/other.bin", "wrong size");
    await target.pipe("/models/x/other.bin", "the real content");
    expect(text(await on.catFile("/models/x/other.bin"))).toBe("the real content");
  });

  it("a corrupted metadata file is rebuilt and its files used again, not a crash", async () => {
    const { target, storageFs, fs, make } = setup();
    await target.pipe("/r/a", "aaa");
    await fs.catFile("/r/a");
    await storageFs.pipe("/cache/cache", "{\"half\": ");
    target.reset();
    expect(text(await make({ skipInstanceCache: true }).catFile("/r/a"))).toBe("aaa");
    expect(target.counts.reads).toBe(0);
    expect(Object.keys(await metadataOf(storageFs))).toEqual(["/r/a"]);
  });
});

describe("filecache: management", () => {
  it("lists entries with sizes and ages; cacheSize; clearExpiredCache; clearCache", async () => {
    const { target, storageFs, fs } = setup();
    await target.pipe({ "/m/one": "1", "/m/two": "22" });
    await fs.catFile("/m/one");
    await fs.catFile("/m/two");
    const listed = await fs.listCache();
    expect(listed.map((e) => [e.path, e.size, e.complete, e.readOnly]).sort()).toEqual([["/m/one", 1, true, false], ["/m/two", 2, true, false]]);
    expect(listed.every((e) => e.ageMs !== undefined && e.ageMs >= 0 && e.ageMs < 3_600_000)).toBe(true);
    expect(listed.every((e) => e.timeMs !== undefined && Math.abs(Date.now() - e.ageMs! - e.timeMs) < 1000)).toBe(true);
    expect(listed[0]!.localPath).toBe(`/cache/${listed[0]!.fn}`);
    expect(await fs.cacheSize()).toBe(3 + (await storageFs.size("/cache/cache"))!);
    await age(storageFs, "/m/one", 7200);
    expect(await fs.clearExpiredCache({ expiryMs: 3_600_000 })).toEqual(["/m/one"]);
    expect((await fs.listCache()).map((e) => e.path)).toEqual(["/m/two"]);
    await fs.clearCache();
    expect(await fs.listCache()).toEqual([]);
    expect(await storageFs.readText("/cache/cache")).toBe("{}");
    target.reset();
    await fs.catFile("/m/two");
    expect(target.counts.reads).toBe(1);
  });

  it("temporaries and the lock left by a dead process are removed by the next download", async () => {
    const { target, storageFs, fs } = setup();
    const hostTag = createHash("sha256").update(hostname()).digest("hex").slice(0, 8);
    const dead = `/cache/.fsspec-partial-${hostTag}-999999999-abcdef`;
    const live = `/cache/.fsspec-partial-${hostTag}-${process.pid}-abcdef`;
    const lock = `/cache/${lockNameFor(hashName("/t"))}`;
    const holder = { pid: 999999999, host: hostname(), token: "dead", time: Date.now() };
    await storageFs.pipe({ [dead]: "half a download", [live]: "ours, in progress", [lock]: JSON.stringify(holder) });
    await target.pipe("/t", "x");
    expect(text(await fs.catFile("/t"))).toBe("x");
    expect(await storageFs.exists(dead)).toBe(false);
    expect(await storageFs.exists(lock)).toBe(false);
    expect(await storageFs.exists(live)).toBe(true);
  });
});

describe("filecache: another process's download", () => {
  it("waits for the entry's lock, and gives up after lockTimeoutMs", async () => {
    const { target, storageFs, fs } = setup({ lockTimeoutMs: 300 });
    await target.pipe("/busy", "x");
    const lock = `/cache/${lockNameFor(hashName("/busy"))}`;
    // A live process (our parent) holding the lock and keeping it fresh.
    await storageFs.pipe(lock, JSON.stringify({ pid: process.ppid, host: hostname(), token: "other", time: Date.now() }));
    const err = await errorOf(fs.catFile("/busy"));
    expect(err.code).toBe("ETIMEDOUT");
    expect(err.path).toBe(lock);
    await storageFs.rmFile(lock);
    expect(text(await fs.catFile("/busy"))).toBe("x");
  });
});

describe("filecache: local paths", () => {
  it("localPath needs local storage and says so", async () => {
    const { target, fs } = setup();
    await target.pipe("/l", "x");
    const err = await errorOf(fs.localPath("/l"));
    expect(err.code).toBe("ENOTSUP");
    expect(err.message).toMatch(/local disk/);
  });

  it("localPath and openLocal give paths of the cached copies on local storage", async () => {
    const vol = new Volume();
    const storageFs = new LocalFileSystem({ fs: createFsFromVolume(vol) as unknown as NodeFsLike });
    const target = new CountingMemoryFileSystem();
    await target.pipe({ "/pkg/a/model.bin": "weights", "/pkg/b/config.json": "{}" });
    const fs = new WholeFileCacheFileSystem({ fs: target, storageFs, cacheStorage: "/home/u/.cache/models", sameNames: true });
    const local = await fs.localPath("/pkg/a/model.bin");
    expect(local).toBe("/home/u/.cache/models/model.bin");
    expect(vol.readFileSync(local, "utf8")).toBe("weights");
    expect(await fs.openLocal(["/pkg/a/model.bin", "/pkg/b/config.json"])).toEqual([local, "/home/u/.cache/models/config.json"]);
    target.reset();
    const f = await fs.open("/pkg/a/model.bin");
    expect(text(await f.read())).toBe("weights");
    await f.close();
    expect(target.counts.reads).toBe(0);
  });
});

describe("filecache: same-named files (sameNames)", () => {
  it("concurrent first reads of two same-named files each get their own bytes", async () => {
    const { target, fs } = setup({ sameNames: true });
    await target.pipe({ "/a/x.json": "AAAA", "/b/x.json": "BBBB" });
    const [a, b] = await Promise.all([fs.catFile("/a/x.json"), fs.catFile("/b/x.json")]);
    expect([text(a), text(b)]).toEqual(["AAAA", "BBBB"]);
  });

  it("offline, a file another path's entry owns is not served, listed or popped for this path", async () => {
    const { target, storageFs, fs, make } = setup({ sameNames: true });
    await target.pipe({ "/a/x.json": "AAAA", "/b/x.json": "BBBB" });
    await fs.catFile("/a/x.json");
    const off = make({ offline: true });
    expect((await errorOf(off.catFile("/b/x.json"))).code).toBe("ENOENT");
    expect(await off.exists("/b/x.json")).toBe(false);
    expect(await fs.popFromCache("/b/x.json")).toBe(false);
    expect(await storageFs.readText("/cache/x.json")).toBe("AAAA");
    expect(text(await off.catFile("/a/x.json"))).toBe("AAAA");
  });

  it("a file another instance recorded for another path is not adopted from a stale view", async () => {
    const { target, make } = setup({ sameNames: true });
    await target.pipe({ "/a/x.json": "AAAA", "/b/x.json": "BBBB", "/c": "c" });
    const x = make();
    const y = make();
    const yOffline = make({ offline: true });
    await y.catFile("/c"); // y's view of the metadata is from now (cacheCheckMs 10 s)
    expect(await yOffline.exists("/c")).toBe(true);
    await x.catFile("/a/x.json");
    expect(await yOffline.exists("/b/x.json")).toBe(false);
    expect(text(await y.catFile("/b/x.json"))).toBe("BBBB"); // same size as A's: adoption would take it
  });

  it("an entry whose file another instance took over since this one read the metadata is not trusted", async () => {
    const { target, storageFs, make } = setup({ sameNames: true });
    await target.pipe({ "/a/x.json": "AAAA", "/b/x.json": "BBBB" });
    await make().catFile("/a/x.json");
    await age(storageFs, "/a/x.json", 60); // fetched a minute ago (by a clock of its own)
    const x = make();
    expect(text(await x.catFile("/a/x.json"))).toBe("AAAA"); // x's view of the metadata is from now
    expect(text(await make().catFile("/b/x.json"))).toBe("BBBB"); // takes x.json over
    expect(text(await x.catFile("/a/x.json"))).toBe("AAAA");
  });
});

/** A target whose reads take their bytes at once, then wait at a gate the test opens. */
class GatedReadsFileSystem extends CountingMemoryFileSystem {
  gate: Promise<void> | undefined;
  readonly reading: Promise<void>;
  readonly written: Promise<void>;
  private signalReading!: () => void;
  private signalWritten!: () => void;

  constructor() {
    super();
    this.reading = new Promise((r) => (this.signalReading = r));
    this.written = new Promise((r) => (this.signalWritten = r));
  }

  protected override async _catFile(path: string, start: number, end: number | undefined, options?: SignalOptions): Promise<Uint8Array> {
    const data = await super._catFile(path, start, end, options);
    if (this.gate) {
      this.signalReading();
      await this.gate;
    }
    return data;
  }

  protected override async _pipeFile(path: string, data: Uint8Array, mode: PipeMode): Promise<void> {
    await super._pipeFile(path, data, mode);
    this.signalWritten();
  }
}

describe("filecache: writes racing downloads", () => {
  it("a write through the layer while the old version downloads does not leave the old bytes cached", async () => {
    const target = new GatedReadsFileSystem();
    await target.pipe("/f", "old bytes");
    const fs = new WholeFileCacheFileSystem({ fs: target, storageFs: new MemoryFileSystem({ store: "private" }), cacheStorage: "/cache" });
    let open!: () => void;
    target.gate = new Promise((r) => (open = r));
    const reading = fs.catFile("/f");
    await target.reading; // the download holds the old bytes and has not published them yet
    target.gate = undefined;
    const writing = fs.pipe("/f", "new bytes, longer");
    await target.written;
    open();
    expect(text(await reading)).toBe("old bytes");
    await writing;
    expect(text(await fs.catFile("/f"))).toBe("new bytes, longer");
  });

  it("an upload whose copy cannot become the cached one (lock busy) drops the old copy instead", async () => {
    const { target, storageFs, fs } = setup({ lockTimeoutMs: 0 });
    await target.pipe("/f", "old");
    expect(text(await fs.catFile("/f"))).toBe("old");
    const lock = `/cache/${lockNameFor(hashName("/f"))}`;
    await storageFs.pipe(lock, JSON.stringify({ pid: process.ppid, host: hostname(), token: "other", time: Date.now() }));
    const w = await fs.open("/f", "wb");
    await w.write(new TextEncoder().encode("new!"));
    await w.close(); // uploaded: the write succeeded
    await storageFs.rmFile(lock);
    expect(text(await target.catFile("/f"))).toBe("new!");
    expect(text(await fs.catFile("/f"))).toBe("new!");
    expect((await storageFs.ls("/cache", { detail: false })).filter((n) => n.includes(".fsspec-write-"))).toEqual([]);
  });
});
