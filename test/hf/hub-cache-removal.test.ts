/**
 * Package.extract over the Hugging Face Hub's cache layout (one folder per archive blob, under
 * `<repo folder>/fsspec-ts-extracted/`, once across processes, zip-slip refused), and clearing
 * and pruning such a cache (the layers' calls and the `cache` CLI): what goes, what stays (live
 * downloads, blobs a kept snapshot shows), and that odd names and symlinks never widen it.
 * huggingface_hub scans the result in hub-cache-python.test.ts.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { lstat, lutimes, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HubCacheFileSystem, Package } from "../../src/index.js";
import { HubLock } from "../../src/cached/hub-lock.js";
import { HuggingFaceFileSystem } from "../../src/implementations/hf.js";
import { extractArchive } from "../../src/models/extract.js";
import { startHfServer, type TestHfServer } from "../../src/testing/hf-server.js";
import { buildArchive, python as runPython } from "../archives/helpers.js";
import { cli } from "../support/cli.js";
import { errorOf } from "../support/errors.js";

const CHILD = fileURLToPath(new URL("./support/hub-extract-child.ts", import.meta.url));
const sha256 = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");
const ARCHIVE = buildArchive("zip", { "a.txt": "alpha", "d/b.txt": "bravo" });
const EXPECTED = { "a.txt": sha256("alpha"), "d/b.txt": sha256("bravo") };
const DAY = 86_400_000;

let srv: TestHfServer;
let cacheDir: string;
let first: string;
let second: string;
const opened: HuggingFaceFileSystem[] = [];

function layer(options: Partial<ConstructorParameters<typeof HubCacheFileSystem>[0]> = {}): HubCacheFileSystem {
  const fs = new HuggingFaceFileSystem({ endpoint: srv.url, token: false, retryDelay: 1, timeout: 5_000, skipInstanceCache: true });
  opened.push(fs);
  return new HubCacheFileSystem({ fs, cacheDir, skipInstanceCache: true, ...options });
}

const repoDir = () => join(cacheDir, "models--org--arch");
const extractedDir = (key = sha256(ARCHIVE)) => join(repoDir(), "fsspec-ts-extracted", key);
const extract = (fs: HubCacheFileSystem, path: string) => fs.ensureExtracted(path, { extract: async (job) => void (await extractArchive(job)) });

async function tree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[join(e.parentPath, e.name).slice(root.length + 1)] = sha256(await readFile(join(e.parentPath, e.name)));
  }
  return out;
}

/** Every entry below `root` (symlinks not followed), as sorted relative paths. */
async function entries(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true })).map(String).sort();
}

const exists = (p: string) => lstat(p).then(() => true, () => false);

/** An extraction of `path` that has taken its lock and waits inside until `go()`. */
async function extractionHeldOpen(fs: HubCacheFileSystem, path: string): Promise<{ job: Promise<string>; go: () => void }> {
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  let go!: () => void;
  const proceed = new Promise<void>((r) => (go = r));
  const job = fs.ensureExtracted(path, {
    extract: async (j) => {
      entered();
      await proceed;
      await extractArchive(j);
    },
  });
  await inside;
  return { job, go };
}

/** Make a snapshot file (its link, and the blob it shows) look fetched `ageMs` ago. */
async function age(pointer: string, ageMs: number): Promise<void> {
  const then = new Date(Date.now() - ageMs);
  await utimes(pointer, then, then);
  await lutimes(pointer, then, then);
}

beforeAll(async () => {
  srv = await startHfServer({ pageSize: 50 });
  srv.createRepo("org/arch");
  first = srv.commit("org/arch", { "model.zip": { data: ARCHIVE, lfs: true }, "config.json": "{}", "old.bin": { data: new Uint8Array(3000).fill(7), lfs: true } });
  // The archive is the same blob in both commits; old.bin is the first commit's only.
  second = srv.commit("org/arch", { "config.json": '{"v": 2}', "old.bin": null });
  cacheDir = await mkdtemp(join(tmpdir(), "hf-hub-removal-"));
});
afterEach(async () => {
  await rm(cacheDir, { recursive: true, force: true });
  cacheDir = await mkdtemp(join(tmpdir(), "hf-hub-removal-"));
});
afterAll(async () => {
  await Promise.all(opened.map((fs) => fs.close()));
  await srv.close();
  await rm(cacheDir, { recursive: true, force: true });
});

describe("extract over the Hub cache", () => {
  it("Package.extract makes one folder per archive blob beside the repo's blobs; two snapshots share it", async () => {
    const pkg = (rev: string) => new Package(`hf://org/arch@${rev}`, { fsOptions: { hf: { endpoint: srv.url, token: false } }, hfCache: { cacheDir }, progress: false });
    const folder = await pkg(first).extract("model.zip");
    expect(folder).toBe(extractedDir());
    expect(await tree(folder)).toEqual(EXPECTED);
    const stamp = (await stat(join(folder, "a.txt"))).ino;
    // The other snapshot links the same blob: its extract is the same folder, not extracted again.
    expect(await pkg(second).extract("model.zip")).toBe(folder);
    expect((await stat(join(folder, "a.txt"))).ino).toBe(stamp);
    expect(await readdir(join(repoDir(), "fsspec-ts-extracted"))).toEqual([sha256(ARCHIVE)]);
    // Counted with its archive: listed once, on the first snapshot file showing the blob, and in the size.
    const listed = await layer().listCache();
    const withFolder = listed.filter((e) => e.extracted);
    expect(withFolder.map((e) => [e.path, e.extracted])).toEqual([[`hf://org/arch@${first}/model.zip`, { localPath: folder, size: 10 }]]);
    const blobs = (await readdir(join(repoDir(), "blobs"))).map((b) => join(repoDir(), "blobs", b));
    const tag = (await stat(join(cacheDir, "CACHEDIR.TAG"))).size;
    let blobBytes = 0;
    for (const b of blobs) blobBytes += (await stat(b)).size;
    expect(await layer().cacheSize()).toBe(blobBytes + 10 + tag);
    const text = (await cli("cache", "ls", cacheDir)).out;
    expect(text).toContain(`models--org--arch/fsspec-ts-extracted/${sha256(ARCHIVE)}/ (extracted from it)`);
  });

  it("concurrent calls in one process, and racing processes, extract once", async () => {
    let extractions = 0;
    const fs = layer();
    const folders = await Promise.all([1, 2, 3].map(() => fs.ensureExtracted("hf://org/arch/model.zip", { extract: async (job) => void (extractions++, await extractArchive(job)) })));
    expect(new Set(folders)).toEqual(new Set([extractedDir()]));
    expect(extractions).toBe(1);

    await rm(cacheDir, { recursive: true, force: true });
    await mkdir(cacheDir);
    const log = join(cacheDir, "..", `extract-${Date.now()}.log`);
    await writeFile(log, "");
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", CHILD, srv.url, cacheDir, "hf://org/arch/model.zip", log], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.on("exit", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`child ${code}: ${err}`))));
      });
    const fromChildren = await Promise.all([run(), run(), run()]);
    expect(new Set(fromChildren)).toEqual(new Set([extractedDir()]));
    expect((await readFile(log, "utf8")).trim().split("\n")).toHaveLength(1);
    await rm(log);
    expect(await tree(extractedDir())).toEqual(EXPECTED);
    expect(await readdir(join(repoDir(), "fsspec-ts-extracted"))).toEqual([sha256(ARCHIVE)]);
  }, 60_000);

  it("an unsafe member refuses the archive (EACCES): no folder, no temporary left", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hf-evil-"));
    const file = join(dir, "evil.zip");
    runPython(`import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n    z.writestr("ok.txt", "ok")\n    z.writestr(zipfile.ZipInfo("../evil.txt"), "evil")`, [file]);
    const evil = new Uint8Array(await readFile(file));
    await rm(dir, { recursive: true });
    srv.createRepo("org/evil");
    srv.commit("org/evil", { "evil.zip": { data: evil, lfs: true } });
    const pkg = new Package("hf://org/evil", { fsOptions: { hf: { endpoint: srv.url, token: false } }, hfCache: { cacheDir }, progress: false });
    const err = await errorOf(pkg.extract("evil.zip"));
    expect(err.code).toBe("EACCES");
    expect(err.message).toContain("climbs out");
    expect(await readdir(join(cacheDir, "models--org--evil", "fsspec-ts-extracted"))).toEqual([]);
    expect(await exists(join(cacheDir, "evil.txt"))).toBe(false);
    expect(await exists(join(cacheDir, "models--org--evil", "evil.txt"))).toBe(false);
  });

  it("without symlinks the folder is keyed by the copy's sha256, the same folder as with them", async () => {
    expect(await extract(layer({ symlinks: false }), `hf://org/arch@${first}/model.zip`)).toBe(extractedDir());
    expect(await tree(extractedDir())).toEqual(EXPECTED);
  });

  it("a cache folder reached through a symlink keys the extraction by its blob; a prune keeps the folder of a kept archive", async () => {
    // A regular (not LFS) file: its blob is named by its git id, which is not its sha256.
    srv.createRepo("org/small");
    srv.commit("org/small", { "model.zip": { data: ARCHIVE, lfs: false } });
    const real = await mkdtemp(join(tmpdir(), "hf-hub-real-"));
    const linked = join(cacheDir, "linked");
    await symlink(real, linked);
    try {
      const viaLink = layer({ cacheDir: linked });
      const folder = await extract(viaLink, "hf://org/small/model.zip");
      const blobs = await readdir(join(real, "models--org--small", "blobs"));
      expect(blobs).toHaveLength(1);
      expect(folder).toBe(join(linked, "models--org--small", "fsspec-ts-extracted", blobs[0]!));
      expect((await viaLink.listCache()).filter((e) => e.directory)).toEqual([]);
      expect(await viaLink.clearExpiredCache({ expiryMs: 10 * DAY })).toEqual([]);
      expect(await tree(folder)).toEqual(EXPECTED);
    } finally {
      await rm(real, { recursive: true, force: true });
    }
  });

  it("a clear while an extraction runs leaves its archive: the extraction completes", async () => {
    const fs = layer();
    const { job, go } = await extractionHeldOpen(fs, `hf://org/arch@${first}/model.zip`);
    await layer().clearCache();
    expect(await exists(join(repoDir(), "blobs", sha256(ARCHIVE)))).toBe(true);
    go();
    expect(await tree(await job)).toEqual(EXPECTED);
    // Once it is done, a clear takes it all.
    await layer().clearCache();
    expect(await exists(repoDir())).toBe(false);
  });
});

describe("clearCache and clearExpiredCache over the Hub cache", () => {
  it("clear removes the repo folders with their extracted archives; a live download's file and CACHEDIR.TAG stay", async () => {
    const fs = layer();
    await extract(fs, "hf://org/arch/model.zip");
    await fs.localPath(`hf://org/arch@${first}/old.bin`);
    const blobs = join(repoDir(), "blobs");
    const live = join(blobs, `${"a".repeat(64)}.0a1b2c3d.incomplete`);
    const idle = join(blobs, `${"b".repeat(64)}.incomplete`);
    await writeFile(live, "downloading");
    await writeFile(idle, "killed");
    const lock = await HubLock.acquire(join(cacheDir, ".locks", "models--org--arch", `${"a".repeat(64)}.lock`));
    try {
      await fs.clearCache();
    } finally {
      await lock.release();
    }
    expect(await entries(repoDir())).toEqual(["blobs", `blobs/${"a".repeat(64)}.0a1b2c3d.incomplete`]);
    expect(await exists(join(cacheDir, "CACHEDIR.TAG"))).toBe(true);
    await fs.clearCache();
    expect(await exists(repoDir())).toBe(false);
    // And the cache works again afterwards.
    expect(await readFile(await fs.localPath("hf://org/arch/config.json"), "utf8")).toBe('{"v": 2}');
  });

  it("prune: expired snapshot files go; a blob goes (with its folder) only when no kept file shows it", async () => {
    const fs = layer();
    await extract(fs, `hf://org/arch@${first}/model.zip`);
    for (const f of ["config.json", "old.bin"]) await fs.localPath(`hf://org/arch@${first}/${f}`);
    await fs.localPath(`hf://org/arch@${second}/config.json`);
    const snap = (c: string, f: string) => join(repoDir(), "snapshots", c, f);
    for (const f of ["model.zip", "config.json", "old.bin"]) await age(snap(first, f), 10 * DAY);
    await mkdir(join(repoDir(), "refs"), { recursive: true });
    await writeFile(join(repoDir(), "refs", "old-tag"), first);
    await writeFile(join(repoDir(), "refs", "main"), second);
    // The second snapshot still needs the archive's blob: only its first snapshot's link goes.
    expect((await fs.clearExpiredCache({ expiryMs: 7 * DAY })).sort()).toEqual(
      [`hf://org/arch@${first}/config.json`, `hf://org/arch@${first}/model.zip`, `hf://org/arch@${first}/old.bin`].sort(),
    );
    expect(await exists(join(repoDir(), "snapshots", first))).toBe(false);
    expect(await exists(join(repoDir(), "refs", "old-tag"))).toBe(false);
    expect((await readFile(join(repoDir(), "refs", "main"), "utf8")).trim()).toBe(second);
    expect(await readdir(join(repoDir(), "blobs"))).not.toContain(sha256(new Uint8Array(3000).fill(7)));
    expect(await exists(join(repoDir(), "blobs", sha256(ARCHIVE)))).toBe(false); // never linked by the second snapshot yet
    expect(await exists(extractedDir())).toBe(false);
  });

  it("prune while an extraction of an expired archive runs: the extraction completes and keeps its archive and folder until the next prune", async () => {
    const fs = layer();
    const { job, go } = await extractionHeldOpen(fs, `hf://org/arch@${first}/model.zip`);
    const blob = join(repoDir(), "blobs", sha256(ARCHIVE));
    await age(join(repoDir(), "snapshots", first, "model.zip"), 10 * DAY);
    await utimes(blob, new Date(Date.now() - 10 * DAY), new Date(Date.now() - 10 * DAY));
    expect(await layer().clearExpiredCache({ expiryMs: 7 * DAY })).toEqual([`hf://org/arch@${first}/model.zip`]);
    expect(await exists(blob)).toBe(true);
    go();
    const folder = await job;
    expect(await tree(folder)).toEqual(EXPECTED);
    // Once it is done, the next prune takes the archive (no snapshot shows it, and it is old) with its folder.
    await layer().clearExpiredCache({ expiryMs: 7 * DAY });
    expect(await exists(blob)).toBe(false);
    expect(await exists(folder)).toBe(false);
  });

  it("prune keeps a blob a kept snapshot links, removes dangling links, idle old downloads and orphaned folders", async () => {
    const fs = layer();
    await extract(fs, `hf://org/arch@${first}/model.zip`);
    await extract(fs, `hf://org/arch@${second}/model.zip`);
    await fs.localPath(`hf://org/arch@${second}/config.json`);
    await age(join(repoDir(), "snapshots", first, "model.zip"), 10 * DAY);
    // The second snapshot's link is new, though the blob it shows is old.
    await lutimes(join(repoDir(), "snapshots", second, "model.zip"), new Date(), new Date());
    const blobs = join(repoDir(), "blobs");
    await symlink("../../blobs/gone", join(repoDir(), "snapshots", second, "dangling.bin"));
    const old = new Date(Date.now() - 10 * DAY);
    const idle = join(blobs, `${"c".repeat(64)}.incomplete`);
    const live = join(blobs, `${"d".repeat(64)}.1234abcd.incomplete`);
    const fresh = join(blobs, `${"e".repeat(64)}.incomplete`);
    for (const f of [idle, live, fresh]) await writeFile(f, "part");
    for (const f of [idle, live]) await utimes(f, old, old);
    await mkdir(join(repoDir(), "fsspec-ts-extracted", "f".repeat(64)), { recursive: true });
    await writeFile(join(repoDir(), "fsspec-ts-extracted", "f".repeat(64), "x"), "orphan");
    const lock = await HubLock.acquire(join(cacheDir, ".locks", "models--org--arch", `${"d".repeat(64)}.lock`));
    let removed: string[];
    try {
      removed = await fs.clearExpiredCache({ expiryMs: 7 * DAY });
    } finally {
      await lock.release();
    }
    expect(removed.sort()).toEqual(
      [
        `hf://org/arch@${first}/model.zip`,
        `hf://org/arch@${second}/dangling.bin`,
        `models--org--arch/blobs/${"c".repeat(64)}.incomplete`,
        `models--org--arch/fsspec-ts-extracted/${"f".repeat(64)}`,
      ].sort(),
    );
    expect(await tree(extractedDir())).toEqual(EXPECTED);
    expect(await exists(join(blobs, sha256(ARCHIVE)))).toBe(true);
    expect(await exists(live)).toBe(true);
    expect(await exists(fresh)).toBe(true);
    expect(await readdir(join(repoDir(), "snapshots", second))).toEqual(["config.json", "model.zip"]);
  });

  it("glob and control characters in names, and symlinks out of the cache, never widen what is removed", async () => {
    const outside = await mkdtemp(join(tmpdir(), "hf-outside-"));
    try {
      await writeFile(join(outside, "precious"), "keep me");
      const odd = ["models--org--a*", "models--org--a[b]", "models--org--a\nb"];
      const plain = ["models--org--ab", "models--org--a", "models--org--b"];
      const old = new Date(Date.now() - 10 * DAY);
      for (const folder of [...odd, ...plain]) {
        const c = "1".repeat(40);
        await mkdir(join(cacheDir, folder, "blobs"), { recursive: true });
        await mkdir(join(cacheDir, folder, "snapshots", c), { recursive: true });
        for (const name of ["*", "x", "x\ny", "[x]"]) {
          const blob = sha256(folder + name);
          await writeFile(join(cacheDir, folder, "blobs", blob), name);
          await symlink(`../../blobs/${blob}`, join(cacheDir, folder, "snapshots", c, name));
          // In the odd repos, only the file named "*" is old; everything in the plain ones is new.
          if (odd.includes(folder) && name === "*") await age(join(cacheDir, folder, "snapshots", c, name), 10 * DAY);
        }
        // A link out of the cache: shows a new file, so it stays; clear removes the link, never what it names.
        await symlink(join(outside, "precious"), join(cacheDir, folder, "snapshots", c, "outside"));
        await lutimes(join(cacheDir, folder, "snapshots", c, "outside"), old, old);
      }
      // A repo folder that is a symlink to a folder outside, and an extracted folder that is one.
      await symlink(outside, join(cacheDir, "models--org--linked"));
      await symlink(outside, join(cacheDir, "models--org--ab", "fsspec-ts-extracted"));
      const before = Object.fromEntries(await Promise.all(plain.map(async (f) => [f, await entries(join(cacheDir, f))])));
      const removed = await layer().clearExpiredCache({ expiryMs: 7 * DAY });
      const c = "1".repeat(40);
      expect(removed.filter((r) => r.endsWith("/*")).length, JSON.stringify(removed)).toBe(3);
      for (const folder of odd) {
        expect((await readdir(join(cacheDir, folder, "snapshots", c))).sort()).toEqual(["[x]", "outside", "x", "x\ny"]);
        expect(await readdir(join(cacheDir, folder, "blobs"))).not.toContain(sha256(`${folder}*`));
        expect((await readdir(join(cacheDir, folder, "blobs"))).length).toBe(3);
      }
      // The plain repos (names an unescaped pattern of the odd ones would match) lost nothing.
      for (const folder of plain) expect(await entries(join(cacheDir, folder))).toEqual(before[folder]);
      await layer().clearCache();
      expect(await readFile(join(outside, "precious"), "utf8")).toBe("keep me");
      expect((await readdir(outside)).sort()).toEqual(["precious"]);
      expect((await readdir(cacheDir)).sort()).toEqual([".locks", "models--org--linked"]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it("the cache CLI clears and prunes a Hub cache (asking first), and clearExpiredCache needs a limit", async () => {
    const fs = layer();
    await extract(fs, "hf://org/arch/model.zip");
    await fs.localPath("hf://org/arch/config.json");
    expect((await errorOf(fs.clearExpiredCache())).code).toBe("EINVAL");
    await age(join(repoDir(), "snapshots", second, "config.json"), 10 * DAY);
    const refused = await cli("cache", "prune", cacheDir, "--older-than", "7d");
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("pass --yes");
    const pruned = await cli("cache", "prune", cacheDir, "--older-than", "7d", "--yes");
    expect(pruned.code).toBe(0);
    expect(pruned.out.trim()).toBe(`removed hf://org/arch@${second}/config.json`);
    expect(await tree(extractedDir())).toEqual(EXPECTED);
    const cleared = await cli("cache", "clear", cacheDir, "--yes");
    expect(cleared.code).toBe(0);
    expect(await exists(repoDir())).toBe(false);
  });
});
