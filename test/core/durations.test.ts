/**
 * One unit for every duration the library takes: milliseconds. The options that took seconds
 * under other names are refused under those names (never read as milliseconds, which would
 * expire or time out 1000x sooner), with the new name in the message.
 */
import { describe, expect, it } from "vitest";
import {
  CachingFileSystem,
  ListingsCache,
  MemoryFileSystem,
  Package,
  SimpleCacheFileSystem,
  WholeFileCacheFileSystem,
  filesystem,
  urlToFs,
} from "../../src/index.js";
import { errorOf } from "../support/errors.js";

const target = () => new MemoryFileSystem({ store: "private" });
const storage = () => ({ storageFs: new MemoryFileSystem({ store: "private" }), cacheStorage: "/cache" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("duration options that took seconds are refused under their old names", () => {
  const cases: Array<[string, () => unknown, string]> = [
    ["listingsExpiryTime", () => filesystem("memory", { listingsExpiryTime: 60, skipInstanceCache: true } as never), "'listingsExpiryMs'"],
    ["filecache expiryTime", () => new WholeFileCacheFileSystem({ fs: target(), ...storage(), expiryTime: 60 } as never), "'expiryMs'"],
    ["filecache cacheCheck", () => new WholeFileCacheFileSystem({ fs: target(), ...storage(), cacheCheck: 10 } as never), "'cacheCheckMs'"],
    ["blockcache expiryTime", () => new CachingFileSystem({ fs: target(), ...storage(), expiryTime: 60 } as never), "'expiryMs'"],
    ["simplecache expiryTime", () => new SimpleCacheFileSystem({ fs: target(), ...storage(), expiryTime: 60 } as never), "'expiryMs'"],
    ["urlToFs filecache expiryTime", () => urlToFs("filecache::memory://x", { filecache: { cacheStorage: "/tmp/unused", expiryTime: 60 } }), "'expiryMs'"],
    ["sign expiration", () => target().sign("/f", { expiration: 60 } as never), "'expirationMs'"],
    ["Package timeout", () => new Package("https://example.invalid/m", { timeout: 300 } as never), "'timeoutMs'"],
    ["ListingsCache expiry", () => new ListingsCache({ expiry: 60 } as never), "'expiryMs'"],
    ["clearExpiredCache(seconds)", () => new WholeFileCacheFileSystem({ fs: target(), ...storage() }).clearExpiredCache(3600 as never), "takes { expiryMs } (milliseconds)"],
  ];
  for (const [name, call, says] of cases) {
    it(name, async () => {
      const err = await errorOf(Promise.resolve().then(call));
      expect(err.code).toBe("EINVAL");
      expect(err.message).toContain(says);
    });
  }

  it("the refusal of a renamed option says the unit changed", async () => {
    const err = await errorOf(Promise.resolve().then(() => new WholeFileCacheFileSystem({ fs: target(), ...storage(), expiryTime: 60 } as never)));
    expect(err.message).toContain("unknown option 'expiryTime'; durations are milliseconds: use 'expiryMs'");
  });
});

describe("the new names count milliseconds", () => {
  it("filecache expiryMs: a copy older than it is fetched again, a younger one is not", async () => {
    const t = target();
    await t.pipe("/f", "v1");
    const opts = { fs: t, ...storage(), skipInstanceCache: true };
    const fs = new WholeFileCacheFileSystem({ ...opts, expiryMs: 400 });
    await fs.catFile("/f");
    await t.pipe("/f", "v2");
    expect(new TextDecoder().decode(await new WholeFileCacheFileSystem({ ...opts, expiryMs: 400 }).catFile("/f"))).toBe("v1");
    await sleep(600);
    expect(new TextDecoder().decode(await new WholeFileCacheFileSystem({ ...opts, expiryMs: 400 }).catFile("/f"))).toBe("v2");
  });

  it("clearExpiredCache({expiryMs}) removes copies older than that many milliseconds", async () => {
    const t = target();
    await t.pipe({ "/a": "1" });
    const fs = new WholeFileCacheFileSystem({ fs: t, ...storage(), skipInstanceCache: true });
    await fs.catFile("/a");
    expect(await fs.clearExpiredCache({ expiryMs: 60_000 })).toEqual([]);
    await sleep(50);
    expect(await fs.clearExpiredCache({ expiryMs: 10 })).toEqual(["/a"]);
  });

  it("listCache reports timeMs and ageMs in milliseconds (the metadata file keeps fsspec's seconds)", async () => {
    const t = target();
    await t.pipe("/a", "1");
    const s = storage();
    const fs = new WholeFileCacheFileSystem({ fs: t, ...s, skipInstanceCache: true });
    const before = Date.now();
    await fs.catFile("/a");
    const [entry] = await fs.listCache();
    expect(entry!.timeMs).toBeGreaterThanOrEqual(before - 1000);
    expect(entry!.timeMs).toBeLessThanOrEqual(Date.now());
    expect(entry!.ageMs).toBeGreaterThanOrEqual(0);
    expect(entry!.ageMs).toBeLessThan(5_000);
    const onDisk = JSON.parse(await s.storageFs.readText("/cache/cache"))["/a"].time;
    expect(Math.abs(onDisk - before / 1000)).toBeLessThan(5);
  });

  it("listingsExpiryMs on a filesystem expires its cached listings", async () => {
    const fs = new MemoryFileSystem({ store: "private", useListingsCache: true, listingsExpiryMs: 50, skipInstanceCache: true });
    await fs.pipe("/d/a", "1");
    await fs.ls("/d");
    expect(fs.dircache?.has("/d")).toBe(true);
    await sleep(100);
    expect(fs.dircache?.get("/d")).toBeUndefined();
  });

  it("Package timeoutMs and its default from FSSPEC_TS_PACKAGE_TIMEOUT (seconds)", () => {
    const saved = process.env.FSSPEC_TS_PACKAGE_TIMEOUT;
    try {
      delete process.env.FSSPEC_TS_PACKAGE_TIMEOUT;
      expect(Package.defaultTimeoutMs()).toBe(300_000);
      process.env.FSSPEC_TS_PACKAGE_TIMEOUT = "12";
      expect(Package.defaultTimeoutMs()).toBe(12_000);
      expect(new Package("https://example.invalid/m").timeoutMs).toBe(12_000);
      expect(new Package("https://example.invalid/m", { timeoutMs: 2500 }).timeoutMs).toBe(2500);
    } finally {
      if (saved === undefined) delete process.env.FSSPEC_TS_PACKAGE_TIMEOUT;
      else process.env.FSSPEC_TS_PACKAGE_TIMEOUT = saved;
    }
  });
});
