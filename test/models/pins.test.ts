/**
 * Integrity pins: the `files` option and a SHA256SUMS manifest. A download that differs is EIO
 * "checksum mismatch" naming both digests and is never cached; a cached copy is checked once
 * and remembered by size and mtime; verify() reads everything again.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Package, WholeFileCacheFileSystem } from "../../src/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { parseMetadata } from "../../src/cached/metadata.js";
import { parseManifest } from "../../src/models/pins.js";
import { codeOf, errorOf } from "../support/errors.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { bytes, sha256, sha256OfFile } from "./support/package-files.js";
import { downloadCount } from "../support/http-requests.js";

const fcn = bytes(40_000, 1);
const config = '{"layers": 3}\n';
const FCN = sha256(fcn);
const CONFIG = sha256(config);
const WRONG = "0".repeat(64);

let server: TestHttpServer;
let dir: string;
let caches = 0;
const cacheDir = () => join(dir, `c${++caches}`);

beforeAll(async () => {
  server = await startHttpServer();
  dir = await mkdtemp(join(tmpdir(), "fsspec-pins-"));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  delete process.env.FSSPEC_TS_OFFLINE;
  server.clearFaults();
});

/** A fresh package on the server under `/name`, with its files (and a SHA256SUMS when given). */
function publish(name: string, files: Record<string, Uint8Array | string>, sums?: string): string {
  for (const [p, data] of Object.entries(files)) server.setFile(`/${name}/${p}`, data);
  if (sums !== undefined) server.setFile(`/${name}/SHA256SUMS`, sums);
  return `${server.url}/${name}`;
}

async function metadataOf(cacheStorage: string) {
  return parseMetadata(await readFile(join(cacheStorage, "cache")))!;
}

/** Files of a cache directory that hold cached bytes (not the metadata, locks or temporaries). */
async function cachedFiles(cacheStorage: string): Promise<string[]> {
  return (await readdir(cacheStorage).catch(() => [] as string[])).filter((f) => f !== "cache" && !f.startsWith(".fsspec-"));
}

describe("pins from the files option", () => {
  it("a matching download is served; its entry records the sha256 and the file's mtime", async () => {
    const root = publish("p1", { "fcn.mdlus": fcn });
    const cacheStorage = cacheDir();
    const pkg = new Package(root, { cacheOptions: { cacheStorage }, progress: false, files: { "fcn.mdlus": { sha256: FCN.toUpperCase() } } });
    const local = await pkg.resolve("fcn.mdlus");
    expect(await sha256OfFile(local)).toBe(FCN);
    const entry = (await metadataOf(cacheStorage)).get(`${root}/fcn.mdlus`)!;
    expect(entry.sha256).toBe(FCN);
    expect(entry.mtime).toBe((await stat(local)).mtime.getTime());
  });

  it("a download that differs is EIO 'checksum mismatch' naming both digests, and is never cached", async () => {
    const root = publish("p2", { "fcn.mdlus": fcn });
    const cacheStorage = cacheDir();
    const pkg = new Package(root, { cacheOptions: { cacheStorage }, progress: false, files: { "fcn.mdlus": { sha256: WRONG } } });
    server.resetCounts();
    const err = await errorOf(pkg.resolve("fcn.mdlus"));
    expect(err.code).toBe("EIO");
    expect(err.message).toContain("checksum mismatch");
    expect(err.message).toContain(FCN);
    expect(err.message).toContain(WRONG);
    expect(await cachedFiles(cacheStorage)).toEqual([]);
    expect(await metadataOf(cacheStorage).catch(() => new Map())).toEqual(new Map());
    // Not cached, so the next try downloads again (and fails again).
    expect(await codeOf(pkg.resolve("fcn.mdlus"))).toBe("EIO");
    expect(downloadCount(server, "/p2/fcn.mdlus")).toBe(2);
    // open and prefetch check the same pin.
    expect(await codeOf(pkg.open("fcn.mdlus"))).toBe("EIO");
    expect(await codeOf(pkg.prefetch(["fcn.mdlus"]))).toBe("EIO");
    // An unpinned package over the same cache still gets the file.
    const plain = new Package(root, { cacheOptions: { cacheStorage }, progress: false });
    expect(await sha256OfFile(await plain.resolve("fcn.mdlus"))).toBe(FCN);
  });

  it("a file cached before it was pinned is checked by its recorded digest, without a request", async () => {
    const root = publish("p3", { "fcn.mdlus": fcn, "config.json": config });
    const cacheStorage = cacheDir();
    await new Package(root, { cacheOptions: { cacheStorage }, progress: false }).prefetch(["fcn.mdlus", "config.json"]);
    server.resetCounts();
    const good = new Package(root, { cacheOptions: { cacheStorage }, progress: false, files: { "fcn.mdlus": { sha256: FCN }, "config.json": { sha256: CONFIG } } });
    expect(await sha256OfFile(await good.resolve("fcn.mdlus"))).toBe(FCN);
    const f = await good.open("config.json", "r");
    expect(await f.read()).toBe(config);
    await f.close();
    expect(server.requestCount()).toBe(0);
    // A pin the cached copy does not meet: offline that is EIO naming both digests.
    process.env.FSSPEC_TS_OFFLINE = "1";
    const other = new Package(root, { cacheOptions: { cacheStorage }, progress: false, files: { "fcn.mdlus": { sha256: WRONG } } });
    const err = await errorOf(other.resolve("fcn.mdlus"));
    expect([err.code, err.detail]).toEqual(["EIO", `checksum mismatch: the cached copy has sha256 ${FCN}, the pin says ${WRONG}`]);
    expect(server.requestCount()).toBe(0);
  });

  it("a tampered cached copy is never served: online it is fetched again, offline it is EIO", async () => {
    const root = publish("p4", { "fcn.mdlus": fcn });
    const cacheStorage = cacheDir();
    const pinned = { cacheOptions: { cacheStorage }, progress: false, files: { "fcn.mdlus": { sha256: FCN } } } as const;
    const local = await new Package(root, pinned).resolve("fcn.mdlus");
    const tampered = Buffer.from(fcn);
    tampered[100] ^= 0xff;
    await writeFile(local, tampered);

    // The cache layer's own check finds it first (the file's mtime moved, its sha256 differs from
    // the one recorded); an equal-size swap under a restored mtime is the next test's case.
    process.env.FSSPEC_TS_OFFLINE = "1";
    const err = await errorOf(new Package(root, pinned).resolve("fcn.mdlus"));
    expect([err.code, err.detail]).toEqual(["EIO", expect.stringContaining("the cached copy is damaged (its sha256 differs")]);
    delete process.env.FSSPEC_TS_OFFLINE;

    server.resetCounts();
    const healed = await new Package(root, pinned).resolve("fcn.mdlus");
    expect(await sha256OfFile(healed)).toBe(FCN);
    expect(downloadCount(server, "/p4/fcn.mdlus")).toBe(1);
  });

  it("checked once and remembered: an entry without a recorded mtime is hashed once; then size and mtime decide", async () => {
    const root = publish("p5", { "fcn.mdlus": fcn });
    const cacheStorage = cacheDir();
    const local = await new Package(root, { cacheOptions: { cacheStorage }, progress: false }).resolve("fcn.mdlus");
    // An entry as older versions (and Python's fsspec) write it: no mtime.
    const md = JSON.parse(await readFile(join(cacheStorage, "cache"), "utf8")) as Record<string, { mtime?: number }>;
    delete md[`${root}/fcn.mdlus`]!.mtime;
    await writeFile(join(cacheStorage, "cache"), JSON.stringify(md));

    const options = { cacheOptions: { cacheStorage, cacheCheckMs: 0 }, progress: false, files: { "fcn.mdlus": { sha256: FCN } } } as const;
    const pkg = new Package(root, options);
    expect(await pkg.resolve("fcn.mdlus")).toBe(local);
    const st = await stat(local);
    expect((await metadataOf(cacheStorage)).get(`${root}/fcn.mdlus`)!.mtime).toBe(st.mtime.getTime());

    // Same size and mtime: trusted unread (this is the rule), so bytes swapped under a restored
    // mtime pass resolve. verify() reads every byte and finds them.
    const swapped = Buffer.from(fcn);
    swapped[0] ^= 1;
    await writeFile(local, swapped);
    await utimes(local, st.atime, st.mtime);
    expect(await new Package(root, options).resolve("fcn.mdlus")).toBe(local);
    const report = await new Package(root, options).verify();
    expect(report).toEqual([{ path: "fcn.mdlus", status: "mismatch", expected: FCN, actual: sha256(swapped), localPath: local }]);
    // verify vouches for nothing it found wrong: the entry still records the downloaded digest.
    expect((await metadataOf(cacheStorage)).get(`${root}/fcn.mdlus`)!.sha256).toBe(FCN);

    // A changed mtime makes resolve read the file again: the swap is found and healed online.
    await utimes(local, st.atime, new Date(st.mtime.getTime() + 5000));
    server.resetCounts();
    expect(await sha256OfFile(await new Package(root, options).resolve("fcn.mdlus"))).toBe(FCN);
    expect(downloadCount(server, "/p5/fcn.mdlus")).toBe(1);
  });

  it("bad pins are EINVAL before anything is fetched", () => {
    expect(() => new Package("https://h/x", { files: { "a.bin": { sha256: "abc" } } })).toThrow(/64 hex digits/);
    expect(() => new Package("https://h/x", { files: { "../a.bin": { sha256: FCN } } })).toThrow(/outside the package/);
    expect(() => new Package("https://h/x", { files: { "a.bin": {} as { sha256: string } } })).toThrow(/64 hex digits/);
    expect(() => new Package("https://h/x", { files: { "a.bin": { sha256: FCN }, "./a.bin": { sha256: WRONG } } })).toThrow(/already pinned/);
    expect(() => new Package("https://h/x", { manifest: "" })).toThrow(/manifest/);
  });
});

describe("a SHA256SUMS manifest in the package", () => {
  const sums = `${FCN}  fcn.mdlus\n${CONFIG} *./config.json\n`;

  it("pins every file it lists; the manifest is fetched once and cached like the other files", async () => {
    const root = publish("m1", { "fcn.mdlus": fcn, "config.json": config }, sums);
    const cacheStorage = cacheDir();
    server.resetCounts();
    const pkg = new Package(root, { cacheOptions: { cacheStorage }, progress: false, manifest: true });
    expect(await pkg.pins()).toEqual(new Map([["fcn.mdlus", FCN], ["config.json", CONFIG]]));
    expect(await pkg.prefetch()).toHaveLength(2);
    await pkg.resolve("config.json");
    const again = new Package(root, { cacheOptions: { cacheStorage }, progress: false, manifest: "SHA256SUMS" });
    await again.resolve("fcn.mdlus");
    expect(downloadCount(server, "/m1/SHA256SUMS")).toBe(1);
    expect(await again.verify()).toEqual([
      { path: "config.json", status: "ok", expected: CONFIG, actual: CONFIG, localPath: expect.any(String) },
      { path: "fcn.mdlus", status: "ok", expected: FCN, actual: FCN, localPath: expect.any(String) },
    ]);
  });

  it("list: the package's files with sizes, whether each is cached, and their pins; offline, what is cached", async () => {
    const root = publish("m5", { "fcn.mdlus": fcn, "config.json": config, "README.md": "hi" }, sums);
    const cacheStorage = cacheDir();
    const pkg = new Package(root, { cacheOptions: { cacheStorage }, progress: false, manifest: true });
    await pkg.resolve("config.json");
    expect(await pkg.list()).toEqual([
      { path: "README.md", size: 2, cached: false },
      { path: "SHA256SUMS", size: sums.length, cached: true },
      { path: "config.json", size: config.length, cached: true, sha256: CONFIG },
      { path: "fcn.mdlus", size: fcn.byteLength, cached: false, sha256: FCN },
    ]);
    process.env.FSSPEC_TS_OFFLINE = "1";
    server.resetCounts();
    expect(await new Package(root, { cacheOptions: { cacheStorage }, progress: false, manifest: true }).list()).toEqual([
      { path: "SHA256SUMS", size: sums.length, cached: true },
      { path: "config.json", size: config.length, cached: true, sha256: CONFIG },
      { path: "fcn.mdlus", size: null, cached: false, sha256: FCN },
    ]);
    expect(server.requestCount()).toBe(0);
  });

  it("a file the manifest does not match is EIO and is not cached; verify reports it missing", async () => {
    const root = publish("m2", { "fcn.mdlus": bytes(40_000, 2), "config.json": config }, sums);
    const cacheStorage = cacheDir();
    const pkg = new Package(root, { cacheOptions: { cacheStorage }, progress: false, manifest: true });
    const err = await errorOf(pkg.resolve("fcn.mdlus"));
    expect([err.code, err.detail]).toEqual(["EIO", `checksum mismatch: the download has sha256 ${sha256(bytes(40_000, 2))}, the pin says ${FCN}`]);
    await pkg.resolve("config.json");
    expect((await pkg.verify()).map((v) => [v.path, v.status])).toEqual([["config.json", "ok"], ["fcn.mdlus", "missing"]]);
  });

  it("the files option can pin the manifest itself; a tampered manifest then fails", async () => {
    const root = publish("m3", { "fcn.mdlus": fcn, "config.json": config }, sums);
    const ok = new Package(root, { cacheOptions: { cacheStorage: cacheDir() }, progress: false, manifest: true, files: { SHA256SUMS: { sha256: sha256(sums) } } });
    expect((await ok.pins()).get("fcn.mdlus")).toBe(FCN);
    const forged = `${sha256(bytes(40_000, 3))}  fcn.mdlus\n`;
    server.setFile("/m3/SHA256SUMS", forged);
    const bad = new Package(root, { cacheOptions: { cacheStorage: cacheDir() }, progress: false, manifest: true, files: { SHA256SUMS: { sha256: sha256(sums) } } });
    const err = await errorOf(bad.resolve("fcn.mdlus"));
    expect(err.code).toBe("EIO");
    expect(err.message).toContain(sha256(forged));
  });

  it("a missing manifest fails every pinned call (and is tried again later); pins that disagree are EINVAL", async () => {
    const root = publish("m4", { "fcn.mdlus": fcn });
    const pkg = new Package(root, { cacheOptions: { cacheStorage: cacheDir() }, progress: false, manifest: true });
    expect(await codeOf(pkg.resolve("fcn.mdlus"))).toBe("ENOENT");
    server.setFile("/m4/SHA256SUMS", `${FCN}  fcn.mdlus\n`);
    expect(await sha256OfFile(await pkg.resolve("fcn.mdlus"))).toBe(FCN);
    const clash = new Package(root, { cacheOptions: { cacheStorage: cacheDir() }, progress: false, manifest: true, files: { "fcn.mdlus": { sha256: WRONG } } });
    const err = await errorOf(clash.resolve("fcn.mdlus"));
    expect([err.code, err.detail]).toEqual(["EINVAL", `SHA256SUMS pins 'fcn.mdlus' to sha256 ${FCN}, the files option to ${WRONG}`]);
  });

  it("parses what sha256sum writes: text and binary markers, ./, comments, CRLF, escaped names; anything else is EINVAL", () => {
    const text = [
      "# made with sha256sum",
      `${FCN}  fcn.mdlus`,
      `${CONFIG} *sub/config.json\r`,
      "",
      `\\${WRONG}  odd\\\\name`,
      `${FCN.toUpperCase()}  ./sub/../other.bin`,
    ].join("\n");
    expect(parseManifest(text, "SHA256SUMS")).toEqual(
      new Map([["fcn.mdlus", FCN], ["sub/config.json", CONFIG], ["odd\\name", WRONG], ["other.bin", FCN]]),
    );
    // sha256sum escapes a newline in a name; no package path can hold one.
    expect(() => parseManifest(`\\${FCN}  two\\nlines`, "SUMS")).toThrow(/SUMS line 1 pins a path that cannot be \(path contains the control character U\+000A/);
    expect(() => parseManifest(`${FCN} fcn.mdlus`, "SUMS")).toThrow(/SUMS line 1 is not/);
    expect(() => parseManifest(`xyz  fcn.mdlus`, "SUMS")).toThrow(/line 1/);
    expect(() => parseManifest(`\n${FCN}  ../up.bin`, "SUMS")).toThrow(/SUMS line 2 pins a path outside the package/);
    expect(() => parseManifest(`${FCN}  a\n${WRONG}  ./a`, "SUMS")).toThrow(/already pinned/);
  });
});

describe("pins of local packages", () => {
  it("checks the package's own files, remembered by size and mtime; verify reads them again", async () => {
    const root = join(dir, "local-pinned");
    await mkdir(root, { recursive: true });
    await writeFile(join(root, "fcn.mdlus"), fcn);
    await writeFile(join(root, "SHA256SUMS"), `${FCN}  fcn.mdlus\n${CONFIG}  config.json\n`);
    const pkg = new Package(root, { manifest: true });
    expect(await pkg.resolve("fcn.mdlus")).toBe(join(root, "fcn.mdlus"));
    expect(await codeOf(pkg.resolve("config.json"))).toBe("ENOENT");
    expect(await pkg.verify()).toEqual([
      { path: "config.json", status: "missing", expected: CONFIG },
      { path: "fcn.mdlus", status: "ok", expected: FCN, actual: FCN, localPath: join(root, "fcn.mdlus") },
    ]);
    await writeFile(join(root, "config.json"), "changed");
    const err = await errorOf(pkg.resolve("config.json"));
    expect([err.code, err.detail]).toEqual(["EIO", `checksum mismatch: the file has sha256 ${sha256("changed")}, the pin says ${CONFIG}`]);
    expect(await codeOf(pkg.open("config.json", "r"))).toBe("EIO");
    expect(await pkg.prefetch(["fcn.mdlus"])).toEqual([join(root, "fcn.mdlus")]);
  });
});

describe("cache layer hooks", () => {
  it("ensureCached with sha256: EINVAL for a malformed pin; findCached never downloads", async () => {
    const root = publish("h1", { "fcn.mdlus": fcn });
    const cache = new WholeFileCacheFileSystem({ fs: new HTTPFileSystem(), cacheStorage: cacheDir() });
    expect(await codeOf(cache.ensureCached(`${root}/fcn.mdlus`, { sha256: "nope" }))).toBe("EINVAL");
    server.resetCounts();
    expect(await cache.findCached(`${root}/fcn.mdlus`)).toBeUndefined();
    expect(server.requestCount()).toBe(0);
    const hit = await cache.ensureCached(`${root}/fcn.mdlus`, { sha256: FCN });
    expect((await cache.findCached(`${root}/fcn.mdlus`))?.fn).toBe(hit.fn);
    expect(await cache.sha256Of(hit, `${root}/fcn.mdlus`, { rehash: true })).toBe(FCN);
    expect(() => new WholeFileCacheFileSystem({ fs: new HTTPFileSystem(), downloadConcurrency: 0 })).toThrow(/positive integer/);
  });

  it("downloadConcurrency bounds the layer's downloads, whoever asks; a caller aborting while it waits for a slot fails at once", async () => {
    const names = Array.from({ length: 6 }, (_, i) => `f${i}.bin`);
    const root = publish("h2", Object.fromEntries(names.map((n, i) => [n, bytes(20_000, i)])));
    const cache = new WholeFileCacheFileSystem({ fs: new HTTPFileSystem(), cacheStorage: cacheDir(), downloadConcurrency: 2 });
    expect(cache.downloadLimit).toBe(2);
    server.fault({ stallBeforeHeadersMs: 30, times: Infinity });
    server.resetCounts();
    const paths = await cache.openLocal(names.map((n) => `${root}/${n}`));
    expect(server.peakInFlight()).toBe(2);
    expect(await Promise.all(paths.map(sha256OfFile))).toEqual(names.map((_, i) => sha256(bytes(20_000, i))));

    server.clearFaults();
    const busy = new AbortController();
    const holding = [1, 2].map((i) => {
      server.setFile(`/h2/slow-${i}.bin`, bytes(1000, i));
      server.fault({ path: `/h2/slow-${i}.bin`, method: "GET", unlessRange: "bytes=0-0", stallMs: Infinity });
      return cache.ensureCached(`${root}/slow-${i}.bin`, { signal: busy.signal });
    });
    server.setFile("/h2/queued.bin", bytes(1000, 3));
    while (downloadCount(server, "/h2/slow-1.bin") + downloadCount(server, "/h2/slow-2.bin") < 2) await new Promise((r) => setTimeout(r, 5));
    const waiting = new AbortController();
    const queued = cache.ensureCached(`${root}/queued.bin`, { signal: waiting.signal });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    waiting.abort();
    expect(await codeOf(queued)).toBe("EABORT");
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(server.requestCount("/h2/queued.bin")).toBe(0);
    // Both handled before the abort: awaiting them one after the other left the second's
    // rejection unhandled for a moment (vitest reports that as an error of the run).
    const holdingCodes = Promise.all(holding.map(codeOf));
    busy.abort();
    expect(await holdingCodes).toEqual(["EABORT", "EABORT"]);
  });
});
