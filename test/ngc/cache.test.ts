/** filecache over ngc through a URL chain: the first read downloads, the second makes no request at all. */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearInstanceCache, Package, urlToFs, WholeFileCacheFileSystem } from "../../src/index.js";
import { type NGCFileSystem } from "../../src/implementations/ngc.js";
import { startNgcServer, type TestNgcServer } from "../../src/testing/ngc-server.js";
import { pattern } from "./helpers.js";

const ROOT = "models/org/team/name@1.0";
const DATA = pattern(200_000, 3);
const ENV = ["NGC_CLI_SEARCH_SERVICE_URL", "NGC_CLI_API_KEY", "NGC_CLI_ORG", "NGC_CLI_TEAM"] as const;

let srv: TestNgcServer;
let dir: string;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  srv = await startNgcServer();
  srv.addFiles(ROOT, { file: DATA, "other.txt": "other" });
  dir = await mkdtemp(join(tmpdir(), "fsspec-ts-ngc-cache-"));
  // The chain builds ngc with no options of its own: it takes the registry from the environment.
  for (const k of ENV) saved[k] = process.env[k];
  for (const k of ENV) delete process.env[k];
  process.env.NGC_CLI_SEARCH_SERVICE_URL = srv.url;
  clearInstanceCache();
});
afterAll(async () => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  const { fs } = await urlToFs(`filecache::ngc://${ROOT}/file`, { filecache: { cacheStorage: dir } });
  await ((fs as WholeFileCacheFileSystem).target as NGCFileSystem).close();
  clearInstanceCache();
  await srv.close();
  await rm(dir, { recursive: true, force: true });
});

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe("filecache::ngc://", () => {
  it("downloads once; the second read is served from the cache with zero requests", async () => {
    const { fs, path } = await urlToFs(`filecache::ngc://${ROOT}/file`, { filecache: { cacheStorage: dir } });
    expect(fs).toBeInstanceOf(WholeFileCacheFileSystem);
    expect(path).toBe(`${ROOT}/file`);
    expect(same(await fs.catFile(path), DATA)).toBe(true);
    expect(srv.count("download")).toBeGreaterThanOrEqual(1);
    expect(srv.count("lookup")).toBe(1);
    srv.resetCounts();

    const again = await urlToFs(`filecache::ngc://${ROOT}/file`, { filecache: { cacheStorage: dir } });
    expect(same(await again.fs.catFile(again.path), DATA)).toBe(true);
    expect(same(await again.fs.catFile(again.path, -10), DATA.subarray(-10))).toBe(true);
    const f = await again.fs.open(again.path, "rb");
    f.seek(150_000);
    expect(same(await f.read(100), DATA.subarray(150_000, 150_100))).toBe(true);
    await f.close();
    expect(srv.requests).toEqual([]);
    expect(srv.storage.requests).toEqual([]);
    // The cached file, besides the metadata and the holder file its locks linked to (kept open for the next lock).
    expect((await readdir(dir)).filter((n) => n !== "cache" && !n.startsWith(".fsspec-holder-"))).toHaveLength(1);
  });

  it("a fresh layer instance on the same cache directory makes no request either", async () => {
    const { fs: target } = await urlToFs(`ngc://${ROOT}/file`);
    srv.resetCounts();
    const layer = new WholeFileCacheFileSystem({ fs: target, cacheStorage: dir, skipInstanceCache: true });
    expect(same(await layer.catFile(`ngc://${ROOT}/file`), DATA)).toBe(true);
    expect(srv.requests).toEqual([]);
  });
});

describe("Package over ngc://", () => {
  it("resolves a checkpoint file to a local path, downloading it once", async () => {
    const storage = await mkdtemp(join(tmpdir(), "fsspec-ts-ngc-pkg-"));
    try {
      const options = { fsOptions: { ngc: { baseUrl: srv.url, apiKey: null, skipInstanceCache: true } }, cacheOptions: { cacheStorage: storage }, progress: false as const };
      const pkg = new Package(`ngc://${ROOT}`, options);
      srv.resetCounts();
      const local = await pkg.resolve("other.txt");
      expect(await readFile(local, "utf8")).toBe("other");
      expect(srv.count("download")).toBe(1);
      srv.resetCounts();
      expect(await new Package(`ngc://${ROOT}`, options).resolve("other.txt")).toBe(local);
      expect(srv.requests).toEqual([]);
      await expect(pkg.resolve("missing.bin")).rejects.toMatchObject({ code: "ENOENT" });
    } finally {
      await rm(storage, { recursive: true, force: true });
    }
  });
});
