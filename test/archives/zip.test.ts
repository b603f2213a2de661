/**
 * zip:// on archives made by Info-ZIP `zip` and Python's zipfile: listings cross-checked with
 * `unzip` and Python, zip64 (forced, and a sparse archive whose sizes and offsets pass 4 GiB),
 * names, methods, CRC, corruption, symlinks, unsafe names, URL chains, and what it costs in
 * requests over HTTP.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  clearInstanceCache,
  filesystem,
  LocalFileSystem,
  MemoryFileSystem,
  open,
  urlToFs,
  ZipFileSystem,
  type AbstractFileSystem,
  type ArchiveMember,
} from "../../src/index.js";
import { codeOf, errorOf } from "../support/errors.js";
import { downloadCount, isInfoRequest } from "../support/http-requests.js";
import { startHfServer } from "../../src/testing/hf-server.js";
import { expectBytes, text } from "../http/helpers.js";
import {
  buildArchive,
  flipped,
  FSSPEC_PYTHON,
  fsspecListing,
  inMemory,
  expectLinksFollowedInside,
  linkTree,
  python,
  SAMPLE_TREE,
  sampleBytes,
  scratch,
  sizesAndTypes,
  unsafeMemberWarnings,
  useHttpServer,
  writeTree,
} from "./helpers.js";

const work = scratch("fsspec-ts-zip-");
afterAll(() => work.cleanup());

const mem = new MemoryFileSystem();
const zipOf = async (bytes: Uint8Array) => new ZipFileSystem(await inMemory(bytes));

/** An archive file on disk made by `zip` with `args` from a tree (or a prepared directory). */
function zipOnDisk(name: string, files: Record<string, string | Uint8Array>, args: string[] = []): string {
  const src = join(work.dir, `${name}-src`);
  writeTree(src, files);
  const out = join(work.dir, `${name}.zip`);
  execFileSync("zip", ["-q", "-r", ...args, out, "."], { cwd: src });
  return out;
}

const TREE = SAMPLE_TREE;

describe("listing", () => {
  it("names, sizes and types agree with unzip and Python's zipfile; directories are implied", async () => {
    const file = zipOnDisk("listing", TREE);
    const fs = new ZipFileSystem({ fo: file, fs: new LocalFileSystem() });
    const unzipNames = execFileSync("unzip", ["-Z1", file], { encoding: "utf8" }).trim().split("\n");
    const py = JSON.parse(python("import zipfile,sys,json; print(json.dumps({i.filename: i.file_size for i in zipfile.ZipFile(sys.argv[1]).infolist()}))", [file]));
    expect(Object.keys(py).sort()).toEqual([...unzipNames].sort());
    const found = await fs.find("/", { withDirs: true, detail: true });
    expect(Object.keys(found)).toEqual(unzipNames.map((x) => x.replace(/\/$/, "")).sort());
    for (const [name, size] of Object.entries(py)) {
      const info = found[name.replace(/\/$/, "")]!;
      expect(info.type).toBe(name.endsWith("/") ? "directory" : "file");
      if (!name.endsWith("/")) expect(info.size).toBe(size);
    }
    expect(await fs.ls("d", { detail: false })).toEqual(["d/lines.txt", "d/random.bin", "d/sub"]);
    expect(await fs.info("d/lines.txt")).toMatchObject({ name: "d/lines.txt", type: "file", compression: "deflate", size: 63000 });
    expect(((await fs.info("d/lines.txt")).compressedSize as number) < 1000).toBe(true);
    expect(await fs.info("zip://")).toEqual({ name: "", size: 0, type: "directory" });
  });

  it("directories are implied by member paths when the archive has no directory entries (zip -D)", async () => {
    const fs = await zipOf(buildArchive("zip", { "x/y/z.txt": "z" }, { zipArgs: ["-D"] }));
    expect((await fs.members()).map((m) => m.rawName)).toEqual(["x/y/z.txt"]);
    expect(await fs.info("x/y")).toEqual({ name: "x/y", size: 0, type: "directory" });
    expect(await fs.ls("x", { detail: false })).toEqual(["x/y"]);
  });

  it.runIf(FSSPEC_PYTHON)(`find with details matches Python fsspec's ZipFileSystem${FSSPEC_PYTHON ? "" : " [skipped: no Python fsspec]"}`, async () => {
    const file = zipOnDisk("fsspec", TREE);
    const fs = new ZipFileSystem({ fo: file, fs: new LocalFileSystem() });
    expect(await sizesAndTypes(fs, "zip://")).toEqual(fsspecListing("zip", file));
  });

  it("an end-record signature inside the archive comment does not fool the reader", async () => {
    const file = join(work.dir, "comment.zip");
    python(
      "import zipfile,sys\nwith zipfile.ZipFile(sys.argv[1],'w') as z:\n z.writestr('real.txt','real')\n z.comment=b'PK\\x05\\x06'+bytes(18)+b'then more comment'",
      [file],
    );
    expect(readFileSync(file).lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))).toBe(readFileSync(file).byteLength - 39);
    const fs = new ZipFileSystem({ fo: file, fs: new LocalFileSystem() });
    expect(await fs.find("/")).toEqual(["real.txt"]);
  });

  it("an archive with bytes in front (a self-extractor stub) is read through its recorded offsets", async () => {
    const plain = buildArchive("zip", { "a.txt": "after the stub", "b/c.txt": "cc" });
    const stub = new TextEncoder().encode("#!/bin/sh\necho this is a stub\nexit 0\n".repeat(20));
    const fs = await zipOf(new Uint8Array([...stub, ...plain]));
    expect(await fs.readText("a.txt")).toBe("after the stub");
    expect(await fs.readText("b/c.txt")).toBe("cc");
  });
});

describe("reading members", () => {
  it("stored and deflated members, whole and by range, match the source bytes", async () => {
    for (const args of [[], ["-0"]]) {
      const fs = await zipOf(buildArchive("zip", TREE, { zipArgs: args }));
      expect((await fs.info("d/random.bin")).compression).toBe(args.length ? "stored" : "deflate");
      expectBytes(await fs.catFile("d/random.bin"), TREE["d/random.bin"]);
      expectBytes(await fs.catFile("d/random.bin", 1000, 1500), TREE["d/random.bin"].subarray(1000, 1500));
      expectBytes(await fs.catFile("d/random.bin", -10), TREE["d/random.bin"].subarray(-10));
      expect(text(await fs.catFile("d/lines.txt", 7, 14))).toBe("a line\n");
      expect((await fs.catFile("d/sub/empty")).byteLength).toBe(0);
      const ranges = await fs.catRanges(["a.txt", "d/random.bin", "a.txt"], [0, 69_990, 1], [2, 70_000, 4]);
      expect(text(ranges[0] as Uint8Array)).toBe("he");
      expectBytes(ranges[1] as Uint8Array, TREE["d/random.bin"].subarray(69_990));
      expect(text(ranges[2] as Uint8Array)).toBe("ell");
    }
  });

  it("an opened deflated member seeks both ways: forward continues the inflation, backward restarts it", async () => {
    const big = sampleBytes(3 * 2 ** 20, 3);
    const fs = await zipOf(buildArchive("zip", { "big.bin": big }));
    const f = await fs.open("big.bin", "rb", { blockSize: 256 * 1024 });
    f.seek(2_000_000);
    expectBytes(await f.read(1000), big.subarray(2_000_000, 2_001_000));
    f.seek(10);
    expectBytes(await f.read(100), big.subarray(10, 110));
    f.seek(-5, 2);
    expectBytes(await f.read(), big.subarray(-5));
    f.seek(0);
    expectBytes(await f.read(), big);
    await f.close();
  });

  it("a whole read checks the CRC-32: a changed byte of a stored member is EIO", async () => {
    const bytes = buildArchive("zip", { "x.txt": "0123456789" }, { zipArgs: ["-0"] });
    const at = Buffer.from(bytes).indexOf("0123456789");
    const fs = await zipOf(flipped(bytes, at + 3));
    const err = await errorOf(fs.catFile("x.txt"));
    expect(err.code).toBe("EIO");
    expect(err.message).toMatch(/CRC-32 mismatch/);
    expect(err.path).toBe("x.txt");
    // A part is not checked (the CRC covers the whole member).
    expect(text(await fs.catFile("x.txt", 0, 3))).toBe("012");
  });

  it("a damaged deflated member is EIO, whether the inflater or the CRC notices", async () => {
    const bytes = buildArchive("zip", { "t.txt": "some text that deflates ".repeat(400) });
    const fs = await zipOf(bytes);
    const info = await fs.info("t.txt");
    // Damage a byte in the middle of the compressed data (it follows the local header and name).
    const dataAt = 30 + "t.txt".length + 28 + Math.floor((info.compressedSize as number) / 2);
    const broken = await zipOf(flipped(bytes, dataAt));
    expect(await codeOf(broken.catFile("t.txt"))).toBe("EIO");
    const f = await broken.open("t.txt");
    expect(await codeOf(f.read())).toBe("EIO");
    await f.close();
  });

  it("a member that inflates past its recorded size is stopped there: EIO (a zip bomb does not fill memory)", async () => {
    const file = join(work.dir, "bomb.zip");
    python(
      "import zipfile,sys,struct\nwith zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED) as z: z.writestr('zeros.bin', bytes(50*2**20))\nd=bytearray(open(sys.argv[1],'rb').read()); c=d.rfind(b'PK\\x01\\x02'); d[c+24:c+28]=struct.pack('<I',1000)\nopen(sys.argv[1],'wb').write(d)",
      [file],
    );
    const fs = new ZipFileSystem({ fo: file, fs: new LocalFileSystem() });
    expect(await fs.size("zeros.bin")).toBe(1000);
    const err = await errorOf(fs.catFile("zeros.bin"));
    expect(err.code).toBe("EIO");
    expect(err.message).toMatch(/more than its recorded size of 1000 bytes/);
  });

  it("methods other than stored and deflate, and encrypted members, are ENOTSUP naming what they are", async () => {
    const file = join(work.dir, "methods.zip");
    python(
      "import zipfile,sys\nwith zipfile.ZipFile(sys.argv[1],'w') as z:\n z.writestr('b.txt','bz'*100,compress_type=zipfile.ZIP_BZIP2)\n z.writestr('l.txt','lz'*100,compress_type=zipfile.ZIP_LZMA)\n z.writestr('s.txt','ok')",
      [file],
    );
    const fs = new ZipFileSystem({ fo: file, fs: new LocalFileSystem() });
    expect(await fs.info("b.txt")).toMatchObject({ size: 200, compression: "bzip2" });
    const bz = await errorOf(fs.catFile("b.txt"));
    expect(bz.code).toBe("ENOTSUP");
    expect(bz.message).toMatch(/bzip2 \(method 12\)/);
    expect((await errorOf(fs.open("l.txt"))).message).toMatch(/lzma \(method 14\)/);
    expect(await fs.readText("s.txt")).toBe("ok");

    const src = join(work.dir, "enc-src");
    writeTree(src, { "secret.txt": "hidden" });
    const enc = join(work.dir, "enc.zip");
    execFileSync("zip", ["-q", "-P", "pw", enc, "secret.txt"], { cwd: src });
    const encrypted = new ZipFileSystem({ fo: enc, fs: new LocalFileSystem() });
    expect(await encrypted.info("secret.txt")).toMatchObject({ encrypted: true, size: 6 });
    const e = await errorOf(encrypted.catFile("secret.txt"));
    expect(e.code).toBe("ENOTSUP");
    expect(e.message).toMatch(/encrypted/);
  });
});

describe("zip64", () => {
  it("zip -fz (zip64 end records and extra fields) lists and reads like a plain archive", async () => {
    const bytes = buildArchive("zip", TREE, { zipArgs: ["-fz"] });
    expect(Buffer.from(bytes).includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true);
    const fs = await zipOf(bytes);
    expect(await fs.find("/")).toEqual(["a.txt", "d/lines.txt", "d/random.bin", "d/sub/empty", "top.md"]);
    expectBytes(await fs.catFile("d/random.bin"), TREE["d/random.bin"]);
    expect(await fs.readText("d/lines.txt")).toBe(TREE["d/lines.txt"]);
  });

  it("Python's force_zip64 (a zip64 local extra longer than the central one) reads right", async () => {
    const file = join(work.dir, "force64.zip");
    python(
      "import zipfile,sys\nwith zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED) as z:\n with z.open('f.txt','w',force_zip64=True) as w: w.write(b'forced '*1000)\n with z.open('g.txt','w',force_zip64=True) as w: w.write(b'g')",
      [file],
    );
    const fs = new ZipFileSystem({ fo: file, fs: new LocalFileSystem() });
    expect(await fs.readText("f.txt")).toBe("forced ".repeat(1000));
    expect(await fs.readText("g.txt")).toBe("g");
  });

  it("a sparse archive whose member sizes and offsets pass 4 GiB (checked against Python's zipfile)", async () => {
    const file = join(work.dir, "huge.zip");
    python(ZIP64_SPARSE_SCRIPT, [file]);
    const py = JSON.parse(
      python("import zipfile,sys,json; z=zipfile.ZipFile(sys.argv[1]); print(json.dumps([[i.filename,i.file_size,i.header_offset] for i in z.infolist()]+[z.read('after.txt').decode()]))", [file]),
    );
    const BIG = 5 * 2 ** 30;
    expect(py).toEqual([["big.bin", BIG, 0], ["after.txt", 9, BIG + 57], "tail data"]);
    const fs = new ZipFileSystem({ fo: file, fs: new LocalFileSystem() });
    expect(await fs.info("big.bin")).toMatchObject({ size: BIG, type: "file", compression: "stored" });
    expect(await fs.readText("after.txt")).toBe("tail data");
    expectBytes(await fs.catFile("big.bin", 4.5 * 2 ** 30, 4.5 * 2 ** 30 + 8), new Uint8Array(8));
    const f = await fs.open("after.txt");
    f.seek(5);
    expect(text(await f.read())).toBe("data");
    await f.close();
  });
});

describe("names", () => {
  it("UTF-8 names (flag bit 11) and CP437 names without the flag", async () => {
    const file = join(work.dir, "names.zip");
    // Python flags non-ASCII names as UTF-8; the second name is patched to a raw CP437 byte.
    python(
      "import zipfile,sys\nwith zipfile.ZipFile(sys.argv[1],'w') as z:\n z.writestr('données/été.txt','utf')\n z.writestr('cafX.txt','cp')\nd=open(sys.argv[1],'rb').read().replace(b'cafX.txt',b'caf\\x82.txt')\nopen(sys.argv[1],'wb').write(d)",
      [file],
    );
    const pyNames = JSON.parse(python("import zipfile,sys,json; print(json.dumps(zipfile.ZipFile(sys.argv[1]).namelist()))", [file]));
    expect(pyNames).toEqual(["données/été.txt", "café.txt"]);
    const fs = new ZipFileSystem({ fo: file, fs: new LocalFileSystem() });
    expect(await fs.find("/")).toEqual(["café.txt", "données/été.txt"]);
    expect(await fs.readText("café.txt")).toBe("cp");
    expect(await fs.readText("données/été.txt")).toBe("utf");
  });

  it("unsafe names are not listed, members() reports them raw, and a warning says so", async () => {
    const file = join(work.dir, "unsafe.zip");
    python(
      "import zipfile,sys\nwith zipfile.ZipFile(sys.argv[1],'w') as z:\n for n in ['../evil.txt','ok/../../x.txt','/abs/root.txt','win\\\\path.txt','nulXname','good.txt']: z.writestr(n, n)\nd=open(sys.argv[1],'rb').read().replace(b'nulXname',b'nul\\x00name')\nopen(sys.argv[1],'wb').write(d)",
      [file],
    );
    const warnings = await unsafeMemberWarnings(async () => {
      const fs = new ZipFileSystem({ fo: file, fs: new LocalFileSystem() });
      expect(await fs.find("/", { withDirs: true })).toEqual(["abs", "abs/root.txt", "good.txt", "win", "win/path.txt"]);
      expect(await fs.readText("abs/root.txt")).toBe("/abs/root.txt");
      const members = await fs.members();
      const byRaw = Object.fromEntries(members.map((m) => [m.rawName, m]));
      expect(byRaw["../evil.txt"]).toMatchObject({ path: undefined, kind: "file", problem: expect.stringMatching(/'\.\.'/) });
      expect(byRaw["ok/../../x.txt"]!.path).toBeUndefined();
      expect(byRaw["nul\0name"]).toMatchObject({ path: undefined, problem: expect.stringMatching(/NUL/) });
      expect(byRaw["win\\path.txt"]!.path).toBe("win/path.txt");
      expect(await codeOf(fs.info("../evil.txt"))).toBe("ENOENT");
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/3 member\(s\).*'\.\.\/evil\.txt'/);
  });

  it("a repeated name: the last member wins, the earlier one is marked shadowed", async () => {
    const file = join(work.dir, "dup.zip");
    python("import zipfile,sys,warnings\nwarnings.simplefilter('ignore')\nwith zipfile.ZipFile(sys.argv[1],'w') as z:\n z.writestr('d.txt','first')\n z.writestr('d.txt','second')", [file]);
    const fs = new ZipFileSystem({ fo: file, fs: new LocalFileSystem() });
    expect(await fs.readText("d.txt")).toBe("second");
    expect((await fs.members()).map((m) => [m.path, m.shadowed ?? false])).toEqual([["d.txt", true], ["d.txt", false]]);
  });
});

describe("symlinks (zip -y)", () => {
  it("are listed as 'other' with islink, read through inside the archive, and never followed outside", async () => {
    const src = join(work.dir, "links-src");
    linkTree(src);
    const file = join(work.dir, "links.zip");
    execFileSync("zip", ["-q", "-r", "-y", file, "."], { cwd: src });
    const fs = new ZipFileSystem({ fo: file, fs: new LocalFileSystem() });
    expect(await fs.info("inside")).toMatchObject({ type: "other", islink: true, size: "data/real.txt".length });
    await expectLinksFollowedInside(fs);
    const kinds = Object.fromEntries((await fs.members()).map((m: ArchiveMember) => [m.rawName, m.kind]));
    expect(kinds).toMatchObject({ inside: "symlink", chain: "symlink", escape: "symlink", "data/real.txt": "file", "data/": "directory" });
  });
});

describe("corrupt and truncated archives are EIO", () => {
  const good = buildArchive("zip", TREE);
  const cases: Array<[string, Uint8Array]> = [
    ["an empty file", new Uint8Array(0)],
    ["random bytes", sampleBytes(5000, 11).map((b) => b ^ 0x55)],
    ["the tail cut off", good.subarray(0, good.byteLength - 10)],
    ["the front cut off", good.subarray(2000)],
    ["the central directory damaged", flipped(good, Buffer.from(good).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 1)],
  ];
  for (const [what, bytes] of cases) {
    it(what, async () => {
      const fs = await zipOf(bytes);
      const err = await errorOf(fs.find("/"));
      expect(err.code).toBe("EIO");
      // And again (a failed index is not kept as a success, nor does it hang).
      expect(await codeOf(fs.ls("/"))).toBe("EIO");
    });
  }

  it("a member whose local header is missing is EIO when read, while the listing stands", async () => {
    const bytes = new Uint8Array(good);
    bytes.set([0, 0, 0, 0], 0); // the first local header's signature
    const fs = await zipOf(bytes);
    const first = (await fs.members())[0]!.path!;
    expect(await fs.exists(first)).toBe(true);
    expect(await codeOf(fs.catFile(first))).toBe("EIO");
  });

  it("a missing archive is ENOENT naming the archive; a directory is EISDIR", async () => {
    const missing = new ZipFileSystem({ fo: "/zip-tests/nope.zip", fs: mem });
    const err = await errorOf(missing.ls("/"));
    expect(err.code).toBe("ENOENT");
    expect(err.path).toBe("/zip-tests/nope.zip");
    await mem.pipeFile("/zip-tests/dir/f", "x");
    expect(await codeOf(new ZipFileSystem({ fo: "/zip-tests/dir", fs: mem }).ls("/"))).toBe("EISDIR");
  });
});

describe("URL chains and options", () => {
  afterEach(() => clearInstanceCache());

  it("zip://member::memory://x.zip, zip::memory://x.zip (the root), and open() through a chain", async () => {
    await mem.pipeFile("/chain/x.zip", buildArchive("zip", TREE));
    const { fs, path } = await urlToFs("zip://d/lines.txt::memory://chain/x.zip");
    expect(fs).toBeInstanceOf(ZipFileSystem);
    expect(path).toBe("d/lines.txt");
    expect((fs as ZipFileSystem).options.fo).toBe("/chain/x.zip");
    expect((await urlToFs("zip::memory://chain/x.zip")).path).toBe("");
    const f = await open("zip://d/lines.txt::memory://chain/x.zip", "r");
    expect(await f.read(7)).toBe("a line\n");
    await f.close();
    // The same URL reuses the instance (and its index).
    expect((await urlToFs("zip://a.txt::memory://chain/x.zip")).fs).toBe(fs);
    expect(fs.unstripProtocol("a.txt")).toBe("zip://a.txt");
  });

  it("through a cache layer: zip://member::filecache::memory://x.zip, then offline from the cached copy", async () => {
    await mem.pipeFile("/chain/c.zip", buildArchive("zip", TREE));
    const cache = join(work.dir, "zip-cache");
    const url = "zip://d/random.bin::filecache::memory://chain/c.zip";
    const { fs, path } = await urlToFs(url, { filecache: { cacheStorage: cache } });
    expectBytes(await fs.catFile(path), TREE["d/random.bin"]);
    await mem.rm("/chain/c.zip");
    // The archive is gone from its store: offline, the index and members come from the cached copy.
    const offline = await urlToFs("zip://a.txt::filecache::memory://chain/c.zip", { filecache: { cacheStorage: cache, offline: true } });
    expect(offline.fs).not.toBe(fs);
    expect(await offline.fs.readText(offline.path)).toBe("hello");
    expect(await offline.fs.find("/d")).toEqual(["d/lines.txt", "d/random.bin", "d/sub/empty"]);
  });

  it("the issue's chain, zip://weights/fcn.mdlus::filecache::hf://org/repo/fcn.zip, over the local Hub", async () => {
    const hub = await startHfServer({ lfsThreshold: 10 });
    try {
      const weights = sampleBytes(300_000, 9);
      hub.createRepo("org/repo");
      hub.commit("org/repo", { "fcn.zip": buildArchive("zip", { "weights/fcn.mdlus": weights, "metadata.json": "{}" }) });
      const options = { hf: { endpoint: hub.url, token: false }, filecache: { cacheStorage: join(work.dir, "hf-cache") } };
      const url = "zip://weights/fcn.mdlus::filecache::hf://org/repo/fcn.zip";
      const { fs, path } = await urlToFs(url, options);
      expectBytes(await fs.catFile(path), weights);
      // The archive is now a local file: other members cost no download.
      hub.resetCounts();
      expect(await fs.readText("metadata.json")).toBe("{}");
      expect(hub.count("cdn") + hub.count("resolve")).toBe(0);
      const hf = (await urlToFs("hf://org/repo/fcn.zip", options.hf)).fs as AbstractFileSystem & { close(): Promise<void> };
      await hf.close();
    } finally {
      await hub.close();
    }
  });

  it("fo as a URL without fs, and targetProtocol / targetOptions through filesystem()", async () => {
    await mem.pipeFile("/chain/o.zip", buildArchive("zip", { "k.txt": "kk" }));
    expect(await new ZipFileSystem({ fo: "memory://chain/o.zip" }).readText("k.txt")).toBe("kk");
    const viaRegistry = await filesystem("zip", { fo: "/chain/o.zip", targetProtocol: "memory", targetOptions: {} });
    expect(await viaRegistry.readText("k.txt")).toBe("kk");
    const local = zipOnDisk("plainpath", { "p.txt": "pp" });
    expect(await new ZipFileSystem({ fo: local }).readText("p.txt")).toBe("pp");
    expect(await codeOf(Promise.resolve().then(() => new ZipFileSystem({} as never)))).toBe("EINVAL");
  });

  it("is read-only: writes are ENOTSUP and change nothing", async () => {
    const fs = await zipOf(buildArchive("zip", { "r.txt": "r" }));
    expect(await codeOf(fs.pipeFile("r.txt", "new"))).toBe("ENOTSUP");
    expect(await codeOf(fs.rm("r.txt"))).toBe("ENOTSUP");
    expect(await fs.readText("r.txt")).toBe("r");
  });
});

describe("requests over HTTP", () => {
  const server = useHttpServer();

  it("stored members, opened, are ranged reads of the archive (one request per read, none for the rest)", async () => {
    const { srv, http } = server;
    const data = sampleBytes(4 * 2 ** 20, 5);
    srv.setFile("/s.zip", buildArchive("zip", { "data.bin": data }, { zipArgs: ["-0"] }));
    const fs = new ZipFileSystem({ fo: `${srv.url}/s.zip`, fs: http });
    await fs.info("data.bin");
    srv.resetCounts();
    const f = await fs.open("data.bin", "rb", { blockSize: 1024, cacheType: "none" });
    f.seek(3_000_000);
    expectBytes(await f.read(100), data.subarray(3_000_000, 3_000_100));
    f.seek(5);
    expectBytes(await f.read(10), data.subarray(5, 15));
    await f.close();
    // One request for the local header, then one per read.
    expect(srv.requestCount()).toBe(3);
    for (const r of srv.requests.slice(1)) expect(r.headers.range).toMatch(/^bytes=\d+-\d+$/);
  });

  it("an opened deflated member: reading on continues one inflation, a backwards seek starts a new one", async () => {
    const { srv, http } = server;
    const data = sampleBytes(6 * 2 ** 20, 8);
    srv.setFile("/d.zip", buildArchive("zip", { "data.bin": data }));
    const fs = new ZipFileSystem({ fo: `${srv.url}/d.zip`, fs: http });
    await fs.info("data.bin");
    srv.resetCounts();
    const f = await fs.open("data.bin", "rb", { blockSize: 64 * 1024, cacheType: "none" });
    for (let at = 0; at < 5_000_000; at += 1_000_000) {
      f.seek(at);
      expectBytes(await f.read(1000), data.subarray(at, at + 1000));
    }
    const forward = srv.requests.map((r) => String(r.headers.range));
    f.seek(100);
    expectBytes(await f.read(1000), data.subarray(100, 1100));
    await f.close();
    const starts = (ranges: string[]) => ranges.map((r) => Number(/bytes=(\d+)-/.exec(r)![1]));
    // Forward: the local header with the first compressed bytes, then chunks, each after the last.
    const s = starts(forward);
    expect(s[0]).toBe(0);
    expect(s.length).toBeGreaterThan(1);
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeGreaterThan(s[i - 1]!);
    // Backwards: the member is read again from its start, and no further than needed.
    const after = starts(srv.requests.slice(forward.length).map((r) => String(r.headers.range)));
    expect(after).toEqual([0]);
    // A part of a deflated member read by catFile: one request, no read-ahead.
    srv.resetCounts();
    expectBytes(await fs.catFile("data.bin", 3_000_000, 3_000_100), data.subarray(3_000_000, 3_000_100));
    await new Promise((r) => setTimeout(r, 50));
    expect(srv.requestCount()).toBe(1);
  });

  it("listing a 1,000-member zip takes a handful of requests, a member one or two, a second listing none", async () => {
    const { srv, http } = server;
    const file = join(work.dir, "many.zip");
    python(
      "import zipfile,sys\nwith zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED) as z:\n for i in range(1000): z.writestr(f'dir{i%10}/member-{i:04}.txt', f'content of {i} '*20)",
      [file],
    );
    srv.setFile("/many.zip", readFileSync(file));
    const fs = new ZipFileSystem({ fo: `${srv.url}/many.zip`, fs: http });
    srv.resetCounts();
    expect(await fs.find("/")).toHaveLength(1000);
    // One info for the size (a HEAD, or a bytes=0-0 GET once the origin announced ranges), one
    // GET of the tail holding the end records and the central directory.
    expect(srv.requests.filter((r) => r.path === "/many.zip" && isInfoRequest(r))).toHaveLength(1);
    expect(downloadCount(srv, "/many.zip")).toBe(1);
    expect(srv.requestCount("/many.zip")).toBe(2);
    srv.resetCounts();
    // A small member comes with its local header in one read.
    expect(await fs.readText("dir7/member-0537.txt")).toBe("content of 537 ".repeat(20));
    expect(srv.requestCount()).toBe(1);
    srv.resetCounts();
    expect(await fs.ls("dir3", { detail: false })).toHaveLength(100);
    expect(srv.requestCount()).toBe(0);
  });

  it("a central directory larger than the first tail read costs one more request", async () => {
    const { srv, http } = server;
    const file = join(work.dir, "wide.zip");
    python(
      "import zipfile,sys\nwith zipfile.ZipFile(sys.argv[1],'w') as z:\n for i in range(4000): z.writestr(f'a/long/directory/name/for/every/member/file-number-{i:05}.bin', b'')",
      [file],
    );
    srv.setFile("/wide.zip", readFileSync(file));
    const fs = new ZipFileSystem({ fo: `${srv.url}/wide.zip`, fs: http });
    srv.resetCounts();
    expect(await fs.find("/")).toHaveLength(4000);
    expect(downloadCount(srv, "/wide.zip")).toBe(2);
    expect(srv.requests.filter((r) => r.path === "/wide.zip" && isInfoRequest(r))).toHaveLength(1);
  });
});

/** A zip with a 5 GiB stored member (a hole in a sparse file) and a member at an offset past 4 GiB. */
const ZIP64_SPARSE_SCRIPT = `
import struct, sys, zlib
path = sys.argv[1]
BIG = 5 * 2**30
n1, n2, data2 = b"big.bin", b"after.txt", b"tail data"
crc2 = zlib.crc32(data2)
MAX32 = 0xFFFFFFFF
with open(path, "wb") as f:
    x1 = struct.pack("<HHQQ", 1, 16, BIG, BIG)
    f.write(struct.pack("<IHHHHHIIIHH", 0x04034b50, 45, 0, 0, 0, 0x21, 0, MAX32, MAX32, len(n1), len(x1)) + n1 + x1)
    f.seek(f.tell() + BIG)
    off2 = f.tell()
    f.write(struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 0, 0, 0x21, crc2, len(data2), len(data2), len(n2), 0) + n2 + data2)
    cd = f.tell()
    f.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 45, 45, 0, 0, 0, 0x21, 0, MAX32, MAX32, len(n1), len(x1), 0, 0, 0, 0, 0) + n1 + x1)
    x2 = struct.pack("<HHQ", 1, 8, off2)
    f.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 45, 45, 0, 0, 0, 0x21, crc2, len(data2), len(data2), len(n2), len(x2), 0, 0, 0, 0, MAX32) + n2 + x2)
    cd_size = f.tell() - cd
    e64 = f.tell()
    f.write(struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, 2, 2, cd_size, cd))
    f.write(struct.pack("<IIQI", 0x07064b50, 0, e64, 1))
    f.write(struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 0xFFFF, 0xFFFF, MAX32, MAX32, 0))
`;
