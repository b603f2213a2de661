/**
 * One rule for every backend and every path-taking method: a path holding a control character
 * (U+0000-U+001F, U+007F) is EINVAL before any I/O. URL parsers drop TAB/LF/CR, so without it
 * `.\t.` reaches a server as `..`.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AbstractFileSystem,
  CachingFileSystem,
  DirFileSystem,
  LocalFileSystem,
  MemoryFileSystem,
  SimpleCacheFileSystem,
  WholeFileCacheFileSystem,
} from "../../src/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { HuggingFaceFileSystem } from "../../src/implementations/hf.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { startHfServer, type TestHfServer } from "../../src/testing/hf-server.js";
import { startNgcServer, type TestNgcServer } from "../../src/testing/ngc-server.js";
import { ngcFs } from "../ngc/helpers.js";
import { bucketName, createBucket, makeFs } from "../s3/helpers.js";

const CONTROLS = ["\u0000", "\t", "\n", "\r", "\u000b", "\u001b", "\u001f", "\u007f"];

type Call = (fs: AbstractFileSystem, bad: string, good: string, local: string) => unknown;

/** Every public method that takes a path, with the bad path in each path position. */
const CALLS: Record<string, Call> = {
  ls: (fs, p) => fs.ls(p),
  info: (fs, p) => fs.info(p),
  exists: (fs, p) => fs.exists(p),
  isDir: (fs, p) => fs.isDir(p),
  isFile: (fs, p) => fs.isFile(p),
  size: (fs, p) => fs.size(p),
  sizes: (fs, p, g) => fs.sizes([g, p]),
  checksum: (fs, p) => fs.checksum(p),
  ukey: (fs, p) => fs.ukey(p),
  modified: (fs, p) => fs.modified(p),
  created: (fs, p) => fs.created(p),
  sign: (fs, p) => fs.sign(p),
  invalidateCache: (fs, p) => fs.invalidateCache(p),
  walk: async (fs, p) => {
    for await (const _ of fs.walk(p)) void _;
  },
  find: (fs, p) => fs.find(p),
  glob: (fs, p) => fs.glob(`${p}*`),
  du: (fs, p) => fs.du(p),
  expandPath: (fs, p) => fs.expandPath(p),
  expandPathList: (fs, p, g) => fs.expandPath([g, p]),
  cat: (fs, p) => fs.cat(p),
  catList: (fs, p, g) => fs.cat([g, p]),
  catFile: (fs, p) => fs.catFile(p),
  catRanges: (fs, p) => fs.catRanges([p], [0], [1]),
  head: (fs, p) => fs.head(p),
  tail: (fs, p) => fs.tail(p),
  readText: (fs, p) => fs.readText(p),
  readBlock: (fs, p) => fs.readBlock(p, 0, 1),
  open: (fs, p) => fs.open(p, "rb"),
  openWrite: (fs, p) => fs.open(p, "wb"),
  writeText: (fs, p) => fs.writeText(p, "x"),
  pipe: (fs, p) => fs.pipe(p, "x"),
  pipeRecord: (fs, p) => fs.pipe({ [p]: "x" }),
  pipeFile: (fs, p) => fs.pipeFile(p, "x"),
  touch: (fs, p) => fs.touch(p),
  mkdir: (fs, p) => fs.mkdir(p),
  makedirs: (fs, p) => fs.makedirs(p),
  rmdir: (fs, p) => fs.rmdir(p),
  rmFile: (fs, p) => fs.rmFile(p),
  rm: (fs, p) => fs.rm(p),
  rmList: (fs, p, g) => fs.rm([g, p]),
  copySource: (fs, p, g) => fs.copy(p, g),
  copyDestination: (fs, p, g) => fs.copy(g, p),
  cpFileSource: (fs, p, g) => fs.cpFile(p, g),
  cpFileDestination: (fs, p, g) => fs.cpFile(g, p),
  mvSource: (fs, p, g) => fs.mv(p, g),
  mvDestination: (fs, p, g) => fs.mv(g, p),
  get: (fs, p, _g, l) => fs.get(p, l),
  getFile: (fs, p, _g, l) => fs.getFile(p, l),
  put: (fs, p, _g, l) => fs.put(l, p),
  putFile: (fs, p, _g, l) => fs.putFile(l, p),
};

const CACHE_CALLS: Record<string, (fs: WholeFileCacheFileSystem, bad: string) => unknown> = {
  ensureCached: (fs, p) => fs.ensureCached(p),
  localPath: (fs, p) => fs.localPath(p),
  openLocal: (fs, p) => fs.openLocal([p]),
  popFromCache: (fs, p) => fs.popFromCache(p),
};

/** The method names (with the character) whose call did not fail with EINVAL, one a line. */
async function notRefused<F extends AbstractFileSystem>(
  fs: F,
  path: (ch: string) => string,
  good: string,
  local: string,
  calls: Record<string, (fs: F, bad: string, good: string, local: string) => unknown>,
): Promise<string> {
  const wrong: string[] = [];
  for (const [name, call] of Object.entries(calls)) {
    for (const ch of CONTROLS) {
      const bad = path(ch);
      let code: string | undefined = "(no error)";
      try {
        await call(fs, bad, good, local);
      } catch (err) {
        code = (err as { code?: string }).code;
        if (code === "EINVAL" && !String((err as { path?: string }).path).includes(bad)) code = `EINVAL naming ${(err as { path?: string }).path}`;
      }
      if (code !== "EINVAL") wrong.push(`${name} U+${ch.charCodeAt(0).toString(16).padStart(4, "0")}: ${code}`);
    }
  }
  return wrong.join("\n");
}

let tmp: string;
let http: TestHttpServer;
let hfServer: TestHfServer;
let ngcServer: TestNgcServer;
let bucket: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "fsspec-ctl-"));
  http = await startHttpServer({ acceptPut: true });
  http.setFile("/d/good.txt", "good");
  hfServer = await startHfServer();
  hfServer.createRepo("org/repo");
  hfServer.commit("org/repo", { "good.txt": "good" });
  ngcServer = await startNgcServer();
  ngcServer.addFiles("models/org/m@1", { "good.txt": "good" });
  bucket = bucketName("ctl");
  await createBucket(bucket);
});
afterAll(async () => {
  await http.close();
  await hfServer.close();
  await ngcServer.close();
  await rm(tmp, { recursive: true, force: true });
});

describe("control characters in paths are EINVAL on every backend and method", () => {
  it("memory", async () => {
    const fs = new MemoryFileSystem({ store: "private" });
    await fs.pipe("/good.txt", "good");
    expect(await notRefused(fs, (c) => `/a${c}b`, "/good.txt", join(tmp, "l-mem"), CALLS)).toBe("");
    expect(await fs.find("/")).toEqual(["/good.txt"]);
  });

  it("local disk", async () => {
    const root = join(tmp, "disk");
    const fs = new LocalFileSystem();
    await fs.pipe(`${root}/good.txt`, "good");
    expect(await notRefused(fs, (c) => `${root}/.${c}./x`, `${root}/good.txt`, join(tmp, "l-disk"), CALLS)).toBe("");
    expect(await readdir(root)).toEqual(["good.txt"]);
  });

  it("http: no request leaves for the bad path", async () => {
    const fs = new HTTPFileSystem({ skipInstanceCache: true, retries: 0 });
    http.resetCounts();
    const wrong = await notRefused(fs, (c) => `${http.url}/d/.${c}./secret`, `${http.url}/d/good.txt`, join(tmp, "l-http"), CALLS);
    expect(wrong).toBe("");
    expect(http.requests.filter((r) => !r.path.startsWith("/d/good.txt")).map((r) => `${r.method} ${r.url}`)).toEqual([]);
    await fs.close();
  });

  it("s3 (moto)", async () => {
    const fs = makeFs();
    await fs.pipe(`${bucket}/good.txt`, "good");
    expect(await notRefused(fs, (c) => `s3://${bucket}/a${c}b`, `${bucket}/good.txt`, join(tmp, "l-s3"), CALLS)).toBe("");
    fs.invalidateCache();
    expect(await fs.find(bucket)).toEqual([`${bucket}/good.txt`]);
    await fs.close();
  });

  it("hf: no request reaches the Hub", async () => {
    const fs = new HuggingFaceFileSystem({ endpoint: hfServer.url, token: false, retries: 0, skipInstanceCache: true });
    hfServer.requests.length = 0;
    const wrong = await notRefused(fs, (c) => `hf://org/repo/.${c}./x`, "hf://org/repo/good.txt", join(tmp, "l-hf"), CALLS);
    expect(wrong).toBe("");
    expect(hfServer.requests.filter((r) => !r.url.includes("good.txt") && !r.url.includes("/api/models/org/repo")).map((r) => r.url)).toEqual([]);
    await fs.close();
  });

  it("ngc: no request reaches the registry", async () => {
    const fs = ngcFs(ngcServer, { retries: 0 });
    ngcServer.resetCounts();
    const wrong = await notRefused(fs, (c) => `ngc://models/org/m@1/a${c}b`, "ngc://models/org/m@1/good.txt", join(tmp, "l-ngc"), CALLS);
    expect(wrong).toBe("");
    expect(ngcServer.requests.filter((r) => r.url.includes("%") || /[\u0000-\u001f\u007f]/.test(r.url)).map((r) => r.url)).toEqual([]);
    await fs.close();
  });

  it("dir over memory", async () => {
    const mem = new MemoryFileSystem({ store: "private" });
    await mem.pipe("/root/good.txt", "good");
    const fs = new DirFileSystem({ fs: mem, path: "/root" });
    expect(await notRefused(fs, (c) => `a${c}b`, "good.txt", join(tmp, "l-dir"), CALLS)).toBe("");
    expect(await mem.find("/")).toEqual(["/root/good.txt"]);
  });

  for (const [name, Layer] of [
    ["blockcache", CachingFileSystem],
    ["filecache", WholeFileCacheFileSystem],
    ["simplecache", SimpleCacheFileSystem],
  ] as const) {
    it(`${name} over memory`, async () => {
      const mem = new MemoryFileSystem({ store: "private" });
      await mem.pipe("/good.txt", "good");
      const fs = new Layer({ fs: mem, cacheStorage: join(tmp, `cache-${name}`), skipInstanceCache: true });
      expect(await notRefused(fs, (c) => `/a${c}b`, "/good.txt", join(tmp, `l-${name}`), CALLS)).toBe("");
      if (fs instanceof WholeFileCacheFileSystem) expect(await notRefused(fs, (c) => `/a${c}b`, "/good.txt", "", CACHE_CALLS)).toBe("");
      expect(await mem.find("/")).toEqual(["/good.txt"]);
    });
  }
});
