/**
 * Whole-file downloads (get, getFile): one streamed GET written straight to the destination, or
 * parallel ranged GETs into positioned writes for large files. Every test checks the bytes on
 * disk (or the error and that nothing was left behind) and the requests the server saw.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { MemoryFileSystem, SimpleCacheFileSystem, WholeFileCacheFileSystem } from "../../src/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { errorOf, expectBytes, pattern } from "./helpers.js";
import { guardProcess } from "../support/process-guard.js";
import { tailCut } from "../support/http-requests.js";

guardProcess();

const MiB = 2 ** 20;
const SIZE = 24 * MiB; // three 8 MiB parts
const data = pattern(SIZE, 5);
const PATH = "/big/model.bin";
let srv: TestHttpServer;
let dir: string;
const url = (p = PATH) => `${srv.url}${p}`;
/** The GETs of the download: not the one-byte GETs that ask for the info (`bytes=0-0`, in place of a HEAD). */
const gets = () => srv.requests.filter((r) => r.path === PATH && r.method === "GET" && r.headers.range !== "bytes=0-0");
const parallel = (more: Record<string, unknown> = {}) =>
  new HTTPFileSystem({ rangeConcurrency: 2, rangeThreshold: 0, retries: 3, retryDelay: 1, timeout: 5_000, bodyTimeout: 5_000, ...more });

/**
 * How many one-byte info GETs a fresh filesystem sends before the download in `run`: a fault for
 * the download's own GET must let them pass first (`times` one more).
 */
async function infoGets(run: (fs: HTTPFileSystem) => Promise<void>, options: Record<string, unknown> = {}): Promise<number> {
  await using fs = new HTTPFileSystem(options);
  srv.resetCounts();
  await run(fs);
  const n = srv.requests.filter((r) => r.path === PATH && r.headers.range === "bytes=0-0").length;
  srv.resetCounts();
  await rm(join(dir, "m.bin"), { force: true });
  return n;
}

/** Progress that sums what it is told, and checks it is told each byte once. */
function counter() {
  const c = { total: 0, size: undefined as number | undefined };
  return { c, callback: { setSize: (n: number) => void (c.size = n), relativeUpdate: (n: number) => void (c.total += n) } };
}

beforeAll(async () => {
  srv = await startHttpServer();
});
afterAll(async () => {
  await srv.close();
});
beforeEach(async () => {
  srv.setFile(PATH, data);
  dir = await mkdtemp(join(tmpdir(), "fsspec-dl-"));
});
afterEach(async () => {
  srv.clearFaults();
  srv.throttle(undefined);
  srv.resetCounts();
  await rm(dir, { recursive: true, force: true });
});

describe("one streamed GET", () => {
  it("below the threshold: one GET from byte 0, written straight to the file", async () => {
    await using fs = new HTTPFileSystem();
    const { c, callback } = counter();
    await fs.getFile(url(), join(dir, "m.bin"), { callback });
    expectBytes(await readFile(join(dir, "m.bin")), data);
    expect(gets().map((r) => r.headers.range)).toEqual(["bytes=0-"]);
    expect([c.size, c.total]).toEqual([SIZE, SIZE]);
  });

  it("get with progress: one info (for the total, the copy and the pin) and one GET", async () => {
    await using fs = new HTTPFileSystem();
    const { c, callback } = counter();
    await fs.get(url(), join(dir, "m.bin"), { callback });
    expectBytes(await readFile(join(dir, "m.bin")), data);
    const mine = srv.requests.filter((r) => r.path === PATH);
    expect(mine.filter((r) => r.method === "HEAD" || r.headers.range === "bytes=0-0")).toHaveLength(1);
    expect(gets().map((r) => r.headers.range)).toEqual(["bytes=0-"]);
    expect([c.size, c.total]).toEqual([SIZE, SIZE]);
  });

  it("a break mid-body is resumed from the last byte with If-Range; each byte counted once", async () => {
    const skip = await infoGets((f) => f.get(url(), join(dir, "m.bin"), { callback: counter().callback }));
    await using fs = new HTTPFileSystem({ retries: 3, retryDelay: 1 });
    srv.fault({ path: PATH, method: "GET", resetAfterBytes: 3 * MiB + 17, times: skip + 1 });
    const { c, callback } = counter();
    await fs.get(url(), join(dir, "m.bin"), { callback });
    expectBytes(await readFile(join(dir, "m.bin")), data);
    const ranges = gets().map((r) => [r.headers.range, r.headers["if-range"] !== undefined]);
    expect(ranges).toEqual([["bytes=0-", true], [`bytes=${3 * MiB + 17}-${SIZE - 1}`, true]]);
    expect(c.total).toBe(SIZE);
  });

  it("a server that ignores Range (python's http.server) gets one request and the whole body", async () => {
    await using fs = parallel();
    srv.fault({ path: PATH, rangesIgnored: true, times: Infinity });
    await fs.getFile(url(), join(dir, "m.bin"));
    expectBytes(await readFile(join(dir, "m.bin")), data);
    expect(gets()).toHaveLength(1);
  });

  it("a destination without positioned writes (memory) gets the bytes in order from one GET", async () => {
    await using fs = parallel();
    const mem = new MemoryFileSystem();
    await fs.getFile(url(), "/m.bin", { localFs: mem });
    expectBytes(await mem.catFile("/m.bin"), data);
    expect(gets()).toHaveLength(1);
  });

  it("a file replaced during the download is ECHANGED and leaves nothing behind", async () => {
    const skip = await infoGets((f) => f.getFile(url(), join(dir, "m.bin")));
    await using fs = new HTTPFileSystem({ retries: 3, retryDelay: 1 });
    srv.fault({ path: PATH, method: "GET", resetAfterBytes: MiB, times: skip + 1 });
    const dst = join(dir, "m.bin");
    const other = pattern(SIZE, 9);
    await errorOf(fs.getFile(url(), dst, { callback: { relativeUpdate: () => srv.files.get(PATH) !== other && srv.setFile(PATH, other) } }), "ECHANGED");
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("parallel ranges", () => {
  it("a large file streams from byte 0; where each connection is capped, parts of its tail go as more GETs pinned with If-Range, bytes in place", async () => {
    await using fs = parallel();
    srv.throttle(16 * MiB);
    const { c, callback } = counter();
    await fs.getFile(url(), join(dir, "m.bin"), { callback });
    expectBytes(await readFile(join(dir, "m.bin")), data);
    const ranges = gets().map((r) => r.headers.range);
    expect(ranges[0]).toBe(`bytes=0-${SIZE - 1}`);
    // Cut after the ramp's warm-up and first measure, at a part boundary below the end.
    const cut = tailCut(ranges, SIZE);
    expect(cut).toBeLessThan(SIZE);
    expect(cut).toBeGreaterThanOrEqual(8 * MiB);
    expect(gets().every((r) => r.headers["if-range"] !== undefined)).toBe(true);
    expect([c.size, c.total]).toEqual([SIZE, SIZE]);
  });

  it("an uncapped loopback download that ends within the ramp's warm-up stays one GET", async () => {
    await using fs = parallel();
    srv.setFile("/big/small.bin", data.subarray(0, 17 * MiB));
    await fs.getFile(url("/big/small.bin"), join(dir, "s.bin"));
    expectBytes(await readFile(join(dir, "s.bin")), data.subarray(0, 17 * MiB));
    const downloads = srv.requests.filter((r) => r.path === "/big/small.bin" && r.method === "GET" && r.headers.range !== "bytes=0-0");
    // One GET, unless this machine took longer than the warm-up and a measure (400 ms) for 17 MiB.
    if (downloads.length > 1) expect(tailCut(downloads.map((r) => r.headers.range), 17 * MiB)).toBeLessThan(17 * MiB);
    else expect(downloads.map((r) => r.headers.range)).toEqual([`bytes=0-${17 * MiB - 1}`]);
  });

  it("the connections ramp up: with a throttled server two parts are in flight together", async () => {
    await using fs = parallel();
    srv.throttle(16 * MiB);
    await fs.getFile(url(), join(dir, "m.bin"));
    expectBytes(await readFile(join(dir, "m.bin")), data);
    // The info request's throttled one-byte body may still be going out as the first part starts.
    expect(srv.peakInFlight()).toBeGreaterThanOrEqual(2);
  });

  it("a part that breaks is resumed on its own; each byte counted once", async () => {
    await using fs = parallel();
    srv.throttle(16 * MiB);
    // Tail parts only (they start at 8 MiB or later): the first GET from byte 0 runs through.
    srv.fault({ path: PATH, method: "GET", fromByte: 8 * MiB, resetAfterBytes: MiB + 5, times: 1 });
    const { c, callback } = counter();
    await fs.getFile(url(), join(dir, "m.bin"), { callback });
    expectBytes(await readFile(join(dir, "m.bin")), data);
    const parts = gets().slice(1).map((r) => String(r.headers.range));
    const broken = parts[0]!;
    const from = Number(/^bytes=(\d+)-/.exec(broken)![1]);
    // The part broken after MiB + 5 bytes is asked again from there, pinned.
    expect(parts).toContain(`bytes=${from + MiB + 5}-${/-(\d+)$/.exec(broken)![1]}`);
    expect(gets().every((r) => r.headers["if-range"] !== undefined)).toBe(true);
    expect(c.total).toBe(SIZE);
  });

  it("a file replaced between parts is ECHANGED, never spliced, and no temporary file stays", async () => {
    await using fs = parallel();
    srv.throttle(16 * MiB);
    const dst = join(dir, "m.bin");
    let replaced = false;
    const replace = () => {
      if (replaced) return;
      replaced = true;
      srv.setFile(PATH, pattern(SIZE, 9));
    };
    // The first GET streams the old bytes it started with; the tail part asked later no longer matches its If-Range.
    const err = await errorOf(fs.getFile(url(), dst, { callback: { relativeUpdate: replace } }), "ECHANGED");
    expect(err.message).toMatch(/changed/);
    expect(await readdir(dir)).toEqual([]);
  });

  it("an old version's ETag answered for a part is ECHANGED (changeEtag on a part)", async () => {
    await using fs = parallel();
    srv.throttle(16 * MiB);
    srv.fault({ path: PATH, method: "GET", fromByte: 8 * MiB, changeEtag: true, times: 1 });
    await errorOf(fs.get(url(), join(dir, "m.bin")), "ECHANGED");
    expect(await readdir(dir)).toEqual([]);
  });

  it("an abort stops every part and removes the temporary file; the old destination stays", async () => {
    await using fs = parallel();
    const dst = join(dir, "m.bin");
    await writeFile(dst, "old");
    srv.throttle(8 * MiB);
    const abort = new AbortController();
    let seen = 0;
    const onBytes = (n: number) => {
      seen += n;
      if (seen > MiB) abort.abort();
    };
    await errorOf(fs.getFile(url(), dst, { signal: abort.signal, callback: { relativeUpdate: onBytes } }), "EABORT");
    expect(await readdir(dir)).toEqual(["m.bin"]);
    expect(await readFile(dst, "utf8")).toBe("old");
  });

  it("while it downloads, the destination does not exist: only a temporary file does", async () => {
    await using fs = parallel();
    srv.throttle(32 * MiB);
    const dst = join(dir, "m.bin");
    let during: string[] | undefined;
    let checking = false;
    const onBytes = () => {
      if (checking || during) return;
      checking = true;
      void readdir(dir).then((names) => (during = names));
    };
    await fs.getFile(url(), dst, { callback: { relativeUpdate: onBytes } });
    expect(during).toHaveLength(1);
    expect(during![0]).toMatch(/^\.fsspec-tmp-/);
    expect((await stat(dst)).size).toBe(SIZE);
  });

  it("without Accept-Ranges or a validator to pin parts to, one GET", async () => {
    await using fs = parallel();
    srv.fault({ path: PATH, noEtag: true, rangesIgnored: true, times: Infinity });
    await fs.getFile(url(), join(dir, "m.bin"));
    expectBytes(await readFile(join(dir, "m.bin")), data);
    expect(gets()).toHaveLength(1);
  });

  it("rangeConcurrency and rangeThreshold are checked", () => {
    expect(() => new HTTPFileSystem({ rangeConcurrency: 0 })).toThrow(/rangeConcurrency/);
    expect(() => new HTTPFileSystem({ rangeThreshold: -1 })).toThrow(/rangeThreshold/);
    expect(() => new HTTPFileSystem({ rangeConcurrency: 1.5 })).toThrow(/rangeConcurrency/);
  });
});

describe("the file caches", () => {
  const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

  it("filecache: parallel ranges into the temporary file, its sha256 recorded from the bytes; no temporary left", async () => {
    await using http = parallel();
    srv.throttle(16 * MiB);
    const cache = new WholeFileCacheFileSystem({ fs: http, cacheStorage: dir, skipInstanceCache: true });
    const { c, callback } = counter();
    const hit = await cache.ensureCached(url(), { callback });
    expectBytes(await readFile(join(dir, hit.fn)), data);
    expect(tailCut(gets().map((r) => r.headers.range), SIZE)).toBeLessThan(SIZE);
    expect([c.size, c.total]).toEqual([SIZE, SIZE]);
    expect(hit.entry?.sha256).toBe(sha(data));
    expect((await readdir(dir)).filter((n) => n.includes("partial"))).toEqual([]);
  });

  it("filecache with a sha256 pin: parallel parts that do not match are EIO and nothing is cached", async () => {
    await using http = parallel();
    const cache = new WholeFileCacheFileSystem({ fs: http, cacheStorage: dir, skipInstanceCache: true });
    await errorOf(cache.ensureCached(url(), { sha256: "0".repeat(64) }), "EIO");
    expect(await cache.findCached(url())).toBeUndefined();
    const hit = await cache.ensureCached(url(), { sha256: sha(data) });
    expectBytes(await readFile(join(dir, hit.fn)), data);
  });

  it("simplecache: one streamed GET below the threshold, the bytes as served", async () => {
    await using http = new HTTPFileSystem();
    const cache = new SimpleCacheFileSystem({ fs: http, cacheStorage: dir, skipInstanceCache: true });
    expectBytes(await cache.catFile(url()), data);
    expect(gets().map((r) => r.headers.range)).toEqual(["bytes=0-"]);
  });

  it("filecache: a file replaced between parts is never spliced: the one retry caches the new version whole", async () => {
    await using http = parallel();
    srv.throttle(16 * MiB);
    const cache = new WholeFileCacheFileSystem({ fs: http, cacheStorage: dir, skipInstanceCache: true });
    const other = pattern(SIZE, 9);
    let replaced = false;
    const callback = { relativeUpdate: () => void (replaced || ((replaced = true), srv.setFile(PATH, other))) };
    const hit = await cache.ensureCached(url(), { callback });
    expectBytes(await readFile(join(dir, hit.fn)), other);
  });
});

describe("a large catFile", () => {
  it("streams from its GET and, where each connection is capped, fetches parts of the tail as ranges pinned with If-Range", async () => {
    await using fs = parallel();
    srv.throttle(16 * MiB);
    const { c, callback } = counter();
    expectBytes(await fs.catFile(url(), undefined, undefined, { callback }), data);
    const ranges = gets().map((r) => [r.headers.range, r.headers["if-range"] !== undefined]);
    expect(ranges[0]).toEqual(["bytes=0-", false]);
    expect(ranges.slice(1).every(([, pinned]) => pinned)).toBe(true);
    expect(tailCut(gets().map((r) => r.headers.range), SIZE)).toBeLessThan(SIZE);
    expect([c.size, c.total]).toEqual([SIZE, SIZE]);
  });

  it("a range of the file: offsets stay right", async () => {
    await using fs = parallel();
    srv.throttle(12 * MiB);
    expectBytes(await fs.catFile(url(), MiB + 1, SIZE - 7), data.subarray(MiB + 1, SIZE - 7));
    expect(gets().length).toBeGreaterThan(1);
    expect(tailCut(gets().map((r) => r.headers.range), SIZE - 7)).toBeLessThan(SIZE - 7);
  });

  it("a file replaced between parts is ECHANGED", async () => {
    await using fs = parallel();
    srv.throttle(16 * MiB);
    const other = pattern(SIZE, 9);
    const replace = () => void (srv.files.get(PATH) !== other && srv.setFile(PATH, other));
    await errorOf(fs.catFile(url(), undefined, undefined, { callback: { relativeUpdate: replace } }), "ECHANGED");
  });

  it("a part that fails stops the first stream too: the call rejects with the part's error, and no more bytes come", async () => {
    await using fs = parallel({ retries: 0 });
    srv.throttle(16 * MiB);
    srv.fault({ path: PATH, method: "GET", fromByte: 1, status: 403, times: Infinity });
    const { c, callback } = counter();
    await errorOf(fs.catFile(url(), undefined, undefined, { callback }), "EACCES");
    const part = gets().find((r) => r.headers.range !== "bytes=0-");
    const cutAt = Number(/^bytes=(\d+)-/.exec(String(part!.headers.range))![1]);
    // Left running, the first stream would have read up to where its tail was handed to the part.
    const atReject = c.total;
    expect(atReject).toBeLessThan(cutAt);
    await new Promise((r) => setTimeout(r, 300));
    expect(c.total).toBe(atReject);
  });

  it("below the threshold, or from a server that ignores Range: one GET", async () => {
    await using fs = new HTTPFileSystem();
    expectBytes(await fs.catFile(url()), data);
    expect(gets()).toHaveLength(1);
    srv.resetCounts();
    await using fs2 = parallel();
    srv.fault({ path: PATH, rangesIgnored: true, times: Infinity });
    expectBytes(await fs2.catFile(url()), data);
    expect(gets()).toHaveLength(1);
  });
});
