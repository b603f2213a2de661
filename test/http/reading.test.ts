/** HTTPFileSystem reads against the local test server: metadata, ranges, opened files, listings. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { filesystem, urlToFs } from "../../src/index.js";
import { HTTPFileSystem, type HTTPFileSystemOptions } from "../../src/implementations/http.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { errorOf, expectBytes, isInfoRequest, ORIGIN_STATES, ownFilesystems, pattern, text, type OriginState } from "./helpers.js";
import { guardProcess } from "../support/process-guard.js";

guardProcess();

let srv: TestHttpServer;
let fs: HTTPFileSystem;
const data = pattern(100_000, 3);
const url = (p: string) => `${srv.url}${p}`;
/** Filesystems of a test's own, in a known state on the server's origin (see ownFilesystems). */
const own = ownFilesystems(() => srv, () => url("/r/small.txt"), { retryDelay: 1, timeout: 5_000 });
const fsIn = (state: OriginState, options: HTTPFileSystemOptions = {}) => own.make(state, options);

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
afterEach(async () => {
  await own.closeAll();
  srv.clearFaults();
  srv.resetCounts();
  srv.setIndexStyle("relative");
  fs.invalidateCache();
});

describe("metadata", () => {
  it("info comes from one request: size, ETag, mtime, mimetype, ranges; the first on an origin a HEAD, later ones a bytes=0-0 GET", async () => {
    const mine = await fsIn("new");
    const first = await mine.info(url("/r/data.bin"));
    expect(first).toMatchObject({ name: url("/r/data.bin"), size: data.byteLength, type: "file", mimetype: "application/octet-stream", acceptRanges: true });
    expect(first.etag).toMatch(/^"[0-9a-f]+"$/);
    expect(first.mtime).toEqual(new Date("2024-05-06T07:08:09Z"));
    expect(srv.requestCount("/r/data.bin", "HEAD")).toBe(1);
    expect(srv.requestCount()).toBe(1);
    // The HEAD announced ranges: the next info asks for byte 0 and says the same.
    mine.invalidateCache();
    expect(await mine.info(url("/r/data.bin"))).toEqual(first);
    expect(srv.requestCount()).toBe(2);
    expect(srv.requests[1]).toMatchObject({ method: "GET", path: "/r/data.bin" });
    expect(srv.requests[1]!.headers.range).toBe("bytes=0-0");
  });

  it("falls back to a bytes=0-0 GET when HEAD is refused", async () => {
    const mine = await fsIn("new");
    srv.fault({ path: "/r/data.bin", method: "HEAD", status: 405, times: 2 });
    for (let round = 1; round <= 2; round++) {
      mine.invalidateCache();
      expect((await mine.info(url("/r/data.bin"))).size).toBe(data.byteLength);
      // A refused HEAD announces nothing: the origin is asked by HEAD again.
      expect(srv.requestCount("/r/data.bin", "HEAD")).toBe(round);
      expect(srv.requestCount("/r/data.bin", "GET")).toBe(round);
      expect(srv.requests.at(-1)!.headers.range).toBe("bytes=0-0");
    }
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

describe("info on an origin that announces ranges: a bytes=0-0 GET after the first HEAD", () => {
  it("keeps the connection: sequential infos do not take one connection each", async () => {
    const mine = await fsIn("new");
    const names = ["/r/data.bin", "/r/small.txt", "/tree/a.txt", "/tree/sub/b.txt", "/tree/sub/deep/c.txt"];
    const sizes = async () => {
      mine.invalidateCache();
      const out: (number | null)[] = [];
      for (const n of names) out.push((await mine.info(url(n))).size);
      return out;
    };
    expect(await sizes()).toEqual([data.byteLength, 11, 1, 2, 3]);
    expect(srv.requests.map((r) => r.method)).toEqual(["HEAD", "GET", "GET", "GET", "GET"]);
    expect(srv.requests.slice(1).every(isInfoRequest)).toBe(true);
    // undici closes the connection after a HEAD (and the one after it), then keeps the next.
    const settled = srv.connectionCount();
    expect(settled).toBeLessThanOrEqual(3);
    expect(await sizes()).toEqual([data.byteLength, 11, 1, 2, 3]);
    expect(await sizes()).toEqual([data.byteLength, 11, 1, 2, 3]);
    expect(srv.requests).toHaveLength(15);
    expect(srv.requests.slice(1).every((r) => r.method === "GET" && isInfoRequest(r))).toBe(true);
    expect(srv.connectionCount()).toBe(settled);
    // And a read after them takes none either.
    expectBytes(await mine.catFile(url("/r/small.txt")), new TextEncoder().encode("hello world"));
    expect(srv.connectionCount()).toBe(settled);
  });

  it("a ranged GET answered with the whole file gives its size, and the origin is asked by HEAD from then on", async () => {
    const mine = await fsIn("learned");
    srv.fault({ path: "/r/data.bin", method: "GET", rangesIgnored: true });
    const info = await mine.info(url("/r/data.bin"));
    expect(info).toMatchObject({ size: data.byteLength, type: "file", mimetype: "application/octet-stream" });
    expect(info.acceptRanges).toBeUndefined(); // the 200 said nothing of ranges
    expect(srv.requests.map((r) => [r.method, r.headers.range])).toEqual([["GET", "bytes=0-0"]]);
    for (const n of ["/r/small.txt", "/r/data.bin"]) {
      mine.invalidateCache();
      expect((await mine.info(url(n))).size).toBe(n === "/r/data.bin" ? data.byteLength : 11);
    }
    // Even though those HEADs announce ranges again.
    expect(srv.requests.slice(1).map((r) => r.method)).toEqual(["HEAD", "HEAD"]);
  });

  it("an empty file (416 to bytes=0-0) is size 0 with the HEAD's ETag, date and type", async () => {
    const mine = await fsIn("learned");
    const viaHead = await (await fsIn("new")).info(url("/r/empty.bin"));
    srv.resetCounts();
    const info = await mine.info(url("/r/empty.bin"));
    expect(info).toEqual(viaHead);
    expect(info).toMatchObject({ size: 0, type: "file", mimetype: "application/octet-stream" });
    expect(srv.requests.map((r) => r.method)).toEqual(["GET", "HEAD"]);
    // The empty file does not send the origin back to HEADs.
    mine.invalidateCache();
    await mine.info(url("/r/small.txt"));
    expect(srv.requests.at(-1)!.headers.range).toBe("bytes=0-0");
    // Nor does one answered 200 with its (empty) whole body, as nginx, Apache and lighttpd do.
    srv.resetCounts();
    srv.fault({ path: "/r/empty.bin", method: "GET", rangesIgnored: true });
    mine.invalidateCache();
    const { acceptRanges: _, ...sameFile } = viaHead; // that answer says nothing of ranges
    expect(await mine.info(url("/r/empty.bin"))).toEqual(sameFile);
    mine.invalidateCache();
    expect((await mine.info(url("/r/small.txt"))).size).toBe(11);
    expect(srv.requests.map((r) => [r.method, r.headers.range])).toEqual([["GET", "bytes=0-0"], ["GET", "bytes=0-0"]]);
  });

  it("a directory URL is still a directory, slashed or not; missing and refused ones fail as a HEAD's would", async () => {
    const mine = await fsIn("learned");
    expect(await mine.info(url("/tree/sub"))).toEqual({ name: url("/tree/sub"), size: 0, type: "directory" });
    expect(await mine.info(url("/tree/"))).toEqual({ name: url("/tree"), size: 0, type: "directory" });
    expect(await mine.isDir(url("/tree/sub/deep"))).toBe(true);
    expect(await mine.isFile(url("/tree/sub/deep/c.txt"))).toBe(true);
    expect((await errorOf(mine.info(url("/tree/nope")), "ENOENT")).status).toBe(404);
    srv.fault({ path: "/r/data.bin", status: 403 });
    expect((await errorOf(mine.info(url("/r/data.bin")), "EACCES")).status).toBe(403);
    srv.fault({ path: "/r/data.bin", status: 410 });
    expect((await errorOf(mine.info(url("/r/data.bin")), "ENOENT")).status).toBe(410);
    // None of it was a HEAD, and index pages do not send the origin back to HEADs.
    expect(srv.requests.filter((r) => r.method === "HEAD")).toHaveLength(0);
    mine.invalidateCache();
    await mine.info(url("/r/small.txt"));
    expect(srv.requests.at(-1)!.headers.range).toBe("bytes=0-0");
  });

  it("an info whose one byte is slow answers from the headers after about a second", async () => {
    const mine = await fsIn("learned");
    // (The byte does come, before the test ends: no response is left stalled for the next test.)
    srv.fault({ path: "/r/data.bin", method: "GET", stallMs: 2_500 });
    const t0 = Date.now();
    expect((await mine.info(url("/r/data.bin"))).size).toBe(data.byteLength);
    expect(Date.now() - t0).toBeLessThan(2_000);
    await new Promise((r) => setTimeout(r, 1_700));
    expect(srv.requests.map((r) => [r.method, r.headers.range])).toEqual([["GET", "bytes=0-0"]]);
  });

  it("a ranged GET that fails otherwise (503) is left to a HEAD, which says what went wrong", async () => {
    const mine = await fsIn("learned", { retries: 0 });
    srv.fault({ path: "/r/data.bin", status: 503, times: 2 });
    expect((await errorOf(mine.info(url("/r/data.bin")), "EIO")).status).toBe(503);
    expect(srv.requests.map((r) => r.method)).toEqual(["GET", "HEAD"]);
    // A passing failure does not change how the origin is asked.
    expect((await mine.info(url("/r/data.bin"))).size).toBe(data.byteLength);
    expect(srv.requests.at(-1)!.headers.range).toBe("bytes=0-0");
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

describe.each(ORIGIN_STATES)("opened files (origin %s)", (state) => {
  /** The info's request: a HEAD on a new origin, one bytes=0-0 GET on a learned one. */
  const infoMethod = state === "new" ? "HEAD" : "GET";
  /** The GETs that read the file (not the info's). */
  const reads = (path: string) => srv.requests.filter((r) => r.path === path && !isInfoRequest(r));

  it("are seekable over ranged GETs when the server takes ranges", async () => {
    const fs = await fsIn(state);
    const f = await fs.open(url("/r/data.bin"), "rb", { blockSize: 10_000 });
    expect(f.size).toBe(data.byteLength);
    expectBytes(await f.read(100), data.subarray(0, 100));
    f.seek(50_000);
    expectBytes(await f.read(10), data.subarray(50_000, 50_010));
    f.seek(-10, 2);
    expectBytes(await f.read(), data.subarray(data.byteLength - 10));
    await f.close();
    // One info, then one GET per cache miss.
    expect(srv.requests.map((r) => r.method)).toEqual([infoMethod, "GET", "GET", "GET"]);
    expect(isInfoRequest(srv.requests[0]!)).toBe(true);
    expect(reads("/r/data.bin")).toHaveLength(3);
  });

  it("are forward-only streams when the server refuses ranges", async () => {
    const fs = await fsIn(state);
    srv.fault({ path: "/r/data.bin", noRanges: true, times: Infinity });
    const f = await fs.open(url("/r/data.bin"));
    expectBytes(await f.read(1000), data.subarray(0, 1000));
    f.seek(5000);
    expectBytes(await f.read(10), data.subarray(5000, 5010));
    await errorOf(f.read(1).then(() => (f.seek(0), f.read(1))), "ENOTSUP");
    await f.close();
    // One streamed GET. A learned origin asked for byte 0 first and got the whole file (dropped).
    expect(srv.requests.map((r) => r.method)).toEqual([infoMethod, "GET"]);
    expect(srv.requests[1]!.headers.range).not.toBe("bytes=0-0");
    if (state === "learned") {
      // From then on the origin is asked by HEAD.
      await fs.info(url("/r/small.txt"));
      expect(srv.requests.at(-1)!.method).toBe("HEAD");
    }
  });

  it("stream a whole file with `streaming: true`, including text lines", async () => {
    const fs = await fsIn(state);
    srv.setFile("/r/lines.txt", "one\ntwo\nthree");
    const f = await fs.open(url("/r/lines.txt"), "r", { streaming: true });
    const lines: string[] = [];
    for await (const line of f) lines.push(line);
    expect(lines).toEqual(["one\n", "two\n", "three"]);
    await f.close();
    expect(srv.requests.map((r) => r.method)).toEqual([infoMethod, "GET"]);
    expect(reads("/r/lines.txt")).toHaveLength(1);
  });

  it("of unknown size (no Content-Length anywhere) stream to the end", async () => {
    const fs = await fsIn(state);
    srv.fault({ path: "/r/data.bin", noRanges: true, noContentLength: true, times: Infinity });
    const f = await fs.open(url("/r/data.bin"));
    expect(f.size).toBe(Infinity);
    expectBytes(await f.read(10), data.subarray(0, 10));
    expectBytes(await f.read(), data.subarray(10));
    expect((await f.read(5)).byteLength).toBe(0);
    expect(f.tell()).toBe(data.byteLength);
    await errorOf(Promise.resolve().then(() => f.seek(-1, 2)), "EINVAL");
    await f.close();
    // HEAD, the bytes=0-0 probe for the size, then the one streamed GET; a learned origin was
    // asked for byte 0 first, whose whole answer without a length sent it back to HEADs.
    expect(srv.requests.map((r) => r.method)).toEqual([...(state === "learned" ? ["GET"] : []), "HEAD", "GET", "GET"]);
    expect(srv.requests.at(-1)!.headers.range).not.toBe("bytes=0-0");
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
