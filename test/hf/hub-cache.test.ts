/**
 * hfcache, the Hugging Face Hub's cache layout, against the local Hub: where files land (blobs,
 * snapshots, refs, locks), what costs a request and what does not, offline reads, the copy
 * fallback, corrupt and interrupted downloads, stale `.incomplete` files, the cross-process lock,
 * and Package over hf:// roots. huggingface_hub itself reads and writes the same cache in
 * hub-cache-python.test.ts.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstat, lutimes, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HubCacheFileSystem, MemoryFileSystem, Package, urlToFs, WholeFileCacheFileSystem } from "../../src/index.js";
import { cli } from "../support/cli.js";
import { HuggingFaceFileSystem } from "../../src/implementations/hf.js";
import { hubCacheDir } from "../../src/cached/hub-layout.js";
import { startHfServer, type TestHfServer } from "../../src/testing/hf-server.js";
import { errorOf } from "../support/errors.js";
import { expectBytes, pattern } from "../http/helpers.js";

const WEIGHTS = pattern(200_000, 3);
const CONFIG = '{"hidden": 8}';
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const gitOid = (s: string) => createHash("sha1").update(`blob ${Buffer.byteLength(s)}\0${s}`).digest("hex");

let srv: TestHfServer;
let cacheDir: string;
let commit: string;
const opened: HuggingFaceFileSystem[] = [];

function hf(): HuggingFaceFileSystem {
  const fs = new HuggingFaceFileSystem({ endpoint: srv.url, token: false, retryDelay: 1, timeout: 5_000, skipInstanceCache: true });
  opened.push(fs);
  return fs;
}

function layer(options: Partial<ConstructorParameters<typeof HubCacheFileSystem>[0]> = {}): HubCacheFileSystem {
  return new HubCacheFileSystem({ fs: hf(), cacheDir, skipInstanceCache: true, ...options });
}

const repoDir = (name = "models--org--model") => join(cacheDir, name);
const cdnGets = () => srv.requests.filter((r) => r.kind === "cdn" && r.method === "GET").length;
const downloads = () => srv.requests.filter((r) => r.method === "GET" && (r.kind === "cdn" || r.kind === "resolve")).length;

async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

beforeAll(async () => {
  srv = await startHfServer({ pageSize: 50 });
  srv.createRepo("org/model");
  commit = srv.commit("org/model", { "config.json": CONFIG, "weights.bin": { data: WEIGHTS, lfs: true }, "sub/dir/x.txt": "x" });
});
afterEach(async () => {
  srv.resetCounts();
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  cacheDir = await mkdtemp(join(tmpdir(), "hf-hub-cache-"));
});
afterAll(async () => {
  await Promise.all(opened.map((fs) => fs.close()));
  await srv.close();
  await rm(cacheDir, { recursive: true, force: true });
});
beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "hf-hub-cache-"));
});

describe("the layout", () => {
  it("blobs named by ETag, relative symlinks from snapshots/<commit>, refs/main, the lock files", async () => {
    const fs = layer();
    const config = await fs.localPath("hf://org/model/config.json");
    const weights = await fs.localPath("hf://org/model/weights.bin");
    const nested = await fs.localPath("hf://org/model/sub/dir/x.txt");
    expect(config).toBe(join(repoDir(), "snapshots", commit, "config.json"));
    expect(nested).toBe(join(repoDir(), "snapshots", commit, "sub", "dir", "x.txt"));
    expect((await lstat(config)).isSymbolicLink()).toBe(true);
    expect(await readlink(config)).toBe(`../../blobs/${gitOid(CONFIG)}`);
    expect(await readlink(weights)).toBe(`../../blobs/${sha256(WEIGHTS)}`);
    expect(await readlink(nested)).toBe(`../../../../blobs/${gitOid("x")}`);
    expect(await readFile(config, "utf8")).toBe(CONFIG);
    expectBytes(new Uint8Array(await readFile(weights)), WEIGHTS);
    expect(await readFile(join(repoDir(), "refs", "main"), "utf8")).toBe(commit);
    expect((await readdir(join(repoDir(), "blobs"))).sort()).toEqual([gitOid(CONFIG), gitOid("x"), sha256(WEIGHTS)].sort());
    expect((await readdir(join(cacheDir, ".locks", "models--org--model"))).sort()).toEqual(
      [`${gitOid(CONFIG)}.lock`, `${gitOid("x")}.lock`, `${sha256(WEIGHTS)}.lock`].sort(),
    );
    expect(await readFile(join(cacheDir, "CACHEDIR.TAG"), "utf8")).toMatch(/^Signature: 8a477f597d28d172789f06886806bc55\n/);
  });

  it("datasets-- and spaces-- folders; a ref with slashes nests under refs/", async () => {
    srv.createRepo("datasets/org/data");
    srv.commit("datasets/org/data", { "train.csv": "a,b\n" });
    const pr = srv.commit("datasets/org/data", { "train.csv": "a,b,c\n" }, "refs/pr/1");
    srv.createRepo("spaces/org/app");
    const app = srv.commit("spaces/org/app", { "app.py": "print(1)" });
    const fs = layer();
    const csv = await fs.localPath("hf://datasets/org/data@refs%2Fpr%2F1/train.csv");
    expect(csv).toBe(join(repoDir("datasets--org--data"), "snapshots", pr, "train.csv"));
    expect(await readFile(csv, "utf8")).toBe("a,b,c\n");
    expect(await readFile(join(repoDir("datasets--org--data"), "refs", "refs", "pr", "1"), "utf8")).toBe(pr);
    expect(await fs.localPath("hf://spaces/org/app/app.py")).toBe(join(repoDir("spaces--org--app"), "snapshots", app, "app.py"));
  });

  it("the cache directory: HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub", async () => {
    const cleared = { HF_HUB_CACHE: "", HUGGINGFACE_HUB_CACHE: "", HF_HOME: "", XDG_CACHE_HOME: "" };
    await withEnv({ ...cleared, HF_HUB_CACHE: "/x/hub-cache", HF_HOME: "/y" }, async () => expect(hubCacheDir()).toBe("/x/hub-cache"));
    await withEnv({ ...cleared, HF_HOME: "/y" }, async () => expect(hubCacheDir()).toBe("/y/hub"));
    await withEnv({ ...cleared, XDG_CACHE_HOME: "/z" }, async () => expect(hubCacheDir()).toBe("/z/huggingface/hub"));
    await withEnv({ ...cleared, HF_HUB_CACHE: cacheDir }, async () => {
      expect(new HubCacheFileSystem({ fs: hf(), skipInstanceCache: true }).cacheDir).toBe(cacheDir);
    });
  });
});

describe("what costs a request", () => {
  it("a cached file at a branch: one revision lookup per filesystem; at a commit sha: nothing", async () => {
    await layer().localPath("hf://org/model/weights.bin");
    srv.resetCounts();
    const again = layer();
    const path = await again.localPath("hf://org/model/weights.bin");
    expect(srv.requests.map((r) => r.path)).toEqual(["/api/models/org/model/revision/main"]);
    await again.localPath("hf://org/model/weights.bin");
    expect(srv.count()).toBe(1);
    srv.resetCounts();
    expect(await layer().localPath(`hf://org/model@${commit}/weights.bin`)).toBe(path);
    expect(srv.count()).toBe(0);
  });

  it("concurrent reads of one file in one process: one download", async () => {
    const fs = layer();
    const [a, b, bytes] = await Promise.all([
      fs.localPath("hf://org/model/weights.bin"),
      layer().localPath("hf://org/model/weights.bin"),
      fs.catFile("hf://org/model/weights.bin", 10, 20),
    ]);
    expect(a).toBe(b);
    expectBytes(bytes, WEIGHTS.subarray(10, 20));
    expect(cdnGets()).toBe(1);
  });

  it("a blob another snapshot holds is linked, not downloaded again", async () => {
    srv.createRepo("org/moving");
    const first = srv.commit("org/moving", { "config.json": CONFIG, "weights.bin": { data: WEIGHTS, lfs: true } });
    await layer().localPath("hf://org/moving/weights.bin");
    const second = srv.commit("org/moving", { "README.md": "new" });
    srv.resetCounts();
    const fs = layer();
    const path = await fs.localPath("hf://org/moving/weights.bin");
    expect(path).toBe(join(repoDir("models--org--moving"), "snapshots", second, "weights.bin"));
    expect(downloads()).toBe(0);
    expect(await readlink(path)).toBe(`../../blobs/${sha256(WEIGHTS)}`);
    expect(await readFile(join(repoDir("models--org--moving"), "refs", "main"), "utf8")).toBe(second);
    // The old snapshot stays readable at its commit.
    expectBytes(new Uint8Array(await readFile(await fs.localPath(`hf://org/moving@${first}/weights.bin`))), WEIGHTS);
  });
});

describe("offline (HF_HUB_OFFLINE, FSSPEC_TS_OFFLINE, or the option)", () => {
  it("a branch through refs/, a sha directly, listings from the snapshot; no request at all", async () => {
    await layer().localPath("hf://org/model/config.json");
    await layer().localPath("hf://org/model/sub/dir/x.txt");
    srv.resetCounts();
    const ways: Array<Record<string, string>> = [{ HF_HUB_OFFLINE: "1" }, { FSSPEC_TS_OFFLINE: "1" }, {}];
    for (const vars of ways) {
      await withEnv(vars, async () => {
        const fs = layer(Object.keys(vars).length === 0 ? { offline: true } : {});
        expect(fs.offline).toBe(true);
        expect(await fs.readText("hf://org/model/config.json")).toBe(CONFIG);
        expect(await fs.readText(`hf://org/model@${commit}/sub/dir/x.txt`)).toBe("x");
        expect(await fs.ls("hf://org/model", { detail: false })).toEqual(["org/model/config.json", "org/model/sub"]);
        expect(await fs.info("hf://org/model/config.json")).toEqual({ name: "org/model/config.json", size: CONFIG.length, type: "file" });
        expect(await fs.find("hf://org/model")).toEqual(["org/model/config.json", "org/model/sub/dir/x.txt"]);
        const notCached = await errorOf(fs.localPath("hf://org/model/weights.bin"));
        expect(notCached).toMatchObject({ code: "ENOENT", path: "org/model/weights.bin" });
        expect(notCached.message).toMatch(/offline mode \(HF_HUB_OFFLINE or FSSPEC_TS_OFFLINE\)/);
        const noRef = await errorOf(fs.localPath("hf://org/model@v2/config.json"));
        expect(noRef.code).toBe("ENOENT");
        expect(noRef.message).toContain("revision 'v2' of model 'org/model' is not in the Hugging Face cache");
      });
    }
    expect(srv.count()).toBe(0);
  });
});

describe("without symlinks", () => {
  it("HF_HUB_DISABLE_SYMLINKS: a new blob becomes the snapshot's file; one already in blobs/ is copied", async () => {
    await withEnv({ HF_HUB_DISABLE_SYMLINKS: "1" }, async () => {
      const path = await layer().localPath("hf://org/model/config.json");
      expect((await lstat(path)).isFile()).toBe(true);
      expect(await readFile(path, "utf8")).toBe(CONFIG);
      expect(await readdir(join(repoDir(), "blobs"))).toEqual([]);
    });
    srv.createRepo("org/copies");
    srv.commit("org/copies", { "w.bin": { data: WEIGHTS, lfs: true } });
    await layer().localPath("hf://org/copies/w.bin");
    const next = srv.commit("org/copies", { "other.txt": "o" });
    const copy = await layer({ symlinks: false }).localPath("hf://org/copies/w.bin");
    expect(copy).toBe(join(repoDir("models--org--copies"), "snapshots", next, "w.bin"));
    expect((await lstat(copy)).isFile()).toBe(true);
    expectBytes(new Uint8Array(await readFile(copy)), WEIGHTS);
    expect((await stat(join(repoDir("models--org--copies"), "blobs", sha256(WEIGHTS)))).size).toBe(WEIGHTS.byteLength);
  });
});

describe("downloads that go wrong", () => {
  it("bytes that are not the LFS object: EIO, and neither blob, pointer nor .incomplete is left", async () => {
    srv.createRepo("org/corrupt");
    const data = pattern(5_000, 5);
    const c = srv.commit("org/corrupt", { "w.bin": { data, lfs: true } });
    srv.tamper(sha256(data), pattern(5_000, 6));
    const err = await errorOf(layer().localPath("hf://org/corrupt/w.bin"));
    expect(err).toMatchObject({ code: "EIO", path: "org/corrupt/w.bin" });
    expect(err.message).toMatch(/sha256/);
    expect(await readdir(join(repoDir("models--org--corrupt"), "blobs"))).toEqual([]);
    expect(await readdir(join(repoDir("models--org--corrupt"), "snapshots", c))).toEqual([]);
  });

  it("a regular file whose bytes are not its git blob: EIO naming both ids, nothing published", async () => {
    srv.createRepo("org/bad-config");
    const original = '{"only": "here"}';
    const c = srv.commit("org/bad-config", { "config.json": original });
    srv.tamper(gitOid(original), new TextEncoder().encode(original.replace("here", "HERE")));
    const err = await errorOf(layer().localPath("hf://org/bad-config/config.json"));
    expect(err).toMatchObject({ code: "EIO", path: "org/bad-config/config.json" });
    expect(err.message).toMatch(new RegExp(`git blob id is [0-9a-f]{40}, the Hub's is ${gitOid(original)}`));
    expect(await readdir(join(repoDir("models--org--bad-config"), "blobs"))).toEqual([]);
    expect(await readdir(join(repoDir("models--org--bad-config"), "snapshots", c))).toEqual([]);
  });

  it("a body cut short is resumed; an aborted download leaves nothing behind", async () => {
    srv.breakNext("/cdn/lfs/", 50_000);
    expectBytes(new Uint8Array(await readFile(await layer().localPath("hf://org/model/weights.bin"))), WEIGHTS);
    await rm(cacheDir, { recursive: true, force: true });
    srv.resetCounts();
    const release = srv.hold("/cdn/lfs/");
    const controller = new AbortController();
    const pending = errorOf(layer().localPath("hf://org/model/weights.bin", { signal: controller.signal }));
    await expect.poll(() => cdnGets(), { timeout: 5_000 }).toBe(1);
    controller.abort();
    expect((await pending).code).toBe("EABORT");
    release();
    expect(await readdir(join(repoDir(), "blobs"))).toEqual([]);
    expect(await readdir(join(repoDir(), "snapshots", commit))).toEqual([]);
  });

  it("stale .incomplete files of a blob are removed before its download; a fresh one is left alone", async () => {
    const blobs = join(repoDir(), "blobs");
    await mkdir(blobs, { recursive: true });
    const etag = sha256(WEIGHTS);
    const old = new Date(Date.now() - 2 * 3600_000);
    for (const name of [`${etag}.incomplete`, `${etag}.0badc0de.incomplete`]) {
      await writeFile(join(blobs, name), "garbage from a killed download");
      await utimes(join(blobs, name), old, old);
    }
    await writeFile(join(blobs, `${etag}.5eedf00d.incomplete`), "a download in progress elsewhere");
    expectBytes(new Uint8Array(await readFile(await layer().localPath("hf://org/model/weights.bin"))), WEIGHTS);
    expect((await readdir(blobs)).sort()).toEqual([etag, `${etag}.5eedf00d.incomplete`]);
  });

  it("a blob of the wrong size (damaged) is fetched again", async () => {
    const blobs = join(repoDir(), "blobs");
    await mkdir(blobs, { recursive: true });
    await writeFile(join(blobs, sha256(WEIGHTS)), "truncated");
    expectBytes(new Uint8Array(await readFile(await layer().localPath("hf://org/model/weights.bin"))), WEIGHTS);
    expect(cdnGets()).toBe(1);
  });
});

const hasFlock = spawnSync("flock", ["--version"], { stdio: "ignore" }).status === 0;

describe.skipIf(!hasFlock)("the lock huggingface_hub takes (flock on .locks/<repo>/<etag>.lock)", () => {
  it("a download waits while another process holds the blob's lock, and goes on when it ends", async () => {
    const lockDir = join(cacheDir, ".locks", "models--org--model");
    await mkdir(lockDir, { recursive: true });
    const lockFile = join(lockDir, `${sha256(WEIGHTS)}.lock`);
    // Its own process group, so the sleep goes with it.
    const holder = spawn("flock", ["--exclusive", "--close", lockFile, "-c", "echo locked; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"], detached: true });
    const stopHolder = () => {
      try {
        process.kill(-holder.pid!, "SIGKILL");
      } catch {
        // gone already
      }
    };
    await new Promise<void>((ok) => holder.stdout!.once("data", () => ok()));
    try {
      const err = await errorOf(layer({ lockTimeoutMs: 300 }).localPath("hf://org/model/weights.bin"));
      expect(err.code).toBe("ETIMEDOUT");
      expect(cdnGets()).toBe(0);
      const waiting = layer().localPath("hf://org/model/weights.bin");
      await new Promise((r) => setTimeout(r, 300));
      expect(cdnGets()).toBe(0);
      stopHolder();
      expectBytes(new Uint8Array(await readFile(await waiting)), WEIGHTS);
      expect(cdnGets()).toBe(1);
    } finally {
      stopHolder();
    }
    // The lock file stays (as filelock leaves it) and is free.
    expect((await stat(lockFile)).isFile()).toBe(true);
    const free = spawnSync("flock", ["--nonblock", lockFile, "true"]);
    expect(free.status).toBe(0);
  });
});

describe("as a filesystem", () => {
  it("hfcache::hf:// URLs; open and cat read the snapshot file", async () => {
    const { fs, path } = await urlToFs("hfcache::hf://org/model/weights.bin", {
      hfcache: { cacheDir, skipInstanceCache: true },
      hf: { endpoint: srv.url, token: false, skipInstanceCache: true },
    });
    expect(fs).toBeInstanceOf(HubCacheFileSystem);
    await using f = await fs.open(path);
    f.seek(100_000);
    expectBytes(await f.read(10), WEIGHTS.subarray(100_000, 100_010));
    expect(f.details.localPath).toBe(join(repoDir(), "snapshots", commit, "weights.bin"));
    expectBytes(await fs.catFile(path, -5), WEIGHTS.subarray(-5));
    expect(await fs.ls("hf://org/model", { detail: false })).toEqual(["org/model/config.json", "org/model/sub", "org/model/weights.bin"]);
  });

  it("over anything but the hf backend, or with an unknown or bad option: EINVAL", async () => {
    expect(() => new HubCacheFileSystem({ fs: new MemoryFileSystem(), cacheDir })).toThrow(/hfcache caches the hf backend only/);
    expect(() => new HubCacheFileSystem({ fs: hf(), cacheDir, cacheStorage: "/x" } as never)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => new HubCacheFileSystem({ fs: hf(), cacheDir: "" })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    await expect(layer().localPath("hf://org/model/config.json", { bogus: 1 } as never)).rejects.toMatchObject({ code: "EINVAL" });
    const pkg = new Package("hf://org/model", { fsOptions: { hf: { endpoint: srv.url, token: false } }, hfCache: { cacheDir, sameNames: true } as never });
    await expect(pkg.resolve("config.json")).rejects.toMatchObject({ code: "EINVAL" });
  });
});

describe("managing the cache: the cache CLI and the layers' management calls", () => {
  it("size counts each blob once (two snapshots link one blob), symlinks nothing; ls lists the snapshot files", async () => {
    srv.createRepo("org/shared");
    const first = srv.commit("org/shared", { "config.json": CONFIG, "weights.bin": { data: WEIGHTS, lfs: true } });
    await layer().localPath("hf://org/shared/weights.bin");
    await layer().localPath("hf://org/shared/config.json");
    const second = srv.commit("org/shared", { "README.md": "new" });
    await layer().localPath("hf://org/shared/weights.bin");
    const repo = repoDir("models--org--shared");
    // What is stored: two blobs, refs/main (a sha), the tag; the lock files are empty.
    const stored = WEIGHTS.byteLength + CONFIG.length + 40 + (await stat(join(cacheDir, "CACHEDIR.TAG"))).size;
    expect((await cli("cache", "size", cacheDir)).out.trim()).toBe(String(stored));
    expect(await layer().cacheSize()).toBe(stored);

    const listed = JSON.parse((await cli("cache", "ls", cacheDir, "--json")).out) as Array<Record<string, unknown>>;
    const snapshotFile = (c: string, f: string, data: string | Uint8Array, etag: string) => ({
      path: `hf://org/shared@${c}/${f}`,
      fn: `models--org--shared/snapshots/${c}/${f}`,
      localPath: join(repo, "snapshots", c, f),
      size: typeof data === "string" ? data.length : data.byteLength,
      uid: etag,
      complete: true,
    });
    // In the order of the folders: commits sorted by their sha.
    const expected = [
      snapshotFile(first, "config.json", CONFIG, gitOid(CONFIG)),
      snapshotFile(first, "weights.bin", WEIGHTS, sha256(WEIGHTS)),
      snapshotFile(second, "weights.bin", WEIGHTS, sha256(WEIGHTS)),
    ].sort((a, b) => (a.fn < b.fn ? -1 : 1));
    expect(listed).toMatchObject(expected);
    expect(listed).toHaveLength(3);
    const withoutAge = (e: object) => ({ ...e, ageMs: undefined });
    expect((await layer().listCache()).map(withoutAge)).toEqual(listed.map(withoutAge));
    const text = (await cli("cache", "ls", cacheDir)).out;
    expect(text).toContain(`models--org--shared/snapshots/${second}/weights.bin  <- hf://org/shared@${second}/weights.bin`);
  });

  it("a blob no snapshot shows and a download in progress are listed without a path; copies are counted", async () => {
    await layer({ symlinks: false }).localPath("hf://org/model/config.json");
    const blobs = join(repoDir(), "blobs");
    await mkdir(blobs, { recursive: true });
    await writeFile(join(blobs, "orphan"), "12345");
    await writeFile(join(blobs, `${sha256(WEIGHTS)}.0a1b2c3d.incomplete`), "abc");
    const listed = await layer().listCache();
    expect(listed.map((e) => [e.path, e.fn, e.size, e.complete])).toEqual([
      [`hf://org/model@${commit}/config.json`, `models--org--model/snapshots/${commit}/config.json`, CONFIG.length, true],
      [undefined, `models--org--model/blobs/${sha256(WEIGHTS)}.0a1b2c3d.incomplete`, 3, false],
      [undefined, "models--org--model/blobs/orphan", 5, true],
    ]);
    const stored = CONFIG.length + 5 + 3 + 40 + (await stat(join(cacheDir, "CACHEDIR.TAG"))).size;
    expect(Number((await cli("cache", "size", cacheDir)).out)).toBe(stored);
  });

  it("a whole-file layer pointed at the directory prunes and clears it by the Hub layout too", async () => {
    await layer().localPath("hf://org/model/config.json");
    await layer().localPath("hf://org/model/weights.bin");
    const pointer = join(repoDir(), "snapshots", commit, "config.json");
    const old = new Date(Date.now() - 3600_000);
    await utimes(pointer, old, old);
    await lutimes(pointer, old, old);
    const misplaced = new WholeFileCacheFileSystem({ fs: new MemoryFileSystem(), cacheStorage: cacheDir, skipInstanceCache: true });
    expect(await misplaced.clearExpiredCache({ expiryMs: 60_000 })).toEqual([`hf://org/model@${commit}/config.json`]);
    expect(await readdir(join(repoDir(), "blobs"))).toEqual([sha256(WEIGHTS)]);
    expect(await readFile(join(repoDir(), "snapshots", commit, "weights.bin"))).toEqual(Buffer.from(WEIGHTS));
    await misplaced.clearCache();
    expect(await readdir(cacheDir)).toEqual([".locks", "CACHEDIR.TAG"]);
    expect(await readFile(await layer().localPath("hf://org/model/config.json"), "utf8")).toBe(CONFIG);
  });
});

describe("Package over hf://", () => {
  const fsOptions = () => ({ hf: { endpoint: srv.url, token: false, skipInstanceCache: true } });

  it("uses the Hub's cache by default and resolves to the snapshot path; offline afterwards with no request", async () => {
    await withEnv({ HF_HUB_CACHE: cacheDir }, async () => {
      const pkg = new Package("hf://org/model", { fsOptions: fsOptions(), progress: false });
      const weights = await pkg.resolve("weights.bin");
      expect(weights).toBe(join(repoDir(), "snapshots", commit, "weights.bin"));
      expect(await (await pkg.open("config.json", "r")).read()).toBe(CONFIG);
      await expect(pkg.resolve("missing.bin")).rejects.toMatchObject({ code: "ENOENT", path: "org/model/missing.bin" });
      await expect(pkg.resolve("sub")).rejects.toMatchObject({ code: "EISDIR", path: "org/model/sub" });
      srv.resetCounts();
      await withEnv({ FSSPEC_TS_OFFLINE: "1" }, async () => {
        expect(await new Package("hf://org/model", { fsOptions: fsOptions() }).resolve("weights.bin")).toBe(weights);
      });
      expect(srv.count()).toBe(0);
    });
  });

  it("hfCache: {cacheDir} names the directory; hfCache: false uses the whole-file cache and cacheOptions", async () => {
    const elsewhere = join(cacheDir, "elsewhere");
    const pkg = new Package("hf://org/model", { fsOptions: fsOptions(), hfCache: { cacheDir: elsewhere }, progress: false });
    expect(await pkg.resolve("config.json")).toBe(join(elsewhere, "models--org--model", "snapshots", commit, "config.json"));
    const storage = join(cacheDir, "fsspec");
    const plain = new Package("hf://org/model", { fsOptions: fsOptions(), hfCache: false, cacheOptions: { cacheStorage: storage, sameNames: true }, progress: false });
    expect(await plain.resolve("config.json")).toBe(join(storage, "config.json"));
  });
});
