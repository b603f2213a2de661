/** simplecache over memory, and building every layer through URL chains and the registry. */
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  CachingFileSystem,
  filesystem,
  MemoryFileSystem,
  SimpleCacheFileSystem,
  urlToFs,
  WholeFileCacheFileSystem,
  type SimpleCacheOptions,
} from "../../src/index.js";
import { errorOf } from "../support/errors.js";
import { CountingMemoryFileSystem, makeBytes, sha256, text } from "./support/counting.js";

function setup(options: Partial<SimpleCacheOptions> = {}) {
  const target = new CountingMemoryFileSystem();
  const storageFs = new MemoryFileSystem({ store: "private" });
  const make = (more: Partial<SimpleCacheOptions> = {}) =>
    new SimpleCacheFileSystem({ fs: target, storageFs, cacheStorage: "/cache", ...options, ...more });
  return { target, storageFs, fs: make(), make };
}

describe("simplecache", () => {
  it("downloads once, serves the local copy after, and writes no metadata", async () => {
    const { target, storageFs, fs, make } = setup({ sameNames: true });
    await target.pipe("/s/a.txt", "simple");
    expect(text(await fs.catFile("/s/a.txt"))).toBe("simple");
    expect(target.counts.reads).toBe(1);
    expect(text(await make({ skipInstanceCache: true }).catFile("/s/a.txt"))).toBe("simple");
    expect(target.counts.reads).toBe(1);
    expect(await storageFs.ls("/cache", { detail: false })).toEqual(["/cache/a.txt"]);
  });

  it("has no expiry or revalidation, and says so", async () => {
    const target = new MemoryFileSystem({ store: "private" });
    for (const key of ["checkFiles", "expiryMs", "cacheCheckMs"]) {
      const err = await errorOf(Promise.resolve().then(() => new SimpleCacheFileSystem({ fs: target, [key]: 1 })));
      expect(err.code).toBe("EINVAL");
      expect(err.message).toContain(key);
    }
  });

  it("management without metadata: listing by file, expiry by mtime, pop, clear", async () => {
    const { target, storageFs, fs } = setup();
    await target.pipe({ "/a": "1", "/b": "22" });
    await fs.catFile("/a");
    await fs.catFile("/b");
    const listed = await fs.listCache();
    expect(listed.map((e) => [e.path, e.size]).sort()).toEqual([[undefined, 1], [undefined, 2]]);
    expect(await fs.cacheSize()).toBe(3);
    expect((await errorOf(fs.clearExpiredCache())).code).toBe("EINVAL");
    expect(await fs.clearExpiredCache({ expiryMs: 3_600_000 })).toEqual([]);
    expect(await fs.popFromCache("/a")).toBe(true);
    expect(await fs.popFromCache("/a")).toBe(false);
    await fs.clearCache();
    expect(await storageFs.ls("/cache", { detail: false })).toEqual([]);
  });

  it("read-only layers, compression and offline work as in filecache", async () => {
    const target = new CountingMemoryFileSystem();
    const storageFs = new MemoryFileSystem({ store: "private" });
    const plain = makeBytes(10_000);
    await target.pipe({ "/z.gz": gzipSync(plain), "/y": "why" });
    await new SimpleCacheFileSystem({ fs: target, storageFs, cacheStorage: "/ro", compression: "infer" }).catFile("/z.gz");
    target.reset();
    const fs = new SimpleCacheFileSystem({ fs: target, storageFs, cacheStorage: ["/ro", "/rw"], compression: "infer" });
    expect(sha256(await fs.catFile("/z.gz"))).toBe(sha256(plain));
    expect(target.counts.reads).toBe(0);
    expect((await errorOf(fs.popFromCache("/z.gz"))).code).toBe("EACCES");
    const off = new SimpleCacheFileSystem({ fs: target, storageFs, cacheStorage: ["/ro", "/rw"], compression: "infer", offline: true });
    expect(sha256(await off.catFile("/z.gz"))).toBe(sha256(plain));
    expect((await errorOf(off.catFile("/y"))).code).toBe("ENOENT");
    expect(target.counts.reads).toBe(0);
  });
});

describe("cache layers through URL chains and the registry", () => {
  it("urlToFs builds each layer over its inner filesystem with per-layer options", async () => {
    const storageFs = new MemoryFileSystem({ store: "private" });
    await new MemoryFileSystem().pipe("/chain-test/data.txt", "chained");
    for (const [protocol, cls] of [
      ["filecache", WholeFileCacheFileSystem],
      ["simplecache", SimpleCacheFileSystem],
      ["blockcache", CachingFileSystem],
      ["cached", CachingFileSystem],
    ] as const) {
      const { fs, path } = await urlToFs(`${protocol}::memory://chain-test/data.txt`, {
        [protocol]: { storageFs, cacheStorage: `/c-${protocol}` },
      });
      expect(fs).toBeInstanceOf(cls);
      expect((fs as WholeFileCacheFileSystem).target).toBeInstanceOf(MemoryFileSystem);
      expect(path).toBe("/chain-test/data.txt");
      expect(text(await fs.catFile(path))).toBe("chained");
      expect(await storageFs.exists(`/c-${protocol}`)).toBe(true);
    }
  });

  it("top-level options go to the outermost layer; filesystem() resolves targetProtocol", async () => {
    const storageFs = new MemoryFileSystem({ store: "private" });
    await new MemoryFileSystem().pipe("/chain-test/b.txt", "bee");
    const { fs } = await urlToFs("filecache::memory://chain-test/b.txt", { storageFs, cacheStorage: "/top", sameNames: true });
    await fs.catFile("/chain-test/b.txt");
    expect(await storageFs.readText("/top/b.txt")).toBe("bee");
    const viaRegistry = await filesystem<WholeFileCacheFileSystem>("filecache", { targetProtocol: "memory", storageFs, cacheStorage: "/reg" });
    expect(viaRegistry.target).toBeInstanceOf(MemoryFileSystem);
    expect(text(await viaRegistry.catFile("memory://chain-test/b.txt"))).toBe("bee");
    expect(viaRegistry.unstripProtocol("/chain-test/b.txt")).toBe("memory:///chain-test/b.txt");
  });

  it("a layer without a target says what it needs", async () => {
    const err = await errorOf(Promise.resolve().then(() => new WholeFileCacheFileSystem({} as never)));
    expect(err.code).toBe("EINVAL");
    expect(err.message).toMatch(/target filesystem/);
  });
});
