/**
 * Containment of `dir` views: whatever a layer below would make of a path (a URL parser
 * dropping TAB/LF/CR or trimming a trailing space, percent-decoding, backslashes, NFKC
 * lookalikes, overlong UTF-8) is seen before the check, on every backend. Symlinks inside a
 * local root are followed, unless `confineSymlinks` refuses real paths that leave the root.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirFileSystem, LocalFileSystem, MemoryFileSystem, urlToFs, type AbstractFileSystem } from "../../src/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { HuggingFaceFileSystem } from "../../src/implementations/hf.js";
import { codeOf, errorOf } from "../support/errors.js";
import { ESCAPE_SHAPES } from "./escape-shapes.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { startHfServer, type TestHfServer } from "../../src/testing/hf-server.js";
import { startNgcServer, type TestNgcServer } from "../../src/testing/ngc-server.js";
import { ngcFs } from "../ngc/helpers.js";
import { bucketName, createBucket, makeFs } from "../s3/helpers.js";

let tmp: string;
let http: TestHttpServer;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "fsspec-contain-"));
  await mkdir(join(tmp, "root/sub"), { recursive: true });
  await writeFile(join(tmp, "secret"), "outside");
  await writeFile(join(tmp, "root/sub/inside.txt"), "inside");
  http = await startHttpServer();
  http.setFile("/secret", "outside");
  http.setFile("/root/sub/inside.txt", "inside");
});
afterAll(async () => {
  await http.close();
  await rm(tmp, { recursive: true, force: true });
});

const views: Array<[string, () => Promise<AbstractFileSystem>]> = [
  [
    "memory",
    async () => {
      const mem = new MemoryFileSystem({ store: "private" });
      await mem.pipe({ "/secret": "outside", "/root/sub/inside.txt": "inside" });
      return new DirFileSystem({ fs: mem, path: "/root" });
    },
  ],
  ["file", async () => new DirFileSystem({ fs: new LocalFileSystem(), path: join(tmp, "root") })],
  ["http", async () => (await urlToFs(`dir::${http.url}/root`, { http: { skipInstanceCache: true, retries: 0 } })).fs],
];

describe.each(views)("dir over %s: escape shapes", (name, make) => {
  let fs: AbstractFileSystem;
  beforeAll(async () => {
    fs = await make();
  });

  it("a path that stays inside still works", async () => {
    expect(await fs.readText("sub/inside.txt")).toBe("inside");
    expect(await fs.readText("sub/../sub/inside.txt")).toBe("inside");
  });

  it.each(ESCAPE_SHAPES)("%j is %s for reads, listings, opens and writes", async (shape, code) => {
    http.resetCounts();
    expect(await codeOf(fs.catFile(shape))).toBe(code);
    expect(await codeOf(fs.cat(shape))).toBe(code);
    expect(await codeOf(fs.info(shape))).toBe(code);
    expect(await codeOf(fs.ls(shape))).toBe(code);
    expect(await codeOf(fs.open(shape, "rb"))).toBe(code);
    expect(await codeOf(fs.catRanges([shape], [0], [3]))).toBe(code);
    expect(await codeOf(fs.find(shape))).toBe(code);
    if (name !== "http") {
      expect(await codeOf(fs.pipeFile(shape, "overwritten"))).toBe(code);
      expect(await codeOf(fs.rm(shape, { recursive: true }))).toBe(code);
    }
    // Nothing outside the root was asked for, read or touched.
    expect(http.requests.filter((r) => !r.path.startsWith("/root/") && r.path !== "/root").map((r) => r.url)).toEqual([]);
    expect(await readFile(join(tmp, "secret"), "utf8")).toBe("outside");
  });
});

describe("dir over s3, hf and ngc refuses the same shapes before any request", () => {
  let hfServer: TestHfServer;
  let ngcServer: TestNgcServer;
  beforeAll(async () => {
    hfServer = await startHfServer();
    hfServer.createRepo("org/repo");
    hfServer.commit("org/repo", { "root/inside.txt": "inside", "secret": "outside" });
    ngcServer = await startNgcServer();
    ngcServer.addFiles("models/org/m@1", { "root/inside.txt": "inside", "secret": "outside" });
  });
  afterAll(async () => {
    await hfServer.close();
    await ngcServer.close();
  });

  it("s3, hf and ngc", async () => {
    const bucket = bucketName("contain");
    await createBucket(bucket);
    const s3 = makeFs();
    await s3.pipe({ [`${bucket}/root/inside.txt`]: "inside", [`${bucket}/secret`]: "outside" });
    const hf = new HuggingFaceFileSystem({ endpoint: hfServer.url, token: false, skipInstanceCache: true });
    const ngc = ngcFs(ngcServer);
    const targets: Array<[AbstractFileSystem, string]> = [
      [s3, `${bucket}/root`],
      [hf, "org/repo/root"],
      [ngc, "models/org/m@1/root"],
    ];
    for (const [target, root] of targets) {
      const view = new DirFileSystem({ fs: target, path: root });
      expect(await view.readText("inside.txt")).toBe("inside");
      hfServer.requests.length = 0;
      ngcServer.resetCounts();
      const wrong: string[] = [];
      for (const [shape, code] of ESCAPE_SHAPES) {
        const got = await codeOf(view.catFile(shape));
        if (got !== code) wrong.push(`${target.protocol} ${JSON.stringify(shape)}: ${got}`);
      }
      expect(wrong).toEqual([]);
      expect(hfServer.requests.filter((r) => r.url.includes("secret")).map((r) => r.url)).toEqual([]);
      expect(ngcServer.requests.filter((r) => r.url.includes("secret")).map((r) => r.url)).toEqual([]);
    }
    await s3.close();
    await hf.close();
    await ngc.close();
  });
});

describe("dir over local disk: symlinks", () => {
  let root: string;
  beforeAll(async () => {
    const base = join(tmp, "links");
    root = join(base, "root");
    await mkdir(join(base, "outside"), { recursive: true });
    await mkdir(join(root, "real"), { recursive: true });
    await writeFile(join(base, "outside/x.txt"), "outside x");
    await writeFile(join(base, "secret.txt"), "outside secret");
    await writeFile(join(root, "real/inside.txt"), "inside");
    await symlink(join(base, "outside"), join(root, "dir-out"));
    await symlink("../secret.txt", join(root, "file-out"));
    await symlink("real/inside.txt", join(root, "file-in"));
    await symlink("real", join(root, "dir-in"));
    await symlink("../nowhere.txt", join(root, "dangling-out"));
    await symlink(root, join(base, "root-link"));
  });

  it("are followed by default, wherever they point (documented)", async () => {
    const fs = new DirFileSystem({ fs: new LocalFileSystem(), path: root });
    expect(await fs.readText("file-out")).toBe("outside secret");
    expect(await fs.readText("dir-out/x.txt")).toBe("outside x");
  });

  it("confineSymlinks refuses every path whose real path leaves the root (EACCES)", async () => {
    const fs = new DirFileSystem({ fs: new LocalFileSystem(), path: root, confineSymlinks: true });
    for (const p of ["file-out", "dir-out/x.txt", "dir-out", "dangling-out"]) {
      const err = await errorOf(fs.catFile(p));
      expect([p, err.code, err.path]).toEqual([p, "EACCES", p]);
      expect(await codeOf(fs.info(p))).toBe("EACCES");
      expect(await codeOf(fs.open(p, "rb"))).toBe("EACCES");
      expect(await codeOf(fs.cat(p))).toBe("EACCES");
      expect(await codeOf(fs.catRanges([p], [0], [2]))).toBe("EACCES");
      expect(await codeOf(fs.ukey(p))).toBe("EACCES");
    }
    expect(await codeOf(fs.ls("dir-out"))).toBe("EACCES");
    expect(await codeOf(fs.pipeFile("dir-out/new.txt", "escaped"))).toBe("EACCES");
    expect(await codeOf(fs.pipeFile("dangling-out", "escaped"))).toBe("EACCES");
    expect(await codeOf(fs.open("dir-out/new2.txt", "wb"))).toBe("EACCES");
    expect(await codeOf(fs.cpFile("real/inside.txt", "dir-out/copied.txt"))).toBe("EACCES");
    expect(await codeOf(fs.rm("file-out"))).toBe("EACCES");
    expect((await readdir(join(tmp, "links/outside"))).sort()).toEqual(["x.txt"]);
    expect((await readdir(join(tmp, "links"))).sort()).toEqual(["outside", "root", "root-link", "secret.txt"]);
  });

  it("confineSymlinks keeps links that stay inside, new files, and listings without the links that leave", async () => {
    const fs = new DirFileSystem({ fs: new LocalFileSystem(), path: root, confineSymlinks: true });
    expect(await fs.readText("file-in")).toBe("inside");
    expect(await fs.readText("dir-in/inside.txt")).toBe("inside");
    await fs.pipe("new/deep.txt", "new");
    expect(await readFile(join(root, "new/deep.txt"), "utf8")).toBe("new");
    expect((await fs.ls("/", { detail: false })).sort()).toEqual(["dir-in", "file-in", "new", "real"]);
    expect((await fs.find("/")).sort()).toEqual(["dir-in/inside.txt", "file-in", "new/deep.txt", "real/inside.txt"]);
    expect(await fs.glob("**/x.txt")).toEqual([]);
    await fs.rm("new", { recursive: true });
  });

  it("confineSymlinks over a root that is itself a link compares real paths", async () => {
    const fs = new DirFileSystem({ fs: new LocalFileSystem(), path: join(tmp, "links/root-link"), confineSymlinks: true });
    expect(await fs.readText("real/inside.txt")).toBe("inside");
    expect(await codeOf(fs.catFile("file-out"))).toBe("EACCES");
  });

  it("confineSymlinks needs a target on local disk", async () => {
    expect(() => new DirFileSystem({ fs: new MemoryFileSystem({ store: "private" }), path: "/", confineSymlinks: true })).toThrow(
      expect.objectContaining({ code: "EINVAL" }),
    );
    expect(() => new DirFileSystem({ fs: new HTTPFileSystem({ skipInstanceCache: true }), path: `${http.url}/root`, confineSymlinks: true })).toThrow(
      expect.objectContaining({ code: "EINVAL" }),
    );
  });
});
