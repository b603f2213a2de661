/**
 * One Hugging Face cache, two tools: the real huggingface_hub (Python) and hfcache read and
 * write the same cache directory against the local Hub, online and offline (HF_HUB_OFFLINE=1)
 * on both sides:
 *   (a) Python downloads, we read offline with zero requests;
 *   (b) we download, Python reads offline (and scan_cache_dir finds nothing wrong);
 *   (c) both at once on one file: one download, whichever starts first (the shared lock);
 *   (d) stale `.incomplete` files break neither side;
 *   (e) a branch that moved: refs/ follows it, old snapshots stay readable by commit;
 *   (f) our extracted archives and our prune leave a cache huggingface_hub scans without a
 *       warning and reads from; its own removal of a revision leaves an orphan our prune removes.
 * The Python is found like moto's (src/testing/python.ts): HF_HUB_PYTHON, the venv .ci/run
 * makes, python3, pyenv. In CI a Python without huggingface_hub fails this file; elsewhere it
 * is skipped with the reason printed.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { lstat, lutimes, mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HubCacheFileSystem, Package } from "../../src/index.js";
import { HuggingFaceFileSystem } from "../../src/implementations/hf.js";
import { startHfServer, type TestHfServer } from "../../src/testing/hf-server.js";
import { findPython, pythonCandidates } from "../../src/testing/python.js";
import { expectBytes, pattern } from "../http/helpers.js";
import { buildArchive } from "../archives/helpers.js";

/** Where .ci/run installs huggingface_hub. */
const CI_VENV_PYTHON = "/tmp/fsspec-ts-hf-venv/bin/python";
const PROBE = "import huggingface_hub, filelock";
const CLIENT = join(dirname(fileURLToPath(import.meta.url)), "..", "support", "hf-hub-client.py");

const python = findPython(PROBE, "HF_HUB_PYTHON", [CI_VENV_PYTHON]);
const missing = `no Python with huggingface_hub among ${pythonCandidates("HF_HUB_PYTHON", [CI_VENV_PYTHON]).join(", ")}; set HF_HUB_PYTHON or run .ci/run's venv step`;
if (!python && process.env.CI) throw new Error(`The Hugging Face cache interop tests need the real huggingface_hub: ${missing}`);
if (!python) console.log(`skipping test/hf/hub-cache-python.test.ts: ${missing}`);

const WEIGHTS = pattern(400_000, 11);
const CONFIG = '{"layers": 2}';
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

let srv: TestHfServer;
let home: string;
let cacheDir: string;
const opened: HuggingFaceFileSystem[] = [];

interface PyResult {
  path?: string;
  error?: string;
  message?: string;
  repos?: Array<{ repo_id: string; repo_type: string; size_on_disk: number; nb_files: number; revisions: Array<{ commit: string; refs: string[]; files: string[] }> }>;
  warnings?: string[];
  deleted?: string[];
  status?: number;
  out?: string;
  err?: string;
}

/** Run the huggingface_hub client; `offline` sets HF_HUB_OFFLINE=1. */
function py(args: string[], options: { offline?: boolean; env?: Record<string, string> } = {}): Promise<PyResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HF_ENDPOINT: srv.url,
    HF_HOME: home,
    HF_HUB_CACHE: cacheDir,
    HF_HUB_OFFLINE: options.offline ? "1" : "0",
    HF_HUB_DISABLE_TELEMETRY: "1",
    HF_HUB_DISABLE_PROGRESS_BARS: "1",
    HF_HUB_DISABLE_IMPLICIT_TOKEN: "1",
    ...options.env,
  };
  delete env.HF_TOKEN;
  delete env.FSSPEC_TS_OFFLINE;
  return new Promise((resolve, reject) => {
    const child = spawn(python!, [CLIENT, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", () => {
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()!) as PyResult);
      } catch {
        reject(new Error(`huggingface_hub client printed no result:\n${out}\n${err}`));
      }
    });
  });
}

async function pyPath(args: string[], options: { offline?: boolean; env?: Record<string, string> } = {}): Promise<string> {
  const result = await py(["download", ...args], options);
  if (!result.path) throw new Error(`huggingface_hub failed: ${result.error}: ${result.message}`);
  return result.path;
}

function layer(offline = false): HubCacheFileSystem {
  const fs = new HuggingFaceFileSystem({ endpoint: srv.url, token: false, retryDelay: 1, timeout: 10_000, skipInstanceCache: true });
  opened.push(fs);
  return new HubCacheFileSystem({ fs, cacheDir, offline, skipInstanceCache: true });
}

/** huggingface_hub's user agent says `hf_hub/<version>`. */
const isPython = (r: { headers: Record<string, unknown> }) => /\bhf_hub\//.test(String(r.headers["user-agent"] ?? ""));
const cdnGets = () => srv.requests.filter((r) => r.kind === "cdn" && r.method === "GET").length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Each case starts Python processes (an import of huggingface_hub is ~1 s alone): a loaded
// 2-core machine needs more than the default 30 s.
describe.skipIf(!python)("huggingface_hub and hfcache share one cache", { timeout: 120_000 }, () => {
  let commit: string;

  beforeAll(async () => {
    srv = await startHfServer({ pageSize: 50 });
    home = await mkdtemp(join(tmpdir(), "hf-home-"));
    srv.createRepo("org/model");
    commit = srv.commit("org/model", { "config.json": CONFIG, "weights.bin": { data: WEIGHTS, lfs: true }, "sub/vocab.txt": "a\nb\n" });
  });
  beforeEach(async () => {
    cacheDir = await mkdtemp(join(home, "hub-"));
    srv.resetCounts();
  });
  afterAll(async () => {
    await Promise.all(opened.map((fs) => fs.close()));
    await srv?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("the local Hub answers huggingface_hub's HEAD: X-Repo-Commit, ETag, X-Linked-Etag/Size on the LFS redirect", async () => {
    await pyPath(["org/model", "weights.bin"]);
    const head = srv.requests.find((r) => r.method === "HEAD");
    expect(head?.path).toBe("/org/model/resolve/main/weights.bin");
    // huggingface_hub stops at the redirect to the CDN (another host) and downloads from there once.
    expect(srv.requests.filter((r) => r.method === "HEAD").length).toBe(1);
    expect(cdnGets()).toBe(1);
  });

  it("(a) Python downloads; we read offline, from the same paths, with zero requests", async () => {
    const paths = {
      config: await pyPath(["org/model", "config.json"]),
      weights: await pyPath(["org/model", "weights.bin"]),
      vocab: await pyPath(["org/model", "sub/vocab.txt"]),
    };
    srv.resetCounts();
    const fs = layer(true);
    expect(await fs.localPath("hf://org/model/config.json")).toBe(paths.config);
    expect(await fs.localPath("hf://org/model/weights.bin")).toBe(paths.weights);
    expect(await fs.localPath(`hf://org/model@${commit}/sub/vocab.txt`)).toBe(paths.vocab);
    expect(await fs.readText("hf://org/model/config.json")).toBe(CONFIG);
    expectBytes(await fs.catFile("hf://org/model/weights.bin"), WEIGHTS);
    expect(srv.count()).toBe(0);
    // Online, at a branch: one revision lookup and no download.
    expect(await layer().localPath("hf://org/model/weights.bin")).toBe(paths.weights);
    expect(srv.requests.map((r) => r.path)).toEqual(["/api/models/org/model/revision/main"]);
    // Offline on both sides: Python finds them again too.
    expect(await pyPath(["org/model", "weights.bin"], { offline: true })).toBe(paths.weights);
  });

  it("(b) we download; Python reads offline, and scan_cache_dir() sees a sound cache", async () => {
    const fs = layer();
    const config = await fs.localPath("hf://org/model/config.json");
    const weights = await fs.localPath("hf://org/model/weights.bin");
    const vocab = await fs.localPath("hf://org/model/sub/vocab.txt");
    srv.resetCounts();
    expect(await pyPath(["org/model", "config.json"], { offline: true })).toBe(config);
    expect(await pyPath(["org/model", "weights.bin", commit], { offline: true })).toBe(weights);
    expect(await pyPath(["org/model", "sub/vocab.txt"], { offline: true })).toBe(vocab);
    expectBytes(new Uint8Array(await readFile(weights)), WEIGHTS);
    const scan = await py(["scan"], { offline: true });
    expect(scan.warnings).toEqual([]);
    expect(scan.repos).toEqual([
      {
        repo_id: "org/model", repo_type: "model", size_on_disk: CONFIG.length + WEIGHTS.byteLength + 4, nb_files: 3,
        revisions: [{ commit, refs: ["main"], files: ["config.json", "sub/vocab.txt", "weights.bin"] }],
      },
    ]);
    // Online too, Python downloads nothing: the blobs are where it looks.
    await pyPath(["org/model", "weights.bin"]);
    expect(srv.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["HEAD /org/model/resolve/main/weights.bin"]);
    expect(srv.requests.every(isPython)).toBe(true);
  });

  it("(b) without symlinks on both sides (HF_HUB_DISABLE_SYMLINKS): copies Python reads", async () => {
    const saved = process.env.HF_HUB_DISABLE_SYMLINKS;
    process.env.HF_HUB_DISABLE_SYMLINKS = "1";
    try {
      const weights = await layer().localPath("hf://org/model/weights.bin");
      expect((await lstat(weights)).isFile()).toBe(true);
      const path = await pyPath(["org/model", "weights.bin"], { offline: true, env: { HF_HUB_DISABLE_SYMLINKS: "1" } });
      expect(path).toBe(weights);
      expectBytes(new Uint8Array(await readFile(path)), WEIGHTS);
    } finally {
      if (saved === undefined) delete process.env.HF_HUB_DISABLE_SYMLINKS;
      else process.env.HF_HUB_DISABLE_SYMLINKS = saved;
    }
  });

  /**
   * `first` starts and is held at the CDN; `second` starts once it is downloading and is given
   * time to reach the lock (`atLock`) before the CDN answers. One CDN GET in all: the second waited.
   */
  async function race(first: () => Promise<string>, second: () => Promise<string>, atLock: (r: (typeof srv.requests)[number]) => boolean): Promise<void> {
    const release = srv.hold("/cdn/lfs/");
    const a = first();
    await expect.poll(cdnGets, { timeout: 20_000 }).toBe(1);
    const b = second();
    await expect.poll(() => srv.requests.some(atLock), { timeout: 20_000 }).toBe(true);
    await sleep(800);
    expect(cdnGets()).toBe(1);
    release();
    const [pathA, pathB] = await Promise.all([a, b]);
    expect(pathB).toBe(pathA);
    expectBytes(new Uint8Array(await readFile(pathA)), WEIGHTS);
    expect(cdnGets()).toBe(1);
  }

  it("(c) Python first, we at the same time: we wait for its lock and download nothing", async () => {
    // Ours is at the lock once it has looked the branch up: that answer states the file's blob.
    await race(() => pyPath(["org/model", "weights.bin"]), () => layer().localPath("hf://org/model/weights.bin"), (r) => !isPython(r) && r.path.includes("/revision/"));
  });

  it("(c) we first, Python at the same time: Python waits for our lock and downloads nothing", async () => {
    // Python is at the lock once it has made its HEAD call.
    await race(() => layer().localPath("hf://org/model/weights.bin"), () => pyPath(["org/model", "weights.bin"]), (r) => isPython(r) && r.method === "HEAD");
  });

  it("(d) stale .incomplete files (ours, or an older huggingface_hub's) break neither side", async () => {
    const blobs = join(cacheDir, "models--org--model", "blobs");
    await mkdir(blobs, { recursive: true });
    const etag = sha256(WEIGHTS);
    const old = new Date(Date.now() - 3 * 3600_000);
    const leave = async (name: string, data: Uint8Array | string) => {
      await writeFile(join(blobs, name), data);
      await utimes(join(blobs, name), old, old);
    };
    // A prefix of the right bytes and plain garbage: neither may be resumed from.
    await leave(`${etag}.incomplete`, WEIGHTS.subarray(0, 1000));
    await leave(`${etag}.deadbeef.incomplete`, "garbage");
    const fromPython = await pyPath(["org/model", "weights.bin"]);
    expectBytes(new Uint8Array(await readFile(fromPython)), WEIGHTS);
    expectBytes(await layer(true).catFile("hf://org/model/weights.bin"), WEIGHTS);

    // The other way round, on a fresh cache: we clear the stale files, Python reads our blob.
    cacheDir = await mkdtemp(join(home, "hub-"));
    const blobs2 = join(cacheDir, "models--org--model", "blobs");
    await mkdir(blobs2, { recursive: true });
    for (const name of [`${etag}.incomplete`, `${etag}.deadbeef.incomplete`]) {
      await writeFile(join(blobs2, name), "garbage");
      await utimes(join(blobs2, name), old, old);
    }
    const ours = await layer().localPath("hf://org/model/weights.bin");
    expect(await readdir(blobs2)).toEqual([etag]);
    expect(await pyPath(["org/model", "weights.bin"], { offline: true })).toBe(ours);
    expectBytes(new Uint8Array(await readFile(ours)), WEIGHTS);
  });

  it("(e) a branch that moved: refs/main follows it; each side reads the new commit, and the old one by sha", async () => {
    srv.createRepo("org/moving");
    const v1 = pattern(50_000, 1);
    const v2 = pattern(50_000, 2);
    const first = srv.commit("org/moving", { "config.json": CONFIG, "w.bin": { data: v1, lfs: true } });
    await pyPath(["org/moving", "config.json"]);
    await pyPath(["org/moving", "w.bin"]);
    const second = srv.commit("org/moving", { "w.bin": { data: v2, lfs: true } });
    srv.resetCounts();
    const fs = layer();
    const w = await fs.localPath("hf://org/moving/w.bin");
    const config = await fs.localPath("hf://org/moving/config.json");
    expect(w).toBe(join(cacheDir, "models--org--moving", "snapshots", second, "w.bin"));
    expectBytes(new Uint8Array(await readFile(w)), v2);
    // config.json did not change: its blob is linked from the new snapshot, not downloaded.
    expect(srv.requests.filter((r) => r.method === "GET" && r.path.endsWith("/config.json"))).toEqual([]);
    expect(await readFile(join(cacheDir, "models--org--moving", "refs", "main"), "utf8")).toBe(second);
    srv.resetCounts();
    expect(await pyPath(["org/moving", "w.bin"], { offline: true })).toBe(w);
    expect(await pyPath(["org/moving", "config.json"], { offline: true })).toBe(config);
    expectBytes(new Uint8Array(await readFile(await pyPath(["org/moving", "w.bin", first], { offline: true }))), v1);
    expectBytes(await layer(true).catFile(`hf://org/moving@${first}/w.bin`), v1);
    expectBytes(await layer(true).catFile("hf://org/moving/w.bin"), v2);
    expect(srv.count()).toBe(0);
  });

  it("(f) extract and prune leave a sound cache for huggingface_hub; its revision removal leaves nothing ours behind", async () => {
    const archive = buildArchive("zip", { "a.txt": "alpha", "d/b.txt": "bravo" });
    srv.createRepo("org/arch");
    const first = srv.commit("org/arch", { "model.zip": { data: archive, lfs: true }, "old.bin": { data: pattern(3000, 5), lfs: true } });
    const second = srv.commit("org/arch", { "config.json": CONFIG, "old.bin": null });
    const pkg = (rev: string) => new Package(`hf://org/arch@${rev}`, { fsOptions: { hf: { endpoint: srv.url, token: false } }, hfCache: { cacheDir }, progress: false });
    const folder = await pkg(first).extract("model.zip");
    expect(await pkg("main").extract("model.zip")).toBe(folder);
    await layer().localPath(`hf://org/arch@${first}/old.bin`);
    await layer().localPath("hf://org/arch/config.json");
    expect(await readFile(join(folder, "d", "b.txt"), "utf8")).toBe("bravo");
    const repo = join(cacheDir, "models--org--arch");
    const blobsSize = archive.byteLength + 3000 + CONFIG.length;
    const sound = async (revisions: Array<{ commit: string; refs: string[]; files: string[] }>, size: number, files: number) => {
      const scan = await py(["scan"], { offline: true });
      expect(scan.warnings).toEqual([]);
      expect(scan.repos).toEqual([{ repo_id: "org/arch", repo_type: "model", size_on_disk: size, nb_files: files, revisions }]);
      const ls = await py(["cache-ls"], { offline: true });
      expect(ls.status).toBe(0);
      expect(ls.out).toContain("model/org/arch");
      expect(`${ls.out}${ls.err}`).not.toMatch(/warning|corrupt/i);
    };
    // The extracted folder is no file of any revision and counts in no size huggingface_hub reports.
    const both = [
      { commit: first, refs: [], files: ["model.zip", "old.bin"] },
      { commit: second, refs: ["main"], files: ["config.json", "model.zip"] },
    ].sort((a, b) => (a.commit < b.commit ? -1 : 1));
    await sound(both, blobsSize, 3);
    expect(await pyPath(["org/arch", "model.zip"], { offline: true })).toBe(join(repo, "snapshots", second, "model.zip"));
    expectBytes(new Uint8Array(await readFile(await pyPath(["org/arch", "model.zip", first], { offline: true }))), archive);

    // Prune the first snapshot: its own blob goes, the archive's stays (the second shows it), with its folder.
    const old = new Date(Date.now() - 10 * 86_400_000);
    for (const f of ["model.zip", "old.bin"]) {
      await utimes(join(repo, "snapshots", first, f), old, old);
      await lutimes(join(repo, "snapshots", first, f), old, old);
    }
    await lutimes(join(repo, "snapshots", second, "model.zip"), new Date(), new Date());
    await utimes(join(repo, "snapshots", second, "config.json"), new Date(), new Date());
    expect((await layer().clearExpiredCache({ expiryMs: 86_400_000 })).sort()).toEqual([`hf://org/arch@${first}/model.zip`, `hf://org/arch@${first}/old.bin`]);
    await sound([{ commit: second, refs: ["main"], files: ["config.json", "model.zip"] }], archive.byteLength + CONFIG.length, 2);
    expectBytes(new Uint8Array(await readFile(await pyPath(["org/arch", "model.zip"], { offline: true }))), archive);
    expect(await readFile(join(folder, "a.txt"), "utf8")).toBe("alpha");

    // huggingface_hub removes the revision (and the blobs only it showed): the folder it never
    // knew of is an orphan, listed as one, and our prune removes it.
    const third = srv.commit("org/arch", { "model.zip": null });
    await layer().localPath(`hf://org/arch@${third}/config.json`);
    expect((await py(["delete", second], { offline: true })).deleted).toEqual([second]);
    const orphan = (await layer().listCache()).filter((e) => e.directory);
    expect(orphan.map((e) => e.localPath)).toEqual([folder]);
    expect(await layer().clearExpiredCache({ expiryMs: 86_400_000 })).toEqual([`models--org--arch/fsspec-ts-extracted/${sha256(archive)}`]);
    await expect(lstat(folder)).rejects.toMatchObject({ code: "ENOENT" });
    // (refs/main named the removed revision: huggingface_hub removed it with it.)
    await sound([{ commit: third, refs: [], files: ["config.json"] }], CONFIG.length, 1);
    // Removing the whole repo its way takes everything of ours with it.
    await pkg(third).resolve("config.json");
    expect((await py(["delete", third], { offline: true })).deleted).toEqual([third]);
    await expect(lstat(repo)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
