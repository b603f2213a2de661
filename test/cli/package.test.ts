/**
 * `fsspec-ts package fetch | ls | verify`: a login node fills a cache from the HTTP test server,
 * a compute node (FSSPEC_TS_OFFLINE=1) reads and checks it without a single request.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Package } from "../../src/index.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { buildArchive } from "../archives/helpers.js";
import { bytes, sha256 } from "../models/support/package-files.js";
import { cliRun } from "./support/run-cli.js";
import { downloadCount } from "../support/http-requests.js";

/** Progress as without a terminal: the one summary line on stderr. */
const cli = (...args: string[]) => cliRun(args);

const files = { "fcn.mdlus": bytes(120_000, 1), "config.json": '{"a": 1}\n', "stats/mean.npy": bytes(4000, 2), "stats/std.npy": bytes(4000, 3) };
const sums = Object.entries(files).map(([p, d]) => `${sha256(d)}  ${p}`).join("\n") + "\n";
let server: TestHttpServer;
let dir: string;
let root: string;

beforeAll(async () => {
  server = await startHttpServer();
  dir = await mkdtemp(join(tmpdir(), "fsspec-cli-pkg-"));
  for (const [p, d] of Object.entries(files)) server.setFile(`/fcn/${p}`, d);
  server.setFile("/fcn/SHA256SUMS", sums);
  server.setFile("/plain/a.bin", "a");
  server.setFile("/plain/b/c.bin", "bc");
  root = `${server.url}/fcn`;
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  delete process.env.FSSPEC_TS_OFFLINE;
});

describe("fsspec-ts package", () => {
  it("fetch on a login node, then ls, verify and loads on an offline compute node, with no request", async () => {
    const cache = join(dir, "shared");
    server.resetCounts();
    const fetched = await cli("package", "fetch", root, "--cache", cache, "-C", "sameNames=true", "--concurrency", "2");
    expect([fetched.code, fetched.err]).toEqual([0, expect.stringMatching(/^prefetch 4 files: 4 downloaded \(/)]);
    // The manifest's files, sorted, each downloaded once and checked against its pin.
    const paths = fetched.out.trim().split("\n");
    expect(paths).toEqual(["config.json", "fcn.mdlus", "mean.npy", "std.npy"].map((n) => join(cache, n)));
    const expected = ["config.json", "fcn.mdlus", "stats/mean.npy", "stats/std.npy"] as const;
    expect(await Promise.all(paths.map(async (p) => sha256(await readFile(p))))).toEqual(expected.map((p) => sha256(files[p])));
    for (const p of expected) expect(downloadCount(server, `/fcn/${p}`)).toBe(1);

    process.env.FSSPEC_TS_OFFLINE = "1";
    server.resetCounts();
    const ls = await cli("package", "ls", root, "--cache", cache, "-C", "sameNames=true");
    expect(ls.code).toBe(0);
    const row = (size: string, pinned: boolean, path: string) => `${size.padStart(6)}  cached  ${pinned ? "pinned" : "-     "}  ${path}`;
    expect(ls.out.trimEnd().split("\n")).toEqual([
      row(`${sums.length}B`, false, "SHA256SUMS"),
      row("9B", true, "config.json"),
      row("117K", true, "fcn.mdlus"),
      row("3.9K", true, "stats/mean.npy"),
      row("3.9K", true, "stats/std.npy"),
    ]);
    const verify = await cli("package", "verify", root, "--cache", cache, "-C", "sameNames=true");
    expect([verify.code, verify.out]).toEqual([0, expected.map((p) => `ok        ${p}\n`).join("")]);
    // The model's own code, offline, with the same cache options.
    const pkg = new Package(root, { cacheOptions: { cacheStorage: cache, sameNames: true }, manifest: true, progress: false });
    expect(await pkg.resolve("fcn.mdlus")).toBe(join(cache, "fcn.mdlus"));
    expect(server.requestCount()).toBe(0);

    // A tampered copy: verify names it and exits 1; the offline load refuses it.
    await writeFile(join(cache, "fcn.mdlus"), bytes(120_000, 9));
    const bad = await cli("package", "verify", root, "--cache", cache, "-C", "sameNames=true", "--json");
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).map((r: { path: string; status: string }) => [r.path, r.status])).toEqual([
      ["config.json", "ok"], ["fcn.mdlus", "mismatch"], ["stats/mean.npy", "ok"], ["stats/std.npy", "ok"],
    ]);
    expect(bad.err).toBe(`fsspec-ts: EIO: 1 of 4 pinned files failed verification (fcn.mdlus: mismatch): '${root}'\n`);
    const refused = await cli("package", "fetch", root, "fcn.mdlus", "--cache", cache, "-C", "sameNames=true");
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/\nfsspec-ts: EIO: the cached copy is damaged/);
    // The damaged copy is gone from the cache (offline, nothing can replace it).
    expect((await cli("package", "ls", root, "--cache", cache, "-C", "sameNames=true")).out).toMatch(/-\s+pinned  fcn\.mdlus\n/);
    expect(server.requestCount()).toBe(0);
  });

  it("fetch of named files and globs prints their paths in order; a package without pins fetches every file", async () => {
    const cache = join(dir, "named");
    const named = await cli("package", "fetch", root, "stats/*.npy", "config.json", "--cache", cache);
    expect(named.code).toBe(0);
    const lines = named.out.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(sha256(await readFile(lines[2]!))).toBe(sha256(files["config.json"]));
    expect(sha256(await readFile(lines[0]!))).toBe(sha256(files["stats/mean.npy"]));
    const plain = await cli("package", "fetch", `${server.url}/plain`, "--cache", join(dir, "plain"));
    expect([plain.code, plain.out.trim().split("\n").length]).toEqual([0, 2]);
    const again = await cli("package", "fetch", `${server.url}/plain`, "--cache", join(dir, "plain"));
    expect(again.err).toBe("prefetch 2 files: all 2 already cached\n");
  });

  it("verify reports files not cached yet; a package without pins, a bad count or a missing file fail", async () => {
    const cache = join(dir, "partial");
    await cli("package", "fetch", root, "config.json", "--cache", cache);
    const partial = await cli("package", "verify", root, "--cache", cache);
    expect(partial.code).toBe(1);
    expect(partial.out).toContain("missing   fcn.mdlus (not cached)");
    expect(partial.out).toContain("ok        config.json");
    const none = await cli("package", "verify", `${server.url}/plain`, "--cache", cache);
    // ENOENT (no manifest) exits 3, "not found", as every command does (docs/cli.md exit codes).
    expect([none.code, none.err]).toEqual([3, expect.stringContaining("the package has no pins")]);
    const ignored = await cli("package", "verify", root, "--cache", cache, "--no-manifest");
    expect(ignored.code).toBe(3);
    expect((await cli("package", "fetch", root, "--concurrency", "0", "--cache", cache)).code).toBe(2);
    const missing = await cli("package", "fetch", root, "nope.bin", "--cache", cache);
    expect([missing.code, missing.err]).toEqual([3, expect.stringMatching(/^prefetch failed after 0 of 1 files\nfsspec-ts: ENOENT: .*\/fcn\/nope\.bin'\n$/)]);
  });

  it("--manifest names another manifest; a pin it breaks stops fetch with EIO and caches nothing", async () => {
    server.setFile("/fcn/other.sums", `${"0".repeat(64)}  config.json\n`);
    const cache = join(dir, "other");
    const res = await cli("package", "fetch", root, "--manifest", "other.sums", "--cache", cache);
    expect(res.code).toBe(1);
    expect(res.err).toContain("checksum mismatch");
    expect(res.err).toContain("prefetch failed after 0 of 1 files");
    expect((await cli("package", "ls", root, "--manifest", "other.sums", "--cache", cache, "--json")).out).toContain('"path": "config.json"');
  });

  it("cache size, ls, prune and clear count an extracted folder with its archive", async () => {
    const cache = join(dir, "extracted");
    const members = { "w/a.bin": bytes(60_000, 4), "w/b.bin": bytes(31_852, 5) }; // 91,852 bytes
    server.setFile("/zips/model.zip", buildArchive("zip", members));
    const pkg = new Package(`${server.url}/zips`, { cacheOptions: { cacheStorage: cache, sameNames: true }, progress: false });
    const folder = await pkg.extract("model.zip");
    let onDisk = 0;
    for (const e of await readdir(cache, { recursive: true, withFileTypes: true })) if (e.isFile()) onDisk += (await stat(join(e.parentPath, e.name))).size;
    const archiveBytes = (await stat(join(cache, "model.zip"))).size;
    expect(onDisk).toBe((await stat(join(cache, "cache"))).size + archiveBytes + 91_852);
    expect((await cli("cache", "size", cache)).out).toBe(`${onDisk}\n`);

    const ls = (await cli("cache", "ls", cache)).out.split("\n");
    expect(ls[0]).toMatch(new RegExp(`^ +\\S+ +\\S+ model\\.zip  <- ${server.url}/zips/model\\.zip$`));
    expect(ls[1]).toBe("   90K      model.zip.extracted/ (extracted from it)");
    expect(JSON.parse((await cli("cache", "ls", cache, "--json")).out)[0].extracted).toEqual({ localPath: folder, size: 91_852 });

    // Without a terminal to ask, deleting needs --yes (refused: exit 2, docs/cli.md).
    expect((await cli("cache", "prune", cache, "--older-than", "0")).code).toBe(2);
    expect(await readdir(cache)).toContain("model.zip.extracted");
    expect((await cli("cache", "prune", cache, "--older-than", "0", "--yes")).out).toBe(`removed ${server.url}/zips/model.zip\n`);
    expect(await readdir(cache)).toEqual(["cache"]);
    expect((await cli("cache", "size", cache)).out).toBe(`${(await stat(join(cache, "cache"))).size}\n`);

    await pkg.extract("model.zip");
    expect((await cli("cache", "clear", cache, "--yes")).code).toBe(0);
    expect(await readdir(cache)).toEqual(["cache"]);
  });
});
