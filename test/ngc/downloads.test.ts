/**
 * A large NGC file downloaded into a local file: the first GET of the presigned URL streams it;
 * where each connection is capped, parts of its tail go as ranges of the same URL pinned to the
 * first answer's ETag, with one lookup. The bytes on disk are checked.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tailCut } from "../support/http-requests.js";
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
  it("a large file: one lookup, the first GET streams it; where each connection is capped, parts of its tail go as ranges with If-Range", async () => {
    const fs = ngcFs(srv, { rangeConcurrency: 3, rangeThreshold: 0 });
    let counted = 0;
    srv.storage.throttle(16 * MiB);
    try {
      await fs.getFile("ngc://models/org/big@1.0/w.bin", join(dir, "w.bin"), { callback: { relativeUpdate: (n) => void (counted += n) } });
    } finally {
      srv.storage.throttle(undefined);
    }
    expectBytes(await readFile(join(dir, "w.bin")), DATA);
    expect(counted).toBe(SIZE);
    const downloads = srv.requests.filter((r) => r.kind === "download");
    expect(downloads[0]!.headers.range).toBe("bytes=0-");
    expect(tailCut(downloads.map((r) => r.headers.range), SIZE)).toBeLessThan(SIZE);
    expect(downloads.slice(1).every((r) => r.headers["if-range"] !== undefined)).toBe(true);
    expect(srv.count("lookup")).toBe(1);
    await fs.close();
  });
});
