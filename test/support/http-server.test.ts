import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { request } from "undici";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";

const bytes = (n: number, seed = 0) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const sha1 = (d: Uint8Array) => createHash("sha1").update(d).digest("hex");

/** Fast byte comparison (deep toEqual is slow on large typed arrays); reports the first differing index. */
function expectBytes(actual: Uint8Array, expected: Uint8Array) {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.compare(actual, expected) === 0 ? -1 : actual.findIndex((b, i) => b !== expected[i])).toBe(-1);
}

/** GET/HEAD/... via undici; returns status, headers and the full body. */
async function get(url: string, opts: Parameters<typeof request>[1] = {}) {
  const res = await request(url, opts);
  const body = new Uint8Array(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

/** Reads the body and reports whether the transfer failed, plus the bytes received. */
async function getCatching(url: string, opts: Parameters<typeof request>[1] = {}) {
  let received = 0;
  try {
    const res = await request(url, opts);
    for await (const chunk of res.body) received += (chunk as Buffer).length;
    return { error: undefined, received, status: res.statusCode };
  } catch (error) {
    return { error: error as Error & { code?: string }, received, status: undefined };
  }
}

describe("test http server", () => {
  let srv: TestHttpServer;
  const data = bytes(10);

  beforeAll(async () => {
    srv = await startHttpServer();
  });
  afterAll(() => srv.close());
  afterEach(() => {
    srv.clearFaults();
    srv.throttle(undefined);
    srv.resetCounts();
    srv.setIndexStyle("relative");
  });

  it("binds to 127.0.0.1 on an ephemeral port", () => {
    expect(srv.port).toBeGreaterThan(0);
    expect(srv.url).toBe(`http://127.0.0.1:${srv.port}`);
  });

  describe("files", () => {
    beforeAll(() => {
      srv.setFile("/data/ten.bin", data);
      srv.setFile("/data/empty.bin", new Uint8Array(0));
      srv.setFile("/data/page.txt", "hello", {
        etag: "custom",
        lastModified: new Date("2020-01-02T03:04:05Z"),
        contentType: "text/plain",
      });
    });

    it("serves a full GET with validators", async () => {
      const r = await get(`${srv.url}/data/ten.bin`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual(data);
      expect(r.headers["content-length"]).toBe("10");
      expect(r.headers["etag"]).toBe(`"${sha1(data)}"`);
      expect(r.headers["accept-ranges"]).toBe("bytes");
      expect(r.headers["content-type"]).toBe("application/octet-stream");
      expect(Number.isNaN(Date.parse(String(r.headers["last-modified"])))).toBe(false);
    });

    it("honours setFile options", async () => {
      const r = await get(`${srv.url}/data/page.txt`);
      expect(new TextDecoder().decode(r.body)).toBe("hello");
      expect(r.headers["etag"]).toBe('"custom"');
      expect(r.headers["last-modified"]).toBe("Thu, 02 Jan 2020 03:04:05 GMT");
      expect(r.headers["content-type"]).toBe("text/plain");
    });

    it("answers HEAD with headers only", async () => {
      const r = await get(`${srv.url}/data/ten.bin`, { method: "HEAD" });
      expect(r.status).toBe(200);
      expect(r.headers["content-length"]).toBe("10");
      expect(r.headers["etag"]).toBe(`"${sha1(data)}"`);
      expect(r.body.length).toBe(0);
    });

    it("returns 404 for missing paths and 405 for unknown methods", async () => {
      const missing = await get(`${srv.url}/nope`);
      expect(missing.status).toBe(404);
      expect(missing.body.length).toBeGreaterThan(0);
      expect((await get(`${srv.url}/data/ten.bin`, { method: "PATCH" })).status).toBe(405);
      // PUT is refused unless acceptPut was given.
      const put = await get(`${srv.url}/data/ten.bin`, { method: "PUT", body: "x" });
      expect(put.status).toBe(405);
      expect(put.headers["allow"]).toBe("GET, HEAD");
    });

    it("picks up direct mutation of the files map and deleteFile", async () => {
      const content = bytes(3, 9);
      srv.files.set("/direct.bin", content);
      const r = await get(`${srv.url}/direct.bin`);
      expect(r.body).toEqual(content);
      expect(r.headers["etag"]).toBe(`"${sha1(content)}"`);
      srv.deleteFile("/direct.bin");
      expect((await get(`${srv.url}/direct.bin`)).status).toBe(404);
    });

    it("serves a 64 MiB file intact, in full and by range", async () => {
      const big = new Uint8Array(64 << 20);
      for (let i = 0; i < big.length; i += 4096) big[i] = (i >>> 12) & 0xff;
      srv.setFile("/big.bin", big);
      try {
        const full = await get(`${srv.url}/big.bin`);
        expectBytes(full.body, big);
        const tail = await get(`${srv.url}/big.bin`, { headers: { range: "bytes=-5000" } });
        expect(tail.status).toBe(206);
        expectBytes(tail.body, big.subarray(big.length - 5000));
      } finally {
        srv.deleteFile("/big.bin");
      }
    });
  });

  describe("ranges", () => {
    const url = () => `${srv.url}/data/ten.bin`;
    const range = (r: string, extra: Record<string, string> = {}) =>
      get(url(), { headers: { range: r, ...extra } });

    it("serves a closed range", async () => {
      const r = await range("bytes=2-5");
      expect(r.status).toBe(206);
      expect(r.headers["content-range"]).toBe("bytes 2-5/10");
      expect(r.headers["content-length"]).toBe("4");
      expect(r.body).toEqual(data.subarray(2, 6));
    });

    it("serves an open-ended range", async () => {
      const r = await range("bytes=7-");
      expect(r.status).toBe(206);
      expect(r.headers["content-range"]).toBe("bytes 7-9/10");
      expect(r.body).toEqual(data.subarray(7));
    });

    it("serves a suffix range, longer suffixes giving the whole file", async () => {
      const r = await range("bytes=-3");
      expect(r.status).toBe(206);
      expect(r.headers["content-range"]).toBe("bytes 7-9/10");
      expect(r.body).toEqual(data.subarray(7));
      const all = await range("bytes=-50");
      expect(all.headers["content-range"]).toBe("bytes 0-9/10");
      expect(all.body).toEqual(data);
    });

    it("clips the end to the file size", async () => {
      const r = await range("bytes=5-100");
      expect(r.status).toBe(206);
      expect(r.headers["content-range"]).toBe("bytes 5-9/10");
      expect(r.body).toEqual(data.subarray(5));
    });

    it("answers 416 when the start is past the end, including on empty files", async () => {
      const r = await range("bytes=10-");
      expect(r.status).toBe(416);
      expect(r.headers["content-range"]).toBe("bytes */10");
      const empty = await get(`${srv.url}/data/empty.bin`, { headers: { range: "bytes=0-0" } });
      expect(empty.status).toBe(416);
      expect(empty.headers["content-range"]).toBe("bytes */0");
    });

    it("answers multi-range requests with the full body", async () => {
      const r = await range("bytes=0-1,4-5");
      expect(r.status).toBe(200);
      expect(r.body).toEqual(data);
    });

    it("applies If-Range only when it matches the current ETag", async () => {
      const etag = `"${sha1(data)}"`;
      const match = await range("bytes=0-1", { "if-range": etag });
      expect(match.status).toBe(206);
      expect(match.body).toEqual(data.subarray(0, 2));
      const stale = await range("bytes=0-1", { "if-range": '"stale"' });
      expect(stale.status).toBe(200);
      expect(stale.body).toEqual(data);
    });
  });

  describe("directory index and redirects", () => {
    beforeAll(() => {
      srv.setFile("/dir/a.bin", "a");
      srv.setFile("/dir/with space.txt", "s");
      srv.setFile("/dir/sub/b.bin", "b");
      srv.setFile("/dir/sub/deeper/c.bin", "c");
    });
    const hrefs = (html: Uint8Array) =>
      [...new TextDecoder().decode(html).matchAll(/<a href="([^"]*)"/g)].map((m) => m[1]);

    it("lists immediate children with relative links and a parent link", async () => {
      const r = await get(`${srv.url}/dir/`);
      expect(r.status).toBe(200);
      expect(r.headers["content-type"]).toMatch(/^text\/html/);
      expect(hrefs(r.body)).toEqual(["../", "a.bin", "sub/", "with%20space.txt"]);
      expect(hrefs((await get(`${srv.url}/dir/sub/`)).body)).toEqual(["../", "b.bin", "deeper/"]);
    });

    it("supports absolute and full-URL href styles", async () => {
      srv.setIndexStyle("absolute");
      expect(hrefs((await get(`${srv.url}/dir/sub/`)).body)).toEqual(["../", "/dir/sub/b.bin", "/dir/sub/deeper/"]);
      srv.setIndexStyle("url");
      expect(hrefs((await get(`${srv.url}/dir/sub/`)).body)).toEqual([
        "../",
        `${srv.url}/dir/sub/b.bin`,
        `${srv.url}/dir/sub/deeper/`,
      ]);
    });

    it("redirects a directory without trailing slash and 404s unknown directories", async () => {
      const r = await get(`${srv.url}/dir`);
      expect(r.status).toBe(301);
      expect(r.headers["location"]).toBe("/dir/");
      expect((await get(`${srv.url}/nodir/`)).status).toBe(404);
    });

    it("serves configured redirects, followed by fetch", async () => {
      srv.addRedirect("/old", "/dir/a.bin");
      srv.addRedirect("/moved", `${srv.url}/dir/sub/b.bin`, 307);
      const r = await get(`${srv.url}/old`);
      expect(r.status).toBe(302);
      expect(r.headers["location"]).toBe("/dir/a.bin");
      const moved = await get(`${srv.url}/moved`);
      expect(moved.status).toBe(307);
      expect(moved.headers["location"]).toBe(`${srv.url}/dir/sub/b.bin`);
      const followed = await fetch(`${srv.url}/moved`);
      expect(followed.status).toBe(200);
      expect(await followed.text()).toBe("b");
    });
  });

  describe("faults", () => {
    const body = bytes(256 * 1024, 5);
    const url = () => `${srv.url}/f/file.bin`;
    beforeAll(() => srv.setFile("/f/file.bin", body));

    it("injects a status for `times` requests with Retry-After, then recovers", async () => {
      srv.fault({ path: "/f/file.bin", status: 503, times: 2, retryAfter: "1" });
      const first = await get(url());
      expect(first.status).toBe(503);
      expect(first.headers["retry-after"]).toBe("1");
      expect((await get(url())).status).toBe(503);
      const ok = await get(url());
      expect(ok.status).toBe(200);
      expectBytes(ok.body, body);
    });

    it("scopes faults by path and consumes them in queue order", async () => {
      srv.fault({ path: "/elsewhere", status: 500 });
      srv.fault({ status: 429 });
      srv.fault({ status: 502 });
      expect((await get(url())).status).toBe(429);
      expect((await get(url())).status).toBe(502);
      expect((await get(url())).status).toBe(200);
      expect((await get(`${srv.url}/elsewhere`)).status).toBe(500);
    });

    it("can restrict a fault to one method", async () => {
      srv.fault({ method: "GET", status: 500 });
      expect((await get(url(), { method: "HEAD" })).status).toBe(200);
      expect((await get(url())).status).toBe(500);
    });

    it("applies Infinity faults until cleared", async () => {
      srv.fault({ status: 500, times: Infinity });
      for (let i = 0; i < 3; i++) expect((await get(url())).status).toBe(500);
      srv.clearFaults();
      expect((await get(url())).status).toBe(200);
    });

    it("resets the connection mid-body", async () => {
      srv.fault({ resetAfterBytes: 1000 });
      const r = await getCatching(url());
      expect(r.error?.code).toBe("UND_ERR_SOCKET");
      expect(r.received).toBeLessThanOrEqual(1000);
      expectBytes((await get(url())).body, body);
    });

    it("stalls the body until a client body timeout fires", async () => {
      srv.fault({ stallMs: 10_000 });
      const r = await getCatching(url(), { bodyTimeout: 200 });
      expect(r.error?.code).toBe("UND_ERR_BODY_TIMEOUT");
      expect(r.received).toBe(0);
    });

    it("delays a body that is only briefly stalled", async () => {
      srv.fault({ stallMs: 150 });
      const t0 = Date.now();
      const r = await get(url());
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
      expectBytes(r.body, body);
    });

    it("stalls before headers until a client headers timeout fires", async () => {
      srv.fault({ stallBeforeHeadersMs: Infinity });
      const r = await getCatching(url(), { headersTimeout: 200 });
      expect(r.error?.code).toBe("UND_ERR_HEADERS_TIMEOUT");
    });

    it("declares a too-long Content-Length, which undici rejects", async () => {
      srv.fault({ wrongContentLength: body.length + 100 });
      const r = await getCatching(url());
      expect(r.error?.code).toBe("UND_ERR_RES_CONTENT_LENGTH_MISMATCH");
    });

    it("declares a too-short Content-Length, truncating the body the client sees", async () => {
      srv.fault({ wrongContentLength: 10 });
      const r = await get(url());
      expect(r.headers["content-length"]).toBe("10");
      expect(r.body).toEqual(body.subarray(0, 10));
    });

    it("changes ETag and content for faulted requests only", async () => {
      const original = await get(url());
      srv.fault({ changeEtag: true });
      const changed = await get(url());
      expect(changed.headers["etag"]).not.toBe(original.headers["etag"]);
      expect(changed.body[0]).toBe(body[0] ^ 0xff);
      expectBytes(changed.body.subarray(1), body.subarray(1));
      expect((await get(url())).headers["etag"]).toBe(original.headers["etag"]);
    });

    it("makes If-Range fail when the ETag changed", async () => {
      const etag = String((await get(url(), { method: "HEAD" })).headers["etag"]);
      srv.fault({ changeEtag: true });
      const r = await get(url(), { headers: { range: "bytes=0-9", "if-range": etag } });
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(body.length);
    });

    it("ignores Range when noRanges is set", async () => {
      srv.fault({ noRanges: true });
      const r = await get(url(), { headers: { range: "bytes=0-9" } });
      expect(r.status).toBe(200);
      expect(r.headers["accept-ranges"]).toBe("none");
      expectBytes(r.body, body);
    });

    it("answers a ranged GET as if another range was asked (answerRange), correctly labelled", async () => {
      srv.fault({ answerRange: "bytes=0-9" });
      const r = await get(url(), { headers: { range: "bytes=-100" } });
      expect(r.status).toBe(206);
      expect(r.headers["content-range"]).toBe(`bytes 0-9/${body.length}`);
      expectBytes(r.body, body.subarray(0, 10));
      srv.fault({ answerRange: "bytes=0-9" });
      expect((await get(url())).status).toBe(200); // no Range asked: the whole file as usual
    });

    it("throttles bodies per fault and globally", async () => {
      srv.setFile("/f/small.bin", bytes(20_000));
      srv.fault({ throttleBytesPerSec: 50_000 });
      let t0 = Date.now();
      expect((await get(`${srv.url}/f/small.bin`)).body.length).toBe(20_000);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(300); // ~400 ms at 50 kB/s
      srv.throttle(50_000);
      t0 = Date.now();
      expect((await get(`${srv.url}/f/small.bin`)).body.length).toBe(20_000);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    });

    it("applies body faults to error responses too", async () => {
      srv.fault({ path: "/missing", resetAfterBytes: 0 });
      const r = await getCatching(`${srv.url}/missing`);
      expect(r.error?.code).toBe("UND_ERR_SOCKET");
    });
  });

  describe("request counting", () => {
    it("records every request, including faulted ones", async () => {
      srv.setFile("/c.bin", "c");
      srv.fault({ status: 500 });
      await get(`${srv.url}/c.bin`);
      await get(`${srv.url}/c.bin?x=1`, { method: "HEAD" });
      await get(`${srv.url}/other`);
      expect(srv.requestCount()).toBe(3);
      expect(srv.requestCount("/c.bin")).toBe(2);
      expect(srv.requestCount("/c.bin", "head")).toBe(1);
      expect(srv.requests[1]).toMatchObject({ method: "HEAD", path: "/c.bin", url: "/c.bin?x=1" });
      expect(srv.requests[0].headers["host"]).toBe(`127.0.0.1:${srv.port}`);
      srv.resetCounts();
      expect(srv.requestCount()).toBe(0);
      expect(srv.requests).toHaveLength(0);
    });
  });
});

describe("test http server options", () => {
  it("stores PUT and POST bodies and deletes with DELETE", async () => {
    const srv = await startHttpServer({ acceptPut: true });
    try {
      const up = bytes(5000, 3);
      const put = await get(`${srv.url}/up/x.bin`, { method: "PUT", body: up });
      expect(put.status).toBe(201);
      expect(srv.files.get("/up/x.bin")).toEqual(up);
      expect((await get(`${srv.url}/up/x.bin`)).body).toEqual(up);

      const post = await get(`${srv.url}/up/x.bin`, {
        method: "POST",
        body: "replaced",
        headers: { "content-type": "text/plain" },
      });
      expect(post.status).toBe(200);
      const after = await get(`${srv.url}/up/x.bin`);
      expect(new TextDecoder().decode(after.body)).toBe("replaced");
      expect(after.headers["content-type"]).toBe("text/plain");

      expect((await get(`${srv.url}/up/x.bin`, { method: "DELETE" })).status).toBe(200);
      expect((await get(`${srv.url}/up/x.bin`)).status).toBe(404);
      expect((await get(`${srv.url}/up/x.bin`, { method: "DELETE" })).status).toBe(404);
      expect(srv.requestCount("/up/x.bin", "PUT")).toBe(1);
      expect(srv.requestCount("/up/x.bin", "DELETE")).toBe(2);
    } finally {
      await srv.close();
    }
  });

  it("requires Basic auth when configured", async () => {
    const srv = await startHttpServer({ auth: { basic: { user: "u", password: "p" } } });
    try {
      srv.setFile("/s.bin", "secret");
      const anon = await get(`${srv.url}/s.bin`);
      expect(anon.status).toBe(401);
      expect(anon.headers["www-authenticate"]).toMatch(/^Basic /);
      const bad = await get(`${srv.url}/s.bin`, {
        headers: { authorization: `Basic ${Buffer.from("u:wrong").toString("base64")}` },
      });
      expect(bad.status).toBe(401);
      const ok = await get(`${srv.url}/s.bin`, {
        headers: { authorization: `Basic ${Buffer.from("u:p").toString("base64")}` },
      });
      expect(ok.status).toBe(200);
      expect(new TextDecoder().decode(ok.body)).toBe("secret");
    } finally {
      await srv.close();
    }
  });

  it("requires a Bearer token when configured", async () => {
    const srv = await startHttpServer({ auth: { bearer: "tok" } });
    try {
      srv.setFile("/s.bin", "secret");
      const anon = await get(`${srv.url}/s.bin`);
      expect(anon.status).toBe(401);
      expect(anon.headers["www-authenticate"]).toMatch(/^Bearer /);
      expect((await get(`${srv.url}/s.bin`, { headers: { authorization: "Bearer nope" } })).status).toBe(401);
      expect((await get(`${srv.url}/s.bin`, { headers: { authorization: "Bearer tok" } })).status).toBe(200);
    } finally {
      await srv.close();
    }
  });

  it("close() ends stalled and throttled responses promptly", async () => {
    const srv = await startHttpServer();
    srv.setFile("/slow.bin", bytes(1 << 20));
    srv.fault({ path: "/slow.bin", stallMs: Infinity });
    srv.fault({ path: "/slow.bin", throttleBytesPerSec: 1000 });
    srv.fault({ path: "/slow.bin", stallBeforeHeadersMs: Infinity });
    const pending = [getCatching(`${srv.url}/slow.bin`), getCatching(`${srv.url}/slow.bin`), getCatching(`${srv.url}/slow.bin`)];
    while (srv.requestCount() < 3) await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    await srv.close();
    const results = await Promise.all(pending);
    expect(Date.now() - t0).toBeLessThan(1000);
    for (const r of results) expect(r.error).toBeDefined();
    await srv.close(); // idempotent
  });
});
