/**
 * A large NGC file downloaded into a local file: the first GET of the presigned URL keeps only its
 * first part, the rest comes as parallel ranges of the same URL pinned to the first answer's ETag,
 * with one lookup. The bytes on disk are checked.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectBytes, pattern } from "../http/helpers.js";
import { startNgcServer, type TestNgcServer } from "../../src/testing/ngc-server.js";
import { ngcFs } from "./helpers.js";

const MiB = 2 ** 20;
const SIZE = 24 * MiB;
const DATA = pattern(SIZE, 6);
let srv: TestNgcServer;
let dir: string;

beforeAll(async () => {
  srv = await startNgcServer();
  srv.addFiles("models/org/big@1.0", { "w.bin": DATA });
  dir = await mkdtemp(join(tmpdir(), "fsspec-ts-ngc-dl-"));
});
afterAll(async () => {
  await srv?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("ngc downloads", () => {
  it("a large file: one lookup, the first GET keeps the first part, the rest as parallel ranges with If-Range", async () => {
    const fs = ngcFs(srv, { rangeConcurrency: 3, rangeThreshold: 0 });
    let counted = 0;
    await fs.getFile("ngc://models/org/big@1.0/w.bin", join(dir, "w.bin"), { callback: { relativeUpdate: (n) => void (counted += n) } });
    expectBytes(await readFile(join(dir, "w.bin")), DATA);
    expect(counted).toBe(SIZE);
    const downloads = srv.requests.filter((r) => r.kind === "download");
    expect(downloads.map((r) => r.headers.range).sort()).toEqual(["bytes=0-", `bytes=${8 * MiB}-${16 * MiB - 1}`, `bytes=${16 * MiB}-${SIZE - 1}`].sort());
    expect(downloads.slice(1).every((r) => r.headers["if-range"] !== undefined)).toBe(true);
    expect(srv.count("lookup")).toBe(1);
    await fs.close();
  });
});
