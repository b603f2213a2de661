/**
 * Earth2Studio parity: `pkg.cache` (the directory the package caches in) and `pkg.sub(path)`
 * (the package rooted deeper, as SFNO's `package.root = join(root, "sfno_73ch_small")`), sharing
 * the parent's filesystem and cache, contained like every package path.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Package } from "../../src/index.js";
import { joinRoot } from "../../src/models/package-root.js";
import { errorOf } from "../http/helpers.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";

let server: TestHttpServer;
let dir: string;
const ckpt = new Uint8Array(100_000).map((_, i) => (i * 13) % 251);

beforeAll(async () => {
  server = await startHttpServer();
  dir = await mkdtemp(join(tmpdir(), "fsspec-pkg-sub-"));
  server.setFile("/zoo/sfno_73ch_small/metadata.json", '{"channels": 73}');
  server.setFile("/zoo/sfno_73ch_small/training_checkpoints/best_ckpt_mp0.tar", ckpt);
  server.setFile("/zoo/fcn/metadata.json", '{"channels": 26}');
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe("Package.sub", () => {
  it("reads the files below the deeper root, through the parent's cache: nothing is downloaded twice", async () => {
    const pkg = new Package(`${server.url}/zoo`, { cacheOptions: { cacheStorage: join(dir, "c1") }, progress: false });
    const sfno = pkg.sub("sfno_73ch_small");
    expect(sfno.root).toBe(`${server.url}/zoo/sfno_73ch_small`);
    expect(JSON.parse(await readFile(await sfno.resolve("metadata.json"), "utf8"))).toEqual({ channels: 73 });
    const local = await sfno.resolve("training_checkpoints/best_ckpt_mp0.tar");
    expect(new Uint8Array(await readFile(local))).toEqual(ckpt);
    server.resetCounts();
    // The same file through the parent, and through a second sub: the same cached copy, no request.
    expect(await pkg.resolve("sfno_73ch_small/training_checkpoints/best_ckpt_mp0.tar")).toBe(local);
    expect(await pkg.sub("sfno_73ch_small/training_checkpoints").resolve("best_ckpt_mp0.tar")).toBe(local);
    expect(server.requests).toEqual([]);
    const { fs, path } = await sfno.filesystem();
    expect(fs).toBe((await pkg.filesystem()).fs);
    expect(path).toBe(`${server.url}/zoo/sfno_73ch_small`);
    expect(sfno.cache).toBe(pkg.cache);
  });

  it("is contained: a root or a path that leaves it is EACCES, an empty one EINVAL, before any request", async () => {
    const pkg = new Package(`${server.url}/zoo`, { cacheOptions: { cacheStorage: join(dir, "c2") }, progress: false });
    server.resetCounts();
    for (const bad of ["..", "../other", "a/../../b", "%2e%2e/x"]) expect(() => pkg.sub(bad), bad).toThrow(expect.objectContaining({ code: "EACCES" }));
    expect(() => pkg.sub("")).toThrow(expect.objectContaining({ code: "EINVAL" }));
    const fcn = pkg.sub("fcn");
    // Inside the parent's root, but outside the sub's: refused.
    await errorOf(fcn.resolve("../sfno_73ch_small/metadata.json"), "EACCES");
    expect(pkg.sub(".").root).toBe(pkg.root);
    expect(server.requests).toEqual([]);
    expect(JSON.parse(await readFile(await fcn.resolve("metadata.json"), "utf8"))).toEqual({ channels: 26 });
  });

  it("takes the parent's pins of files below its root, rebased, and no others", async () => {
    const sha = (text: string) => createHash("sha256").update(text).digest("hex");
    const pkg = new Package(`${server.url}/zoo`, {
      cacheOptions: { cacheStorage: join(dir, "c3") },
      progress: false,
      files: {
        "sfno_73ch_small/metadata.json": { sha256: sha('{"channels": 73}') },
        "fcn/metadata.json": { sha256: sha("not what the server has") },
        // A file of the parent's root: nothing to do with the sub packages' metadata.json.
        "metadata.json": { sha256: sha("the root's own") },
      },
    });
    const sfno = pkg.sub("sfno_73ch_small");
    expect([...(await sfno.pins())]).toEqual([["metadata.json", sha('{"channels": 73}')]]);
    expect(JSON.parse(await readFile(await sfno.resolve("metadata.json"), "utf8"))).toEqual({ channels: 73 });
    const err = await errorOf(pkg.sub("fcn").resolve("metadata.json"), "EIO");
    expect(err.message).toMatch(/checksum|sha256/i);
  });

  it("with confineSymlinks: the deeper root's real path stays in the parent's, and its files in its own", async () => {
    const root = join(dir, "local");
    const outside = join(dir, "outside");
    await mkdir(join(root, "a"), { recursive: true });
    await mkdir(join(root, "b"), { recursive: true });
    await mkdir(outside, { recursive: true });
    await writeFile(join(root, "a", "x.txt"), "a/x");
    await writeFile(join(root, "b", "y.txt"), "b/y");
    await writeFile(join(outside, "z.txt"), "outside");
    await symlink(outside, join(root, "escape"));
    await symlink(join(root, "b"), join(root, "a", "to-b"));
    const pkg = new Package(root, { confineSymlinks: true });
    expect(await readFile(await pkg.sub("a").resolve("x.txt"), "utf8")).toBe("a/x");
    await errorOf(pkg.sub("escape").resolve("z.txt"), "EACCES");
    // Allowed for the parent (inside its root), not for the sub rooted at a/.
    expect(await readFile(await pkg.resolve("a/to-b/y.txt"), "utf8")).toBe("b/y");
    await errorOf(pkg.sub("a").resolve("to-b/y.txt"), "EACCES");
  });
});

describe("Package.cache", () => {
  it("is the writable cacheStorage (the last of a list), else Package.defaultCache(), read in place or not", () => {
    expect(new Package("https://h/zoo", { cacheOptions: { cacheStorage: "/c/one" } }).cache).toBe("/c/one");
    expect(new Package("https://h/zoo", { cacheOptions: { cacheStorage: ["/c/ro", "/c/rw"] } }).cache).toBe("/c/rw");
    const saved = process.env.FSSPEC_TS_MODEL_CACHE;
    process.env.FSSPEC_TS_MODEL_CACHE = "/models/cache";
    try {
      expect(new Package("https://h/zoo").cache).toBe("/models/cache");
      expect(new Package("/local/zoo").cache).toBe("/models/cache");
    } finally {
      if (saved === undefined) delete process.env.FSSPEC_TS_MODEL_CACHE;
      else process.env.FSSPEC_TS_MODEL_CACHE = saved;
    }
  });

  it("is the Hugging Face cache for hf:// roots (unless hfCache: false), as the package uses it", () => {
    const saved = process.env.HF_HUB_CACHE;
    process.env.HF_HUB_CACHE = "/hf/hub";
    try {
      expect(new Package("hf://org/zoo").cache).toBe("/hf/hub");
      expect(new Package("hf://org/zoo", { hfCache: { cacheDir: "/elsewhere" } }).cache).toBe("/elsewhere");
      expect(new Package("hf://org/zoo", { hfCache: false, cacheOptions: { cacheStorage: "/c" } }).cache).toBe("/c");
      expect(new Package("zip://a::hf://org/zoo/z.zip", { cacheOptions: { cacheStorage: "/c" } }).cache).toBe("/c");
      expect(new Package("hf://org/zoo").sub("sfno").cache).toBe("/hf/hub");
    } finally {
      if (saved === undefined) delete process.env.HF_HUB_CACHE;
      else process.env.HF_HUB_CACHE = saved;
    }
  });
});

describe("joinRoot", () => {
  it.each([
    ["https://h/zoo", "sfno", "https://h/zoo/sfno"],
    ["https://h/zoo/", "a/b", "https://h/zoo/a/b"],
    ["https://h/zoo?sig=1", "a", "https://h/zoo/a?sig=1"],
    ["/local/zoo", "a", "/local/zoo/a"],
    ["hf://org/zoo@v1", "a", "hf://org/zoo@v1/a"],
    ["simplecache::https://h/zoo", "a", "simplecache::https://h/zoo/a"],
    ["zip://inner::https://h/z.zip", "a", "zip://inner/a::https://h/z.zip"],
    ["https://h/zoo", "", "https://h/zoo"],
  ])("%s + %s = %s", (root, inner, expected) => {
    expect(joinRoot(root, inner)).toBe(expected);
  });
});
