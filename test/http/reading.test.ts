/** HTTPFileSystem reads against the local test server: metadata, ranges, opened files, listings. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { filesystem, urlToFs } from "../../src/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { errorOf, expectBytes, pattern, text } from "./helpers.js";
import { guardProcess } from "../support/process-guard.js";

guardProcess();

let srv: TestHttpServer;
let fs: HTTPFileSystem;
const data = pattern(100_000, 3);
const url = (p: string) => `${srv.url}${p}`;

beforeAll(async () => {
  srv = await startHttpServer();
  fs = new HTTPFileSystem({ retryDelay: 1, timeout: 5_000 });
  srv.setFile("/r/data.bin", data, { lastModified: new Date("2024-05-06T07:08:09Z") });
  srv.setFile("/r/small.txt", "hello world", { contentType: "text/plain" });
  srv.setFile("/r/empty.bin", new Uint8Array(0));
  srv.setFile("/tree/a.txt", "a");
  srv.setFile("/tree/with space.txt", "spaced");
  srv.setFile("/tree/sub/b.txt", "bb");
  srv.setFile("/tree/sub/deep/c.txt", "ccc");
});
afterAll(async () => {
  await fs.close();
  await srv.close();
});
afterEach(() => {
  srv.clearFaults();
  srv.resetCounts();
  srv.setIndexStyle("relative");
  fs.invalidateCache();
});

describe("metadata", () => {
  it("info comes from one HEAD: size, ETag, mtime, mimetype, ranges", async () => {
    const info = await fs.info(url("/r/data.bin"));
    expect(info).toMatchObject({ name: url("/r/data.bin"), size: data.byteLength, type: "file", mimetype: "application/octet-stream", acceptRanges: true });
    expect(info.etag).toMatch(/^"[0-9a-f]+"$/);
    expect(info.mtime).toEqual(new Date("2024-05-06T07:08:09Z"));
    expect(srv.requestCount("/r/data.bin", "HEAD")).toBe(1);
    expect(srv.requestCount()).toBe(1);
  });

  it("falls back to a bytes=0-0 GET when HEAD is refused", async () => {
    srv.fault({ path: "/r/data.bin", method: "HEAD", status: 405 });
    const info = await fs.info(url("/r/data.bin"));
    expect(info.size).toBe(data.byteLength);
    expect(srv.requestCount("/r/data.bin", "HEAD")).toBe(1);
    expect(srv.requestCount("/r/data.bin", "GET")).toBe(1);
    expect(srv.requests.at(-1)!.headers.range).toBe("bytes=0-0");
  });

  it("a directory is what the server redirects to its slashed index", async () => {
    expect(await fs.info(url("/tree/sub"))).toEqual({ name: url("/tree/sub"), size: 0, type: "directory" });
    expect(await fs.isDir(url("/tree"))).toBe(true);
    expect(await fs.isFile(url("/tree/a.txt"))).toBe(true);
    expect(await fs.exists(url("/tree/nope"))).toBe(false);
  });

  it("ukey follows the ETag", async () => {
    const before = await fs.ukey(url("/r/small.txt"));
    expect(await fs.ukey(url("/r/small.txt"))).toBe(before);
    srv.setFile("/r/changing.txt", "one");
    const k1 = await fs.ukey(url("/r/changing.txt"));
    srv.setFile("/r/changing.txt", "two");
    expect(await fs.ukey(url("/r/changing.txt"))).not.toBe(k1);
  });

  it("maps 404/410 to ENOENT, 401/403 to EACCES, others to EIO with the status", async () => {
    const missing = await errorOf(fs.catFile(url("/r/missing")), "ENOENT");
    expect(missing.status).toBe(404);
    srv.fault({ path: "/r/data.bin", status: 410 });
    expect((await errorOf(fs.catFile(url("/r/data.bin")), "ENOENT")).status).toBe(410);
    srv.fault({ path: "/r/data.bin", status: 403 });
    expect((await errorOf(fs.info(url("/r/data.bin")), "EACCES")).status).toBe(403);
    srv.fault({ path: "/r/data.bin", status: 400 });
    const bad = await errorOf(fs.catFile(url("/r/data.bin")), "EIO");
    expect(bad.status).toBe(400);
    expect(bad.path).toBe(url("/r/data.bin"));
    expect(srv.requestCount("/r/data.bin")).toBe(3);
  });
});

describe("catFile and catRanges", () => {
  it("reads a range with one request and slices like Python", async () => {
    expectBytes(await fs.catFile(url("/r/data.bin"), 1000, 5000), data.subarray(1000, 5000));
    expect(srv.requests.at(-1)!.headers.range).toBe("bytes=1000-4999");
    expectBytes(await fs.catFile(url("/r/data.bin"), 99_990, 200_000), data.subarray(99_990));
    expect(srv.requestCount()).toBe(2);
  });

  it("a suffix is one bytes=-N request, no HEAD", async () => {
    expectBytes(await fs.catFile(url("/r/data.bin"), -300), data.subarray(data.byteLength - 300));
    expect(srv.requests.map((r) => [r.method, r.headers.range])).toEqual([["GET", "bytes=-300"]]);
    expectBytes(await fs.tail(url("/r/small.txt"), 5), new TextEncoder().encode("world"));
  });

  it("a start past the end (416) is empty bytes, like an empty file", async () => {
    expect((await fs.catFile(url("/r/data.bin"), 200_000)).byteLength).toBe(0);
    expect((await fs.catFile(url("/r/empty.bin"))).byteLength).toBe(0);
    expect(srv.requestCount()).toBe(2);
  });

  it("catRanges coalesces nearby ranges into one request and keeps distant ones apart", async () => {
    const p = url("/r/data.bin");
    const out = await fs.catRanges([p, p, p], [10, 100, 90_000], [20, 200, 90_010]);
    expectBytes(out[0] as Uint8Array, data.subarray(10, 20));
    expectBytes(out[1] as Uint8Array, data.subarray(100, 200));
    expectBytes(out[2] as Uint8Array, data.subarray(90_000, 90_010));
    expect(srv.requestCount("/r/data.bin")).toBe(1);
    srv.resetCounts();
    await fs.catRanges([p, p], [0, 90_000], [10, 90_010], { maxGap: 1000 });
    expect(srv.requests.map((r) => r.headers.range).sort()).toEqual(["bytes=0-9", "bytes=90000-90009"]);
  });

  it("cat of a list runs concurrently within `concurrency`", async () => {
    const many = new HTTPFileSystem({ concurrency: 3 });
    try {
      for (let i = 0; i < 12; i++) srv.setFile(`/many/f${i}`, `file ${i}`);
      // Headers held back a little: requests overlap, so the server sees the client's true concurrency.
      srv.fault({ stallBeforeHeadersMs: 30, times: Infinity });
      const out = await many.cat(Array.from({ length: 12 }, (_, i) => url(`/many/f${i}`)));
      expect(Object.keys(out)).toHaveLength(12);
      expect(text(out[url("/many/f7")] as Uint8Array)).toBe("file 7");
      expect(srv.peakInFlight()).toBe(3);
    } finally {
      await many.close();
    }
  });

  it("reuses one kept-alive connection and caps connections per origin", async () => {
    for (let i = 0; i < 10; i++) await fs.catFile(url("/r/small.txt"));
    // undici's pool may open a second socket while the first finishes; never one per request.
    expect(srv.connectionCount()).toBeLessThanOrEqual(2);
    const capped = new HTTPFileSystem({ connections: 2, concurrency: 8 });
    try {
      srv.resetCounts();
      srv.fault({ stallBeforeHeadersMs: 20, times: Infinity });
      await capped.cat(Array.from({ length: 16 }, () => url("/r/data.bin")).map((u, i) => `${u}?n=${i}`));
      expect(srv.requestCount("/r/data.bin")).toBe(16);
      expect(srv.connectionCount()).toBe(2);
      expect(srv.peakInFlight()).toBe(2);
    } finally {
      await capped.close();
    }
  });

  it("URLs with query strings are read as written by cat, not globbed", async () => {
    const out = await fs.cat(url("/r/small.txt?version=2"));
    expect(text(out as Uint8Array)).toBe("hello world");
    expect(srv.requests.map((r) => [r.method, r.url])).toEqual([["GET", "/r/small.txt?version=2"]]);
    const many = await fs.cat([url("/r/small.txt?a=1"), url("/r/small.txt?a=2"), url("/tree/a.txt")]);
    expect(Object.keys(many).sort()).toEqual([url("/r/small.txt?a=1"), url("/r/small.txt?a=2"), url("/tree/a.txt")]);
    expect(srv.requestCount()).toBe(4);
  });

  it("reports progress with the total size", async () => {
    const sizes: number[] = [];
    let done = 0;
    await fs.catFile(url("/r/data.bin"), undefined, undefined, { callback: { setSize: (n) => sizes.push(n), relativeUpdate: (n) => (done += n) } });
    expect(sizes).toEqual([data.byteLength]);
    expect(done).toBe(data.byteLength);
  });

  it("close is idempotent, so an explicit close and `await using` go together", async () => {
    const closing = new HTTPFileSystem();
    expect(text(await closing.catFile(url("/r/small.txt")))).toBe("hello world");
    await closing.close();
    await closing.close();
    await closing[Symbol.asyncDispose]();
  });

  it("is reachable through the registry and URL chains", async () => {
    const viaRegistry = await filesystem("https", { skipInstanceCache: true });
    expect(viaRegistry).toBeInstanceOf(HTTPFileSystem);
    await (viaRegistry as HTTPFileSystem).close();
    const { fs: chained, path } = await urlToFs(url("/r/small.txt"));
    expect(path).toBe(url("/r/small.txt"));
    expect(text(await chained.catFile(path))).toBe("hello world");
    await (chained as HTTPFileSystem).close();
  });
});

describe("opened files", () => {
  it("are seekable over ranged GETs when the server takes ranges", async () => {
    const f = await fs.open(url("/r/data.bin"), "rb", { blockSize: 10_000 });
    expect(f.size).toBe(data.byteLength);
    expectBytes(await f.read(100), data.subarray(0, 100));
    f.seek(50_000);
    expectBytes(await f.read(10), data.subarray(50_000, 50_010));
    f.seek(-10, 2);
    expectBytes(await f.read(), data.subarray(data.byteLength - 10));
    await f.close();
    // One HEAD, then one GET per cache miss.
    expect(srv.requestCount("/r/data.bin", "HEAD")).toBe(1);
    expect(srv.requestCount("/r/data.bin", "GET")).toBe(3);
  });

  it("are forward-only streams when the server refuses ranges", async () => {
    srv.fault({ path: "/r/data.bin", method: "HEAD", noRanges: true });
    const f = await fs.open(url("/r/data.bin"));
    expectBytes(await f.read(1000), data.subarray(0, 1000));
    f.seek(5000);
    expectBytes(await f.read(10), data.subarray(5000, 5010));
    await errorOf(f.read(1).then(() => (f.seek(0), f.read(1))), "ENOTSUP");
    await f.close();
    expect(srv.requestCount("/r/data.bin", "GET")).toBe(1);
  });

  it("stream a whole file with `streaming: true`, including text lines", async () => {
    srv.setFile("/r/lines.txt", "one\ntwo\nthree");
    const f = await fs.open(url("/r/lines.txt"), "r", { streaming: true });
    const lines: string[] = [];
    for await (const line of f) lines.push(line);
    expect(lines).toEqual(["one\n", "two\n", "three"]);
    await f.close();
    expect(srv.requestCount("/r/lines.txt", "GET")).toBe(1);
  });

  it("of unknown size (no Content-Length anywhere) stream to the end", async () => {
    const unsized = { path: "/r/data.bin", noRanges: true, noContentLength: true };
    srv.fault({ ...unsized, method: "HEAD" });
    srv.fault({ ...unsized, method: "GET", times: 2 });
    const f = await fs.open(url("/r/data.bin"));
    expect(f.size).toBe(Infinity);
    expectBytes(await f.read(10), data.subarray(0, 10));
    expectBytes(await f.read(), data.subarray(10));
    expect((await f.read(5)).byteLength).toBe(0);
    expect(f.tell()).toBe(data.byteLength);
    await errorOf(Promise.resolve().then(() => f.seek(-1, 2)), "EINVAL");
    await f.close();
    // HEAD, the bytes=0-0 probe for the size, then the one streamed GET.
    expect(srv.requests.map((r) => r.method)).toEqual(["HEAD", "GET", "GET"]);
  });
});

describe("listing HTML index pages", () => {
  for (const style of ["relative", "absolute", "url"] as const) {
    it(`ls resolves ${style} links, drops ../ and marks directories`, async () => {
      srv.setIndexStyle(style);
      const entries = await fs.ls(url("/tree"));
      expect(entries.map((e) => [e.name, e.type, e.size])).toEqual([
        [url("/tree/a.txt"), "file", 1],
        [url("/tree/sub"), "directory", 0],
        [url("/tree/with%20space.txt"), "file", 6],
      ]);
    });
  }

  it("find and glob walk the index pages", async () => {
    expect(await fs.find(url("/tree"))).toEqual([url("/tree/a.txt"), url("/tree/sub/b.txt"), url("/tree/sub/deep/c.txt"), url("/tree/with%20space.txt")]);
    expect(await fs.glob(url("/tree/**/*.txt"))).toEqual([url("/tree/a.txt"), url("/tree/sub/b.txt"), url("/tree/sub/deep/c.txt"), url("/tree/with%20space.txt")]);
    expect(text(await fs.catFile(url("/tree/with%20space.txt")))).toBe("spaced");
  });

  it("lists subdirectories by their slashed URL, without a redirect per directory", async () => {
    await fs.find(url("/tree"));
    expect(srv.requestCount("/tree/sub", "GET")).toBe(0);
    expect(srv.requestCount("/tree/sub/", "GET")).toBe(1);
  });

  it("listSizes: false lists without a HEAD per file", async () => {
    const quick = new HTTPFileSystem({ listSizes: false });
    try {
      const entries = await quick.ls(url("/tree/sub/"));
      expect(entries.map((e) => [e.name, e.size])).toEqual([[url("/tree/sub/b.txt"), null], [url("/tree/sub/deep"), 0]]);
      expect(srv.requestCount(undefined, "HEAD")).toBe(0);
    } finally {
      await quick.close();
    }
  });

  it("ls of a page without a declared length: its size in bytes, and no reading past an index page's limit", async () => {
    // A UTF-8 BOM and a byte that is not UTF-8: a decoded string would miscount both.
    const page = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("<html><body>caf\xe9, no links</body></html>", "latin1")]);
    srv.setFile("/r/page.html", page, { contentType: "text/html" });
    srv.fault({ path: "/r/page.html", method: "GET", noContentLength: true });
    expect(await fs.ls(url("/r/page.html"))).toMatchObject([{ name: url("/r/page.html"), type: "file", size: page.byteLength }]);
    // Bigger than any index page (16 MiB) and of unknown length: a file, not read to its end.
    srv.setFile("/r/huge.html", new Uint8Array((16 << 20) + 4096).fill(0x61), { contentType: "text/html" });
    srv.fault({ path: "/r/huge.html", method: "GET", noContentLength: true });
    // The GET does not say its length; the HEAD that details fill sizes with does.
    expect(await fs.ls(url("/r/huge.html"))).toMatchObject([{ name: url("/r/huge.html"), type: "file", size: (16 << 20) + 4096 }]);
    srv.fault({ path: "/r/huge.html", method: "GET", noContentLength: true });
    const unsized = new HTTPFileSystem({ listSizes: false });
    try {
      expect(await unsized.ls(url("/r/huge.html"))).toMatchObject([{ name: url("/r/huge.html"), type: "file", size: null }]);
    } finally {
      await unsized.close();
    }
  });

  it("ls of a file is the file; of a missing URL ENOENT", async () => {
    expect(await fs.ls(url("/tree/a.txt"))).toMatchObject([{ name: url("/tree/a.txt"), size: 1, type: "file" }]);
    await errorOf(fs.ls(url("/nothing/here")), "ENOENT");
  });
});

describe("redirects and auth", () => {
  it("follows redirects to a limit", async () => {
    srv.addRedirect("/old", "/r/small.txt", 302);
    expect(text(await fs.catFile(url("/old")))).toBe("hello world");
    srv.addRedirect("/loop1", "/loop2");
    srv.addRedirect("/loop2", "/loop1");
    const limited = new HTTPFileSystem({ maxRedirects: 3 });
    try {
      const err = await errorOf(limited.catFile(url("/loop1")), "EIO");
      expect(err.message).toMatch(/more than 3 redirects/);
      expect(srv.requestCount("/loop1") + srv.requestCount("/loop2")).toBe(4);
    } finally {
      await limited.close();
    }
  });

  it("sends basic and bearer auth, never to another origin after a redirect", async () => {
    const secure = await startHttpServer({ auth: { basic: { user: "u", password: "p@ss" }, bearer: "tok" } });
    const other = await startHttpServer();
    try {
      secure.setFile("/s.txt", "secret");
      other.setFile("/s.txt", "public copy");
      secure.addRedirect("/away", `${other.url}/s.txt`);
      const basic = new HTTPFileSystem({ auth: { username: "u", password: "p@ss" } });
      const bearer = new HTTPFileSystem({ auth: { bearer: "tok" } });
      const anonymous = new HTTPFileSystem();
      expect(text(await basic.catFile(`${secure.url}/s.txt`))).toBe("secret");
      expect(text(await bearer.catFile(`${secure.url}/s.txt`))).toBe("secret");
      await errorOf(anonymous.catFile(`${secure.url}/s.txt`), "EACCES");
      expect(text(await bearer.catFile(`${secure.url}/away`))).toBe("public copy");
      expect(other.requests[0]!.headers.authorization).toBeUndefined();
      await Promise.all([basic.close(), bearer.close(), anonymous.close()]);
    } finally {
      await Promise.all([secure.close(), other.close()]);
    }
  });

  it("drops cookies and proxy credentials too on a redirect to another origin, keeping other headers", async () => {
    const origin = await startHttpServer();
    const other = await startHttpServer();
    try {
      other.setFile("/t.txt", "elsewhere");
      origin.addRedirect("/go", `${other.url}/t.txt`);
      const withHeaders = new HTTPFileSystem({ headers: { Cookie: "session=secret", "Proxy-Authorization": "Basic eA==", "x-trace": "keep" } });
      expect(text(await withHeaders.catFile(`${origin.url}/go`))).toBe("elsewhere");
      expect(origin.requests[0]!.headers.cookie).toBe("session=secret");
      const seen = other.requests[0]!.headers;
      expect(seen.cookie).toBeUndefined();
      expect(seen["proxy-authorization"]).toBeUndefined();
      expect(seen["x-trace"]).toBe("keep");
      await withHeaders.close();
    } finally {
      await Promise.all([origin.close(), other.close()]);
    }
  });

  it("uses credentials in the URL and redacts them from error messages", async () => {
    const secure = await startHttpServer({ auth: { basic: { user: "me", password: "hunter2" } } });
    try {
      secure.setFile("/s.txt", "secret");
      const base = `http://me:hunter2@127.0.0.1:${secure.port}`;
      expect(text(await fs.catFile(`${base}/s.txt`))).toBe("secret");
      const err = await errorOf(fs.catFile(`${base}/missing?sig=abc123&x=1`), "ENOENT");
      expect(err.message).not.toContain("hunter2");
      expect(err.message).not.toContain("abc123");
      expect(err.message).toContain(`http://***@127.0.0.1:${secure.port}/missing?sig=***&x=1`);
    } finally {
      await secure.close();
    }
  });
});

describe("redaction", () => {
  it("redacts a whole password with an unescaped @, and GCS signed-URL values", async () => {
    const secure = await startHttpServer({ auth: { basic: { user: "me", password: "hunter@2" } } });
    try {
      secure.setFile("/s.txt", "secret");
      const base = `http://me:hunter@2@127.0.0.1:${secure.port}`;
      expect(text(await fs.catFile(`${base}/s.txt`))).toBe("secret");
      const err = await errorOf(fs.catFile(`${base}/missing`), "ENOENT");
      expect(err.message).not.toContain("@2@");
      expect(err.path).toBe(`http://***@127.0.0.1:${secure.port}/missing`);
    } finally {
      await secure.close();
    }
    const gcs = await errorOf(fs.catFile(url("/missing?X-Goog-Credential=svc%40p.iam&X-Goog-Signature=deadbeef")), "ENOENT");
    expect(gcs.message).not.toContain("deadbeef");
    expect(gcs.message).not.toContain("svc%40p");
  });
});

describe("cancelling", () => {
  it("an AbortSignal stops a stalled read with EABORT", async () => {
    srv.fault({ path: "/r/data.bin", stallMs: Infinity });
    const controller = new AbortController();
    const pending = fs.catFile(url("/r/data.bin"), undefined, undefined, { signal: controller.signal });
    while (srv.requestCount("/r/data.bin") === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await errorOf(pending, "EABORT");
    expect(srv.requestCount("/r/data.bin")).toBe(1);
  });
});
