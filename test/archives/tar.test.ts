/**
 * tar:// on archives made by GNU tar and Python's tarfile: plain and gzip told apart by magic
 * bytes, ustar / pax / GNU / v7 headers, links, unsafe names, corruption, the gzip spool, URL
 * chains, and what it costs in requests over HTTP.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalFileSystem, MemoryFileSystem, open, TarFileSystem, urlToFs } from "../../src/index.js";
import { defaultSpoolLimit } from "../../src/implementations/tar.js";
import { codeOf, errorOf } from "../support/errors.js";
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

const work = scratch("fsspec-ts-tar-");
afterAll(() => work.cleanup());

const mem = new MemoryFileSystem();
const tarOf = async (bytes: Uint8Array, options: Record<string, unknown> = {}) => new TarFileSystem({ ...(await inMemory(bytes)), ...options });

/** GNU tar of `files` (plus `prepare` for links) with `args`, naming the members explicitly (no "./"). */
function tarOnDisk(name: string, files: Record<string, string | Uint8Array>, args: string[] = [], prepare?: (src: string) => void): string {
  const src = join(work.dir, `${name}-src`);
  writeTree(src, files);
  prepare?.(src);
  const out = join(work.dir, name);
  execFileSync("tar", ["-c", ...args, "-f", out, "-C", src, ...readdirSync(src).sort()]);
  return out;
}

const TREE = SAMPLE_TREE;

describe("listing", () => {
  it("names, sizes and types agree with tar -tv and Python's tarfile, plain and gzip", async () => {
    for (const args of [[], ["-z"]]) {
      const file = tarOnDisk(`list${args.join("")}.tar`, TREE, args);
      const tarNames = execFileSync("tar", ["-tf", file], { encoding: "utf8" }).trim().split("\n");
      const py = JSON.parse(python("import tarfile,sys,json; print(json.dumps({m.name: [m.size, m.isdir()] for m in tarfile.open(sys.argv[1])}))", [file]));
      expect(Object.keys(py).sort()).toEqual(tarNames.map((x) => x.replace(/\/$/, "")).sort());
      const fs = new TarFileSystem({ fo: file, fs: new LocalFileSystem() });
      const found = await fs.find("/", { withDirs: true, detail: true });
      expect(Object.keys(found).sort()).toEqual(Object.keys(py).sort());
      for (const [name, [size, isDir]] of Object.entries(py) as Array<[string, [number, boolean]]>) {
        expect(found[name]).toMatchObject({ type: isDir ? "directory" : "file", size: isDir ? 0 : size });
      }
      expect(fs.compression).toBe(args.length ? "gzip" : "none");
      expect(await fs.info("d/lines.txt")).toMatchObject({ mode: expect.any(Number), uid: expect.any(Number), uname: expect.any(String) });
      expect((await fs.info("a.txt")).mtime).toBeInstanceOf(Date);
    }
  });

  it("'./' prefixes (tar -C dir .) are dropped from names; the './' entry is the root", async () => {
    const fs = await tarOf(buildArchive("tar", { "x/y.txt": "y" }));
    expect((await fs.members()).map((m) => [m.rawName, m.path])).toEqual([["./", ""], ["./x/", "x"], ["./x/y.txt", "x/y.txt"]]);
    expect(await fs.find("/", { withDirs: true })).toEqual(["x", "x/y.txt"]);
  });

  it.runIf(FSSPEC_PYTHON)(`find with details matches Python fsspec's TarFileSystem${FSSPEC_PYTHON ? "" : " [skipped: no Python fsspec]"}`, async () => {
    for (const args of [[], ["-z"]]) {
      const file = tarOnDisk(`fsspec${args.join("")}.tar${args.length ? ".gz" : ""}`, TREE, args);
      const fs = new TarFileSystem({ fo: file, fs: new LocalFileSystem() });
      expect(await sizesAndTypes(fs, "tar://")).toEqual(fsspecListing("tar", file));
    }
  });

  it("gzip is recognised by its magic bytes, not by the name", async () => {
    const gz = buildArchive("tgz", TREE);
    const plain = buildArchive("tar", TREE);
    for (const [name, bytes, compression] of [["x.bin", gz, "gzip"], ["y.tar.gz", plain, "none"], ["z.tgz", gz, "gzip"]] as const) {
      await mem.pipeFile(`/tar-tests/${name}`, bytes);
      const fs = new TarFileSystem({ fo: `/tar-tests/${name}`, fs: mem });
      expect(await fs.readText("a.txt")).toBe("hello");
      expect(fs.compression).toBe(compression);
    }
  });
});

describe("header formats", () => {
  const longDir = "very-long-directory-name-".repeat(3);
  const longName = `${longDir}/${"file-name-that-is-long-".repeat(4)}.txt`;

  for (const format of ["pax", "gnu", "ustar", "v7"]) {
    it(`--format=${format}: long names${format === "v7" ? " (short ones: v7 has no long names)" : ""}, directories, content`, async () => {
      const name = format === "v7" ? "short/name.txt" : format === "ustar" ? `${longDir}/${longDir}/short.txt` : longName;
      expect(name.length > 100).toBe(format !== "v7");
      const file = tarOnDisk(`fmt-${format}.tar`, { [name]: "long content", "plain.txt": "p" }, [`--format=${format}`]);
      if (format === "gnu") expect(readFileSync(file).includes("././@LongLink")).toBe(true);
      if (format === "pax") expect(readFileSync(file).includes(` path=${longName}`)).toBe(true);
      if (format === "ustar") expect(readFileSync(file).includes(name)).toBe(false); // split into prefix and name
      const fs = new TarFileSystem({ fo: file, fs: new LocalFileSystem() });
      expect(await fs.find("/")).toEqual([name, "plain.txt"].sort());
      expect(await fs.readText(name)).toBe("long content");
      expect(await fs.isDir(name.split("/")[0]!)).toBe(true);
    });
  }

  it("pax records (UTF-8 path, fractional mtime, large ids) and GNU base-256 numbers, from Python's tarfile", async () => {
    const file = join(work.dir, "python.tar");
    python(
      `import tarfile,sys,io
def add(t, name, data, **kw):
    i = tarfile.TarInfo(name); i.size = len(data)
    for k, v in kw.items(): setattr(i, k, v)
    t.addfile(i, io.BytesIO(data))
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as t:
    add(t, 'données/été.txt', b'utf8 name', mtime=1700000000.5)
    add(t, 'ids.txt', b'ids', uid=2**40, gid=7)
with tarfile.open(sys.argv[2], 'w', format=tarfile.GNU_FORMAT) as t:
    add(t, 'big-uid.txt', b'gnu', uid=2**30, mtime=1600000000)`,
      [file, `${file}.gnu`],
    );
    const fs = new TarFileSystem({ fo: file, fs: new LocalFileSystem() });
    expect(await fs.readText("données/été.txt")).toBe("utf8 name");
    expect((await fs.info("données/été.txt")).mtime).toEqual(new Date(1700000000500));
    expect(await fs.info("ids.txt")).toMatchObject({ uid: 2 ** 40, gid: 7, size: 3 });
    const gnu = new TarFileSystem({ fo: `${file}.gnu`, fs: new LocalFileSystem() });
    expect(await gnu.info("big-uid.txt")).toMatchObject({ uid: 2 ** 30, mtime: new Date(1600000000000) });
    expect(await gnu.readText("big-uid.txt")).toBe("gnu");
  });

  it("old-style directories (a regular-file type with a trailing slash) are directories, as Python reads them", async () => {
    const file = join(work.dir, "olddir.tar");
    const isDir = python(
      "import tarfile,sys\nwith tarfile.open(sys.argv[1],'w',format=tarfile.USTAR_FORMAT) as t:\n i=tarfile.TarInfo('olddir/'); i.type=tarfile.AREGTYPE; t.addfile(i)\nprint(tarfile.open(sys.argv[1]).getmembers()[0].isdir())",
      [file],
    );
    expect(isDir.trim()).toBe("True");
    const fs = new TarFileSystem({ fo: file, fs: new LocalFileSystem() });
    expect(await fs.info("olddir")).toMatchObject({ type: "directory", size: 0 });
    expect((await fs.members())[0]!.kind).toBe("directory");
  });

  it("a member appended again (tar -r): the last one wins, the earlier one is marked shadowed", async () => {
    const file = tarOnDisk("dup.tar", { "f.txt": "first" });
    writeTree(join(work.dir, "dup.tar-src"), { "f.txt": "second!" });
    execFileSync("tar", ["-r", "-f", file, "-C", join(work.dir, "dup.tar-src"), "f.txt"]);
    const fs = new TarFileSystem({ fo: file, fs: new LocalFileSystem() });
    expect(await fs.readText("f.txt")).toBe("second!");
    expect((await fs.members()).map((m) => [m.path, m.shadowed ?? false])).toEqual([["f.txt", true], ["f.txt", false]]);
  });
});

describe("links", () => {
  it("symlinks are 'other' with islink and linkname, read inside the archive only; hardlinks are files with their target's content", async () => {
    for (const args of [[], ["-z"]]) {
      const file = tarOnDisk(`links${args.join("")}.tar`, {}, args, linkTree);
      const fs = new TarFileSystem({ fo: file, fs: new LocalFileSystem() });
      expect(await fs.info("inside")).toMatchObject({ type: "other", islink: true, linkname: "data/real.txt", size: 13 });
      await expectLinksFollowedInside(fs);
      expect(await fs.info("zhard.txt")).toMatchObject({ type: "file", size: 12, linkname: "data/real.txt" });
      expect(await fs.readText("zhard.txt")).toBe("real content");
      const kinds = Object.fromEntries((await fs.members()).map((m) => [m.rawName, [m.kind, m.linkname]]));
      expect(kinds).toMatchObject({
        inside: ["symlink", "data/real.txt"],
        escape: ["symlink", "../../etc/hostname"],
        absolute: ["symlink", "/etc/hostname"],
        "zhard.txt": ["hardlink", "data/real.txt"],
        "data/real.txt": ["file", undefined],
      });
    }
  });

  it("a hardlink to a name that is not a file of the archive is 'other', and reading it is ENOENT", async () => {
    const file = join(work.dir, "dangling.tar");
    python(
      "import tarfile,sys\nwith tarfile.open(sys.argv[1],'w') as t:\n i=tarfile.TarInfo('h'); i.type=tarfile.LNKTYPE; i.linkname='../outside'; t.addfile(i)",
      [file],
    );
    const fs = new TarFileSystem({ fo: file, fs: new LocalFileSystem() });
    expect(await fs.info("h")).toMatchObject({ type: "other", linkname: "../outside" });
    expect(await codeOf(fs.catFile("h"))).toBe("ENOENT");
  });
});

describe("unsafe names", () => {
  it("are not listed; members() reports them with the reason; one warning per archive", async () => {
    const file = join(work.dir, "unsafe.tar");
    python(
      "import tarfile,sys,io\nwith tarfile.open(sys.argv[1],'w') as t:\n for n in ['../evil','a/../../b','/abs/x','back\\\\slash','tab\\there','ok']:\n  i=tarfile.TarInfo(n); d=n.encode(); i.size=len(d); t.addfile(i, io.BytesIO(d))",
      [file],
    );
    const warnings = await unsafeMemberWarnings(async () => {
      const fs = new TarFileSystem({ fo: file, fs: new LocalFileSystem() });
      expect(await fs.find("/", { withDirs: true })).toEqual(["abs", "abs/x", "back", "back/slash", "ok"]);
      expect(await fs.readText("abs/x")).toBe("/abs/x");
      const members = await fs.members();
      expect(members.filter((m) => m.path === undefined).map((m) => [m.rawName, m.problem])).toEqual([
        ["../evil", expect.stringMatching(/'\.\.'/)],
        ["a/../../b", expect.stringMatching(/'\.\.'/)],
        ["tab\there", "the name holds a control character"],
      ]);
    });
    expect(warnings).toHaveLength(1);
  });
});

describe("corrupt, truncated and unsupported archives", () => {
  const plain = buildArchive("tar", TREE);
  const gz = buildArchive("tgz", TREE);
  const cases: Array<[string, Uint8Array, string]> = [
    ["an empty file", new Uint8Array(0), "EIO"],
    ["random bytes", sampleBytes(3000, 5).map((b) => b ^ 0x33), "EIO"],
    ["a damaged header (checksum)", flipped(plain, 512 + 10), "EIO"],
    ["cut inside a header", plain.subarray(0, 512 * 3 + 100), "EIO"],
    ["cut inside a member's data", plain.subarray(0, plain.indexOf(0x61, 512 * 20) + 100), "EIO"],
    ["a gzip stream cut short", gz.subarray(0, gz.byteLength - 200), "EIO"],
    ["a damaged gzip stream", flipped(gz, Math.floor(gz.byteLength / 2)), "EIO"],
    ["a zip archive", buildArchive("zip", { "a.txt": "a" }), "ENOTSUP"],
  ];
  for (const [what, bytes, code] of cases) {
    it(`${what}: ${code}`, async () => {
      const fs = await tarOf(bytes);
      expect(await codeOf(fs.find("/"))).toBe(code);
      expect(await codeOf(fs.ls("/"))).toBe(code);
    });
  }

  for (const [flag, codec] of [["-j", "bzip2"], ["-J", "xz"]]) {
    it.runIf(spawnSync("tar", [flag, "--version"]).status === 0)(`a ${codec}-compressed tar is ENOTSUP naming ${codec}`, async () => {
      const file = tarOnDisk(`c.tar.${codec}`, { "a.txt": "a" }, [flag]);
      const err = await errorOf(new TarFileSystem({ fo: file, fs: new LocalFileSystem() }).ls("/"));
      expect(err.code).toBe("ENOTSUP");
      expect(err.message).toContain(codec);
    });
  }
});

describe("gzip: the decompressed stream is kept by the index pass", () => {
  it("beyond spoolMemoryLimit it goes to an unlinked temporary file; members read right; close() releases it", async () => {
    const spoolDir = join(work.dir, "spool");
    mkdirSync(spoolDir);
    const fs = await tarOf(buildArchive("tgz", TREE), { spoolMemoryLimit: 4096, spoolDir });
    expectBytes(await fs.catFile("d/random.bin"), TREE["d/random.bin"]);
    expect(readdirSync(spoolDir)).toEqual([]); // unlinked while open
    expect(text(await fs.catFile("d/lines.txt", 7, 14))).toBe("a line\n");
    await fs.close();
    expect(await fs.readText("a.txt")).toBe("hello"); // indexed again
  });

  it("a gzip bomb stops at spoolLimit with EIO naming the limit, and leaves nothing behind", async () => {
    // 64 MiB of zeros compress about 1000:1.
    const bomb = buildArchive("tgz", { "zeros.bin": new Uint8Array(64 * 2 ** 20), "b.txt": "after" });
    expect(bomb.byteLength).toBeLessThan(2 ** 20);
    const spoolDir = join(work.dir, "bomb-spool");
    mkdirSync(spoolDir);
    const fs = await tarOf(bomb, { spoolLimit: 2 ** 20, spoolMemoryLimit: 4096, spoolDir });
    const err = await errorOf(fs.ls("/"));
    expect(err.code).toBe("EIO");
    expect(err.message).toContain("spool limit of 1.0M (1048576 bytes; spoolLimit)");
    expect(err.path).toContain(String(fs.options.fo).replace(/^\/+/, ""));
    expect(readdirSync(spoolDir)).toEqual([]);
    // A failed index is not kept: the next call inflates (and stops) again.
    expect(await codeOf(fs.info("b.txt"))).toBe("EIO");
    // Under a limit it fits, the same archive reads whole.
    const roomy = await tarOf(bomb, { spoolLimit: 65 * 2 ** 20, spoolMemoryLimit: 4096, spoolDir });
    expect(await roomy.readText("b.txt")).toBe("after");
    expect((await roomy.info("zeros.bin")).size).toBe(64 * 2 ** 20);
    await roomy.close();
    expect(await codeOf(tarOf(bomb, { spoolLimit: 0 }))).toBe("EINVAL");
  });

  it("the default limit is 16 GiB, or 20 times the archive's size for a bigger archive", () => {
    expect(defaultSpoolLimit(null)).toBe(16 * 2 ** 30);
    expect(defaultSpoolLimit(100 * 2 ** 20)).toBe(16 * 2 ** 30);
    expect(defaultSpoolLimit(2 * 2 ** 30)).toBe(40 * 2 ** 30);
  });

  it("an opened member seeks both ways", async () => {
    const fs = await tarOf(buildArchive("tgz", TREE));
    const data = TREE["d/random.bin"];
    const f = await fs.open("d/random.bin", "rb", { blockSize: 4096 });
    f.seek(40_000);
    expectBytes(await f.read(100), data.subarray(40_000, 40_100));
    f.seek(3);
    expectBytes(await f.read(10), data.subarray(3, 13));
    await f.close();
  });
});

describe("URL chains", () => {
  it("tar://member::memory://x.tar.gz, the root, and open()", async () => {
    await mem.pipeFile("/chain/x.tar.gz", buildArchive("tgz", TREE));
    const { fs, path } = await urlToFs("tar://d/lines.txt::memory://chain/x.tar.gz");
    expect(fs).toBeInstanceOf(TarFileSystem);
    expect(path).toBe("d/lines.txt");
    expect((await urlToFs("tar::memory://chain/x.tar.gz")).path).toBe("");
    const f = await open("tar://d/lines.txt::memory://chain/x.tar.gz", "r");
    expect(await f.read(7)).toBe("a line\n");
    await f.close();
    expect(await fs.find("tar://d")).toEqual(["d/lines.txt", "d/random.bin", "d/sub/empty"]);
  });
});

describe("requests over HTTP", () => {
  const server = useHttpServer();

  const MANY_SCRIPT =
    "import tarfile,sys,io\nwith tarfile.open(sys.argv[1],'w:gz' if sys.argv[1].endswith('gz') else 'w') as t:\n for i in range(1000):\n  d=(f'content of {i} '*20).encode(); m=tarfile.TarInfo(f'dir{i%10}/member-{i:04}.txt'); m.size=len(d); t.addfile(m, io.BytesIO(d))";

  it("a plain tar of 1,000 members: the index takes a handful of ranged reads, a member one", async () => {
    const { srv, http } = server;
    const file = join(work.dir, "many.tar");
    python(MANY_SCRIPT, [file]);
    srv.setFile("/many.tar", readFileSync(file));
    const fs = new TarFileSystem({ fo: `${srv.url}/many.tar`, fs: http });
    srv.resetCounts();
    expect(await fs.find("/")).toHaveLength(1000);
    expect(srv.requestCount()).toBeLessThanOrEqual(3);
    srv.resetCounts();
    expect(await fs.readText("dir7/member-0537.txt")).toBe("content of 537 ".repeat(20));
    expect(srv.requestCount()).toBe(1);
  });

  it("indexing a plain tar of large members fetches little more than its headers", async () => {
    const { srv, http } = server;
    const files = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`big-${i}.bin`, sampleBytes(3 * 2 ** 20, i + 1)]));
    const bytes = buildArchive("tar", files);
    srv.setFile("/big.tar", bytes);
    const fs = new TarFileSystem({ fo: `${srv.url}/big.tar`, fs: http });
    srv.resetCounts();
    expect(await fs.find("/")).toHaveLength(6);
    const fetched = srv.requests.reduce((sum, r) => {
      const [, a, b] = /bytes=(\d+)-(\d+)/.exec(String(r.headers.range))!;
      return sum + Math.min(Number(b) + 1, bytes.byteLength) - Number(a);
    }, 0);
    expect(srv.requestCount()).toBe(7); // one window per header, plus the end marker
    expect(fetched).toBeLessThan(bytes.byteLength / 8);
    srv.resetCounts();
    expectBytes(await fs.catFile("big-4.bin", 1000, 2000), files["big-4.bin"]!.subarray(1000, 2000));
    expect(srv.requestCount()).toBe(1);
  });

  it("a gzip tar: the index reads the archive in a few large requests, members then cost none", async () => {
    const { srv, http } = server;
    const file = join(work.dir, "many.tar.gz");
    python(MANY_SCRIPT, [file]);
    srv.setFile("/many.tar.gz", readFileSync(file));
    const fs = new TarFileSystem({ fo: `${srv.url}/many.tar.gz`, fs: http });
    srv.resetCounts();
    expect(await fs.find("/")).toHaveLength(1000);
    expect(srv.requestCount()).toBeLessThanOrEqual(3);
    srv.resetCounts();
    expect(await fs.readText("dir3/member-0123.txt")).toBe("content of 123 ".repeat(20));
    expect(srv.requestCount()).toBe(0);
  });
});
