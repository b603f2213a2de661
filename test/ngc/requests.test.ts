/**
 * Requests per file on NGC: a Package's first load of a model zoo costs the file lookup and one
 * GET per file, whatever its size (no listing, no 1-byte probe), a later load none; the
 * presigned URL is reused by later ranged reads until storage refuses it.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Package } from "../../src/index.js";
import type { NGCFileSystem } from "../../src/implementations/ngc.js";
import { expectBytes } from "../http/helpers.js";
import { modelZoo } from "../support/model-zoo.js";
import { startNgcServer, type TestNgcServer } from "../../src/testing/ngc-server.js";
import { ngcFs } from "./helpers.js";

const zoo = modelZoo();
const files = Object.keys(zoo);
const BIG = "sfno_73ch_small/training_checkpoints/best_ckpt_mp0.tar";
const ROOT = "models/org/zoo@1.0";
const UNLISTED = "models/org/zoo@2.0";
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

let srv: TestNgcServer;
let dir: string;
const open: NGCFileSystem[] = [];

beforeAll(async () => {
  srv = await startNgcServer();
  const data = Object.fromEntries(files.map((f) => [f, zoo[f]!.data]));
  srv.addFiles(ROOT, data);
  srv.addFiles(UNLISTED, data, { listing: false });
  dir = await mkdtemp(join(tmpdir(), "fsspec-ts-ngc-requests-"));
});
afterAll(async () => {
  await srv?.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((fs) => fs.close()));
  srv.resetCounts();
});

const packageAt = (root: string, cache: string) =>
  new Package(`ngc://${root}`, {
    cacheOptions: { cacheStorage: cache },
    progress: false,
    fsOptions: { ngc: { baseUrl: srv.url, authUrl: srv.authUrl, apiKey: null, org: "", team: "" } },
  });

describe("a Package over NGC", () => {
  it.each([
    ["a listed version", ROOT],
    ["a version without a listing", UNLISTED],
  ])("loads %s with a lookup and one GET per file, then with none", async (_what, root) => {
    const cache = join(dir, root.replace(/\W/g, "_"));
    const first = packageAt(root, cache);
    for (const f of files) expect(sha256(await readFile(await first.resolve(f))), f).toBe(sha256(zoo[f]!.data));
    expect(srv.count("lookup")).toBe(files.length);
    expect(srv.count("download")).toBe(files.length);
    expect(srv.requests.length / files.length).toBeLessThanOrEqual(2);
    // A whole file is one GET from byte 0, never a 1-byte probe first.
    expect(srv.requests.filter((r) => r.kind === "download").every((r) => r.headers.range === "bytes=0-")).toBe(true);

    srv.resetCounts();
    const second = packageAt(root, cache);
    for (const f of files) await second.resolve(f);
    expect(srv.requests).toEqual([]);
  });
});

describe("the presigned URL", () => {
  it("serves every later ranged read of the file, and is looked up once more when refused", async () => {
    const fs = ngcFs(srv);
    open.push(fs);
    const want = zoo[BIG]!.data;
    const f = await fs.open(`${ROOT}/${BIG}`, "rb", { blockSize: 2 ** 20, cacheType: "none" });
    for (const at of [0, 9 * 2 ** 20, 19 * 2 ** 20]) {
      await f.seek(at);
      expectBytes(await f.read(500), want.subarray(at, at + 500));
    }
    await f.close();
    expect([srv.count("lookup"), srv.count("download")]).toEqual([1, 3]);

    srv.expireUrls();
    srv.resetCounts();
    expectBytes(await fs.catFile(`${ROOT}/${BIG}`, 7, 70), want.subarray(7, 70));
    expect(srv.requests.map((r) => r.kind)).toEqual(["download", "lookup", "download"]);
  });
});
