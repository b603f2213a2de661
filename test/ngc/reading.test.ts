/** Reading NGC files: ranges, seekable opens, resumes, expired presigned URLs, listings and their fallback. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { NGCFileSystem } from "../../src/implementations/ngc.js";
import { startNgcServer, type TestNgcServer } from "../../src/testing/ngc-server.js";
import { errorOf } from "../support/errors.js";
import { ngcFs, pattern, text } from "./helpers.js";

const ROOT = "models/nvidia/modulus/fcn@1.0";
const SIZE = 300_000;
const BIG = pattern(SIZE, 7);

let srv: TestNgcServer;
let fs: NGCFileSystem;

beforeAll(async () => {
  srv = await startNgcServer({ pageSize: 3 });
  srv.addFiles(ROOT, { "fcn.mdlus": BIG, "metadata.json": '{"a":1}', "stats/mean.npy": "mean", "stats/std.npy": "std!", "stats/deep/x": "x" });
  srv.addFiles("models/org/unlisted@2", { "w.bin": "weights", "sub/c.txt": "c" }, { listing: false });
  srv.addFiles("models/org/sizeless@1", { "a.bin": "12345", "d/b.bin": "12" }, { sizes: false });
  fs = ngcFs(srv);
});
afterAll(async () => {
  await fs.close();
  await srv.close();
});
afterEach(() => {
  fs.invalidateCache();
  srv.storage.clearFaults();
  srv.resetCounts();
});

const url = (rel: string, root = ROOT) => `ngc://${root}/${rel}`;
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe("ranges", () => {
  it("catFile reads slices with ranged GETs of the presigned URL, one lookup per file", async () => {
    expect(same(await fs.catFile(url("fcn.mdlus"), 1000, 5000), BIG.subarray(1000, 5000))).toBe(true);
    expect(same(await fs.catFile(url("fcn.mdlus"), SIZE - 10), BIG.subarray(SIZE - 10))).toBe(true);
    expect(same(await fs.catFile(url("fcn.mdlus"), -7), BIG.subarray(SIZE - 7))).toBe(true);
    expect(srv.count("lookup")).toBe(1);
    const downloads = srv.requests.filter((r) => r.kind === "download");
    expect(downloads.map((r) => r.headers.range)).toEqual(["bytes=1000-4999", `bytes=${SIZE - 10}-`, `bytes=${SIZE - 7}-${SIZE - 1}`]);
    // A range past the end, an empty range: slice semantics, no error.
    expect((await fs.catFile(url("fcn.mdlus"), SIZE + 5, SIZE + 9)).byteLength).toBe(0);
    expect((await fs.catFile(url("fcn.mdlus"), 9, 9)).byteLength).toBe(0);
  });

  it("catRanges merges nearby ranges into one request", async () => {
    const out = await fs.catRanges(url("fcn.mdlus"), [0, 100, 200_000], [10, 110, 200_010]);
    expect(same(out[0] as Uint8Array, BIG.subarray(0, 10))).toBe(true);
    expect(same(out[1] as Uint8Array, BIG.subarray(100, 110))).toBe(true);
    expect(same(out[2] as Uint8Array, BIG.subarray(200_000, 200_010))).toBe(true);
    expect(srv.count("download")).toBeLessThan(3);
  });

  it("a seekable open reads blocks on demand, pinned to the version it opened", async () => {
    const f = await fs.open(url("fcn.mdlus"), "rb", { blockSize: 10_000, cacheType: "bytes" });
    expect(f.size).toBe(SIZE);
    f.seek(250_000);
    expect(same(await f.read(100), BIG.subarray(250_000, 250_100))).toBe(true);
    f.seek(10);
    expect(same(await f.read(5), BIG.subarray(10, 15))).toBe(true);
    f.seek(-3, 2);
    expect(same(await f.read(), BIG.subarray(SIZE - 3))).toBe(true);
    await f.close();
    const downloads = srv.requests.filter((r) => r.kind === "download");
    // Blocks, never the whole file; the first read learned the ETag that guards the later ones.
    expect(downloads.length).toBeGreaterThanOrEqual(2);
    expect(downloads.length).toBeLessThanOrEqual(4);
    expect(downloads.every((r) => typeof r.headers.range === "string")).toBe(true);
    expect(downloads.slice(1).every((r) => typeof r.headers["if-range"] === "string")).toBe(true);
    expect(srv.count("lookup")).toBe(1);
  });

  it("a body broken off mid-download is resumed from the last byte received", async () => {
    srv.storage.fault({ path: srv.blobPath(ROOT, "fcn.mdlus"), method: "GET", resetAfterBytes: 70_000 });
    expect(same(await fs.catFile(url("fcn.mdlus")), BIG)).toBe(true);
    const ranges = srv.requests.filter((r) => r.kind === "download").map((r) => r.headers.range);
    expect(ranges).toEqual(["bytes=0-", `bytes=70000-${SIZE - 1}`]);
  });

  it("server errors of the registry and of storage are retried", async () => {
    srv.failNext("lookup", 503);
    srv.failNext("download", 502);
    expect(await fs.readText(url("metadata.json"))).toBe('{"a":1}');
    expect(srv.count("lookup")).toBe(2);
    expect(srv.count("download")).toBe(2);
  });
});

describe("presigned URLs", () => {
  it("are reused while they work, and looked up again once storage refuses an expired one", async () => {
    expect(await fs.readText(url("metadata.json"))).toBe('{"a":1}');
    expect(await fs.readText(url("metadata.json"))).toBe('{"a":1}');
    expect(srv.count("lookup")).toBe(1);
    srv.expireUrls();
    expect(await fs.readText(url("metadata.json"))).toBe('{"a":1}');
    // The refused download, then a new lookup and a download with the new URL.
    expect(srv.requests.map((r) => r.kind)).toEqual(["lookup", "download", "download", "download", "lookup", "download"]);
    const urls = srv.requests.filter((r) => r.kind === "download").map((r) => r.url);
    expect(urls[2]).toBe(urls[0]);
    expect(urls[3]).not.toBe(urls[2]);
  });

  it("an opened file whose URL expires between reads goes on with a fresh URL", async () => {
    const f = await fs.open(url("fcn.mdlus"), "rb", { blockSize: 50_000, cacheType: "none" });
    expect(same(await f.read(1000), BIG.subarray(0, 1000))).toBe(true);
    srv.expireUrls();
    f.seek(200_000);
    expect(same(await f.read(1000), BIG.subarray(200_000, 201_000))).toBe(true);
    await f.close();
    expect(srv.count("lookup")).toBe(2);
  });

  it("a fresh URL that storage refuses is an error (EACCES), not a loop", async () => {
    srv.failNext("download", 403);
    const err = await errorOf(fs.catFile(url("metadata.json")));
    expect(err.code).toBe("EACCES");
    expect(err.path).toBe(`${ROOT}/metadata.json`);
    expect(srv.count("lookup")).toBe(1);
    expect(srv.count("download")).toBe(1);
  });

  it("sign() hands out the registry's presigned URL", async () => {
    const signed = await fs.sign(url("metadata.json"));
    expect(signed.startsWith(srv.url)).toBe(true);
    const res = await fetch(signed);
    expect(await res.text()).toBe('{"a":1}');
  });
});

describe("read-only", () => {
  it("writes, deletes and directories are ENOTSUP", async () => {
    const calls = [
      () => fs.pipeFile(url("new.bin"), "x"),
      () => fs.rmFile(url("metadata.json")),
      () => fs.mkdir(url("newdir")),
      () => fs.rmdir(url("stats")),
      () => fs.open(url("new.bin"), "wb"),
    ];
    for (const call of calls) expect((await errorOf(call())).code).toBe("ENOTSUP");
    expect(await fs.readText(url("metadata.json"))).toBe('{"a":1}');
  });
});

describe("listings", () => {
  it("ls, find, glob, walk and du work from the version's listing, fetched once (all pages)", async () => {
    expect(await fs.ls(`ngc://${ROOT}`, { detail: false })).toEqual([
      `${ROOT}/fcn.mdlus`,
      `${ROOT}/metadata.json`,
      `${ROOT}/stats`,
    ]);
    expect(await fs.find(`ngc://${ROOT}/stats`)).toEqual([`${ROOT}/stats/deep/x`, `${ROOT}/stats/mean.npy`, `${ROOT}/stats/std.npy`]);
    expect(await fs.glob(`ngc://${ROOT}/**/*.npy`)).toEqual([`${ROOT}/stats/mean.npy`, `${ROOT}/stats/std.npy`]);
    expect(await fs.du(`ngc://${ROOT}`)).toBe(SIZE + 7 + 4 + 4 + 1);
    expect(await fs.info(url("stats/std.npy"))).toEqual({ name: `${ROOT}/stats/std.npy`, size: 4, type: "file" });
    expect(await fs.info(`ngc://${ROOT}`)).toMatchObject({ name: ROOT, type: "directory" });
    // Five files, three per page: two listing requests, and nothing more after them.
    expect(srv.count("listing")).toBe(2);
    expect(srv.requests.map((r) => r.kind)).toEqual(["listing", "listing"]);
  });

  it("listings are cached until invalidated", async () => {
    await fs.ls(`ngc://${ROOT}/stats`);
    await fs.ls(`ngc://${ROOT}`);
    expect(srv.count("listing")).toBe(2);
    srv.addFiles(ROOT, { "stats/new.npy": "n" });
    expect(await fs.exists(url("stats/new.npy"))).toBe(false);
    fs.invalidateCache(`ngc://${ROOT}`);
    expect(await fs.exists(url("stats/new.npy"))).toBe(true);
    srv.removeFile(ROOT, "stats/new.npy");
  });

  it("without a listing, files are still found (info from the download), and ls of a file works", async () => {
    const root = "models/org/unlisted@2";
    expect(await fs.info(url("w.bin", root))).toMatchObject({ name: `${root}/w.bin`, size: 7, type: "file" });
    expect(await fs.readText(url("w.bin", root))).toBe("weights");
    expect(await fs.ls(url("sub/c.txt", root), { detail: false })).toEqual([`${root}/sub/c.txt`]);
    const f = await fs.open(url("w.bin", root));
    expect(text(await f.read())).toBe("weights");
    await f.close();
    expect((await errorOf(fs.ls(`ngc://${root}`))).code).toBe("ENOENT");
    // The unavailable listing is asked for once, not on every call.
    expect(srv.count("listing")).toBe(1);
  });

  it("a listing without sizes is completed from the download when a size is needed", async () => {
    const root = "models/org/sizeless@1";
    expect(await fs.ls(`ngc://${root}/d`)).toEqual([{ name: `${root}/d/b.bin`, size: null, type: "file" }]);
    expect(await fs.info(url("a.bin", root))).toMatchObject({ size: 5, type: "file", etag: expect.any(String) });
    expect(await fs.size(url("d/b.bin", root))).toBe(2);
    const f = await fs.open(url("a.bin", root));
    expect(f.size).toBe(5);
    expect(text(await f.read())).toBe("12345");
    await f.close();
  });

  it("ukey changes with the content and differs between files", async () => {
    const a = await fs.ukey(url("stats/mean.npy"));
    expect(a).toBe(await fs.ukey(url("stats/mean.npy")));
    expect(a).not.toBe(await fs.ukey(url("stats/std.npy")));
    srv.addFiles(ROOT, { "stats/mean.npy": "changed mean" });
    fs.invalidateCache();
    expect(await fs.ukey(url("stats/mean.npy"))).not.toBe(a);
    srv.addFiles(ROOT, { "stats/mean.npy": "mean" });
  });
});
