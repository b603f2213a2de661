/**
 * Requests per file on the Hub: a Package's first load of a model zoo costs one GET per file
 * (plus the CDN GET of each LFS file and one revision lookup), whatever the file's size, and a
 * later load none; the CDN URL `resolve` redirected to is reused by later ranged reads of the
 * same file until storage refuses it or it expires; the token never goes to the CDN.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Package } from "../../src/index.js";
import { HuggingFaceFileSystem, type HuggingFaceFileSystemOptions } from "../../src/implementations/hf.js";
import { expectBytes } from "../http/helpers.js";
import { startHfServer, type TestHfServer } from "../../src/testing/hf-server.js";
import { LFS_THRESHOLD, modelZoo } from "../support/model-zoo.js";

const TOKEN = "hf_test_token";
const zoo = modelZoo();
const files = Object.keys(zoo);
const lfsFiles = files.filter((f) => zoo[f]!.lfs);
const BIG = "sfno_73ch_small/training_checkpoints/best_ckpt_mp0.tar";
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

let hub: TestHfServer;
let dir: string;
const open: HuggingFaceFileSystem[] = [];

beforeAll(async () => {
  hub = await startHfServer({ pageSize: 1000, cdnExpiresIn: 3600, lfsThreshold: LFS_THRESHOLD });
  hub.createRepo("org/zoo", { private: true });
  hub.commit("org/zoo", Object.fromEntries(files.map((f) => [f, { data: zoo[f]!.data, lfs: zoo[f]!.lfs }])));
  dir = await mkdtemp(join(tmpdir(), "fsspec-ts-hf-requests-"));
});
afterAll(async () => {
  await hub?.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((fs) => fs.close()));
  hub.resetCounts();
});

function hf(options: HuggingFaceFileSystemOptions = {}): HuggingFaceFileSystem {
  const fs = new HuggingFaceFileSystem({ endpoint: hub.url, token: TOKEN, skipInstanceCache: true, retryDelay: 1, ...options });
  open.push(fs);
  return fs;
}

/** A Package over the zoo, in the Hugging Face cache (the default) or in the whole-file cache, under `cache`. */
const packageAt = (cache: string, hubCache = true) =>
  new Package("hf://org/zoo", {
    ...(hubCache ? { hfCache: { cacheDir: cache } } : { hfCache: false, cacheOptions: { cacheStorage: cache } }),
    progress: false,
    // A fresh filesystem, as in a new process (a cached instance keeps its pinned commit).
    fsOptions: { hf: { endpoint: hub.url, token: TOKEN, skipInstanceCache: true } },
  });

describe("a Package over the Hub", () => {
  it.each([
    ["the Hugging Face cache", true],
    ["the whole-file cache", false],
  ])("loads a model zoo into %s with one GET per file (LFS: resolve + CDN) and one revision lookup", async (_what, hubCache) => {
    expect(files).toHaveLength(24);
    expect(lfsFiles).toHaveLength(3);
    const cache = join(dir, `zoo-${hubCache}`);
    const first = packageAt(cache, hubCache);
    for (const f of files) expect(sha256(await readFile(await first.resolve(f))), f).toBe(sha256(zoo[f]!.data));
    // The revision answer states every file's size and blob (blobs=true): no tree listing.
    expect(hub.requests.filter((r) => r.kind === "api").map((r) => r.url)).toEqual(["/api/models/org/zoo/revision/main?blobs=true"]);
    expect(hub.count("resolve")).toBe(files.length);
    expect(hub.count("cdn")).toBe(lfsFiles.length);
    expect(hub.requests.length / files.length).toBeLessThanOrEqual(1.2);

    hub.resetCounts();
    const second = packageAt(cache, hubCache);
    for (const f of files) await second.resolve(f);
    // No file is fetched again; the Hugging Face cache looks the branch up once per package.
    expect(hub.requests.filter((r) => r.kind !== "api")).toEqual([]);
    expect(hub.count("api")).toBe(hubCache ? 1 : 0);
  });

  it("downloads a file of many 8 MiB blocks with one CDN GET, verified against its LFS sha256", async () => {
    const cache = join(dir, "big");
    const local = await packageAt(cache).resolve(BIG);
    expectBytes(await readFile(local), zoo[BIG]!.data);
    expect(zoo[BIG]!.data.byteLength).toBeGreaterThan(2 * 8 * 2 ** 20);
    expect(hub.requests.filter((r) => r.kind !== "api").map((r) => [r.kind, r.headers.range])).toEqual([
      ["resolve", "bytes=0-"],
      ["cdn", "bytes=0-"],
    ]);
  });

  it("never caches a CDN copy that differs from the LFS sha256 the redirect stated", async () => {
    const cache = join(dir, "tampered");
    const oid = sha256(zoo["fcn/fcn.mdlus"]!.data);
    const bad = new Uint8Array(zoo["fcn/fcn.mdlus"]!.data);
    bad[1000] ^= 0xff;
    hub.tamper(oid, bad);
    try {
      await expect(packageAt(cache).resolve("fcn/fcn.mdlus")).rejects.toMatchObject({ code: "EIO", message: expect.stringMatching(/sha256/) });
    } finally {
      hub.tamper(oid, zoo["fcn/fcn.mdlus"]!.data);
    }
    expectBytes(await readFile(await packageAt(cache).resolve("fcn/fcn.mdlus")), zoo["fcn/fcn.mdlus"]!.data);
  });
});

describe("the CDN URL resolve redirected to", () => {
  it("serves every later ranged read of the file: one resolve for many blocks", async () => {
    const fs = hf();
    const f = await fs.open(`org/zoo/${BIG}`, "rb", { blockSize: 2 ** 20, cacheType: "none" });
    const want = zoo[BIG]!.data;
    for (const at of [0, 5 * 2 ** 20, 17 * 2 ** 20]) {
      await f.seek(at);
      expectBytes(await f.read(1000), want.subarray(at, at + 1000));
    }
    await f.close();
    expectBytes(await fs.catFile(`org/zoo/${BIG}`, 100, 200), want.subarray(100, 200));
    expect(hub.count("resolve")).toBe(1);
    expect(hub.count("cdn")).toBe(4);
  });

  it("is resolved once more when storage refuses it (expired), and the read still succeeds", async () => {
    const fs = hf();
    const want = zoo["dlwp/dlwp.mdlus"]!.data;
    expectBytes(await fs.catFile("org/zoo/dlwp/dlwp.mdlus", 0, 10), want.subarray(0, 10));
    hub.expireCdnUrls();
    hub.resetCounts();
    expectBytes(await fs.catFile("org/zoo/dlwp/dlwp.mdlus", 10, 20), want.subarray(10, 20));
    expect(hub.requests.map((r) => r.kind)).toEqual(["cdn", "resolve", "cdn"]);
    hub.resetCounts();
    expectBytes(await fs.catFile("org/zoo/dlwp/dlwp.mdlus", 20, 30), want.subarray(20, 30));
    expect(hub.requests.map((r) => r.kind)).toEqual(["cdn"]);
  });

  it("never carries the token (the CDN is another origin: localhost), while the Hub gets it", async () => {
    const fs = hf();
    await fs.catFile("org/zoo/fcn/fcn.mdlus", 0, 10);
    await fs.catFile("org/zoo/fcn/fcn.mdlus", 10, 20);
    const cdn = hub.requests.filter((r) => r.kind === "cdn");
    expect(cdn).toHaveLength(2);
    expect(cdn.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(hub.requests.filter((r) => r.kind !== "cdn").every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });
});

describe("a CDN URL about to expire", () => {
  it("is not kept: each read resolves again", async () => {
    const soon = await startHfServer({ cdnExpiresIn: 5 });
    try {
      soon.createRepo("org/soon");
      soon.commit("org/soon", { "w.bin": { data: zoo["fcn/fcn.mdlus"]!.data.subarray(0, 4096), lfs: true } });
      const fs = new HuggingFaceFileSystem({ endpoint: soon.url, token: false, skipInstanceCache: true });
      open.push(fs);
      await fs.catFile("org/soon/w.bin", 0, 10);
      await fs.catFile("org/soon/w.bin", 10, 20);
      expect(soon.requests.filter((r) => r.kind !== "api").map((r) => r.kind)).toEqual(["resolve", "cdn", "resolve", "cdn"]);
    } finally {
      await soon.close();
    }
  });
});
