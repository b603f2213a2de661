/**
 * gs:// under the cache layers: a Package loads its files from the local GCS server once and
 * makes no request at all on a second load; filecache::gs:// serves offline from its cache.
 * Requests are counted on the server itself.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clearInstanceCache, OFFLINE_ENV, Package, urlToFs, WholeFileCacheFileSystem } from "../../src/index.js";
import type { GCSFileSystem } from "../../src/implementations/gs.js";
import type { TestGcsServer } from "../support/gcs-server.js";
import { errorOf } from "../support/errors.js";
import { useGcsServer, pattern, same, TOKEN } from "./helpers.js";

const WEIGHTS = pattern(2_500_000, 3);
let srv: TestGcsServer;
let storage: string;

useGcsServer(async (s) => {
  srv = s;
  srv.createBucket("zoo");
  srv.putObject("zoo", "gencast/params/weights.npz", WEIGHTS);
  srv.putObject("zoo", "gencast/stats/mean_by_level.nc", "means");
  srv.putObject("zoo", "gencast/config.json", '{"levels": 13}');
  storage = await mkdtemp(join(tmpdir(), "fsspec-ts-gs-cache-"));
});
afterAll(async () => {
  clearInstanceCache();
  await rm(storage, { recursive: true, force: true });
});

const packageOptions = (cacheStorage: string) => ({
  fsOptions: { gs: { endpoint: srv.url, accessToken: TOKEN, skipInstanceCache: true } },
  cacheOptions: { cacheStorage },
  progress: false as const,
});

describe("Package over gs://", () => {
  it("loads each file from the server once; a second load makes no request", async () => {
    const dir = join(storage, "pkg");
    const pkg = new Package("gs://zoo/gencast", packageOptions(dir));
    const weights = await pkg.resolve("params/weights.npz");
    expect(same(await readFile(weights), WEIGHTS)).toBe(true);
    expect(await readFile(await pkg.resolve("stats/mean_by_level.nc"), "utf8")).toBe("means");
    const config = await pkg.open("config.json", "r");
    expect(JSON.parse(await config.read())).toEqual({ levels: 13 });
    await config.close();
    expect(srv.count("media")).toBeGreaterThanOrEqual(3);
    srv.resetCounts();

    const again = new Package("gs://zoo/gencast", packageOptions(dir));
    expect(await again.resolve("params/weights.npz")).toBe(weights);
    expect(await readFile(await again.resolve("stats/mean_by_level.nc"), "utf8")).toBe("means");
    const reopened = await again.open("config.json", "r");
    expect(JSON.parse(await reopened.read())).toEqual({ levels: 13 });
    await reopened.close();
    expect(srv.requests).toEqual([]);
    await expect(again.resolve("missing.bin")).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("filecache::gs://", () => {
  it("downloads once, then serves from the cache with no request, offline too", async () => {
    const dir = join(storage, "fc");
    const chain = { filecache: { cacheStorage: dir }, gs: { endpoint: srv.url, accessToken: TOKEN } };
    const { fs, path } = await urlToFs("filecache::gs://zoo/gencast/params/weights.npz", chain);
    expect(fs).toBeInstanceOf(WholeFileCacheFileSystem);
    expect(path).toBe("zoo/gencast/params/weights.npz");
    expect(same(await fs.catFile(path), WEIGHTS)).toBe(true);
    expect(srv.count("media")).toBeGreaterThanOrEqual(1);
    srv.resetCounts();
    expect(same(await fs.catFile(path, 1_000_000, 1_000_100), WEIGHTS.subarray(1_000_000, 1_000_100))).toBe(true);
    expect(srv.requests).toEqual([]);

    process.env[OFFLINE_ENV] = "1";
    try {
      const offline = await urlToFs("filecache::gs://zoo/gencast/params/weights.npz", chain);
      expect(same(await offline.fs.catFile(offline.path, -10), WEIGHTS.subarray(-10))).toBe(true);
      const err = await errorOf(offline.fs.catFile("gs://zoo/gencast/config.json"));
      expect(err.code).toBe("ENOENT");
      expect(err.message).toMatch(/offline/);
      expect(srv.requests).toEqual([]);
    } finally {
      delete process.env[OFFLINE_ENV];
    }
    await ((fs as WholeFileCacheFileSystem).target as GCSFileSystem).close();
  });
});
