/**
 * Every way a read can end gives its connection slot back and lets no error escape: after many
 * reads of each kind on a client with two slots, one more request still completes. Waiting for
 * a slot is bounded by the call's timeout and its signal. (A leaked slot would show as that
 * last request timing out.)
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { startHttpServer, type FaultSpec, type TestHttpServer } from "../../src/testing/http-server.js";
import { guardProcess } from "../support/process-guard.js";
import { errorOf, expectBytes, pattern } from "./helpers.js";

guardProcess();

let srv: TestHttpServer;
let fs: HTTPFileSystem;
const SIZE = 1 << 20;
const data = pattern(SIZE, 5);
const FILE = "/s/data.bin";
const EMPTY = "/s/empty.bin";
const ROUNDS = 20;
const url = (p = FILE) => `${srv.url}${p}`;

beforeAll(async () => {
  srv = await startHttpServer();
  srv.setFile(FILE, data);
  srv.setFile(EMPTY, new Uint8Array(0));
  srv.setFile("/s/dir/a.txt", "a");
});
afterAll(async () => {
  await srv.close();
});
afterEach(async () => {
  srv.clearFaults();
  srv.resetCounts();
  await fs?.close();
});

/** A client with two slots per origin and short timeouts, so a leak fails fast. */
function client(extra: ConstructorParameters<typeof HTTPFileSystem>[0] = {}): HTTPFileSystem {
  fs = new HTTPFileSystem({ connections: 2, retries: 0, retryDelay: 1, timeout: 1_500, bodyTimeout: 1_500, ...extra });
  return fs;
}

/** The check after each class: a fresh request on the same client completes with the right bytes. */
async function stillServes(): Promise<void> {
  srv.clearFaults();
  fs.invalidateCache();
  expectBytes(await fs.catFile(url(), 100, 200), data.subarray(100, 200));
  expectBytes(await fs.catFile(url()), data);
}

async function rounds(fault: FaultSpec | undefined, step: (i: number) => Promise<void>): Promise<void> {
  if (fault) srv.fault({ times: Infinity, ...fault });
  for (let i = 0; i < ROUNDS; i++) {
    fs.invalidateCache();
    await step(i);
  }
  await stillServes();
}

describe("no read keeps its slot or lets an error escape", () => {
  it("success: whole files, ranges, info, listings", async () => {
    client();
    await rounds(undefined, async (i) => {
      expectBytes(await fs.catFile(url()), data);
      expectBytes(await fs.catFile(url(), i, i + 10), data.subarray(i, i + 10));
      expect((await fs.info(url())).size).toBe(SIZE);
      expect(await fs.ls(url("/s/dir"), { detail: false })).toEqual([url("/s/dir/a.txt")]);
    });
  });

  it("errors: missing files, statuses, a 206 that is not what was asked", async () => {
    client();
    await rounds(undefined, async () => {
      await errorOf(fs.catFile(url("/s/none")), "ENOENT");
      srv.fault({ path: FILE, status: 500 });
      await errorOf(fs.catFile(url()), "EIO");
      srv.fault({ path: FILE, method: "GET", answerRange: "bytes=0-9" });
      await errorOf(fs.catFile(url(), 500, 600), "EPROTO");
    });
  });

  it("aborts while the body comes", async () => {
    client();
    await rounds({ path: FILE, method: "GET", throttleBytesPerSec: 200_000 }, async () => {
      const controller = new AbortController();
      const pending = fs.catFile(url(), 0, undefined, { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);
      await errorOf(pending, "EABORT");
    });
  });

  it("early stops: a file closed before its end, streamed or ranged", async () => {
    client();
    await rounds(undefined, async (i) => {
      const streamed = await fs.open(url(), "rb", { streaming: true });
      expectBytes(await streamed.read(10), data.subarray(0, 10));
      await streamed.close();
      const ranged = await fs.open(url(), "rb", { blockSize: 4096 });
      ranged.seek(i * 1000);
      expectBytes(await ranged.read(10), data.subarray(i * 1000, i * 1000 + 10));
      await ranged.close();
    });
  });

  it("a server that ignores Range (200 with the whole body, no Accept-Ranges)", async () => {
    client();
    await rounds({ path: FILE, method: "GET", rangesIgnored: true }, async (i) => {
      expectBytes(await fs.catFile(url(), i, i + 10), data.subarray(i, i + 10));
      expectBytes(await fs.catFile(url(), -10), data.subarray(SIZE - 10));
      const f = await fs.open(url(), "rb", { blockSize: 1000 });
      f.seek(SIZE / 2);
      expectBytes(await f.read(100), data.subarray(SIZE / 2, SIZE / 2 + 100));
      await f.close();
    });
    const starts = Array.from({ length: 50 }, (_, k) => k * 20_000);
    srv.fault({ path: FILE, method: "GET", rangesIgnored: true, times: Infinity });
    const parts = await fs.catRanges(starts.map(() => url()), starts, starts.map((s) => s + 5));
    parts.forEach((p, k) => expectBytes(p as Uint8Array, data.subarray(starts[k]!, starts[k]! + 5)));
    await stillServes();
  });

  it("a file left open on a server that ignores Range gives its held body back after keepAliveTimeout", async () => {
    client({ connections: 1, keepAliveTimeout: 100, timeout: 3_000 });
    srv.fault({ path: FILE, method: "GET", rangesIgnored: true, times: 3 });
    const forgotten = await fs.open(url(), "rb", { blockSize: 1000 });
    expectBytes(await forgotten.read(10), data.subarray(0, 10)); // the rest of the body is held for the next read
    const t0 = Date.now();
    expectBytes(await fs.catFile(url(), 0, 10), data.subarray(0, 10));
    expect(Date.now() - t0).toBeLessThan(2_000);
    // Reading on still works: another download.
    expectBytes(await forgotten.read(10), data.subarray(10, 20));
    await forgotten.close();
    await stillServes();
  });

  it("empty bodies: an empty file answered 200 (as real servers do) or 416", async () => {
    client();
    await rounds(undefined, async () => {
      srv.fault({ path: EMPTY, method: "GET", rangesIgnored: true });
      expect((await fs.catFile(url(EMPTY))).byteLength).toBe(0);
      expect((await fs.catFile(url(EMPTY))).byteLength).toBe(0); // 416 from the test server
      srv.fault({ path: EMPTY, method: "GET", rangesIgnored: true });
      expect((await fs.catFile(url(EMPTY), 0, 10)).byteLength).toBe(0);
      const f = await fs.open(url(EMPTY), "rb");
      expect((await f.read()).byteLength).toBe(0);
      await f.close();
    });
  });

  it("a body longer than its Content-Length", async () => {
    client();
    await rounds({ path: FILE, method: "GET", noRanges: true, wrongContentLength: 10 }, async () => {
      // What the response declares is all there is to it: the first 10 bytes.
      expectBytes(await fs.catFile(url(), 0, 5), data.subarray(0, 5));
    });
  });

  it("a body shorter than its Content-Length, a reset, a stall", async () => {
    client();
    await rounds(undefined, async () => {
      srv.fault({ path: FILE, method: "GET", noRanges: true, wrongContentLength: SIZE + 100 });
      await fs.catFile(url()).then(
        () => expect.fail("a short body must not read as complete"),
        (err: { code?: string }) => expect(["EPROTO", "ECONNRESET"]).toContain(err.code),
      );
      srv.fault({ path: FILE, method: "GET", resetAfterBytes: 1000 });
      await errorOf(fs.catFile(url()), "ECONNRESET");
    });
    const stalling = client({ bodyTimeout: 100 });
    srv.fault({ path: FILE, method: "GET", stallMs: 5_000, times: 3 });
    for (let i = 0; i < 3; i++) await errorOf(stalling.catFile(url()), "ETIMEDOUT");
    await stillServes();
  });
});

describe("waiting for a slot", () => {
  it("is bounded by the call's timeout", async () => {
    const one = client({ connections: 1, timeout: 300 });
    const held = await one.open(url(), "rb", { streaming: true });
    await held.read(10); // the rest of the body holds the only slot
    const t0 = Date.now();
    const err = await errorOf(one.catFile(url(), 0, 10), "ETIMEDOUT");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(err.message).toMatch(/no free connection/);
    await held.close();
    expectBytes(await one.catFile(url(), 0, 10), data.subarray(0, 10));
  });

  it("ends as soon as the call's signal aborts", async () => {
    const one = client({ connections: 1, timeout: 10_000 });
    const held = await one.open(url(), "rb", { streaming: true });
    await held.read(10);
    const controller = new AbortController();
    const pending = one.info(url("/s/dir/a.txt"), { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    const t0 = Date.now();
    await errorOf(pending, "EABORT");
    expect(Date.now() - t0).toBeLessThan(1_000);
    await held.close();
    expect((await one.info(url("/s/dir/a.txt"))).size).toBe(1);
  });
});
