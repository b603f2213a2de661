/**
 * The reading matrix against real web servers (nginx, Apache, lighttpd, python's http.server,
 * started by test/support/real-servers-global-setup.ts), all serving one tree: listings,
 * metadata, walking, every range shape, opened files, catRanges, recursive get, filecache::
 * and, where the server takes uploads, put/pipeFile/open("wb"). Every answer is checked
 * against the same tree read from the local disk, never against what a server said.
 */
import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Package, urlToFs, type FileInfo } from "../../src/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { REAL_SERVER_NAMES, type RealServer } from "../support/real-servers.js";
import { BIG_FILE, BIG_SIZE, ODD_NAMES } from "../support/served-tree.js";
import { cli } from "../support/cli.js";
import { guardProcess } from "../support/process-guard.js";
import { errorOf, expectBytes, pattern } from "./helpers.js";

guardProcess();

const ctx = inject("realServers");

interface DiskEntry {
  rel: string;
  type: "file" | "directory";
  size: number;
}

/** Every entry below `root`, relative names with "/", sorted. */
async function diskTree(root: string): Promise<DiskEntry[]> {
  const out: DiskEntry[] = [];
  for (const d of await readdir(root, { recursive: true, withFileTypes: true })) {
    const rel = join(d.parentPath, d.name).slice(root.length + 1);
    out.push({ rel, type: d.isDirectory() ? "directory" : "file", size: d.isDirectory() ? 0 : (await stat(join(root, rel))).size });
  }
  return out.sort((a, b) => (a.rel < b.rel ? -1 : 1));
}

/** A relative name as a URL path: each segment percent-encoded the way listings spell it. */
const enc = (rel: string) => rel.split("/").map(encodeURIComponent).join("/");
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const childrenOf = (tree: DiskEntry[], dir: string) =>
  tree.filter((e) => (dir === "" ? !e.rel.includes("/") : e.rel.startsWith(`${dir}/`) && !e.rel.slice(dir.length + 1).includes("/")));

let tree: DiskEntry[];
beforeAll(async () => {
  tree = await diskTree(ctx.tree);
});

for (const name of REAL_SERVER_NAMES) {
  const server = ctx.servers.find((s) => s.name === name);
  const skipped = server ? "" : ` [skipped: ${ctx.skipped.find((s) => s.name === name)?.reason ?? "not started"}]`;
  describe.skipIf(!server)(`${name}${skipped}`, () => matrix(server!));
}

function matrix(server: RealServer): void {
  const base = `${server.url}/tree`;
  const u = (rel: string) => (rel === "" ? base : `${base}/${enc(rel)}`);
  const disk = (rel: string) => readFile(join(ctx.tree, rel));
  let fs: HTTPFileSystem;
  let local: string;

  beforeAll(async () => {
    fs = new HTTPFileSystem({ timeout: 10_000, retries: 1, retryDelay: 1 });
    local = await mkdtemp(join(tmpdir(), `fsspec-real-${server.name}-`));
  });
  afterAll(async () => {
    await fs.close();
    await rm(local, { recursive: true, force: true });
  });

  describe("listing and metadata", () => {
    it("ls of every directory, with and without the trailing slash, names and details", async () => {
      const dirs = ["", ...tree.filter((e) => e.type === "directory").map((e) => e.rel)];
      for (const dir of dirs) {
        const expected = childrenOf(tree, dir);
        for (const asked of [u(dir), `${u(dir)}/`]) {
          fs.invalidateCache();
          expect((await fs.ls(asked, { detail: false })).sort(), `ls ${asked}`).toEqual(expected.map((e) => u(e.rel)).sort());
          const detail = await fs.ls(asked);
          const byName = new Map(detail.map((i) => [i.name, i]));
          expect(byName.size).toBe(expected.length);
          for (const e of expected) expect(byName.get(u(e.rel)), `${asked}: ${e.rel}`).toMatchObject({ type: e.type, size: e.size });
        }
      }
    });

    it("info, exists, isDir and isFile of every entry, and of missing ones", async () => {
      for (const e of tree) {
        fs.invalidateCache();
        expect(await fs.info(u(e.rel)), e.rel).toMatchObject({ name: u(e.rel), type: e.type, size: e.size });
        expect(await fs.exists(u(e.rel))).toBe(true);
        expect(await fs.isDir(u(e.rel))).toBe(e.type === "directory");
        expect(await fs.isFile(u(e.rel))).toBe(e.type === "file");
      }
      // (Not below a file: lighttpd serves `file.txt/x` as file.txt.)
      for (const missing of ["missing.txt", "nested/missing", "nested/a/b/missing.txt", "emptydir/missing/x"]) {
        await errorOf(fs.info(u(missing)), "ENOENT");
        expect(await fs.exists(u(missing))).toBe(false);
        expect(await fs.isDir(u(missing))).toBe(false);
      }
    });

    it("info is the same whether asked by HEAD (a new origin) or by a bytes=0-0 GET (after a HEAD announced ranges)", async () => {
      const asked: string[] = [];
      const agent = new Agent();
      const recording = agent.compose((dispatch) => (opts, handler) => {
        const range = (opts.headers as Record<string, string> | undefined)?.range;
        asked.push(range === undefined ? opts.method : `${opts.method} ${range}`);
        return dispatch(opts, handler);
      });
      const learned = new HTTPFileSystem({ timeout: 10_000, retries: 1, retryDelay: 1, dispatcher: recording });
      try {
        const first = await learned.info(u("README.txt"));
        for (const e of tree) {
          const fresh = new HTTPFileSystem({ timeout: 10_000, retries: 1, retryDelay: 1 });
          try {
            learned.invalidateCache();
            expect(await learned.info(u(e.rel)), e.rel).toEqual(await fresh.info(u(e.rel)));
          } finally {
            await fresh.close();
          }
        }
        // python's http.server announces no ranges: it only ever gets HEADs (and a bytes=0-0 GET
        // where a HEAD has no length); the others answer bytes=0-0 GETs after the first HEAD.
        expect(first.acceptRanges, server.name).toBe(server.ranges ? true : undefined);
        expect(asked[0]).toBe("HEAD");
        if (server.ranges) expect(asked.slice(1).filter((a) => a !== "GET bytes=0-0"), server.name).toEqual([]);
        else expect(asked.filter((a) => a === "GET bytes=0-0"), server.name).toEqual([]);
      } finally {
        await learned.close();
        await agent.close();
      }
    });

    it("a directory URL with a query: sent as written, children named from its path part", async () => {
      fs.invalidateCache();
      const expected = childrenOf(tree, "nested").map((e) => u(e.rel)).sort();
      expect((await fs.ls(`${u("nested")}/?token=X`, { detail: false })).sort()).toEqual(expected);
      expect(await fs.isDir(`${u("nested")}/?token=X`)).toBe(true);
      const files = tree.filter((e) => e.type === "file" && e.rel.startsWith("nested/")).map((e) => u(e.rel)).sort();
      expect(await fs.find(`${u("nested")}/?token=X`)).toEqual(files);
    });

    it("find, glob, walk and du", async () => {
      fs.invalidateCache();
      const files = tree.filter((e) => e.type === "file");
      expect(await fs.find(base)).toEqual(files.map((e) => u(e.rel)).sort());
      expect(await fs.find(`${base}/`, { withDirs: true })).toEqual([base, ...tree.map((e) => u(e.rel))].sort());
      const detail = await fs.find(base, { detail: true });
      for (const e of files) expect(detail[u(e.rel)], e.rel).toMatchObject({ type: "file", size: e.size });
      expect(await fs.glob(`${base}/*.txt`)).toEqual(childrenOf(tree, "").filter((e) => e.rel.endsWith(".txt")).map((e) => u(e.rel)).sort());
      expect(await fs.glob(`${base}/**/*.txt`)).toEqual(files.filter((e) => e.rel.endsWith(".txt")).map((e) => u(e.rel)).sort());
      expect(await fs.glob(`${base}/nested/*`)).toEqual(childrenOf(tree, "nested").map((e) => u(e.rel)).sort());
      const walked: string[] = [];
      for await (const [root, dirs, names] of fs.walk(base)) {
        const rel = root === base ? "" : decodeURIComponent(root.slice(base.length + 1));
        const kids = childrenOf(tree, rel);
        const basename = (r: string) => r.slice(r.lastIndexOf("/") + 1);
        expect(dirs.map(decodeURIComponent), root).toEqual(kids.filter((e) => e.type === "directory").map((e) => basename(e.rel)).sort());
        expect(names.map(decodeURIComponent).sort(), root).toEqual(kids.filter((e) => e.type === "file").map((e) => basename(e.rel)).sort());
        walked.push(rel);
      }
      expect(walked.sort()).toEqual(["", ...tree.filter((e) => e.type === "directory").map((e) => e.rel)].sort());
      fs.invalidateCache();
      expect(await fs.du(base)).toBe(files.reduce((n, e) => n + e.size, 0));
    });
  });

  describe("bytes", () => {
    it("cat and catFile of every file, in every range shape", async () => {
      for (const e of tree.filter((f) => f.type === "file" && f.rel !== BIG_FILE)) {
        const bytes = await disk(e.rel);
        const n = bytes.byteLength;
        expectBytes((await fs.cat(u(e.rel))) as Uint8Array, bytes);
        const shapes: Array<[number | undefined, number | undefined]> = [
          [undefined, undefined], [0, 10], [3, undefined], [-5, undefined], [-5, -1], [2, -2], [n - 3, n + 100],
          [n + 10, undefined], [n + 10, n + 20], [5, 2], [-n - 100, undefined], [0, 0],
        ];
        for (const [start, end] of shapes) {
          expectBytes(await fs.catFile(u(e.rel), start, end), bytes.subarray(start, end));
        }
      }
    });

    it("the 50 MiB file: whole, ranges, suffix and past the end", async () => {
      const bytes = await disk(BIG_FILE);
      expect(bytes.byteLength).toBe(BIG_SIZE);
      expect(sha256((await fs.cat(u(BIG_FILE))) as Uint8Array)).toBe(sha256(bytes));
      const mid = 25 * 2 ** 20;
      for (const [start, end] of [[0, 10], [mid, mid + 2 ** 20], [-10, undefined], [BIG_SIZE - 5, BIG_SIZE + 5], [BIG_SIZE + 1, undefined]] as const) {
        expectBytes(await fs.catFile(u(BIG_FILE), start, end), bytes.subarray(start, end));
      }
    });

    it("open, seek and read", async () => {
      const bytes = await disk(BIG_FILE);
      const f = await fs.open(u(BIG_FILE), "rb", { blockSize: 2 ** 20 });
      for (const at of [0, 2 ** 20 + 7, 49 * 2 ** 20, BIG_SIZE - 10, 100]) {
        f.seek(at);
        expectBytes(await f.read(1000), bytes.subarray(at, at + 1000));
      }
      f.seek(BIG_SIZE);
      expect((await f.read(10)).byteLength).toBe(0);
      await f.close();
      for (const rel of ["empty.txt", "README.txt", ODD_NAMES[0]]) {
        const g = await fs.open(u(rel), "rb");
        expectBytes(await g.read(), await disk(rel));
        await g.close();
        const streamed = await fs.open(u(rel), "rb", { streaming: true });
        expectBytes(await streamed.read(), await disk(rel));
        await streamed.close();
      }
    });

    it("catRanges of 200 ranges", async () => {
      const bytes = await disk(BIG_FILE);
      const rnd = pattern(400, 42);
      const starts = Array.from({ length: 200 }, (_, i) => Math.floor(((rnd[2 * i]! * 256 + rnd[2 * i + 1]!) / 65536) * BIG_SIZE));
      const ends = starts.map((s, i) => s + 1 + ((i * 7919) % 5000));
      const parts = await fs.catRanges(u(BIG_FILE), starts, ends);
      parts.forEach((p, i) => expectBytes(p as Uint8Array, bytes.subarray(starts[i], ends[i])));
    });

    it("recursive get: every file by sha256, under its decoded name", async () => {
      const dest = join(local, "get");
      await fs.get(`${base}/`, `${dest}/`, { recursive: true });
      // Every file and directory, the empty one too.
      expect((await diskTree(dest)).map((e) => `${e.rel} ${e.type}`)).toEqual(tree.map((e) => `${e.rel} ${e.type}`));
      for (const e of tree.filter((f) => f.type === "file")) {
        expect(sha256(await readFile(join(dest, e.rel))), e.rel).toBe(sha256(await disk(e.rel)));
      }
    });

    it("filecache:: reads", async () => {
      const storage = join(local, "filecache");
      const { fs: cached } = await urlToFs(`filecache::${base}`, { filecache: { cacheStorage: storage, skipInstanceCache: true } });
      for (const rel of ["README.txt", "empty.txt", "data.json.gz", ...ODD_NAMES]) {
        for (let round = 0; round < 2; round++) expectBytes(await cached.catFile(u(rel)), await disk(rel));
      }
      const bytes = await disk(BIG_FILE);
      expectBytes(await cached.catFile(u(BIG_FILE), 1000, 2000), bytes.subarray(1000, 2000));
    });
  });

  describe("the CLI and packages over it", () => {
    it("fsspec-ts head, cat and cp give the bytes on disk", async () => {
      const readme = await disk("README.txt");
      expect((await cli("head", "-c", "5", u("README.txt"))).bytes).toEqual(readme.subarray(0, 5));
      expect((await cli("tail", "-c", "5", u("README.txt"))).bytes).toEqual(readme.subarray(-5));
      expect((await cli("cat", u(ODD_NAMES[1]))).bytes).toEqual(await disk(ODD_NAMES[1]));
      const dest = join(local, "cli-cp");
      const copied = await cli("cp", "-r", `${u("nested")}/`, `${dest}/`);
      expect(copied.code, copied.err).toBe(0);
      for (const e of tree.filter((f) => f.type === "file" && f.rel.startsWith("nested/"))) {
        expectBytes(await readFile(join(dest, e.rel.slice("nested/".length))), await disk(e.rel));
      }
    });

    it("Package.resolve of the 50 MiB file", async () => {
      const pkg = new Package(base, { cacheOptions: { cacheStorage: join(local, "package") }, progress: false });
      const path = await pkg.resolve(BIG_FILE);
      expect(sha256(await readFile(path))).toBe(sha256(await disk(BIG_FILE)));
    });
  });

  if (server.noindex) describe("a directory without listings (/noindex/)", () => {
    it("exists and is a directory; ls says the server does not list it; its files read", async () => {
      const dir = `${server.url}/noindex/nested`;
      expect(await fs.exists(dir)).toBe(true);
      expect(await fs.isDir(dir)).toBe(true);
      expect(await fs.isFile(dir)).toBe(false);
      const err = await errorOf(fs.ls(dir), "EACCES");
      expect(err.message).toMatch(/does not list this directory/);
      await errorOf(fs.find(dir), "EACCES");
      const reported: unknown[] = [];
      for await (const _ of fs.walk(`${server.url}/noindex`, { onError: (e) => reported.push(e) })) void _;
      expect(reported).toMatchObject([{ code: "EACCES" }]);
      expectBytes(await fs.catFile(`${server.url}/noindex/nested/one.txt`), await disk("nested/one.txt"));
    });
  });

  if (server.redirects) describe("redirects (/redir/ to /tree/)", () => {
    it("reads and lists through them; one ending in 404 is ENOENT everywhere", async () => {
      expectBytes(await fs.catFile(`${server.url}/redir/README.txt`), await disk("README.txt"));
      expect(await fs.ls(`${server.url}/redir/nested`, { detail: false })).toEqual(
        childrenOf(tree, "nested").map((e) => `${server.url}/redir/${enc(e.rel)}`).sort(),
      );
      const gone = `${server.url}/redir/gone.bin`;
      for (const call of [() => fs.cat(gone), () => fs.catFile(gone), () => fs.catFile(gone, 0, 10), () => fs.info(gone), () => fs.open(gone, "rb")]) {
        await errorOf(call(), "ENOENT");
      }
      expect(await fs.exists(gone)).toBe(false);
    });
  });

  if (server.gzipStatic) describe("precompressed files (/gz/, Content-Encoding: gzip)", () => {
    it("are the stored bytes, with the stored size", async () => {
      const bytes = await disk("data.json.gz");
      expect((await fs.info(`${server.url}/gz/data.json`)).size).toBe(bytes.byteLength);
      expectBytes(await fs.catFile(`${server.url}/gz/data.json`), bytes);
    });
  });

  if (server.dav) describe("uploads (WebDAV PUT)", () => {
    const dav = server.dav!;
    const names = ["plain.bin", ...ODD_NAMES.filter((n) => !n.includes("/"))];

    it("pipeFile and open('wb') store the bytes under the names written", async () => {
      await mkdir(join(dav.dir, "pipe"), { recursive: true });
      await chmod(join(dav.dir, "pipe"), 0o777);
      for (const [i, n] of names.entries()) await fs.pipeFile(`${dav.url}/pipe/${enc(n)}`, pattern(1000 + i, i));
      for (const [i, n] of names.entries()) expectBytes(await readFile(join(dav.dir, "pipe", n)), pattern(1000 + i, i));
      const big = pattern(3 * 2 ** 20 + 5, 77);
      const f = await fs.open(`${dav.url}/pipe/${enc("written by open.bin")}`, "wb");
      for (let off = 0; off < big.byteLength; off += 700_000) await f.write(big.subarray(off, off + 700_000));
      await f.close();
      expectBytes(await readFile(join(dav.dir, "pipe", "written by open.bin")), big);
      expectBytes(await fs.catFile(`${dav.url}/pipe/${enc("written by open.bin")}`), big);
    });

    it("put of a local tree arrives under the same names", async () => {
      const src = join(local, "up");
      const files: Record<string, Uint8Array> = Object.fromEntries(names.map((n, i) => [n, pattern(500 + i, i + 3)]));
      if (dav.makesParents) files["deep/er/x.bin"] = pattern(64, 1);
      for (const [n, b] of Object.entries(files)) {
        await mkdir(join(src, n, ".."), { recursive: true });
        await writeFile(join(src, n), b);
      }
      if (!dav.makesParents) {
        const err = await errorOf(fs.pipeFile(`${dav.url}/nowhere/x.bin`, "x"), "EIO");
        expect(err.message).toMatch(/409 Conflict .*parent directory does not exist/);
      }
      // A server that makes no parents (Apache) gets the collection made on its disk first.
      await mkdir(join(dav.dir, "put"), { recursive: true });
      await chmod(join(dav.dir, "put"), 0o777);
      await fs.put(`${src}/`, `${dav.url}/put/`, { recursive: true });
      const arrived = (await diskTree(join(dav.dir, "put"))).filter((e) => e.type === "file").map((e) => e.rel);
      expect(arrived).toEqual(Object.keys(files).sort());
      for (const [n, b] of Object.entries(files)) expectBytes(await readFile(join(dav.dir, "put", n)), b);
    });
  });

  it("after all of it, the client still has every connection", async () => {
    const listed: FileInfo[] = await fs.ls(base);
    expect(listed.length).toBe(childrenOf(tree, "").length);
    expectBytes(await fs.catFile(u("README.txt")), await disk("README.txt"));
  });
}
