/**
 * Package.extract and the cache layer's extracted folders: zip, tar and tar.gz packages on the
 * HTTP test server are extracted once beside their cached copy (in this process and across
 * processes), members that could land outside are refused, a changed archive is extracted
 * again, and the cache's size, listing, prune and clear count extracted folders with their
 * archives.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Package, WholeFileCacheFileSystem } from "../../src/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { extractArchive } from "../../src/models/extract.js";
import { buildArchive, python, type ArchiveKind } from "../archives/helpers.js";
import { codeOf, errorOf } from "../support/errors.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { bytes, sha256 } from "./support/package-files.js";
import { downloadCount } from "../support/http-requests.js";

const CHILD = fileURLToPath(new URL("./support/extract-child.ts", import.meta.url));
/** The files of the archive: 91,852 bytes in all. */
const TREE = {
  "weights/fcn.mdlus": bytes(60_000, 1),
  "weights/extra.bin": bytes(31_000, 2),
  "config.json": `${JSON.stringify({ layers: 12, width: 256, note: "x".repeat(816) })}\n`,
  "README.md": "",
};
const TREE_BYTES = Object.values(TREE).reduce((n, d) => n + (typeof d === "string" ? Buffer.byteLength(d) : d.byteLength), 0);

let server: TestHttpServer;
let dir: string;
let caches = 0;
const cacheDir = () => join(dir, `c${++caches}`);
const archives: Partial<Record<ArchiveKind, Uint8Array>> = {};

beforeAll(async () => {
  server = await startHttpServer();
  dir = await mkdtemp(join(tmpdir(), "fsspec-extract-"));
  for (const kind of ["zip", "tar", "tgz"] as const) {
    archives[kind] = buildArchive(kind, TREE);
    server.setFile(`/pkg/model.${kind === "tgz" ? "tar.gz" : kind}`, archives[kind]!);
  }
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  delete process.env.FSSPEC_TS_OFFLINE;
});

/** Every file below `root` with its bytes' sha256, by relative path. */
async function tree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    out[full.slice(root.length + 1)] = sha256(await readFile(full));
  }
  return out;
}

/** Bytes of every regular file below `root`, as `du --apparent-size` would add them. */
async function bytesBelow(root: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) if (e.isFile()) n += (await stat(join(e.parentPath, e.name))).size;
  return n;
}

const expectedTree = Object.fromEntries(Object.entries(TREE).map(([p, d]) => [p, sha256(d)]));

/** An archive written by Python's zipfile or tarfile: `script` gets the output path as sys.argv[1]. */
function pyArchive(script: string): Uint8Array {
  const out = join(dir, `py-${Math.random().toString(36).slice(2)}`);
  python(`import sys, io, zipfile, tarfile\n${script}`, [out]);
  return new Uint8Array(readFileSync(out));
}

describe("Package.extract", () => {
  for (const [kind, name] of [["zip", "model.zip"], ["tar", "model.tar"], ["tgz", "model.tar.gz"]] as const) {
    it(`${kind}: extracts once into a folder beside the cached archive`, async () => {
      const cacheStorage = cacheDir();
      const pkg = new Package(`${server.url}/pkg`, { cacheOptions: { cacheStorage }, progress: false });
      server.resetCounts();
      const folder = await pkg.extract(name);
      const archive = await pkg.resolve(name);
      expect(dirname(folder)).toBe(dirname(archive));
      expect(basename(folder)).toBe(`${basename(archive)}.extracted`);
      expect(await tree(folder)).toEqual(expectedTree);
      expect(await bytesBelow(folder)).toBe(TREE_BYTES);
      expect(downloadCount(server, `/pkg/${name}`)).toBe(1);
      // Once: the next call (another Package too) returns the same folder without extracting again.
      await writeFile(join(folder, "sentinel"), "kept");
      server.resetCounts();
      const again = await new Package(`${server.url}/pkg`, { cacheOptions: { cacheStorage }, progress: false }).extract(name);
      expect(again).toBe(folder);
      expect(await readFile(join(folder, "sentinel"), "utf8")).toBe("kept");
      expect(server.requestCount()).toBe(0);
      expect((await readdir(cacheStorage)).filter((f) => f.startsWith(".fsspec-extract"))).toEqual([]);
    });
  }

  it("concurrent calls in one process share one extraction", async () => {
    const cacheStorage = cacheDir();
    const cache = new WholeFileCacheFileSystem({ fs: new HTTPFileSystem(), cacheStorage });
    let extractions = 0;
    const extract = async (job: Parameters<typeof extractArchive>[0]) => {
      extractions++;
      await extractArchive(job);
    };
    const url = `${server.url}/pkg/model.zip`;
    const folders = await Promise.all([1, 2, 3, 4].map(() => cache.ensureExtracted(url, { extract })));
    expect(new Set(folders).size).toBe(1);
    expect(extractions).toBe(1);
    expect(await tree(folders[0]!)).toEqual(expectedTree);
  });

  it("racing processes extract once", async () => {
    const cacheStorage = cacheDir();
    const log = join(dir, "extractions.log");
    await writeFile(log, "");
    server.resetCounts();
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", CHILD, `${server.url}/pkg/model.tar.gz`, cacheStorage, log], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let errText = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (errText += d.toString()));
        child.on("exit", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`child ${code}: ${errText}`))));
      });
    const folders = await Promise.all([run(), run(), run(), run()]);
    expect(new Set(folders).size).toBe(1);
    expect((await readFile(log, "utf8")).trim().split("\n")).toHaveLength(1);
    expect(downloadCount(server, "/pkg/model.tar.gz")).toBe(1);
    expect(await tree(folders[0]!)).toEqual(expectedTree);
  }, 60_000);

  it("a folder a killed extraction left is removed by the next one", async () => {
    const cacheStorage = cacheDir();
    const gone = spawn(process.execPath, ["-e", ""]);
    const pid = await new Promise<number>((resolve) => gone.on("exit", () => resolve(gone.pid!)));
    const host = sha256(hostname()).slice(0, 8);
    const left = join(cacheStorage, `.fsspec-extract-${host}-${pid}-0123456789ab`);
    await mkdir(join(left, "half"), { recursive: true });
    await writeFile(join(left, "half", "written.bin"), bytes(1000, 1));
    const folder = await new Package(`${server.url}/pkg`, { cacheOptions: { cacheStorage }, progress: false }).extract("model.zip");
    expect(await tree(folder)).toEqual(expectedTree);
    await expect(stat(left)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("a changed archive is extracted again; the folder of the old one goes", async () => {
    const cacheStorage = cacheDir();
    server.setFile("/changing/a.zip", buildArchive("zip", { "old.txt": "old", "same.txt": "v1" }));
    const pkg = new Package(`${server.url}/changing`, { cacheOptions: { cacheStorage, checkFiles: true }, progress: false });
    const first = await pkg.extract("a.zip");
    expect(await tree(first)).toEqual({ "old.txt": sha256("old"), "same.txt": sha256("v1") });
    server.setFile("/changing/a.zip", buildArchive("zip", { "new.txt": "new", "same.txt": "v2" }));
    const second = await pkg.extract("a.zip");
    expect(second).toBe(first);
    expect(await tree(second)).toEqual({ "new.txt": sha256("new"), "same.txt": sha256("v2") });
  });

  it("a folder not made from the archive's bytes (its stamp disagrees) is made again", async () => {
    const cacheStorage = cacheDir();
    const pkg = new Package(`${server.url}/pkg`, { cacheOptions: { cacheStorage, cacheCheckMs: 0 }, progress: false });
    const folder = await pkg.extract("model.zip");
    await writeFile(join(folder, "stale"), "from another version");
    const md = JSON.parse(await readFile(join(cacheStorage, "cache"), "utf8")) as Record<string, { extracted?: string }>;
    md[`${server.url}/pkg/model.zip`]!.extracted = "f".repeat(64);
    await writeFile(join(cacheStorage, "cache"), JSON.stringify(md));
    expect(await pkg.extract("model.zip")).toBe(folder);
    expect(await tree(folder)).toEqual(expectedTree);
  });

  it("offline: a cached archive is extracted without the network; one never cached is ENOENT", async () => {
    const cacheStorage = cacheDir();
    await new Package(`${server.url}/pkg`, { cacheOptions: { cacheStorage }, progress: false }).resolve("model.tar");
    process.env.FSSPEC_TS_OFFLINE = "1";
    server.resetCounts();
    const pkg = new Package(`${server.url}/pkg`, { cacheOptions: { cacheStorage }, progress: false });
    expect(await tree(await pkg.extract("model.tar"))).toEqual(expectedTree);
    expect(await codeOf(pkg.extract("model.zip"))).toBe("ENOENT");
    expect(server.requestCount()).toBe(0);
  });

  it("a pinned archive that differs is EIO: nothing cached, nothing extracted", async () => {
    const cacheStorage = cacheDir();
    const pkg = new Package(`${server.url}/pkg`, { cacheOptions: { cacheStorage }, progress: false, files: { "model.zip": { sha256: "0".repeat(64) } } });
    const err = await errorOf(pkg.extract("model.zip"));
    expect([err.code, err.detail]).toEqual(["EIO", `checksum mismatch: the download has sha256 ${sha256(archives.zip!)}, the pin says ${"0".repeat(64)}`]);
    expect((await readdir(cacheStorage)).filter((f) => f !== "cache" && !f.startsWith(".fsspec-lock"))).toEqual([]);
    const good = new Package(`${server.url}/pkg`, { cacheOptions: { cacheStorage }, progress: false, files: { "model.zip": { sha256: sha256(archives.zip!) } } });
    expect(await tree(await good.extract("model.zip"))).toEqual(expectedTree);
  });

  it("a read-only layer's archive is used with its extracted folder; without one it is EACCES", async () => {
    const shared = cacheDir();
    const folder = await new Package(`${server.url}/pkg`, { cacheOptions: { cacheStorage: shared }, progress: false }).extract("model.tar");
    const own = cacheDir();
    const layered = () => new Package(`${server.url}/pkg`, { cacheOptions: { cacheStorage: [shared, own] }, progress: false });
    server.resetCounts();
    expect(await layered().extract("model.tar")).toBe(folder);
    expect(server.requestCount()).toBe(0);
    await rm(folder, { recursive: true });
    const err = await errorOf(layered().extract("model.tar"));
    expect([err.code, err.detail]).toEqual(["EACCES", expect.stringContaining("read-only layer")]);
  });

  it("packages without a cache cannot extract (ENOTSUP)", async () => {
    expect(await codeOf(new Package(dir).extract("x.zip"))).toBe("ENOTSUP");
  });
});

describe("members that could land outside are refused", () => {
  const zipWith = (name: string) =>
    pyArchive(`with zipfile.ZipFile(sys.argv[1], "w") as z:\n    z.writestr("ok.txt", "ok")\n    z.writestr(zipfile.ZipInfo(${JSON.stringify(name)}), "evil")`);
  const zipSymlink = (target: string) =>
    pyArchive(
      `with zipfile.ZipFile(sys.argv[1], "w") as z:\n    z.writestr("data/real.txt", "real")\n    i = zipfile.ZipInfo("link")\n    i.create_system = 3\n    i.external_attr = 0o120777 << 16\n    z.writestr(i, ${JSON.stringify(target)})`,
    );
  const tarWith = (kind: string, name: string, linkname = "") =>
    pyArchive(
      `with tarfile.open(sys.argv[1], "w") as t:\n    d = b"real"\n    i = tarfile.TarInfo("data/real.txt"); i.size = len(d); t.addfile(i, io.BytesIO(d))\n    j = tarfile.TarInfo(${JSON.stringify(name)}); j.type = tarfile.${kind}; j.linkname = ${JSON.stringify(linkname)}\n    if j.type == tarfile.REGTYPE:\n        j.size = 4; t.addfile(j, io.BytesIO(b"evil"))\n    else:\n        t.addfile(j)`,
    );

  const cases: Array<[string, () => Uint8Array, string, RegExp]> = [
    ["zip ../", () => zipWith("../evil.txt"), "zip", /'\.\.\/evil\.txt' .*climbs out/],
    ["zip nested ..", () => zipWith("a/../../evil.txt"), "zip", /climbs out/],
    ["zip absolute", () => zipWith("/tmp/evil.txt"), "zip", /absolute path/],
    ["zip drive letter", () => zipWith("C:/evil.txt"), "zip", /absolute path/],
    ["zip backslash", () => zipWith("..\\evil.txt"), "zip", /backslash/],
    ["zip symlink out", () => zipSymlink("../../etc/hostname"), "zip", /'link' .*links outside the archive/],
    ["zip symlink absolute", () => zipSymlink("/etc/hostname"), "zip", /links outside/],
    ["tar ../", () => tarWith("REGTYPE", "../evil.txt"), "tar", /climbs out/],
    ["tar absolute", () => tarWith("REGTYPE", "/evil.txt"), "tar", /absolute path/],
    ["tar symlink out", () => tarWith("SYMTYPE", "link", "../../../etc/passwd"), "tar", /links outside/],
    ["tar symlink absolute", () => tarWith("SYMTYPE", "link", "/etc/passwd"), "tar", /links to '\/etc\/passwd', outside the archive/],
    ["tar symlink to a directory", () => tarWith("SYMTYPE", "link", "data"), "tar", /links to a directory/],
    ["tar hardlink out", () => tarWith("LNKTYPE", "hard", "../../etc/passwd"), "tar", /links to '\.\.\/\.\.\/etc\/passwd', outside the archive/],
    ["tar hardlink to nothing", () => tarWith("LNKTYPE", "hard", "missing.txt"), "tar", /no file of the archive/],
  ];

  for (const [what, make, ext, message] of cases) {
    it(`${what}: EACCES naming the member; nothing extracted, nothing left behind`, async () => {
      const cacheStorage = cacheDir();
      const name = `${what.replace(/\W+/g, "-")}.${ext}`;
      server.setFile(`/evil/${name}`, make());
      const pkg = new Package(`${server.url}/evil`, { cacheOptions: { cacheStorage }, progress: false });
      const err = await errorOf(pkg.extract(name));
      expect(err.code).toBe("EACCES");
      expect(err.message).toMatch(message);
      expect(err.message).toContain("nothing was extracted");
      const left = await readdir(cacheStorage);
      expect(left.filter((f) => f.endsWith(".extracted") || f.startsWith(".fsspec-extract"))).toEqual([]);
      await expect(stat(join(cacheStorage, "..", "evil.txt"))).rejects.toMatchObject({ code: "ENOENT" });
    });
  }

  it("devices and FIFOs refuse the archive (ENOTSUP)", async () => {
    server.setFile("/evil/fifo.tar", tarWith("FIFOTYPE", "pipe"));
    const pkg = new Package(`${server.url}/evil`, { cacheOptions: { cacheStorage: cacheDir() }, progress: false });
    const err = await errorOf(pkg.extract("fifo.tar"));
    expect([err.code, err.message]).toEqual(["ENOTSUP", expect.stringContaining("'pipe' is not a file, directory or link")]);
  });

  it("links to files inside become copies of them; no symlink or hardlink is written", async () => {
    const archive = pyArchive(
      `with tarfile.open(sys.argv[1], "w") as t:\n    d = b"real content"\n    i = tarfile.TarInfo("data/real.txt"); i.size = len(d); i.mode = 0o4755; t.addfile(i, io.BytesIO(d))\n    for name, kind, target in [("inside", tarfile.SYMTYPE, "data/real.txt"), ("chain", tarfile.SYMTYPE, "inside"), ("hard.txt", tarfile.LNKTYPE, "data/real.txt"), ("data/up", tarfile.SYMTYPE, "../inside")]:\n        j = tarfile.TarInfo(name); j.type = kind; j.linkname = target; t.addfile(j)`,
    );
    server.setFile("/links/l.tar", archive);
    const folder = await new Package(`${server.url}/links`, { cacheOptions: { cacheStorage: cacheDir() }, progress: false }).extract("l.tar");
    const real = sha256("real content");
    expect(await tree(folder)).toEqual({ "data/real.txt": real, inside: real, chain: real, "hard.txt": real, "data/up": real });
    for (const p of ["inside", "chain", "data/up"]) expect((await lstat(join(folder, p))).isSymbolicLink()).toBe(false);
    expect((await stat(join(folder, "hard.txt"))).nlink).toBe(1);
    // Permission bits are kept, setuid is not.
    expect((await stat(join(folder, "data/real.txt"))).mode & 0o7777).toBe(0o755);
  });
});

describe("extracted folders in the cache's accounting", () => {
  it("size counts them exactly; ls lists them with their archive; prune, pop and clear remove them", async () => {
    const cacheStorage = cacheDir();
    const pkg = new Package(`${server.url}/pkg`, { cacheOptions: { cacheStorage }, progress: false });
    const folder = await pkg.extract("model.zip");
    const archive = await pkg.resolve("model.zip");
    const cache = new WholeFileCacheFileSystem({ fs: new HTTPFileSystem(), cacheStorage, offline: true });
    expect(TREE_BYTES).toBe(91_852);
    const metadataBytes = (await stat(join(cacheStorage, "cache"))).size;
    expect(await cache.cacheSize()).toBe(metadataBytes + archives.zip!.byteLength + 91_852);
    expect(await cache.cacheSize()).toBe(await bytesBelow(cacheStorage));
    const listed = await cache.listCache();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ path: `${server.url}/pkg/model.zip`, localPath: archive, size: archives.zip!.byteLength, extracted: { localPath: folder, size: 91_852 } });

    // An extracted folder whose archive is gone is listed on its own and pruned.
    await rm(archive);
    expect((await cache.listCache()).map((e) => [e.fn, e.directory, e.size])).toEqual([[basename(folder), true, 91_852]]);
    expect(await cache.clearExpiredCache({ expiryMs: 1e12 })).toEqual([basename(folder)]);
    expect(await readdir(cacheStorage)).toEqual(["cache"]);

    // prune by age takes the archive and its folder (and the entry of the zip removed by hand)
    const again = await pkg.extract("model.tar");
    expect(await cache.clearExpiredCache({ expiryMs: 0 })).toEqual([`${server.url}/pkg/model.zip`, `${server.url}/pkg/model.tar`]);
    await expect(stat(again)).rejects.toMatchObject({ code: "ENOENT" });

    // pop takes both too
    const popped = await pkg.extract("model.tar.gz");
    const online = new WholeFileCacheFileSystem({ fs: new HTTPFileSystem(), cacheStorage });
    expect(await online.popFromCache(`${server.url}/pkg/model.tar.gz`)).toBe(true);
    await expect(stat(popped)).rejects.toMatchObject({ code: "ENOENT" });

    // clear takes everything
    await pkg.extract("model.zip");
    await cache.clearCache();
    expect((await readdir(cacheStorage)).filter((f) => !f.startsWith(".fsspec-lock"))).toEqual(["cache"]);
    expect(await cache.cacheSize()).toBe(await bytesBelow(cacheStorage));
  });
});
