/**
 * HuggingFaceFileSystem against the local Hub: reads over LFS redirects, pagination, commit
 * pinning, auth, the ENOENT flavours, token redaction, and a filecache layer on top.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { clearInstanceCache, FsError, Package, urlToFs } from "../../src/index.js";
import { HuggingFaceFileSystem, type HuggingFaceFileSystemOptions } from "../../src/implementations/hf.js";
import { startHfServer, type TestHfServer } from "../../src/testing/hf-server.js";
import { errorOf, expectBytes, pattern, text } from "../http/helpers.js";

const TOKEN = "hf_test_token";
const WEIGHTS = pattern(300_000, 7);
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const gitOid = (s: string) => createHash("sha1").update(`blob ${Buffer.byteLength(s)}\0${s}`).digest("hex");

let srv: TestHfServer;
const opened: HuggingFaceFileSystem[] = [];

function hf(options: HuggingFaceFileSystemOptions = {}): HuggingFaceFileSystem {
  const fs = new HuggingFaceFileSystem({ endpoint: srv.url, token: false, retryDelay: 1, timeout: 5_000, ...options });
  opened.push(fs);
  return fs;
}

beforeAll(async () => {
  srv = await startHfServer({ pageSize: 2 });
  srv.createRepo("org/weights");
  srv.commit("org/weights", {
    "config.json": '{"hidden": 8}',
    "README.md": "# weights",
    "model.bin": { data: WEIGHTS, lfs: true },
    "sub/x.txt": "x",
    "sub/y.txt": "yy",
    "sub/z.txt": "zzz",
    "sub/deep/w.txt": "wwww",
  });
  srv.createRepo("datasets/org/table");
  srv.commit("datasets/org/table", { "train/0.csv": "a,b\n1,2\n" });
  srv.createRepo("org/gated", { gated: true });
  srv.commit("org/gated", { "w.bin": { data: "gated weights", lfs: true }, "config.json": "{}" });
  srv.createRepo("org/private", { private: true });
});
afterEach(() => srv.resetCounts());
afterAll(async () => {
  await Promise.all(opened.map((fs) => fs.close()));
  await srv.close();
});

describe("reading over the LFS redirect", () => {
  it("info lists the LFS object; ukey is its sha256 (a git blob id for regular files)", async () => {
    const fs = hf();
    expect(await fs.info("hf://org/weights/model.bin")).toMatchObject({
      name: "org/weights/model.bin", type: "file", size: WEIGHTS.byteLength, sha256: sha256(WEIGHTS), lfs: { oid: sha256(WEIGHTS), size: WEIGHTS.byteLength },
    });
    expect(await fs.ukey("hf://org/weights/model.bin")).toBe(sha256(WEIGHTS));
    expect(await fs.ukey("hf://org/weights/config.json")).toBe(gitOid('{"hidden": 8}'));
    expect(await fs.info("hf://org/weights")).toEqual({ name: "org/weights", size: 0, type: "directory" });
  });

  it("catFile ranges follow the redirect with the Range header", async () => {
    const fs = hf();
    expectBytes(await fs.catFile("hf://org/weights/model.bin", 1000, 5000), WEIGHTS.subarray(1000, 5000));
    const cdn = srv.requests.filter((r) => r.kind === "cdn");
    expect(cdn).toHaveLength(1);
    expect(cdn[0]!.headers.range).toBe("bytes=1000-4999");
    expect(srv.requests.find((r) => r.kind === "resolve")!.path).toMatch(/^\/org\/weights\/resolve\/[0-9a-f]{40}\/model\.bin$/);
    expectBytes(await fs.catFile("hf://org/weights/model.bin", -100), WEIGHTS.subarray(-100));
    expectBytes(await fs.catFile("hf://org/weights/model.bin"), WEIGHTS);
    expect(await fs.readText("hf://org/weights/config.json")).toBe('{"hidden": 8}');
    expect(text(await fs.catFile("hf://org/weights/config.json", 2, 8))).toBe("hidden");
  });

  it("open() gives a seekable file whose blocks are ranged reads through the redirect", async () => {
    const fs = hf();
    await using f = await fs.open("hf://org/weights/model.bin", "rb", { blockSize: 8192 });
    expect(f.size).toBe(WEIGHTS.byteLength);
    expect(f.details.sha256).toBe(sha256(WEIGHTS));
    f.seek(200_000);
    expectBytes(await f.read(1000), WEIGHTS.subarray(200_000, 201_000));
    f.seek(-10, 2);
    expectBytes(await f.read(), WEIGHTS.subarray(-10));
    f.seek(5);
    expectBytes(await f.read(20), WEIGHTS.subarray(5, 25));
    const ranges = srv.requests.filter((r) => r.kind === "cdn").map((r) => r.headers.range);
    expect(ranges.length).toBeGreaterThanOrEqual(3);
    expect(ranges.every((r) => typeof r === "string" && r.startsWith("bytes="))).toBe(true);
  });

  it("an opened file reports its size and the bytes as they arrive", async () => {
    const fs = hf();
    const sizes: number[] = [];
    let received = 0;
    const callback = { setSize: (n: number) => sizes.push(n), relativeUpdate: (n: number) => void (received += n) };
    await using f = await fs.open("hf://org/weights/model.bin", "rb", { blockSize: 65536, cacheType: "none", callback });
    expectBytes(await f.read(), WEIGHTS);
    expect(sizes).toEqual([WEIGHTS.byteLength]);
    expect(received).toBe(WEIGHTS.byteLength);
  });

  it("a body cut off mid-way is resumed from the byte where it stopped, pinned by If-Range", async () => {
    const fs = hf();
    srv.breakNext("/cdn/lfs/", 50_000);
    expectBytes(await fs.catFile("hf://org/weights/model.bin"), WEIGHTS);
    const cdn = srv.requests.filter((r) => r.kind === "cdn");
    expect(cdn).toHaveLength(2);
    expect(cdn[1]!.headers.range).toBe(`bytes=50000-${WEIGHTS.byteLength - 1}`);
    expect(cdn[1]!.headers["if-range"]).toBe(`"${sha256(WEIGHTS)}"`);
  });

  it("the HTTP options reach the client: with retries: 0 a cut body is an error, named by its hf path", async () => {
    const fs = hf({ retries: 0 });
    srv.breakNext("/cdn/lfs/", 10_000);
    const err = (await fs.catFile("hf://org/weights/model.bin").then(() => undefined, (e: unknown) => e)) as FsError;
    expect(err).toBeInstanceOf(FsError);
    expect(["ECONNRESET", "EPROTO"]).toContain(err.code);
    expect(err.path).toBe("org/weights/model.bin");
    expect(srv.count("cdn")).toBe(1);
  });

  it("an aborted signal stops a read with EABORT", async () => {
    const fs = hf();
    await errorOf(fs.catFile("hf://org/weights/model.bin", 0, 10, { signal: AbortSignal.abort() }), "EABORT");
    await errorOf(fs.ls("hf://org/weights/sub", { signal: AbortSignal.abort() }), "EABORT");
  });

  it("an opened file whose object changes on the CDN fails with ECHANGED, never mixing versions", async () => {
    srv.createRepo("org/tampered");
    const data = pattern(100_000, 1);
    srv.commit("org/tampered", { "w.bin": { data, lfs: true } });
    const fs = hf();
    const f = await fs.open("hf://org/tampered/w.bin", "rb", { blockSize: 1000, cacheType: "none" });
    expectBytes(await f.read(100), data.subarray(0, 100));
    srv.tamper(sha256(data), pattern(100_000, 2));
    f.seek(50_000);
    const err = await errorOf(f.read(100), "ECHANGED");
    expect(err.path).toBe("org/tampered/w.bin");
    await f.close();
  });
});

describe("listings", () => {
  it("follow the tree API's pagination and are cached", async () => {
    const fs = hf();
    expect(await fs.ls("hf://org/weights/sub", { detail: false })).toEqual([
      "org/weights/sub/deep", "org/weights/sub/x.txt", "org/weights/sub/y.txt", "org/weights/sub/z.txt",
    ]);
    const trees = srv.requests.filter((r) => r.kind === "api" && r.path.includes("/tree/"));
    expect(trees.map((r) => new URL(r.url, srv.url).searchParams.get("cursor"))).toEqual([null, "2"]);
    srv.resetCounts();
    await fs.ls("hf://org/weights/sub");
    await fs.info("hf://org/weights/sub/y.txt");
    expect(srv.count()).toBe(0);
    await fs.ls("hf://org/weights/sub", { refresh: true });
    expect(srv.count("api")).toBe(2);
  });

  it("find, glob, du and walk see the whole repo", async () => {
    const fs = hf();
    expect(await fs.find("hf://org/weights")).toEqual([
      "org/weights/README.md", "org/weights/config.json", "org/weights/model.bin",
      "org/weights/sub/deep/w.txt", "org/weights/sub/x.txt", "org/weights/sub/y.txt", "org/weights/sub/z.txt",
    ]);
    expect(await fs.glob("hf://org/weights/**/*.txt")).toEqual([
      "org/weights/sub/deep/w.txt", "org/weights/sub/x.txt", "org/weights/sub/y.txt", "org/weights/sub/z.txt",
    ]);
    expect(await fs.du("hf://org/weights/sub")).toBe(10);
    expect(await fs.glob("hf://datasets/org/table/**/*.csv")).toEqual(["datasets/org/table/train/0.csv"]);
    expect(await fs.readText("hf://datasets/org/table/train/0.csv")).toBe("a,b\n1,2\n");
  });

  it("find without maxDepth is one recursive listing, whose directories later calls reuse", async () => {
    const fs = hf();
    expect(await fs.find("hf://org/weights/sub", { withDirs: true })).toEqual([
      "org/weights/sub", "org/weights/sub/deep", "org/weights/sub/deep/w.txt", "org/weights/sub/x.txt", "org/weights/sub/y.txt", "org/weights/sub/z.txt",
    ]);
    const trees = srv.requests.filter((r) => r.path.includes("/tree/"));
    // 5 entries, 2 a page: 3 pages of one recursive listing.
    expect(trees.map((r) => new URL(r.url, srv.url).search)).toEqual(["?recursive=true", "?recursive=true&cursor=2", "?recursive=true&cursor=4"]);
    srv.resetCounts();
    expect(await fs.ls("hf://org/weights/sub/deep", { detail: false })).toEqual(["org/weights/sub/deep/w.txt"]);
    expect(await fs.glob("hf://org/weights/sub/*.txt")).toHaveLength(3);
    expect(await fs.info("hf://org/weights/sub/deep/w.txt")).toMatchObject({ size: 4 });
    expect(srv.count()).toBe(0);
  });

  it("a next-page link to another origin is not followed (the token would go with it)", async () => {
    const elsewhere = await startHfServer({ pageSize: 1, linkOrigin: "http://127.0.0.2:9" });
    try {
      elsewhere.createRepo("org/r");
      elsewhere.commit("org/r", { a: "1", b: "2" });
      const fs = hf({ endpoint: elsewhere.url, token: TOKEN });
      const err = await errorOf(fs.ls("hf://org/r"), "EPROTO");
      expect(err.message).toMatch(/leaves the endpoint's origin/);
    } finally {
      await elsewhere.close();
    }
  });

  it("ls of a file is [that file]", async () => {
    const fs = hf();
    expect(await fs.ls("hf://org/weights/sub/x.txt")).toEqual([expect.objectContaining({ name: "org/weights/sub/x.txt", size: 1, type: "file" })]);
  });
});

describe("one snapshot per filesystem", () => {
  it("a branch that moves between two reads keeps serving the commit first resolved", async () => {
    srv.createRepo("org/moving");
    const v1 = srv.commit("org/moving", { "f.txt": "one", "w.bin": { data: "weights v1", lfs: true } });
    const fs = hf();
    expect(await fs.readText("hf://org/moving/f.txt")).toBe("one");
    srv.commit("org/moving", { "f.txt": "two!", "w.bin": { data: "weights v2", lfs: true }, "new.txt": "new" });
    expect(await fs.readText("hf://org/moving/f.txt")).toBe("one");
    expect(await fs.readText("hf://org/moving/w.bin")).toBe("weights v1");
    expect(await fs.ls("hf://org/moving", { detail: false, refresh: true })).toEqual(["org/moving/f.txt", "org/moving/w.bin"]);
    await errorOf(fs.catFile("hf://org/moving/new.txt"), "ENOENT");
    // The branch was resolved once; every other request names the commit.
    expect(srv.requests.filter((r) => r.path.includes("/revision/"))).toHaveLength(1);
    expect(srv.requests.filter((r) => r.kind !== "cdn" && !r.path.includes("/revision/")).every((r) => r.path.includes(v1))).toBe(true);

    expect(await hf().readText("hf://org/moving/f.txt")).toBe("two!");
    fs.invalidateCache("hf://org/moving/f.txt");
    expect(await fs.readText("hf://org/moving/f.txt")).toBe("two!");
    expect(await fs.ls("hf://org/moving", { detail: false })).toEqual(["org/moving/f.txt", "org/moving/new.txt", "org/moving/w.bin"]);
    expect(await fs.readText("hf://org/moving/w.bin")).toBe("weights v2");

    // A sha in the URL is pinned already: no revision lookup, the old content forever.
    srv.resetCounts();
    expect(await fs.readText(`hf://org/moving@${v1}/f.txt`)).toBe("one");
    expect(srv.requests.filter((r) => r.path.includes("/revision/"))).toHaveLength(0);
  });

  it("invalidateCache() re-resolves every branch; concurrent first calls share one lookup", async () => {
    srv.createRepo("org/busy");
    srv.commit("org/busy", { "a": "1", "b": "2", "c": "3" });
    const fs = hf();
    await Promise.all(["a", "b", "c"].map((n) => fs.catFile(`hf://org/busy/${n}`)));
    expect(srv.requests.filter((r) => r.path.includes("/revision/"))).toHaveLength(1);
    srv.commit("org/busy", { "a": "changed" });
    expect(await fs.readText("hf://org/busy/a")).toBe("1");
    fs.invalidateCache();
    expect(await fs.readText("hf://org/busy/a")).toBe("changed");
  });

  it("with listingsExpiryMs, pinned commits expire with the listings", async () => {
    srv.createRepo("org/expiring");
    srv.commit("org/expiring", { f: "old" });
    const fs = hf({ listingsExpiryMs: 10 });
    expect(await fs.readText("hf://org/expiring/f")).toBe("old");
    srv.commit("org/expiring", { f: "new" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await fs.readText("hf://org/expiring/f")).toBe("new");
    expect(await fs.info("hf://org/expiring/f")).toMatchObject({ size: 3, oid: gitOid("new") });
  });

  it("branches, PR refs (encoded or not) and datasets each resolve on their own", async () => {
    srv.createRepo("datasets/org/refs");
    srv.commit("datasets/org/refs", { "x": "main" });
    srv.commit("datasets/org/refs", { "x": "dev" }, "dev");
    srv.commit("datasets/org/refs", { "x": "pr" }, "refs/pr/1");
    const fs = hf();
    expect(await fs.readText("hf://datasets/org/refs/x")).toBe("main");
    expect(await fs.readText("hf://datasets/org/refs@main/x")).toBe("main");
    expect(await fs.readText("hf://datasets/org/refs@dev/x")).toBe("dev");
    expect(await fs.readText("hf://datasets/org/refs@refs%2Fpr%2F1/x")).toBe("pr");
    expect(await fs.readText("hf://datasets/org/refs@refs/pr/1/x")).toBe("pr");
    expect(await fs.ls("hf://datasets/org/refs@refs/pr/1", { detail: false })).toEqual(["datasets/org/refs@refs%2Fpr%2F1/x"]);
    expect(srv.requests.filter((r) => r.path.includes("/revision/")).map((r) => r.path)).toEqual([
      "/api/datasets/org/refs/revision/main", "/api/datasets/org/refs/revision/dev", "/api/datasets/org/refs/revision/refs%2Fpr%2F1",
    ]);
  });
});

describe("auth", () => {
  it("a gated repo without a token is EACCES with a hint about HF_TOKEN", async () => {
    const fs = hf();
    for (const call of [() => fs.info("hf://org/gated/w.bin"), () => fs.catFile("hf://org/gated/w.bin"), () => fs.ls("hf://org/gated")]) {
      const err = await errorOf(call(), "EACCES");
      expect(err.message).toMatch(/gated.*HF_TOKEN/);
      expect(err.status).toBe(401);
    }
    const priv = await errorOf(fs.info("hf://org/private/x"), "EACCES");
    expect(priv.message).toMatch(/not found, or is private or gated.*HF_TOKEN/);
  });

  it("the token goes as a bearer token to the endpoint and opens the repo", async () => {
    const fs = hf({ token: TOKEN });
    expect(await fs.readText("hf://org/gated/w.bin")).toBe("gated weights");
    expect(await fs.readText("hf://org/gated/config.json")).toBe("{}");
    for (const r of srv.requests.filter((r) => r.kind !== "cdn")) expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("HF_TOKEN and HF_ENDPOINT are the defaults; token: false sends none", async () => {
    const saved = { token: process.env.HF_TOKEN, endpoint: process.env.HF_ENDPOINT };
    process.env.HF_TOKEN = TOKEN;
    process.env.HF_ENDPOINT = `${srv.url}/`;
    try {
      const fromEnv = new HuggingFaceFileSystem({ retryDelay: 1 });
      opened.push(fromEnv);
      expect(fromEnv.endpoint).toBe(srv.url);
      expect(await fromEnv.readText("hf://org/gated/config.json")).toBe("{}");
      const without = new HuggingFaceFileSystem({ token: false, retryDelay: 1 });
      opened.push(without);
      await errorOf(without.info("hf://org/gated/config.json"), "EACCES");
    } finally {
      for (const [k, v] of [["HF_TOKEN", saved.token], ["HF_ENDPOINT", saved.endpoint]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it("a refused token says so, and no error ever shows it", async () => {
    const secret = "hf_SECRET_0123456789";
    const fs = hf({ token: secret });
    const errors: FsError[] = [];
    const refused = await errorOf(fs.catFile("hf://org/gated/w.bin"), "EACCES");
    expect(refused.message).toMatch(/token sent was refused/);
    errors.push(refused);
    errors.push(await errorOf(fs.info("hf://org/nope/x"), "ENOENT"));
    errors.push(await errorOf(fs.open("hf://org/weights/missing.bin"), "ENOENT"));
    srv.createRepo("org/secret-change");
    const data = pattern(20_000, 3);
    srv.commit("org/secret-change", { "w.bin": { data, lfs: true } });
    const f = await fs.open("hf://org/secret-change/w.bin", "rb", { blockSize: 1000, cacheType: "none" });
    await f.read(10);
    srv.tamper(sha256(data), pattern(20_000, 4));
    f.seek(10_000);
    errors.push(await errorOf(f.read(10), "ECHANGED"));
    await f.close();
    const dead = new HuggingFaceFileSystem({ endpoint: "http://127.0.0.1:9", token: secret, retries: 0 });
    errors.push(await errorOf(dead.info("hf://org/weights/x"), "ECONNREFUSED"));
    await dead.close();
    for (const err of errors) {
      expect(inspect(err, { depth: 10 })).not.toContain(secret);
      expect(`${err.message} ${err.path} ${err.stack}`).not.toContain(secret);
    }
  });
});

describe("not found, and which part", () => {
  const cases: Array<[string, RegExp]> = [
    ["hf://org/nope/config.json", /repository not found: model 'org\/nope'/],
    ["hf://datasets/org/nope/x.csv", /repository not found: dataset 'org\/nope'/],
    ["hf://org/weights@no-such-branch/config.json", /revision 'no-such-branch' not found in model 'org\/weights'/],
    [`hf://org/weights@${"f".repeat(40)}/config.json`, /revision 'f{40}' not found in model 'org\/weights'/],
    ["hf://org/weights/missing.json", /no file or directory 'missing.json' in model 'org\/weights' at revision 'main'/],
    ["hf://org/weights/nodir/x.json", /no file or directory 'nodir' in model 'org\/weights'/],
    ["hf://org/weights/sub/nope.txt", /no file or directory 'sub\/nope.txt'/],
  ];
  for (const [url, message] of cases) {
    it(`${url.slice(5)} is ENOENT for info, catFile, open and ls, and exists is false`, async () => {
      const fs = hf();
      const name = fs.normalizePath(url);
      for (const call of [() => fs.info(url), () => fs.catFile(url), () => fs.open(url), () => fs.ls(url)]) {
        const err = await errorOf(call(), "ENOENT");
        expect(err.message).toMatch(message);
        expect(err.path).toBe(name);
      }
      expect(await fs.exists(url)).toBe(false);
      expect(await fs.find(url)).toEqual([]);
    });
  }

  it("find of a missing repo is [] and leaves nothing cached", async () => {
    const fs = hf();
    expect(await fs.find("hf://org/nope", { withDirs: true })).toEqual([]);
    expect(await fs.glob("hf://org/nope/**")).toEqual([]);
    expect(fs.dircache?.size).toBe(0);
  });

  it("reading a directory is EISDIR; listing the Hub's root is EINVAL", async () => {
    const fs = hf();
    await errorOf(fs.catFile("hf://org/weights/sub"), "EISDIR");
    await errorOf(fs.catFile("hf://org/weights"), "EISDIR");
    await errorOf(fs.open("hf://org/weights/sub"), "EISDIR");
    await errorOf(fs.ls("hf://org"), "EINVAL");
  });
});

describe("under a filecache layer", () => {
  it("urlToFs('filecache::hf://...') downloads once; the second read makes no request", async () => {
    const cacheStorage = await mkdtemp(join(tmpdir(), "hf-filecache-"));
    try {
      const options = { filecache: { cacheStorage }, hf: { endpoint: srv.url, token: false, retryDelay: 1 } };
      const { fs, path } = await urlToFs("filecache::hf://org/weights/model.bin", options);
      expect(path).toBe("org/weights/model.bin");
      expectBytes(await fs.catFile(path), WEIGHTS);
      expect(srv.count("cdn")).toBeGreaterThan(0);
      srv.resetCounts();
      expectBytes(await fs.catFile(path), WEIGHTS);
      expectBytes(await fs.catFile(path, 100, 200), WEIGHTS.subarray(100, 200));
      expect(srv.count()).toBe(0);
      // A new process's view of the same cache directory: still no request.
      clearInstanceCache();
      const again = await urlToFs("filecache::hf://org/weights/model.bin", options);
      expect(again.fs).not.toBe(fs);
      expectBytes(await again.fs.catFile(again.path), WEIGHTS);
      expect(srv.count()).toBe(0);
    } finally {
      clearInstanceCache();
      await rm(cacheStorage, { recursive: true, force: true });
    }
  });

  it("a download whose bytes do not match the LFS sha256 is refused, not cached", async () => {
    const cacheStorage = await mkdtemp(join(tmpdir(), "hf-filecache-"));
    try {
      srv.createRepo("org/corrupt");
      const data = pattern(5_000, 5);
      srv.commit("org/corrupt", { "w.bin": { data, lfs: true } });
      srv.tamper(sha256(data), pattern(5_000, 6));
      const { fs, path } = await urlToFs("filecache::hf://org/corrupt/w.bin", { filecache: { cacheStorage }, hf: { endpoint: srv.url, token: false, skipInstanceCache: true } });
      const err = await errorOf(fs.catFile(path), "EIO");
      expect(err.message).toMatch(/sha256/);
    } finally {
      clearInstanceCache();
      await rm(cacheStorage, { recursive: true, force: true });
    }
  });
});

describe("Package over hf://", () => {
  // The default, the Hugging Face cache, is tested in hub-cache.test.ts.
  it("with hfCache: false, resolves checkpoint files into the whole-file cache, downloading each once", async () => {
    const storage = await mkdtemp(join(tmpdir(), "hf-package-"));
    try {
      const options = { fsOptions: { hf: { endpoint: srv.url, token: false, skipInstanceCache: true } }, hfCache: false, cacheOptions: { cacheStorage: storage }, progress: false as const };
      const pkg = new Package("hf://org/weights", options);
      const weights = await pkg.resolve("model.bin");
      expect(weights.startsWith(`${storage}/`)).toBe(true);
      expectBytes(new Uint8Array(await readFile(weights)), WEIGHTS);
      expect(await readFile(await pkg.resolve("sub/x.txt"), "utf8")).toBe("x");
      srv.resetCounts();
      expect(await new Package("hf://org/weights", options).resolve("model.bin")).toBe(weights);
      expect(srv.count()).toBe(0);
      await expect(pkg.resolve("missing.bin")).rejects.toMatchObject({ code: "ENOENT" });
    } finally {
      await rm(storage, { recursive: true, force: true });
    }
  });
});
