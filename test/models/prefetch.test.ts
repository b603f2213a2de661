/**
 * Package.prefetch against the HTTP test server: parallel and bounded (the cache layer's
 * download slots, shared with resolve), one aggregate progress display, local paths in order,
 * one download per file (joined by a resolve of the same file, and across processes).
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { batchProgress, Package, WholeFileCacheFileSystem } from "../../src/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { codeOf, errorOf } from "../support/errors.js";
import { startHfServer } from "../../src/testing/hf-server.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { startNgcServer } from "../../src/testing/ngc-server.js";
import { bytes, captureStream, sha256, sha256OfFile } from "./support/package-files.js";
import { downloadCount } from "../support/http-requests.js";

const CHILD = fileURLToPath(new URL("./support/prefetch-child.ts", import.meta.url));
const NAMES = ["a.bin", "b.bin", "c.bin", "d.bin", "e.bin", "f.bin", "g.bin", "h.bin"];
const contents = new Map(NAMES.map((n, i) => [n, bytes(50_000 + i * 1000, i)]));

let server: TestHttpServer;
let slow: TestHttpServer;
let dir: string;
let caches = 0;
const cacheDir = () => join(dir, `c${++caches}`);

beforeAll(async () => {
  server = await startHttpServer();
  slow = await startHttpServer();
  dir = await mkdtemp(join(tmpdir(), "fsspec-prefetch-"));
  for (const srv of [server, slow]) {
    for (const [name, data] of contents) srv.setFile(`/pkg/${name}`, data);
    srv.setFile("/pkg/sub/x.bin", bytes(3000, 99));
    srv.setFile("/pkg/sub/notes.txt", "notes\n");
  }
});
afterAll(async () => {
  await Promise.all([server.close(), slow.close()]);
  await rm(dir, { recursive: true, force: true });
});
/** Every answer of `slow` waits 40 ms, as a distant server's would. */
beforeEach(() => slow.fault({ stallBeforeHeadersMs: 40, times: Infinity }));
afterEach(() => {
  delete process.env.FSSPEC_TS_OFFLINE;
  server.clearFaults();
  slow.clearFaults();
});

function pkgOn(srv: TestHttpServer, options: ConstructorParameters<typeof Package>[1] = {}): Package {
  return new Package(`${srv.url}/pkg`, { cacheOptions: { cacheStorage: cacheDir() }, ...options });
}

describe("Package.prefetch", () => {
  it("hands back local paths in order, each file's bytes downloaded once, with one summary line off a terminal", async () => {
    const pkg = pkgOn(server);
    const progressStream = captureStream();
    server.resetCounts();
    const order = ["h.bin", "a.bin", "sub/x.bin", "c.bin"];
    const paths = await pkg.prefetch(order, { progressStream });
    expect(await Promise.all(paths.map(sha256OfFile))).toEqual(order.map((n) => sha256(n === "sub/x.bin" ? bytes(3000, 99) : contents.get(n)!)));
    for (const n of order) expect(downloadCount(server, `/pkg/${n}`)).toBe(1);
    const total = [...order].reduce((s, n) => s + (n === "sub/x.bin" ? 3000 : contents.get(n)!.byteLength), 0);
    expect(progressStream.text()).toMatch(new RegExp(`^prefetch 4 files: 4 downloaded \\(${(total / 1024).toFixed(0)}K in \\d+\\.\\d s, \\S+/s\\)\\n$`));

    // Again: every file is a cache hit, no request, and the same paths.
    server.resetCounts();
    const again = captureStream();
    expect(await pkg.prefetch(order, { progressStream: again })).toEqual(paths);
    expect(server.requestCount()).toBe(0);
    expect(again.text()).toBe("prefetch 4 files: all 4 already cached\n");
    // resolve agrees with prefetch
    expect(await pkg.resolve("a.bin")).toBe(paths[1]);
  });

  it("runs at most the package's concurrency (default 4) at once; a smaller per-call concurrency is kept, a larger one capped", async () => {
    const peak = async (options: ConstructorParameters<typeof Package>[1], call: { concurrency?: number }) => {
      const pkg = pkgOn(slow, { progress: false, ...options });
      slow.resetCounts();
      const t0 = Date.now();
      await pkg.prefetch(NAMES, call);
      return { peak: slow.peakDownloadsInFlight(), ms: Date.now() - t0, gets: downloadCount(slow), requests: slow.requests.length };
    };
    const byDefault = await peak({}, {});
    expect(byDefault.peak).toBe(4);
    expect(byDefault.gets).toBe(8);
    // One info a file (asked for all at once, before the downloads), one GET a file.
    expect(byDefault.requests).toBe(16);
    expect((await peak({}, { concurrency: 2 })).peak).toBe(2);
    expect((await peak({}, { concurrency: 16 })).peak).toBe(4);
    expect((await peak({ concurrency: 8 }, {})).peak).toBe(8);
    const oneByOne = await peak({}, { concurrency: 1 });
    expect(oneByOne.peak).toBe(1);
    // Eight downloads held back 40 ms each, one after another (the infos before them at once).
    expect(oneByOne.ms).toBeGreaterThanOrEqual(8 * 40);
    expect(await codeOf(pkgOn(slow).prefetch(NAMES, { concurrency: 0 }))).toBe("EINVAL");
    expect(() => new Package(`${slow.url}/pkg`, { concurrency: 1.5 })).toThrow(/positive integer/);
  });

  it("asks for the infos of the files it has to download all at once, before the first download; cached files get no request", async () => {
    const pkg = pkgOn(slow, { progress: false });
    await pkg.resolve("a.bin");
    slow.resetCounts();
    await pkg.prefetch(NAMES);
    const kinds = slow.requests.map((r) => (r.method === "HEAD" || r.headers.range === "bytes=0-0" ? "info" : "get"));
    // Seven files to fetch (a.bin is cached): seven infos, then seven GETs.
    expect(kinds).toEqual([...Array(7).fill("info"), ...Array(7).fill("get")]);
    expect(slow.requests.some((r) => r.path === "/pkg/a.bin")).toBe(false);
    slow.resetCounts();
    await pkg.prefetch(NAMES);
    expect(slow.requests).toEqual([]);
  });

  it("shares the download slots with resolve: a prefetch and resolves together never exceed them", async () => {
    const pkg = pkgOn(slow, { progress: false, concurrency: 2 });
    slow.resetCounts();
    const [fetched, ...resolved] = await Promise.all([pkg.prefetch(NAMES.slice(0, 5)), pkg.resolve("f.bin"), pkg.resolve("g.bin"), pkg.resolve("sub/x.bin")]);
    expect(slow.peakDownloadsInFlight()).toBe(2);
    expect(fetched).toHaveLength(5);
    expect(await sha256OfFile(resolved[0]!)).toBe(sha256(contents.get("f.bin")!));
  });

  it("a resolve of a file the prefetch is fetching waits for that download: one GET", async () => {
    const pkg = pkgOn(slow, { progress: false });
    slow.resetCounts();
    slow.throttle(200_000); // ~0.25 s per file: the resolve lands mid-download
    try {
      const prefetching = pkg.prefetch(["a.bin", "b.bin"]);
      while (downloadCount(slow, "/pkg/b.bin") === 0) await new Promise((r) => setTimeout(r, 5));
      const resolved = await pkg.resolve("b.bin");
      const paths = await prefetching;
      expect(resolved).toBe(paths[1]);
      expect(downloadCount(slow, "/pkg/b.bin")).toBe(1);
      expect(await sha256OfFile(resolved)).toBe(sha256(contents.get("b.bin")!));
      // Another Package over the same cache directory joins it too.
      const other = new Package(`${slow.url}/pkg`, { cacheOptions: { cacheStorage: join(dir, `c${caches}`) }, progress: false });
      expect(await other.resolve("a.bin")).toBe(paths[0]);
      expect(downloadCount(slow, "/pkg/a.bin")).toBe(1);
    } finally {
      slow.throttle(undefined);
    }
  });

  it("globs expand to the files they match, sorted, in place among literal paths; duplicates share one download", async () => {
    const pkg = pkgOn(server, { progress: false });
    server.resetCounts();
    const paths = await pkg.prefetch(["sub/notes.txt", "[a-c].bin", "sub/notes.txt", "sub/*"]);
    const names = paths.map((p) => p.slice(p.lastIndexOf("/") + 1));
    expect(paths).toHaveLength(7);
    expect(paths[4]).toBe(paths[0]);
    expect(paths[5]).toBe(paths[0]); // sub/* -> sub/notes.txt, sub/x.bin
    expect(await Promise.all(paths.slice(1, 4).map(sha256OfFile))).toEqual(["a.bin", "b.bin", "c.bin"].map((n) => sha256(contents.get(n)!)));
    expect(names[6]).toMatch(/^[0-9a-f]{64}$/); // hashed names; the order is what matters
    expect(await sha256OfFile(paths[6]!)).toBe(sha256(bytes(3000, 99)));
    expect(downloadCount(server, "/pkg/sub/notes.txt")).toBe(1);
    // Every file, directories left out.
    const all = await pkg.prefetch("**");
    expect(all).toHaveLength(NAMES.length + 2);
    const err = await errorOf(pkg.prefetch(["a.bin", "nothing-*.bin"]));
    expect([err.code, err.message]).toEqual(["ENOENT", expect.stringContaining("no file of the package matches")]);
    expect(await codeOf(pkg.prefetch(["../escape/*"]))).toBe("EACCES");
    expect(await pkg.prefetch([])).toEqual([]);
  });

  it("without paths: every file of the package (its pinned files when it has pins)", async () => {
    const all = await pkgOn(server, { progress: false }).prefetch();
    expect(all).toHaveLength(NAMES.length + 2);
    const pinned = pkgOn(server, { progress: false, files: { "b.bin": { sha256: sha256(contents.get("b.bin")!) }, "a.bin": { sha256: sha256(contents.get("a.bin")!) } } });
    server.resetCounts();
    const two = await pinned.prefetch();
    expect(await Promise.all(two.map(sha256OfFile))).toEqual([sha256(contents.get("a.bin")!), sha256(contents.get("b.bin")!)]);
    expect(downloadCount(server)).toBe(2);
  });

  it("a failing file fails the prefetch (the others are not published half-done) and says so off a terminal", async () => {
    const cacheStorage = cacheDir();
    const pkg = new Package(`${server.url}/pkg`, { cacheOptions: { cacheStorage } });
    const progressStream = captureStream();
    const err = await errorOf(pkg.prefetch(["a.bin", "missing.bin", "b.bin"], { progressStream, concurrency: 1 }));
    expect(err.code).toBe("ENOENT");
    expect(progressStream.text()).toMatch(/^prefetch failed after 1 of 3 files: 1 downloaded/);
    expect((await readdir(cacheStorage)).filter((f) => f.startsWith(".fsspec-partial"))).toEqual([]);
  });

  it("an abort stops the downloads in flight: EABORT, no temporary left, nothing half-written published", async () => {
    const cacheStorage = cacheDir();
    const pkg = new Package(`${slow.url}/pkg`, { cacheOptions: { cacheStorage }, progress: false });
    slow.throttle(100_000);
    try {
      const ac = new AbortController();
      slow.resetCounts();
      const pending = pkg.prefetch(NAMES, { signal: ac.signal });
      while (downloadCount(slow) < 2) await new Promise((r) => setTimeout(r, 5));
      ac.abort();
      expect(await codeOf(pending)).toBe("EABORT");
    } finally {
      slow.throttle(undefined);
    }
    const cache = new WholeFileCacheFileSystem({ fs: new HTTPFileSystem(), cacheStorage, offline: true });
    for (const f of await cache.listCache()) expect(await sha256OfFile(f.localPath)).toBe(sha256(contents.get(f.path!.slice(f.path!.lastIndexOf("/") + 1))!));
    expect((await readdir(cacheStorage)).filter((f) => f.startsWith(".fsspec-partial"))).toEqual([]);
  });

  it("offline: serves what is cached without a request, globs list the cache; a file never cached is ENOENT", async () => {
    const cacheStorage = cacheDir();
    const paths = await new Package(`${server.url}/pkg`, { cacheOptions: { cacheStorage }, progress: false }).prefetch(["a.bin", "sub/x.bin"]);
    process.env.FSSPEC_TS_OFFLINE = "1";
    server.resetCounts();
    const offline = new Package(`${server.url}/pkg`, { cacheOptions: { cacheStorage }, progress: false });
    expect(await offline.prefetch(["a.bin", "sub/x.bin"])).toEqual(paths);
    expect(await offline.prefetch("**")).toEqual(paths);
    expect(await codeOf(offline.prefetch(["b.bin"]))).toBe("ENOENT");
    expect(server.requestCount()).toBe(0);
  });

  it("on a terminal: one bar with files ready, bytes, rate and time left", async () => {
    const progressStream = captureStream(true);
    await pkgOn(server).prefetch(NAMES, { progressStream });
    const text = progressStream.text();
    expect(text).toMatch(/prefetch 8\/8 files 100% \S+\/\S+ \S+\/s ETA \S+/);
    // A cached run moves no bytes and draws nothing.
    const quiet = captureStream(true);
    const pkg = pkgOn(server);
    await pkg.prefetch(NAMES, { progressStream: captureStream(true) });
    await pkg.prefetch(NAMES, { progressStream: quiet });
    expect(quiet.text()).toBe("");
  });

  it("on a terminal, a batch that ends at once still shows its bar (prefetch waits for the renderer first)", async () => {
    // The first batch of the process imports the renderer; ready says when it can draw.
    await batchProgress("warm", 1, captureStream(true)).ready;
    const stream = captureStream(true);
    const batch = batchProgress("quick", 1, stream);
    const item = batch.item();
    item.callback.setSize?.(10);
    item.callback.relativeUpdate?.(10);
    item.done();
    batch.stop();
    expect(stream.text()).toMatch(/quick 1\/1 files 100% 10B\/10B/);
  });

  it("a ProgressFactory gets each download; progress: false prints nothing", async () => {
    const seen: string[] = [];
    const pkg = pkgOn(server, { progress: (name) => ({ relativeUpdate: (n) => n > 0 && !seen.includes(name) && seen.push(name) }) });
    const progressStream = captureStream();
    await pkg.prefetch(["a.bin", "b.bin"], { progressStream });
    expect(seen.sort()).toEqual(["a.bin", "b.bin"]);
    expect(progressStream.text()).toBe("");
    const silent = captureStream();
    await pkgOn(server, { progress: false }).prefetch(["a.bin"], { progressStream: silent });
    expect(silent.text()).toBe("");
  });

  it("local packages: the files' own paths, checked, nothing copied", async () => {
    const root = join(dir, "local-pkg");
    await mkdir(join(root, "sub"), { recursive: true });
    await writeFile(join(root, "w.bin"), "weights");
    await writeFile(join(root, "sub/c.json"), "{}");
    const pkg = new Package(root, { cacheOptions: { cacheStorage: join(dir, "never") } });
    expect(await pkg.prefetch(["w.bin", "sub/*"])).toEqual([join(root, "w.bin"), join(root, "sub/c.json")]);
    expect(await pkg.prefetch()).toEqual([join(root, "sub/c.json"), join(root, "w.bin")]);
    expect(await codeOf(pkg.prefetch(["w.bin", "nope.bin"]))).toBe("ENOENT");
    expect(await codeOf(readdir(join(dir, "never")))).toBe("ENOENT");
  });

  it("several processes prefetching one package into one cache download each file once", async () => {
    const cacheStorage = cacheDir();
    slow.resetCounts();
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", CHILD, `${slow.url}/pkg`, cacheStorage, ...NAMES], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let errText = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (errText += d.toString()));
        child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`child ${code}: ${errText}`))));
      });
    const outputs = await Promise.all([run(), run(), run()]);
    for (const n of NAMES) expect(downloadCount(slow, `/pkg/${n}`)).toBe(1);
    const lists = outputs.map((o) => o.trim().split("\n"));
    expect(lists[1]).toEqual(lists[0]);
    expect(lists[2]).toEqual(lists[0]);
    expect(await Promise.all(lists[0]!.map(sha256OfFile))).toEqual(NAMES.map((n) => sha256(contents.get(n)!)));
  }, 60_000);

  it("over the local Hugging Face Hub and NGC registry: globs list the repo, LFS files are checked, each file downloaded once", async () => {
    const hub = await startHfServer();
    const ngc = await startNgcServer();
    try {
      hub.createRepo("org/fcn");
      const shards = Object.fromEntries([0, 1, 2].map((i) => [`shards/s${i}.bin`, bytes(30_000, i)]));
      hub.commit("org/fcn", { "config.json": "{}", ...Object.fromEntries(Object.entries(shards).map(([k, v]) => [k, { data: v, lfs: true }])) });
      const hfCache = { cacheDir: cacheDir() }; // the Hub's own cache layout, kept in the test's folder
      const pkg = new Package("hf://org/fcn", { fsOptions: { hf: { endpoint: hub.url, token: false } }, hfCache, progress: false });
      hub.resetCounts();
      const paths = await pkg.prefetch("shards/*.bin");
      expect(await Promise.all(paths.map(sha256OfFile))).toEqual(Object.values(shards).map((d) => sha256(d)));
      expect(hub.count("cdn")).toBe(3);
      expect(paths.every((p) => p.startsWith(`${hfCache.cacheDir}/models--org--fcn/snapshots/`))).toBe(true);
      hub.resetCounts();
      await pkg.prefetch("shards/*.bin");
      expect(hub.count("cdn")).toBe(0);

      // Pins over the Hub's cache: an LFS file's blob is named by its sha256, so a cached one is
      // checked without a read; a download that differs is not kept.
      const pinned = { "shards/s0.bin": { sha256: sha256(shards["shards/s0.bin"]!) }, "shards/s1.bin": { sha256: "0".repeat(64) } };
      const pinnedPkg = new Package("hf://org/fcn", { fsOptions: { hf: { endpoint: hub.url, token: false } }, hfCache, progress: false, files: pinned });
      expect(await pinnedPkg.resolve("shards/s0.bin")).toBe(paths[0]);
      const err = await errorOf(pinnedPkg.resolve("shards/s1.bin"));
      expect([err.code, err.detail]).toEqual(["EIO", `checksum mismatch: the cached copy has sha256 ${sha256(shards["shards/s1.bin"]!)}, the pin says ${"0".repeat(64)}`]);
      expect((await pinnedPkg.verify()).map((v) => [v.path, v.status])).toEqual([["shards/s0.bin", "ok"], ["shards/s1.bin", "mismatch"]]);
      expect((await pinnedPkg.list()).filter((f) => f.cached).map((f) => f.path)).toEqual(["shards/s0.bin", "shards/s1.bin", "shards/s2.bin"]);
      const freshDir = cacheDir();
      const fresh = new Package("hf://org/fcn", { fsOptions: { hf: { endpoint: hub.url, token: false } }, hfCache: { cacheDir: freshDir }, progress: false, files: pinned });
      const dl = await errorOf(fresh.resolve("shards/s1.bin"));
      expect([dl.code, dl.detail]).toEqual(["EIO", expect.stringContaining("checksum mismatch: the download has sha256")]);
      expect((await fresh.verify()).map((v) => [v.path, v.status])).toEqual([["shards/s0.bin", "missing"], ["shards/s1.bin", "missing"]]);
      // extract works over the Hub's cache too (a pinned download first): a shard is no archive.
      const notArchive = await errorOf(fresh.extract("shards/s0.bin"));
      expect([notArchive.code, notArchive.message]).toEqual(["EIO", expect.stringMatching(/tar|archive/i)]);
      expect(await readdir(join(freshDir, "models--org--fcn", "fsspec-ts-extracted"))).toEqual([]);

      ngc.addFiles("models/org/fcn@1.0", { "a.bin": bytes(10_000, 1), "b/c.bin": bytes(10_000, 2) });
      const fromNgc = new Package("ngc://models/org/fcn@1.0", { fsOptions: { ngc: { baseUrl: ngc.url, authUrl: ngc.authUrl, apiKey: "" } }, cacheOptions: { cacheStorage: cacheDir() }, progress: false });
      const got = await fromNgc.prefetch();
      expect(await Promise.all(got.map(sha256OfFile))).toEqual([sha256(bytes(10_000, 1)), sha256(bytes(10_000, 2))]);
      expect(ngc.count("download")).toBe(2);
    } finally {
      await Promise.all([hub.close(), ngc.close()]);
    }
  });
});
