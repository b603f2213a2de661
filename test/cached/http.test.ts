/** The cache layers over the HTTP filesystem and the test server, with cache storage on the local disk. */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CachingFileSystem, SimpleCacheFileSystem, urlToFs, WholeFileCacheFileSystem, type WholeFileCacheOptions } from "../../src/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { codeOf, errorOf } from "../support/errors.js";
import { hex, makeBytes, sha256 } from "./support/counting.js";
import { bytesRequested } from "./support/requests.js";
import { downloadCount, isInfoRequest } from "../support/http-requests.js";

const SIZE = 3 * 2 ** 20 + 123;
const DATA = makeBytes(SIZE, 11);

let srv: TestHttpServer;
let http: HTTPFileSystem;
let dir: string;
let n = 0;

beforeAll(async () => {
  srv = await startHttpServer({ acceptPut: true });
  http = new HTTPFileSystem({ retryDelay: 1, retries: 3 });
});
afterAll(async () => {
  await http.close();
  await srv.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fsspec-ts-cache-http-"));
});
afterEach(async () => {
  srv.clearFaults();
  srv.resetCounts();
  await rm(dir, { recursive: true, force: true });
});

/** A fresh file on the server, so tests never share cache entries. */
function serve(data: Uint8Array | string = DATA): { path: string; url: string } {
  const path = `/files/f${n++}.bin`;
  srv.setFile(path, data);
  return { path, url: `${srv.url}${path}` };
}

const filecache = (more: Partial<WholeFileCacheOptions> = {}) =>
  new WholeFileCacheFileSystem({ fs: http, cacheStorage: dir, skipInstanceCache: true, downloadChunkSize: 2 ** 20, ...more });
describe("filecache over HTTP", () => {
  it("a download given the file's info asks for none; a stale one (the file replaced since) gets the new version whole; another file's is not used", async () => {
    const { path, url } = serve("first version");
    const info = await http.info(url);
    srv.resetCounts();
    const fs = filecache();
    const hit = await fs.ensureCached(url, { info });
    expect(await readFile(hit.storage.pathOf(hit.fn), "utf8")).toBe("first version");
    expect(srv.requests.map((r) => [r.method, r.headers.range])).toEqual([["GET", "bytes=0-"]]);

    const second = serve("old");
    const stale = await http.info(second.url);
    srv.setFile(second.path, "a new version, longer");
    srv.resetCounts();
    const got = await fs.ensureCached(second.url, { info: stale });
    expect(await readFile(got.storage.pathOf(got.fn), "utf8")).toBe("a new version, longer");
    expect(Buffer.from(await fs.catFile(second.url)).toString()).toBe("a new version, longer");

    const third = serve("third");
    srv.resetCounts();
    const other = await fs.ensureCached(third.url, { info }); // the first file's info
    expect(await readFile(other.storage.pathOf(other.fn), "utf8")).toBe("third");
    expect(srv.requests.filter((r) => r.path === third.path).length).toBe(2); // its own info, then its GET
    expect(path).not.toBe(third.path);
    expect(await codeOf(fs.ensureCached(third.url, { info: "nope" as never }))).toBe("EINVAL");
  });

  it("downloads once; a later instance reads the local copy with no request at all", async () => {
    const { path, url } = serve();
    expect(sha256(await filecache().catFile(url))).toBe(sha256(DATA));
    expect(bytesRequested(srv, path, SIZE)).toBe(SIZE);
    srv.resetCounts();
    const again = filecache();
    expect(sha256(await again.catFile(url))).toBe(sha256(DATA));
    const f = await again.open(url);
    f.seek(SIZE - 10);
    expect(hex(await f.read())).toBe(hex(DATA.subarray(SIZE - 10)));
    await f.close();
    expect(srv.requests).toEqual([]);
    // The cached file, besides the metadata and the holder file its locks linked to (kept open for the next lock).
    const names = (await readdir(dir)).filter((x) => x !== "cache" && !x.startsWith(".fsspec-holder-"));
    expect(names).toHaveLength(1);
    expect(sha256(await readFile(join(dir, names[0]!)))).toBe(sha256(DATA));
  });

  it("a whole-file download is one GET whatever the chunk size (after the info that opens it), resumed where it breaks", async () => {
    const { path, url } = serve();
    expect(sha256(await filecache({ downloadChunkSize: 2 ** 18 }).catFile(url))).toBe(sha256(DATA));
    // The info: a HEAD, or a bytes=0-0 GET where the origin's HEAD announced ranges.
    const asked = srv.requests.filter((r) => r.path === path);
    expect(asked).toHaveLength(2);
    expect(isInfoRequest(asked[0]!)).toBe(true);
    expect([asked[1]!.method, asked[1]!.headers.range]).toEqual(["GET", "bytes=0-"]);
    srv.resetCounts();
    const broken = serve(makeBytes(SIZE, 12));
    srv.fault({ path: broken.path, method: "GET", unlessRange: "bytes=0-0", resetAfterBytes: 2 ** 20 });
    expect(sha256(await filecache().catFile(broken.url))).toBe(sha256(makeBytes(SIZE, 12)));
    expect(srv.requests.filter((r) => r.method === "GET" && !isInfoRequest(r)).map((r) => r.headers.range)).toEqual(["bytes=0-", `bytes=${2 ** 20}-${SIZE - 1}`]);
  });

  it("the sha256 recorded is the bytes' own, whether they came as one stream (hashed as they came) or as parallel parts (the rest read back)", async () => {
    const big = makeBytes(26 * 2 ** 20 + 5, 13);
    for (const rangeConcurrency of [1, 4]) {
      const { url } = serve(big);
      // Capped per connection, so the parallel case cuts its stream's tail into parts.
      srv.throttle(rangeConcurrency > 1 ? 16 * 2 ** 20 : undefined);
      const target = new HTTPFileSystem({ rangeConcurrency, rangeThreshold: 16 * 2 ** 20, skipInstanceCache: true });
      try {
        const layer = new WholeFileCacheFileSystem({ fs: target, cacheStorage: dir, skipInstanceCache: true });
        const local = await layer.localPath(url);
        expect(sha256(await readFile(local))).toBe(sha256(big));
        const md = JSON.parse(await readFile(join(dir, "cache"), "utf8")) as Record<string, { sha256?: string }>;
        expect(md[url]?.sha256).toBe(sha256(big));
        // A pin is checked against that digest: the right one passes, a wrong one is refused.
        await layer.clearCache();
        expect((await layer.ensureCached(url, { sha256: sha256(big) })).entry?.sha256).toBe(sha256(big));
        await layer.clearCache();
        expect((await errorOf(layer.ensureCached(url, { sha256: "0".repeat(64) }))).message).toMatch(/checksum mismatch/);
      } finally {
        await target.close();
      }
    }
    srv.throttle(undefined);
    const parallel = srv.requests.filter((r) => r.method === "GET" && /^bytes=[1-9]/.test(String(r.headers.range ?? "")));
    expect(parallel.length).toBeGreaterThan(0);
  });

  it("a cache directory removed while a layer is in use is made again by its next download (filecache and blockcache)", async () => {
    const first = serve(makeBytes(1000, 1));
    const second = serve(makeBytes(2000, 2));
    const whole = filecache();
    expect(sha256(await whole.catFile(first.url))).toBe(sha256(makeBytes(1000, 1)));
    await rm(dir, { recursive: true, force: true });
    expect(sha256(await whole.catFile(second.url))).toBe(sha256(makeBytes(2000, 2)));
    const md = JSON.parse(await readFile(join(dir, "cache"), "utf8")) as Record<string, unknown>;
    expect(Object.keys(md)).toEqual([second.url]);
    const blocks = new CachingFileSystem({ fs: http, cacheStorage: dir, skipInstanceCache: true, blockSize: 512 });
    expect(hex(await blocks.catFile(first.url, 0, 10))).toBe(hex(makeBytes(1000, 1).subarray(0, 10)));
    await rm(dir, { recursive: true, force: true });
    expect(hex(await blocks.catFile(second.url, 1500, 1510))).toBe(hex(makeBytes(2000, 2).subarray(1500, 1510)));
    expect((await readdir(dir)).length).toBeGreaterThan(0);
  });

  it("layer instances sharing one directory in one process share one download", async () => {
    const { path, url } = serve();
    const got = await Promise.all([filecache(), filecache(), filecache()].map((fs) => fs.catFile(url)));
    expect(got.map(sha256)).toEqual(Array(3).fill(sha256(DATA)));
    expect(bytesRequested(srv, path, SIZE)).toBe(SIZE);
  });

  it("checkFiles notices the remote change through the ETag and downloads the new version", async () => {
    const { path, url } = serve("version one");
    const fs = filecache({ checkFiles: true });
    expect(new TextDecoder().decode(await fs.catFile(url))).toBe("version one");
    srv.resetCounts();
    expect(new TextDecoder().decode(await fs.catFile(url))).toBe("version one");
    expect(downloadCount(srv, path)).toBe(0);
    srv.setFile(path, "version two!");
    fs.invalidateCache();
    expect(new TextDecoder().decode(await fs.catFile(url))).toBe("version two!");
    expect(downloadCount(srv, path)).toBeGreaterThan(0);
  });

  it("a file that changes during the download is fetched again whole, never mixed", async () => {
    const { path, url } = serve();
    // The second ranged GET is served from another version (other bytes, other ETag).
    srv.fault({ path, method: "GET", unlessRange: "bytes=0-0", times: 1, changeEtag: true });
    srv.fault({ path, method: "GET", unlessRange: "bytes=0-0", times: 1, changeEtag: true });
    const fs = filecache();
    const first = await fs.catFile(url).catch((e: unknown) => e);
    if (first instanceof Uint8Array) expect(sha256(first)).toBe(sha256(DATA));
    else expect((first as { code?: string }).code).toBe("ECHANGED");
    expect(sha256(await fs.catFile(url))).toBe(sha256(DATA));
    expect(sha256(await readFile(await fs.localPath(url)))).toBe(sha256(DATA));
  });

  for (const Layer of [WholeFileCacheFileSystem, SimpleCacheFileSystem]) {
    const layer = () => new Layer({ fs: http, cacheStorage: dir, skipInstanceCache: true, downloadChunkSize: 2 ** 20 });

    it(`${Layer.protocols[0]}: a file that changes between its HEAD and the first GET is cached as one version`, async () => {
      const { path, url } = serve();
      srv.fault({ path, method: "GET", unlessRange: "bytes=0-0", times: 1, changeEtag: true });
      expect(sha256(await layer().catFile(url))).toBe(sha256(DATA));
      expect(sha256(await readFile(await layer().localPath(url)))).toBe(sha256(DATA));
    });

    it(`${Layer.protocols[0]}: a download whose resumed request meets a new version is cached as one version`, async () => {
      const { path, url } = serve();
      // The first response breaks off; the request resuming it is answered by another version.
      srv.fault({ path, method: "GET", unlessRange: "bytes=0-0", times: 1, resetAfterBytes: 100_000 });
      srv.fault({ path, method: "GET", unlessRange: "bytes=0-0", times: 1, changeEtag: true });
      expect(sha256(await layer().catFile(url))).toBe(sha256(DATA));
      expect(sha256(await readFile(await layer().localPath(url)))).toBe(sha256(DATA));
      expect(srv.requests.some((r) => r.method === "GET" && r.headers["if-range"] !== undefined)).toBe(true);
    });
  }

  it("a failed or aborted download publishes nothing and leaves no temporary behind", async () => {
    const { path, url } = serve();
    const leftovers = async () => (await readdir(dir)).filter((x) => x !== "cache");
    srv.fault({ path, method: "GET", times: Infinity, status: 503 });
    const fs = filecache();
    expect((await errorOf(fs.catFile(url))).code).toBe("EIO");
    expect(await leftovers()).toEqual([]);
    srv.clearFaults();
    // Aborted after its first megabyte arrived: mid-download.
    const controller = new AbortController();
    const aborted = fs.ensureCached(url, { signal: controller.signal, callback: { relativeUpdate: () => controller.abort() } });
    expect((await errorOf(aborted)).code).toBe("EABORT");
    expect(await leftovers()).toEqual([]);
    expect(sha256(await fs.catFile(url))).toBe(sha256(DATA));
  });

  it("expired copies are downloaded again", async () => {
    const { path, url } = serve("fresh");
    await filecache({ expiryMs: 60_000 }).catFile(url);
    const md = JSON.parse(await readFile(join(dir, "cache"), "utf8"));
    md[url].time -= 3600;
    await import("node:fs/promises").then((f) => f.writeFile(join(dir, "cache"), JSON.stringify(md)));
    srv.resetCounts();
    expect(new TextDecoder().decode(await filecache({ expiryMs: 60_000, fsync: true }).catFile(url))).toBe("fresh");
    expect(downloadCount(srv, path)).toBe(1);
  });

  it("decompresses gzip at download and keeps readable names with sameNames", async () => {
    const plain = makeBytes(200_000, 5);
    const path = `/files/archive${n++}.bin.gz`;
    srv.setFile(path, gzipSync(plain));
    const fs = filecache({ compression: "infer", sameNames: true });
    const local = await fs.localPath(`${srv.url}${path}`);
    expect(local).toBe(join(dir, path.slice("/files/".length)));
    expect(sha256(await readFile(local))).toBe(sha256(plain));
  });
});

describe("filecache over HTTP: layers, names, writes, chains", () => {
  it("a read-only lower layer is read first and never written", async () => {
    const { path, url } = serve();
    const other = serve("not in the read-only layer");
    const ro = join(dir, "ro");
    const rw = join(dir, "rw");
    await new WholeFileCacheFileSystem({ fs: http, cacheStorage: ro, skipInstanceCache: true }).catFile(url);
    const roFiles = (await readdir(ro)).sort();
    const roMetadata = await readFile(join(ro, "cache"), "utf8");
    srv.resetCounts();
    const fs = filecache({ cacheStorage: [ro, rw] });
    expect(sha256(await fs.catFile(url))).toBe(sha256(DATA));
    expect(srv.requestCount(path)).toBe(0);
    expect(new TextDecoder().decode(await fs.catFile(other.url))).toBe("not in the read-only layer");
    expect((await readdir(ro)).sort()).toEqual(roFiles);
    expect(await readFile(join(ro, "cache"), "utf8")).toBe(roMetadata);
    expect(Object.keys(JSON.parse(await readFile(join(rw, "cache"), "utf8")))).toEqual([other.url]);
    expect((await errorOf(fs.popFromCache(url))).code).toBe("EACCES");
  });

  it("a mapper keeping one parent directory names files readably", async () => {
    srv.setFile("/pkg/a/metadata.json", "A");
    srv.setFile("/pkg/b/metadata.json", "B");
    const fs = filecache({ cacheMapper: { type: "basename", directoryLevels: 1 } });
    expect(await fs.localPath(`${srv.url}/pkg/a/metadata.json`)).toBe(join(dir, "a_@_metadata.json"));
    expect(await fs.localPath(`${srv.url}/pkg/b/metadata.json`)).toBe(join(dir, "b_@_metadata.json"));
    expect(await readFile(join(dir, "a_@_metadata.json"), "utf8")).toBe("A");
  });

  it("writes are uploaded on close, or on transaction commit, and then served from the cache", async () => {
    const fs = filecache();
    const url = `${srv.url}/uploads/u${n++}.txt`;
    const f = await fs.open(url, "wb");
    await f.write("uploaded");
    expect(srv.requestCount(new URL(url).pathname, "PUT")).toBe(0);
    await f.close();
    expect(new TextDecoder().decode(srv.files.get(new URL(url).pathname)!)).toBe("uploaded");
    const tx = `${srv.url}/uploads/t${n++}.txt`;
    await fs.transaction(async () => {
      await fs.pipe(tx, "in a transaction");
      expect(srv.files.has(new URL(tx).pathname)).toBe(false);
    });
    expect(new TextDecoder().decode(srv.files.get(new URL(tx).pathname)!)).toBe("in a transaction");
    srv.resetCounts();
    expect(new TextDecoder().decode(await fs.catFile(url))).toBe("uploaded");
    expect(new TextDecoder().decode(await fs.catFile(tx))).toBe("in a transaction");
    expect(srv.requestCount(undefined, "GET")).toBe(0);
  });

  it("filecache::http through urlToFs, options under both protocols", async () => {
    const { path, url } = serve();
    const { fs, path: p } = await urlToFs(`filecache::${url}`, {
      filecache: { cacheStorage: dir, skipInstanceCache: true },
      http: { retries: 1, skipInstanceCache: true },
    });
    expect(sha256(await fs.catFile(p))).toBe(sha256(DATA));
    srv.resetCounts();
    expect(sha256(await fs.catFile(p))).toBe(sha256(DATA));
    expect(srv.requestCount(path)).toBe(0);
    await ((fs as WholeFileCacheFileSystem).target as HTTPFileSystem).close();
  });
});

describe("simplecache and blockcache over HTTP", () => {
  it("simplecache through a URL chain, with per-layer options", async () => {
    const { path, url } = serve();
    const { fs, path: p } = await urlToFs(`simplecache::${url}`, { simplecache: { cacheStorage: dir, skipInstanceCache: true } });
    expect(fs).toBeInstanceOf(SimpleCacheFileSystem);
    expect(sha256(await fs.catFile(p))).toBe(sha256(DATA));
    srv.resetCounts();
    expect(sha256(await fs.catFile(p))).toBe(sha256(DATA));
    expect(srv.requestCount(path)).toBe(0);
    await ((fs as SimpleCacheFileSystem).target as HTTPFileSystem).close();
  });

  it("blockcache: random reads fetch only their blocks, and a second pass makes no request", async () => {
    const { path, url } = serve();
    const fs = new CachingFileSystem({ fs: http, cacheStorage: dir, blockSize: 256 * 1024, skipInstanceCache: true });
    const offsets = [3_000_000, 10, 1_500_000, 777_777, 2_500_000];
    const pass = async () => {
      const f = await fs.open(url);
      const out: string[] = [];
      for (const off of offsets) {
        f.seek(off);
        out.push(sha256(await f.read(1000)));
      }
      await f.close();
      return out;
    };
    const want = offsets.map((o) => sha256(DATA.subarray(o, o + 1000)));
    expect(await pass()).toEqual(want);
    const firstPass = downloadCount(srv, path);
    expect(firstPass).toBe(offsets.length);
    expect(bytesRequested(srv, path, SIZE)).toBe(offsets.length * 256 * 1024);
    expect(await pass()).toEqual(want);
    expect(downloadCount(srv, path)).toBe(firstPass);
    const entry = JSON.parse(await readFile(join(dir, "cache"), "utf8"))[url];
    expect(entry.blocks).toHaveLength(offsets.length);
  });
});

describe("blockcache over HTTP: blocks of one entry come from one version", () => {
  const BLOCK = 256 * 1024;
  const blockcache = () => new CachingFileSystem({ fs: http, cacheStorage: dir, blockSize: BLOCK, skipInstanceCache: true });
  const NEW = makeBytes(4 * BLOCK, 23);
  const OLD = makeBytes(4 * BLOCK, 29);

  it("block 0 read, then the server serves a new version: the next read is the new version whole, never a splice", async () => {
    const { path, url } = serve(OLD);
    const fs = blockcache();
    expect(sha256(await fs.catFile(url, 0, BLOCK))).toBe(sha256(OLD.subarray(0, BLOCK)));
    srv.setFile(path, NEW);
    expect(sha256(await fs.catFile(url))).toBe(sha256(NEW));
    // Another instance over the same directory (a later process) sees the new version too.
    expect(sha256(await blockcache().catFile(url))).toBe(sha256(NEW));
    const entry = JSON.parse(await readFile(join(dir, "cache"), "utf8"))[url];
    expect(entry).toMatchObject({ blocks: true, size: NEW.byteLength, version: { etag: expect.any(String), size: NEW.byteLength } });
  });

  it("across instances: the blocks another instance cached from the old version are never joined to new ones", async () => {
    const { path, url } = serve(OLD);
    await blockcache().catFile(url, 0, BLOCK);
    srv.setFile(path, NEW);
    const later = blockcache();
    expect(sha256(await later.catFile(url))).toBe(sha256(NEW));
    expect(sha256(await later.catFile(url, 0, BLOCK))).toBe(sha256(NEW.subarray(0, BLOCK)));
  });

  it("an opened file fails with ECHANGED when the file changes under it; a later read is the new version", async () => {
    const { path, url } = serve(OLD);
    const fs = blockcache();
    const f = await fs.open(url);
    expect(sha256(await f.read(BLOCK))).toBe(sha256(OLD.subarray(0, BLOCK)));
    srv.setFile(path, NEW);
    f.seek(2 * BLOCK);
    expect((await errorOf(f.read(BLOCK))).code).toBe("ECHANGED");
    await f.close();
    expect(sha256(await fs.catFile(url))).toBe(sha256(NEW));
  });

  it("a file that changes between its HEAD and its first block is fetched again, whole from one version", async () => {
    const { path, url } = serve(OLD);
    srv.fault({ path, method: "GET", unlessRange: "bytes=0-0", times: 1, changeEtag: true });
    const got = await blockcache().catFile(url);
    expect(sha256(got)).toBe(sha256(OLD));
    expect(sha256(await blockcache().catFile(url))).toBe(sha256(OLD));
  });
});
