/**
 * An abort is an FsError with code EABORT whose `name` is "AbortError", as Node's own aborts
 * are (`err.name === "AbortError"` is how Node code tells them), wherever it is raised: the
 * base class's signal check, the limiter, cache locks, the HTTP client under every network
 * backend (a server that never answers), the AWS SDK's own AbortError, and opened files' streams.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsError, MemoryFileSystem, mapBounded, type AbstractFileSystem } from "../../src/index.js";
import { FileLock } from "../../src/cached/locks.js";
import { GCSFileSystem } from "../../src/implementations/gs.js";
import { HuggingFaceFileSystem } from "../../src/implementations/hf.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { NGCFileSystem } from "../../src/implementations/ngc.js";
import { S3FileSystem } from "../../src/implementations/s3.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";

/** What `promise` rejects with (anything thrown), failing the test when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to be aborted, but it succeeded");
}

function expectAbort(err: unknown): void {
  expect(err).toBeInstanceOf(FsError);
  expect(err).toMatchObject({ code: "EABORT", name: "AbortError" });
  expect(String(err)).toMatch(/^AbortError: EABORT: operation aborted/);
}

let srv: TestHttpServer;
beforeAll(async () => {
  srv = await startHttpServer();
});
afterAll(() => srv.close());

describe("aborts are AbortErrors", () => {
  it("FsError EABORT itself, and withPath keeps it", () => {
    const err = new FsError("EABORT", undefined, { path: "/p" });
    expectAbort(err);
    expectAbort(err.withPath("/q"));
    expect(new FsError("ENOENT").name).toBe("FsError");
  });

  it("a call with a signal already aborted (the base class's check)", async () => {
    const fs = new MemoryFileSystem({ store: "private" });
    await fs.pipe("/a", "x");
    expectAbort(await rejection(fs.catFile("/a", undefined, undefined, { signal: AbortSignal.abort() })));
    expectAbort(await rejection(fs.ls("/", { signal: AbortSignal.abort() })));
  });

  it("the limiter", async () => {
    expectAbort(await rejection(mapBounded([1, 2], async (x) => x, { signal: AbortSignal.abort() })));
  });

  it("a wait for a cache lock", async () => {
    const fs = new MemoryFileSystem({ store: "private" });
    const held = await FileLock.acquire(fs, "/lock");
    const controller = new AbortController();
    const waiting = FileLock.acquire(fs, "/lock", { signal: controller.signal, pollMs: 5 });
    controller.abort();
    expectAbort(await rejection(waiting));
    await held.release();
  });

  it("the streams of an opened file whose signal fires", async () => {
    const fs = new MemoryFileSystem({ store: "private" });
    await fs.pipe("/big", new Uint8Array(1 << 20));
    const controller = new AbortController();
    const f = await fs.open("/big", "rb", { signal: controller.signal, blockSize: 1024 });
    const node = f.createReadStream({ highWaterMark: 1024 });
    const web = f.stream().getReader();
    controller.abort();
    const nodeError = await new Promise((resolve) => node.once("error", resolve).resume());
    expectAbort(nodeError);
    expectAbort(await rejection(web.read()));
    await f.close();
  });

  /** A server that takes the request and never answers: only the abort ends the call. */
  const NEVER_ANSWERS: Array<{ name: string; make: () => AbstractFileSystem; call: (fs: AbstractFileSystem, signal: AbortSignal) => Promise<unknown> }> = [
    { name: "http", make: () => new HTTPFileSystem({ skipInstanceCache: true }), call: (fs, signal) => fs.catFile(`${srv.url}/f.bin`, undefined, undefined, { signal }) },
    { name: "hf", make: () => new HuggingFaceFileSystem({ endpoint: srv.url, token: false, skipInstanceCache: true }), call: (fs, signal) => fs.ls("hf://datasets/o/r", { signal }) },
    { name: "ngc", make: () => new NGCFileSystem({ baseUrl: `${srv.url}/`, apiKey: null, skipInstanceCache: true }), call: (fs, signal) => fs.ls("ngc://models/nvidia/fcn@1.0", { signal }) },
    { name: "gs", make: () => new GCSFileSystem({ endpoint: srv.url, token: "anon", skipInstanceCache: true }), call: (fs, signal) => fs.info("gs://bucket/key", { signal }) },
    {
      name: "s3 (the SDK's own AbortError)",
      make: () => new S3FileSystem({ endpoint: srv.url, key: "k", secret: "secret-value", clientOptions: { maxAttempts: 1 }, skipInstanceCache: true }),
      call: (fs, signal) => fs.info("s3://bucket/key", { signal }),
    },
  ];
  for (const { name, make, call } of NEVER_ANSWERS) {
    it(`${name}: a request aborted while the server says nothing`, async () => {
      srv.setFile("/f.bin", "data");
      // Long enough to abort in; finite, because hf and ngc let a shared lookup run on for other
      // callers, and close() waits for it.
      srv.fault({ stallBeforeHeadersMs: 1500, times: Infinity });
      const fs = make();
      try {
        const controller = new AbortController();
        const pending = rejection(call(fs, controller.signal));
        while (srv.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
        controller.abort();
        expectAbort(await pending);
      } finally {
        srv.clearFaults();
        srv.resetCounts();
        await fs.close();
      }
    });
  }
});
