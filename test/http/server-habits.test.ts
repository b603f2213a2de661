/**
 * What real web servers do, reproduced on the test server so each rule has a focused test
 * (test/http/real-servers.test.ts runs the same against nginx, Apache, lighttpd and python):
 * percent-encoding, redirects ending in 404, directories without listings, directory URLs
 * answered in one form only, sizes fetched only when asked for, messages of ECHANGED, and
 * the local names `get` writes.
 */
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { guardProcess } from "../support/process-guard.js";
import { errorOf, expectBytes, isInfoRequest, ORIGIN_STATES, ownFilesystems, pattern, text } from "./helpers.js";

guardProcess();

let srv: TestHttpServer;
let fs: HTTPFileSystem;
const url = (p: string) => `${srv.url}${p}`;
const heads = () => srv.requests.filter((r) => r.method === "HEAD").length;
/** Info requests: HEADs, and the bytes=0-0 GETs that stand in for them on origins announcing ranges. */
const infos = () => srv.requests.filter(isInfoRequest).length;
/** Filesystems of a test's own, new or having learned that the origin takes ranges (see ownFilesystems). */
const own = ownFilesystems(() => srv, () => url("/ranged.txt"), { retries: 0, timeout: 5_000 });

beforeAll(async () => {
  srv = await startHttpServer({ acceptPut: true });
  srv.setFile("/ranged.txt", "a file served with ranges");
});
afterAll(async () => {
  await srv.close();
});
beforeAll(() => {
  fs = new HTTPFileSystem({ retries: 0, timeout: 5_000 });
});
afterAll(async () => {
  await fs.close();
});
afterEach(async () => {
  await own.closeAll();
  srv.clearFaults();
  srv.resetCounts();
  fs.invalidateCache();
});

describe("percent-encoding", () => {
  it("a % that starts no escape is sent as %25 (nginx and Apache answer a raw one with 400)", async () => {
    srv.setFile("/e/pct%.txt", "percent");
    expect(text(await fs.catFile(url("/e/pct%.txt")))).toBe("percent");
    expect(text(await fs.cat(url("/e/pct%.txt")) as Uint8Array)).toBe("percent");
    expect((await fs.info(url("/e/pct%.txt"))).size).toBe(7);
    expect(srv.requests.map((r) => r.url)).toEqual(["/e/pct%25.txt", "/e/pct%25.txt", "/e/pct%25.txt"]);
    // Escapes that are escapes stay as written.
    srv.setFile("/e/a b.txt", "spaced");
    expect(text(await fs.catFile(url("/e/a%20b.txt")))).toBe("spaced");
    expect(srv.requests.at(-1)!.url).toBe("/e/a%20b.txt");
  });

  it("listings spell every name one way, whatever the server's spelling (Apache: %c3%bc, raw + and &amp;)", async () => {
    const page = `<a href="?C=N;O=D">sort</a> <a href="/">up</a> <a href="%c3%bcber.txt">ü</a> <a href="plus+sign.txt">+</a>
      <a href="a&amp;b.txt">&amp;</a> <a href="it's.txt">'</a> <a href="br%5b0%5d.txt">[]</a> <a href="sub%20dir/">dir</a>`;
    srv.setFile("/apache/", page, { contentType: "text/html" });
    expect(await fs.ls(url("/apache/"), { detail: false })).toEqual(
      ["%C3%BCber.txt", "a%26b.txt", "br%5B0%5D.txt", "it's.txt", "plus%2Bsign.txt", "sub%20dir"].map((n) => url(`/apache/${n}`)),
    );
  });
});

describe("servers that ignore Range (200 with the whole file, like python's http.server)", () => {
  const PATH = "/noranges/big.bin";
  const data = pattern(3 * 2 ** 20 + 17, 4);
  beforeAll(() => srv.setFile(PATH, data));
  const gets = () => srv.requests.filter((r) => r.method === "GET" && r.path === PATH).length;

  // As python's http.server: no Accept-Ranges in any answer, so infos stay HEADs. Each test has
  // a filesystem of its own, new on the origin (the last test: one that learned ranges there).
  it("an opened file read from start to end is one download, not one per block", async () => {
    const fs = await own.make("new");
    srv.fault({ path: PATH, rangesIgnored: true, times: Infinity });
    const f = await fs.open(url(PATH), "rb", { blockSize: 256 * 1024 });
    const parts: Uint8Array[] = [];
    for (let chunk = await f.read(100_000); chunk.byteLength > 0; chunk = await f.read(100_000)) parts.push(chunk);
    await f.close();
    expectBytes(Buffer.concat(parts), data);
    expect(gets()).toBe(1);
  });

  it("a read elsewhere starts another download; bytes stay right", async () => {
    const fs = await own.make("new");
    srv.fault({ path: PATH, rangesIgnored: true, times: Infinity });
    const f = await fs.open(url(PATH), "rb", { blockSize: 65536 });
    for (const at of [2 ** 20, 2 ** 20 + 65536, 10, 3 * 2 ** 20]) {
      f.seek(at);
      expectBytes(await f.read(1000), data.subarray(at, at + 1000));
    }
    await f.close();
    // 1 MiB on, then its next block from the same body, then back to 10, then forward again.
    expect(gets()).toBe(3);
  });

  it("get of a file of many blocks is one download", async () => {
    const fs = await own.make("new");
    const larger = pattern(12 * 2 ** 20 + 3, 8);
    srv.setFile("/noranges/larger.bin", larger);
    srv.fault({ path: "/noranges/larger.bin", rangesIgnored: true, times: Infinity });
    const dir = await mkdtemp(join(tmpdir(), "fsspec-http-noranges-"));
    try {
      await fs.get(url("/noranges/larger.bin"), join(dir, "larger.bin"));
      expectBytes(await readFile(join(dir, "larger.bin")), larger);
      expect(srv.requestCount("/noranges/larger.bin", "GET")).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("on an origin learned to take ranges, such a file costs one bytes=0-0 GET (dropped) once; get is still one download", async () => {
    const fs = await own.make("learned");
    srv.fault({ path: PATH, method: "GET", rangesIgnored: true, times: Infinity });
    const dir = await mkdtemp(join(tmpdir(), "fsspec-http-noranges-"));
    const downloads = () => srv.requests.filter((r) => r.method === "GET" && !isInfoRequest(r)).length;
    try {
      await fs.get(url(PATH), join(dir, "big.bin"));
      expectBytes(await readFile(join(dir, "big.bin")), data);
      // The first info asked for byte 0 and came back whole (its body dropped after at most
      // 64 KiB): the origin is asked by HEAD from then on, and the file is downloaded once.
      expect(srv.requests[0]!.headers.range).toBe("bytes=0-0");
      expect(srv.requests.filter((r) => r.method === "GET" && isInfoRequest(r))).toHaveLength(1);
      expect(downloads()).toBe(1);
      expect(srv.requests.slice(1, -1).every((r) => r.method === "HEAD")).toBe(true);
      srv.resetCounts();
      await fs.get(url(PATH), join(dir, "again.bin"));
      expectBytes(await readFile(join(dir, "again.bin")), data);
      expect(downloads()).toBe(1);
      expect(srv.requests.slice(0, -1).every((r) => r.method === "HEAD")).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("redirects: the final status decides", () => {
  it("a redirect to the slashed form that ends in 404 is ENOENT for every call (not EISDIR)", async () => {
    srv.addRedirect("/e/x.bin", "/e/x.bin/", 301);
    const u = url("/e/x.bin");
    await errorOf(fs.cat(u), "ENOENT");
    await errorOf(fs.catFile(u), "ENOENT");
    await errorOf(fs.catFile(u, 0, 10), "ENOENT");
    await errorOf(fs.info(u), "ENOENT");
    await errorOf(fs.open(u, "rb"), "ENOENT");
    expect(await fs.exists(u)).toBe(false);
    expect(await fs.isDir(u)).toBe(false);
  });

  it("one that ends in a listing is a directory for every call", async () => {
    srv.setFile("/e/d/f.txt", "f");
    await errorOf(fs.catFile(url("/e/d")), "EISDIR");
    await errorOf(fs.open(url("/e/d"), "rb"), "EISDIR");
    expect(await fs.isDir(url("/e/d"))).toBe(true);
  });
});

describe("directories the server does not list (autoindex off: 301 to dir/, then 403)", () => {
  beforeAll(() => {
    srv.setFile("/hidden/open/a.txt", "a");
    srv.setFile("/hidden/shut/b.txt", "bb");
    srv.setFile("/hidden/shut/deeper/c.txt", "ccc");
    srv.setDirectory("/hidden/shut/", { listed: false });
  });

  it("exist and are directories; their files can be read", async () => {
    const shut = url("/hidden/shut");
    expect(await fs.exists(shut)).toBe(true);
    expect(await fs.isDir(shut)).toBe(true);
    expect(await fs.isFile(shut)).toBe(false);
    expect(await fs.info(shut)).toEqual({ name: shut, size: 0, type: "directory" });
    expect(await fs.isDir(url("/hidden/shut/"))).toBe(true);
    expect(text(await fs.catFile(url("/hidden/shut/b.txt")))).toBe("bb");
  });

  it("ls says the server does not list it; find and glob of it raise that", async () => {
    const err = await errorOf(fs.ls(url("/hidden/shut")), "EACCES");
    expect(err.message).toMatch(/does not list this directory \(HTTP 403/);
    expect(err.status).toBe(403);
    await errorOf(fs.ls(url("/hidden/shut/")), "EACCES");
    await errorOf(fs.find(url("/hidden/shut")), "EACCES");
    await errorOf(fs.glob(url("/hidden/shut/*")), "EACCES");
  });

  it("find and walk from above report it the way onError says", async () => {
    const top = url("/hidden");
    expect(await fs.find(top)).toEqual([url("/hidden/open/a.txt")]);
    await errorOf(fs.find(top, { onError: "raise" }), "EACCES");
    const seen: unknown[] = [];
    expect(await fs.find(top, { onError: (e) => seen.push(e) })).toEqual([url("/hidden/open/a.txt")]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ code: "EACCES", path: url("/hidden/shut") });
    const walked: unknown[] = [];
    const roots: string[] = [];
    for await (const [root] of fs.walk(top, { onError: (e) => walked.push(e) })) roots.push(root);
    expect(roots).toEqual([top, url("/hidden/open")]);
    expect(walked).toMatchObject([{ code: "EACCES" }]);
    const raising = async () => {
      for await (const _ of fs.walk(top, { onError: "raise" })) void _;
    };
    await errorOf(raising(), "EACCES");
  });
});

describe("directory URLs are asked for as written", () => {
  beforeAll(() => {
    srv.setFile("/slashed/data/x.txt", "x");
    srv.setDirectory("/slashed/data/", { redirects: false });
  });

  it("a trailing slash is sent: a server answering only that form lists it", async () => {
    const u = url("/slashed/data/");
    expect(await fs.ls(u, { detail: false })).toEqual([url("/slashed/data/x.txt")]);
    expect(srv.requests[0]!.url).toBe("/slashed/data/");
    expect(await fs.isDir(u)).toBe(true);
    expect(await fs.find(u)).toEqual([url("/slashed/data/x.txt")]);
  });

  it("without the slash the other form is tried only on 404", async () => {
    expect(await fs.ls(url("/slashed/data"), { detail: false })).toEqual([url("/slashed/data/x.txt")]);
    expect(srv.requests.map((r) => r.url)).toEqual(["/slashed/data", "/slashed/data/"]);
    srv.resetCounts();
    fs.invalidateCache();
    srv.setFile("/slashed/file.txt", "file");
    expect(await fs.ls(url("/slashed/file.txt/"))).toMatchObject([{ name: url("/slashed/file.txt"), type: "file" }]);
    expect(srv.requests.filter((r) => r.method === "GET").map((r) => r.url)).toEqual(["/slashed/file.txt/", "/slashed/file.txt"]);
    // A URL with a query (a signed URL) gets no slash after its query, nor a second try.
    srv.resetCounts();
    expect(text(await fs.catFile(url("/slashed/file.txt?sig=abc")))).toBe("file");
    expect((await fs.info(url("/slashed/file.txt?sig=abc"))).size).toBe(4);
    await errorOf(fs.info(url("/slashed/none.txt?sig=abc")), "ENOENT");
    expect(srv.requests.map((r) => r.url)).toEqual(["/slashed/file.txt?sig=abc", "/slashed/file.txt?sig=abc", "/slashed/none.txt?sig=abc"]);
  });
});

describe("a URL's query belongs to that URL only (signed and token URLs)", () => {
  beforeAll(() => {
    srv.setFile("/q/data/a.txt", "A");
    srv.setFile("/q/data/sub/b.txt", "BB");
  });

  it("is sent as written, the slash before the query included", async () => {
    expect((await fs.info(url("/q/data/?token=X"))).type).toBe("directory");
    expect(await fs.isDir(url("/q/data/?token=X"))).toBe(true);
    expect(srv.requests.map((r) => r.url)).toEqual(["/q/data/?token=X", "/q/data/?token=X"]);
    expect(fs.normalizePath(url("/q/data/?token=X"))).toBe(url("/q/data/?token=X"));
  });

  it("ls names the children from the path part, as a browser resolves the page's links", async () => {
    const kids = [url("/q/data/a.txt"), url("/q/data/sub")];
    expect(await fs.ls(url("/q/data/?token=X"), { detail: false })).toEqual(kids);
    expect(srv.requests[0]!.url).toBe("/q/data/?token=X");
    fs.invalidateCache();
    expect(await fs.ls(url("/q/data?token=X"), { detail: false })).toEqual(kids);
    fs.invalidateCache();
    expect(await fs.ls(url("/q/data/?token=X"))).toMatchObject([{ name: kids[0], type: "file", size: 1 }, { name: kids[1], type: "directory" }]);
  });

  it("find, walk and du end, below the path part", async () => {
    const files = [url("/q/data/a.txt"), url("/q/data/sub/b.txt")];
    expect(await fs.find(url("/q/data/?token=X"))).toEqual(files);
    const roots: string[] = [];
    for await (const [root] of fs.walk(url("/q/data/?token=X"))) roots.push(root);
    expect(roots).toEqual([url("/q/data/?token=X"), url("/q/data/sub")]);
    expect(await fs.du(url("/q/data/?token=X"))).toBe(3);
  });

  it("get of a directory URL with a query writes its tree, and of a signed file the file's own name", async () => {
    const dst = await mkdtemp(join(tmpdir(), "fsspec-http-query-"));
    try {
      await fs.get(url("/q/data/?token=X"), `${dst}/tree/`, { recursive: true });
      expect((await readdir(join(dst, "tree"), { recursive: true })).sort()).toEqual(["a.txt", "sub", "sub/b.txt"]);
      expect(text(await readFile(join(dst, "tree", "sub", "b.txt")))).toBe("BB");
      await fs.get(url("/q/data/a.txt?sig=secret"), `${dst}/one/`);
      expect(await readdir(join(dst, "one"))).toEqual(["a.txt"]);
      expect(srv.requests.some((r) => r.url === "/q/data/a.txt?sig=secret")).toBe(true);
    } finally {
      await rm(dst, { recursive: true, force: true });
    }
  });
});

describe("sizes are fetched only when details are asked for", () => {
  const names = Array.from({ length: 24 }, (_, i) => `f${String(i).padStart(2, "0")}.bin`);
  beforeAll(() => {
    for (const [i, n] of names.entries()) srv.setFile(`/many/${n}`, pattern(100 + i));
    srv.setFile("/many/sub/g.bin", pattern(7));
  });

  it("names alone: ls(detail: false), find and glob ask no info", async () => {
    await fs.info(url("/ranged.txt")); // the origin takes ranges: infos would be GETs
    srv.resetCounts();
    expect(await fs.ls(url("/many"), { detail: false })).toHaveLength(25);
    expect(await fs.find(url("/many"))).toHaveLength(25);
    expect(await fs.glob(url("/many/*.bin"))).toHaveLength(24);
    for await (const _ of fs.walk(url("/many"))) void _;
    expect(infos()).toBe(0);
    expect(srv.requests.every((r) => r.method === "GET" && r.headers.range === undefined)).toBe(true);
  });

  it.each(ORIGIN_STATES)("details: one info per file, at most 16 (the default headConcurrency) at a time per origin, even from calls in parallel (origin %s)", async (state) => {
    const fs = await own.make(state);
    // Each answer takes a while, so infos not held back would overlap.
    srv.fault({ stallBeforeHeadersMs: 20, times: Infinity });
    const [a, b] = await Promise.all([fs.ls(url("/many")), fs.ls(url("/many"), { refresh: true })]);
    for (const listing of [a, b]) {
      const files = listing.filter((e) => e.type === "file");
      expect(files.map((e) => e.size)).toEqual(names.map((_, i) => 100 + i));
    }
    expect(infos()).toBe(48);
    // And the two listings: each a 301 to /many/, then the page.
    expect(srv.requests.filter((r) => !isInfoRequest(r)).map((r) => `${r.method} ${r.path}`)).toEqual(["GET /many", "GET /many", "GET /many/", "GET /many/"]);
    if (state === "learned") expect(heads()).toBe(0);
    // 48 infos, each held 20 ms, never more than the bound at once (new connections open 4 at a
    // time until answered, so fewer may be reached).
    expect(srv.peakInFlight()).toBeLessThanOrEqual(16);
  });

  it.each(ORIGIN_STATES)("headConcurrency bounds the infos of listings in flight per origin (origin %s)", async (state) => {
    const fs = await own.make(state, { headConcurrency: 2 });
    srv.fault({ stallBeforeHeadersMs: 20, times: Infinity });
    const listing = await fs.ls(url("/many"));
    expect(listing.filter((e) => e.type === "file").map((e) => e.size)).toEqual(names.map((_, i) => 100 + i));
    expect(srv.peakInFlight()).toBe(2);
  });

  it("find/glob/walk with detail and du give sizes", async () => {
    const found = await fs.find(url("/many"), { detail: true });
    expect(found[url("/many/f03.bin")]!.size).toBe(103);
    expect(found[url("/many/sub/g.bin")]!.size).toBe(7);
    fs.invalidateCache();
    expect((await fs.glob(url("/many/f1*"), { detail: true }))[url("/many/f10.bin")]!.size).toBe(110);
    fs.invalidateCache();
    for await (const [, , files] of fs.walk(url("/many"), { detail: true })) {
      for (const info of Object.values(files)) expect(info.size).not.toBeNull();
    }
    fs.invalidateCache();
    expect(await fs.du(url("/many"))).toBe(names.reduce((n, _, i) => n + 100 + i, 7));
  });
});

describe("ECHANGED names what changed", () => {
  const PATH = "/v/file.bin";
  const data = pattern(300_000, 9);

  it("the ETag, old and new", async () => {
    srv.setFile(PATH, data);
    const f = await fs.open(url(PATH), "rb", { blockSize: 1000 });
    const before = (await fs.info(url(PATH))).etag;
    srv.setFile(PATH, pattern(300_000, 10));
    const err = await errorOf(f.read(10), "ECHANGED");
    expect(err.message).toContain(`ETag ${before} -> `);
    await f.close();
  });

  it("Last-Modified, old and new, for a server without ETags", async () => {
    srv.setFile(PATH, data, { lastModified: new Date("2024-01-01T00:00:00Z") });
    srv.fault({ path: PATH, noEtag: true, times: Infinity });
    const f = await fs.open(url(PATH), "rb", { blockSize: 1000 });
    srv.setFile(PATH, data, { lastModified: new Date("2024-02-02T00:00:00Z") });
    const err = await errorOf(f.read(10), "ECHANGED");
    expect(err.message).toContain("Last-Modified Mon, 01 Jan 2024 00:00:00 GMT -> Fri, 02 Feb 2024 00:00:00 GMT");
    expect(err.message).not.toMatch(/ETag/);
    await f.close();
  });

  it("and so does a resumed read that finds a new version", async () => {
    srv.setFile(PATH, data, { lastModified: new Date("2024-01-01T00:00:00Z") });
    // The first answer breaks off after 20 KB; meanwhile the file changes.
    srv.fault({ path: PATH, method: "GET", noEtag: true, resetAfterBytes: 20_000, throttleBytesPerSec: 100_000 });
    srv.fault({ path: PATH, noEtag: true, times: Infinity });
    const quick = new HTTPFileSystem({ retryDelay: 1 });
    try {
      const pending = quick.catFile(url(PATH));
      setTimeout(() => srv.setFile(PATH, data, { lastModified: new Date("2024-03-03T00:00:00Z") }), 50);
      const err = await errorOf(pending, "ECHANGED");
      expect(err.message).toContain("during the read (Last-Modified Mon, 01 Jan 2024 00:00:00 GMT -> Sun, 03 Mar 2024 00:00:00 GMT); not splicing");
    } finally {
      await quick.close();
    }
  });
});

describe("get writes the decoded names; put sends encoded ones", () => {
  let local: string;
  beforeAll(async () => {
    local = await mkdtemp(join(tmpdir(), "fsspec-http-names-"));
  });
  afterAll(async () => {
    await rm(local, { recursive: true, force: true });
  });

  it("a tree with spaces, ü, 日本, %, #, ? and + lands under those names, bytes intact", async () => {
    const tree: Record<string, Uint8Array> = {
      "dir with space/f.bin": pattern(1000, 1),
      "über.txt": pattern(10, 2),
      "日本.txt": pattern(20, 3),
      "pct%.txt": pattern(30, 4),
      "a%41.txt": pattern(35, 4),
      "hash#.txt": pattern(40, 5),
      "what?.txt": pattern(50, 6),
      "plus+.txt": pattern(60, 7),
    };
    for (const [name, bytes] of Object.entries(tree)) srv.setFile(`/g/${name}`, bytes);
    const dest = join(local, "got");
    await fs.get(url("/g/"), `${dest}/`, { recursive: true });
    const written = (await readdir(dest, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name).slice(dest.length + 1));
    expect(written.sort()).toEqual(Object.keys(tree).sort());
    for (const [name, bytes] of Object.entries(tree)) expectBytes(await readFile(join(dest, name)), bytes);
  });

  it("a listed name that decodes to no valid local name is refused with EACCES, nothing written", async () => {
    for (const [dir, href] of [["/bad1/", "a%2Fb.txt"], ["/bad2/", "nul%00.txt"], ["/bad3/", "bad%FF.txt"]] as const) {
      srv.setFile(dir, `<a href="${href}">x</a> <a href="ok.txt">ok</a>`, { contentType: "text/html" });
      srv.setFile(`${dir}ok.txt`, "ok");
      const dest = join(local, dir.replace(/\//g, ""));
      const err = await errorOf(fs.get(url(dir), `${dest}/`, { recursive: true }), "EACCES");
      expect(err.message).toMatch(/not a valid file name/);
      expect(await readdir(dest).catch(() => [])).toEqual([]);
    }
  });

  it("an upload answered 409 says what a WebDAV server means by it", async () => {
    srv.fault({ path: "/up/missing/x.bin", method: "PUT", status: 409 });
    const err = await errorOf(fs.pipeFile(url("/up/missing/x.bin"), "x"), "EIO");
    expect(err.status).toBe(409);
    expect(err.message).toMatch(/parent directory does not exist/);
  });

  it("put of local names with spaces, ü, #, ? and % stores those names on the server", async () => {
    const src = join(local, "up");
    const names = ["a b.txt", "ü.txt", "x#y.txt", "q?.txt", "p%.txt", "p%41.txt", "sub dir/z.txt"];
    for (const n of names) {
      await mkdir(join(src, n, ".."), { recursive: true });
      await writeFile(join(src, n), n);
    }
    await fs.put(`${src}/`, url("/up/"), { recursive: true });
    for (const n of names) expect(text(srv.files.get(`/up/${n}`) ?? new Uint8Array())).toBe(n);
  });
});
