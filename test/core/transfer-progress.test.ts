/**
 * A batch's progress callback counts each byte once and keeps the batch's total: the per-file
 * reads and writes of a transfer never report to it again (an HTTP read honours a `callback`
 * option, and the batch's options used to reach it spread into each file's).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { filesystem, LocalFileSystem, MemoryFileSystem, planTransfer, runTransfers, type AbstractFileSystem, type ProgressCallback } from "../../src/index.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";

const MiB = 2 ** 20;
let server: TestHttpServer;
let http: AbstractFileSystem;
let tmp: string;

beforeAll(async () => {
  server = await startHttpServer();
  // Larger than a block (streamed) and smaller (one read): both paths of transferFile.
  server.setFile("/d/a.bin", new Uint8Array(3 * MiB).fill(1));
  server.setFile("/d/b.bin", new Uint8Array(2 * MiB).fill(2));
  server.setFile("/d/c.txt", "small");
  http = await filesystem("http", { skipInstanceCache: true });
  tmp = await mkdtemp(join(tmpdir(), "fsspec-progress-"));
});
afterAll(async () => {
  await server.close();
  await rm(tmp, { recursive: true, force: true });
});

function recorder() {
  const sizes: number[] = [];
  let done = 0;
  const callback: ProgressCallback = { setSize: (n) => sizes.push(n), relativeUpdate: (n) => (done += n) };
  return { callback, sizes, done: () => done };
}

const TOTAL = 5 * MiB + 5;

describe("progress of a batch transfer", () => {
  it("runTransfers from HTTP: one total, every byte once", async () => {
    for (const dst of [new MemoryFileSystem({ store: "private" }), new LocalFileSystem()]) {
      const r = recorder();
      const target = dst instanceof LocalFileSystem ? join(tmp, "run") + "/" : "/run/";
      const pairs = await planTransfer(http, `${server.url}/d/`, dst, target, { recursive: true });
      await runTransfers(pairs, http, dst, { recursive: true, callback: r.callback });
      expect([dst.constructor.name, r.sizes, r.done()]).toEqual([dst.constructor.name, [TOTAL], TOTAL]);
    }
  });

  it("get (many files and one file) from HTTP to disk, and put back to memory", async () => {
    const many = recorder();
    await http.get(`${server.url}/d/`, join(tmp, "get") + "/", { recursive: true, callback: many.callback });
    expect([many.sizes, many.done()]).toEqual([[TOTAL], TOTAL]);
    const one = recorder();
    await http.get(`${server.url}/d/a.bin`, join(tmp, "one.bin"), { callback: one.callback });
    expect([one.sizes, one.done()]).toEqual([[3 * MiB], 3 * MiB]);
    const mem = new MemoryFileSystem({ store: "private" });
    const up = recorder();
    await mem.put(join(tmp, "get") + "/", "/up/", { recursive: true, callback: up.callback });
    expect([up.sizes, up.done()]).toEqual([[TOTAL], TOTAL]);
  });
});
