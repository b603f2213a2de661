/**
 * Injected faults: every test checks the bytes (or the error) and how many requests the
 * server saw. Timeouts are a few hundred milliseconds; only the timeout tests assert time.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FsError, MemoryFileSystem } from "../../src/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { errorOf, expectBytes, isInfoRequest, ORIGIN_STATES, ownFilesystems, pattern } from "./helpers.js";
import { guardProcess } from "../support/process-guard.js";

guardProcess();

let srv: TestHttpServer;
let fs: HTTPFileSystem;
const SIZE = 1 << 20;
const data = pattern(SIZE, 11);
const PATH = "/f/data.bin";
const url = (p = PATH) => `${srv.url}${p}`;
const gets = () => srv.requests.filter((r) => r.path === PATH && r.method === "GET");
/** The GETs that read the file, not the one-byte GET an info may be. */
const reads = () => srv.requests.filter((r) => r.path === PATH && !isInfoRequest(r));
/** Filesystems of a test's own, new or having learned that the origin takes ranges (see ownFilesystems). */
const own = ownFilesystems(() => srv, () => url(), { retries: 3, retryDelay: 1, timeout: 2_000, bodyTimeout: 2_000 });

beforeAll(async () => {
  srv = await startHttpServer({ acceptPut: true });
  srv.setFile(PATH, data);
  fs = new HTTPFileSystem({ retries: 3, retryDelay: 1, timeout: 2_000, bodyTimeout: 2_000 });
});
afterAll(async () => {
  await fs.close();
  await srv.close();
});
afterEach(async () => {
  await own.closeAll();
  srv.clearFaults();
  srv.resetCounts();
  srv.setFile(PATH, data);
  fs.invalidateCache();
});

describe("retries", () => {
  it("503 twice, then success", async () => {
    srv.fault({ path: PATH, status: 503, times: 2 });
    expectBytes(await fs.catFile(url()), data);
    expect(srv.requestCount(PATH)).toBe(3);
  });

  it("408 and 429 are retried too; 500 until the tries run out is an error with the status", async () => {
    srv.fault({ path: PATH, status: 408 });
    srv.fault({ path: PATH, status: 429 });
    expectBytes(await fs.catFile(url(), 0, 10), data.subarray(0, 10));
    expect(srv.requestCount(PATH)).toBe(3);
    srv.resetCounts();
    srv.fault({ path: PATH, status: 500, times: Infinity });
    const err = await errorOf(fs.catFile(url()), "EIO");
    expect(err.status).toBe(500);
    expect(srv.requestCount(PATH)).toBe(4);
  });

  it("404 is not retried", async () => {
    await errorOf(fs.catFile(url("/f/none")), "ENOENT");
    expect(srv.requestCount("/f/none")).toBe(1);
  });

  it("honours Retry-After", async () => {
    srv.fault({ path: PATH, status: 503, retryAfter: "1" });
    const t0 = Date.now();
    expectBytes(await fs.catFile(url(), 5, 50), data.subarray(5, 50));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(srv.requestCount(PATH)).toBe(2);
  });

  it("a Retry-After beyond maxRetryDelay fails at once with the status", async () => {
    srv.fault({ path: PATH, status: 429, retryAfter: "3600" });
    const err = await errorOf(fs.catFile(url()), "EIO");
    expect(err.status).toBe(429);
    expect(srv.requestCount(PATH)).toBe(1);
  });
});

describe("resuming broken bodies", () => {
  it("a reset after K bytes is resumed from byte K, guarded by If-Range, to the exact bytes", async () => {
    srv.fault({ path: PATH, method: "GET", resetAfterBytes: 100_000 });
    expectBytes(await fs.catFile(url()), data);
    const [first, resumed] = gets();
    expect(gets()).toHaveLength(2);
    expect(first!.headers.range).toBe("bytes=0-");
    expect(resumed!.headers.range).toBe(`bytes=100000-${SIZE - 1}`);
    expect(resumed!.headers["if-range"]).toMatch(/^"[0-9a-f]+"$/);
  });

  it("resumes a range read several times, ending at the range's end", async () => {
    srv.fault({ path: PATH, method: "GET", resetAfterBytes: 30_000, times: 3 });
    expectBytes(await fs.catFile(url(), 1000, 200_000), data.subarray(1000, 200_000));
    expect(gets().map((r) => r.headers.range)).toEqual(["bytes=1000-199999", "bytes=31000-199999", "bytes=61000-199999", "bytes=91000-199999"]);
  });

  it("resumes a forward-only streamed file", async () => {
    srv.fault({ path: PATH, method: "GET", resetAfterBytes: 500_000 });
    const f = await fs.open(url(), "rb", { streaming: true });
    const parts: Uint8Array[] = [];
    for await (const chunk of f) parts.push(chunk);
    await f.close();
    expectBytes(Buffer.concat(parts), data);
    expect(gets()).toHaveLength(2);
  });

  it("a server without ranges resumes by skipping to the byte reached, for the same ETag", async () => {
    srv.fault({ path: PATH, method: "GET", resetAfterBytes: 200_000, noRanges: true });
    srv.fault({ path: PATH, method: "GET", noRanges: true });
    expectBytes(await fs.catFile(url()), data);
    expect(gets()).toHaveLength(2);
  });

  it("an ETag change during a resumed read is ECHANGED, never spliced bytes", async () => {
    srv.fault({ path: PATH, method: "GET", resetAfterBytes: 50_000 });
    srv.fault({ path: PATH, method: "GET", changeEtag: true });
    const err = await errorOf(fs.catFile(url()), "ECHANGED");
    expect(err.message).toMatch(/not splicing/);
    expect(gets()).toHaveLength(2);
  });

  it.each(ORIGIN_STATES)("an opened file pinned to its version fails with ECHANGED when the file changes (origin %s)", async (state) => {
    const mine = await own.make(state);
    const f = await mine.open(url(), "rb", { blockSize: 64 * 1024, cacheType: "none" });
    expectBytes(await f.read(1000), data.subarray(0, 1000));
    srv.fault({ path: PATH, method: "GET", changeEtag: true });
    await errorOf(f.read(1000), "ECHANGED");
    await f.close();
    // One info (a HEAD, or a bytes=0-0 GET), then the two reads pinned to what it said.
    expect(srv.requests.map((r) => r.method)).toEqual([state === "new" ? "HEAD" : "GET", "GET", "GET"]);
    expect(isInfoRequest(srv.requests[0]!)).toBe(true);
    expect(reads()).toHaveLength(2);
    expect(reads()[0]!.headers["if-range"]).toMatch(/^"[0-9a-f]+"$/); // the ETag the info gave
    expect(reads()[1]!.headers["if-range"]).toBe(reads()[0]!.headers["if-range"]);
  });
});

describe("answers other than asked never become wrong bytes", () => {
  it("a 200 that breaks while skipping to the range's start, resumed by a 206, hands back the range's bytes", async () => {
    // The first answer ignores the range; the resume is honoured: nothing left over from the skip may apply to it.
    srv.fault({ path: PATH, method: "GET", noRanges: true, resetAfterBytes: 50_000 });
    expectBytes(await fs.catFile(url(), 100_000, 600_000), data.subarray(100_000, 600_000));
    expect(gets().map((r) => r.headers.range)).toEqual(["bytes=100000-599999", "bytes=100000-599999"]);
  });

  it("a 206 covering less than asked inside a file of known size is completed, not handed back short", async () => {
    srv.fault({ path: PATH, method: "GET", answerRange: "bytes=1000-1999" });
    expectBytes(await fs.catFile(url(), 1000, 5000), data.subarray(1000, 5000));
    expect(gets().map((r) => r.headers.range)).toEqual(["bytes=1000-4999", "bytes=2000-4999"]);
    srv.resetCounts();
    const p = url();
    srv.fault({ path: PATH, method: "GET", answerRange: "bytes=0-99" });
    const [a, b] = await fs.catRanges([p, p], [0, 200_000], [10, 200_010]);
    expectBytes(a as Uint8Array, data.subarray(0, 10));
    expectBytes(b as Uint8Array, data.subarray(200_000, 200_010));
  });

  it("a 206 answering a suffix request with bytes other than the file's last is EPROTO", async () => {
    srv.fault({ path: PATH, method: "GET", answerRange: "bytes=0-99" });
    await errorOf(fs.catFile(url(), -100), "EPROTO");
    expect(gets()).toHaveLength(1);
  });

  it("a 200 without a length (ranges ignored, chunked) ends where its body ends, even before the end asked", async () => {
    srv.fault({ path: PATH, method: "GET", noRanges: true, noContentLength: true, times: Infinity });
    expectBytes(await fs.catFile(url(), 0, SIZE + 1000), data);
    expectBytes(await fs.catFile(url(), 1000, Number.MAX_SAFE_INTEGER), data.subarray(1000));
    expect(gets()).toHaveLength(2);
  });

  it("a streamed file holds the size it was opened with when the body declares none", async () => {
    // Each open is the first info of a filesystem of its own: a HEAD, which overstates the size.
    srv.fault({ path: PATH, method: "HEAD", wrongContentLength: SIZE + 100, times: 2 });
    srv.fault({ path: PATH, method: "GET", noRanges: true, noContentLength: true });
    const f = await (await own.make("new")).open(url(), "rb", { streaming: true });
    expect(f.size).toBe(SIZE + 100);
    await errorOf(f.read(), "EPROTO");
    await f.close();
    // A start inside the size opened with, answered 416: not an empty read at "the end".
    const g = await (await own.make("new")).open(url(), "rb", { streaming: true });
    g.seek(SIZE + 50);
    await errorOf(g.read(10), "EPROTO");
    await g.close();
  });

  it("a streamed file whose read failed keeps failing instead of reporting the end of the file", async () => {
    const once = new HTTPFileSystem({ retries: 0 });
    try {
      srv.fault({ path: PATH, method: "GET", resetAfterBytes: 100_000 });
      const f = await once.open(url(), "rb", { streaming: true });
      expectBytes(await f.read(10), data.subarray(0, 10));
      const first = await f.read().then(() => undefined, (e: unknown) => e as { code?: string });
      expect(first?.code).toBeDefined();
      await errorOf(f.read(), first!.code!);
      expect(f.tell()).toBe(10);
      await f.close();
    } finally {
      await once.close();
    }
  });
});

describe("bodies read whole fail as FsErrors", () => {
  it("a suffix read of a body without length or ranges, and an index page, that break are ECONNRESET", async () => {
    srv.fault({ path: PATH, method: "GET", noRanges: true, noContentLength: true, resetAfterBytes: 1000 });
    await errorOf(fs.catFile(url(), -100), "ECONNRESET");
    srv.fault({ path: "/f/", method: "GET", noContentLength: true, resetAfterBytes: 50 });
    await errorOf(fs.ls(url("/f/")), "ECONNRESET");
  });
});

describe("aborts and credentials", () => {
  it("a call waiting for a free connection fails with EABORT as soon as it is aborted", { timeout: 5_000 }, async () => {
    const one = new HTTPFileSystem({ connections: 1 });
    try {
      const f = await one.open(url(), "rb", { streaming: true });
      expectBytes(await f.read(10), data.subarray(0, 10)); // the rest of the body holds the one connection
      const controller = new AbortController();
      const pending = one.catFile(url(), 0, 10, { signal: controller.signal });
      await new Promise((r) => setTimeout(r, 10));
      controller.abort();
      await errorOf(pending, "EABORT");
      await f.close();
      // The abandoned wait did not keep the slot: the connection is usable again.
      expectBytes(await one.catFile(url(), 0, 10), data.subarray(0, 10));
    } finally {
      await one.close();
    }
  });

  it("errors of an opened file name its URL with credentials redacted", async () => {
    const secret = `http://me:hunter2@127.0.0.1:${srv.port}${PATH}?sig=abc123`;
    const f = await fs.open(secret, "rb", { streaming: true });
    await f.read(10);
    f.seek(200_000);
    await f.read(10);
    f.seek(0);
    const back = await errorOf(f.read(1), "ENOTSUP");
    await f.close();
    const closed = await errorOf(f.read(1), "ECLOSED");
    const g = await fs.open(secret, "rb", { blockSize: 1000 });
    srv.fault({ path: PATH, method: "GET", answerRange: "bytes=0-9", times: Infinity });
    // A fetch that cannot be completed (EPROTO, or EIO from the read cache): either way, named redacted.
    const short = await g.read(100).then(
      () => expect.fail("a read of a range the server never serves must fail"),
      (e: unknown) => e as FsError,
    );
    expect(short).toBeInstanceOf(FsError);
    await g.close();
    for (const err of [back, closed, short]) {
      expect(err.message).not.toContain("hunter2");
      expect(err.message).not.toContain("abc123");
      expect(err.path).not.toContain("hunter2");
    }
  });
});

describe("timeouts", () => {
  it("a body that stalls ends in ETIMEDOUT after bodyTimeout per try", async () => {
    const quick = new HTTPFileSystem({ bodyTimeout: 300, retries: 1, retryDelay: 1 });
    try {
      srv.fault({ path: PATH, method: "GET", stallMs: Infinity, times: Infinity });
      const t0 = Date.now();
      await errorOf(quick.catFile(url()), "ETIMEDOUT");
      const elapsed = Date.now() - t0;
      expect(elapsed).toBeGreaterThanOrEqual(550);
      expect(elapsed).toBeLessThan(1_500);
      expect(gets()).toHaveLength(2);
    } finally {
      await quick.close();
    }
  });

  it("a server that never answers ends in ETIMEDOUT within `timeout`", async () => {
    const quick = new HTTPFileSystem({ timeout: 300, retries: 0 });
    try {
      srv.fault({ path: PATH, stallBeforeHeadersMs: Infinity });
      const t0 = Date.now();
      await errorOf(quick.catFile(url()), "ETIMEDOUT");
      const elapsed = Date.now() - t0;
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(1_000);
      expect(srv.requestCount(PATH)).toBe(1);
    } finally {
      await quick.close();
    }
  });

  it("bodyTimeout is idle time, not total: a slow but steady body is read in one request", async () => {
    // Margins for a loaded machine: gaps of ~50 ms against a 750 ms idle limit, ~2.4 s in all.
    const quick = new HTTPFileSystem({ bodyTimeout: 750, retries: 0 });
    try {
      srv.fault({ path: PATH, method: "GET", throttleBytesPerSec: 25_000 });
      expectBytes(await quick.catFile(url(), 0, 60_000), data.subarray(0, 60_000));
      expect(gets()).toHaveLength(1);
    } finally {
      await quick.close();
    }
  });

  it("a stall that happens once is resumed", async () => {
    const quick = new HTTPFileSystem({ bodyTimeout: 200, retryDelay: 1 });
    try {
      srv.fault({ path: PATH, method: "GET", stallMs: Infinity });
      expectBytes(await quick.catFile(url()), data);
      expect(gets()).toHaveLength(2);
    } finally {
      await quick.close();
    }
  });
});

describe("declared lengths", () => {
  it("a 206 whose Content-Length disagrees with its Content-Range is EPROTO", async () => {
    srv.fault({ path: PATH, method: "GET", wrongContentLength: SIZE + 100 });
    await errorOf(fs.catFile(url()), "EPROTO");
    srv.fault({ path: PATH, method: "GET", wrongContentLength: 10 });
    await errorOf(fs.catFile(url(), 0, 1000), "EPROTO");
    expect(gets()).toHaveLength(2);
  });

  it("a 200 declaring more bytes than the file has is EPROTO after one resume attempt", async () => {
    srv.fault({ path: PATH, method: "GET", noRanges: true, wrongContentLength: SIZE + 100 });
    await errorOf(fs.catFile(url()), "EPROTO");
    // The resume from the last byte meets a 416: the file never had the declared length.
    expect(gets().map((r) => r.headers.range)).toEqual(["bytes=0-", `bytes=${SIZE}-${SIZE + 99}`]);
  });

  it.each(ORIGIN_STATES)("a 200 declaring fewer bytes than the info said is refused, not truncated (origin %s)", async (state) => {
    const f = await (await own.make(state)).open(url(), "rb", { streaming: true });
    expect(f.size).toBe(SIZE);
    srv.fault({ path: PATH, method: "GET", noRanges: true, wrongContentLength: 10 });
    await errorOf(f.read(), "EPROTO");
    await f.close();
    expect(reads()).toHaveLength(1);
    expect(srv.requests).toHaveLength(2);
  });
});

describe("uploads", () => {
  it("pipeFile PUTs the bytes; a 503 is retried (PUT is idempotent)", async () => {
    const body = pattern(70_000, 5);
    srv.fault({ path: "/up/a.bin", method: "PUT", status: 503 });
    await fs.pipeFile(url("/up/a.bin"), body);
    expectBytes(srv.files.get("/up/a.bin")!, body);
    expect(srv.requestCount("/up/a.bin", "PUT")).toBe(2);
  });

  it("an opened writer uploads once, on close; deleting is not supported", async () => {
    const f = await fs.open(url("/up/w.bin"), "wb");
    await f.write("part one, ");
    await f.write("part two");
    expect(srv.requestCount("/up/w.bin", "PUT")).toBe(0);
    await f.close();
    expect(new TextDecoder().decode(srv.files.get("/up/w.bin"))).toBe("part one, part two");
    expect(srv.requestCount("/up/w.bin", "PUT")).toBe(1);
    await errorOf(fs.rmFile(url("/up/w.bin")), "ENOTSUP");
    expect(srv.requestCount("/up/w.bin", "DELETE")).toBe(0);
  });

  it("a POST upload is never retried once sent", async () => {
    const poster = new HTTPFileSystem({ uploadMethod: "POST", retries: 3, retryDelay: 1 });
    try {
      srv.fault({ path: "/up/b.bin", method: "POST", status: 503 });
      expect((await errorOf(poster.pipeFile(url("/up/b.bin"), "x"), "EIO")).status).toBe(503);
      expect(srv.requestCount("/up/b.bin", "POST")).toBe(1);
      expect(srv.files.has("/up/b.bin")).toBe(false);
    } finally {
      await poster.close();
    }
  });

  it("mode create refuses an existing URL without uploading; put copies local files", async () => {
    await errorOf(fs.pipeFile(url(), "x", { mode: "create" }), "EEXIST");
    expect(srv.requestCount(PATH, "PUT")).toBe(0);
    const local = new MemoryFileSystem({ store: "private" });
    await local.pipe({ "/src/one.txt": "1", "/src/two.txt": "22" });
    let sent = 0;
    await fs.put("/src/", `${url("/up/dir")}/`, { recursive: true, localFs: local, callback: { relativeUpdate: (n) => (sent += n) } });
    expect(new TextDecoder().decode(srv.files.get("/up/dir/two.txt"))).toBe("22");
    expect(srv.requestCount("/up/dir/one.txt", "PUT")).toBe(1);
    expect(sent).toBe(3);
  });
});
