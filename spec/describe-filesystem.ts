/**
 * The conformance suite: every filesystem, built in or third-party, runs this to show it keeps
 * the contract (listing, bytes, writes, errors, fsspec's glob and copy rules, opened files).
 *
 *   describeFileSystem("mybackend", async () => ({ fs, root: "/scratch/" + id }), { emptyDirectories: false });
 *
 * Capabilities say what a backend cannot do; the matching groups are reported as skipped with
 * the reason in their title rather than silently dropped.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AbstractFileSystem, FsError, MemoryFileSystem, paths, type FileInfo } from "../src/index.js";
import { COPY_ROWS, EDGE_TREE, EXPAND_ROWS, GLOB_ROWS } from "./scenarios/edge-cases.js";
import { EXPAND_LITERAL_ROWS, GLOB_LITERAL_ROWS, LITERAL_TREE, OVERLAP_ROWS, OVERLAP_TREE, QUESTION_TREE } from "./scenarios/data-safety.js";

/** What a backend can do; a group of the suite that needs what it cannot is reported as skipped. */
export interface FileSystemCapabilities {
  /** Writes, deletes and directories can be made (false: read-only; data comes from `seed`). */
  write: boolean;
  /** mkdir makes a directory that is visible while empty (false for object stores). */
  emptyDirectories: boolean;
  /** info carries an `mtime` (modified() works). */
  mtime: boolean;
  /** toJSON / fromJSON round-trip the instance. */
  serializable: boolean;
  /** startTransaction / transaction publish together. */
  transactions: boolean;
  /**
   * Names may hold `?` and are listed as written (false for URLs: `?` starts the query, and a
   * listing names `[` and `]` percent-encoded, as the server wrote them).
   */
  plainNames: boolean;
}

/** What the suite runs on: made afresh for each test by the factory given to `describeFileSystem`. */
export interface FileSystemFixture {
  /** The filesystem under test. */
  fs: AbstractFileSystem;
  /** A fresh, empty directory (path or URL of `fs`) that this test may fill. */
  root: string;
  /** Puts files (paths relative to root) in place; defaults to `fs.pipe`. Read-only backends need it. */
  seed?: (files: Record<string, Uint8Array | string>) => Promise<void>;
  /** Run after the test (remove what it made, close the instance). */
  cleanup?: () => Promise<void>;
}

const DEFAULT_CAPABILITIES: FileSystemCapabilities = {
  write: true,
  emptyDirectories: true,
  mtime: true,
  serializable: true,
  transactions: true,
  plainNames: true,
};

const { joinPath } = paths;

const text = (b: Uint8Array | Error | undefined): string => {
  if (!(b instanceof Uint8Array)) throw new Error(`expected bytes, got ${String(b)}`);
  return new TextDecoder().decode(b);
};

async function expectCode(promise: Promise<unknown>, code: string): Promise<FsError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(FsError);
    expect((err as FsError).code).toBe(code);
    return err as FsError;
  }
  throw new Error(`expected an FsError ${code}, but the call succeeded`);
}

/**
 * Register the conformance suite for a backend in a vitest file: `makeFixture` makes a fresh filesystem
 * and scratch root per test; `capabilities` (default: all true) says what the backend cannot do, and
 * the groups that need it are reported as skipped with the reason in their title. See
 * docs/writing-a-backend.md.
 */
export function describeFileSystem(
  name: string,
  makeFixture: () => Promise<FileSystemFixture>,
  capabilities: Partial<FileSystemCapabilities> = {},
): void {
  const caps = { ...DEFAULT_CAPABILITIES, ...capabilities };
  const unsupported = (what: keyof FileSystemCapabilities) => (caps[what] ? "" : ` [skipped: ${name} declares no ${what}]`);
  /**
   * A test that needs capabilities: run when all are declared (or, for `without`, when the
   * capability is absent); otherwise reported as skipped with the reason in its title.
   */
  const itNeeds = (needs: Array<keyof FileSystemCapabilities>, title: string, fn: () => Promise<void>, without?: keyof FileSystemCapabilities) => {
    const missing = needs.filter((c) => !caps[c]);
    const reason = missing.length
      ? ` [skipped: ${name} declares no ${missing.join(", ")}]`
      : without && caps[without]
        ? ` [skipped: only for backends without ${without}]`
        : "";
    it.runIf(reason === "")(title + reason, fn);
  };

  describe(`${name} conformance`, () => {
    let fx: FileSystemFixture;
    let fs: AbstractFileSystem;
    /** Input path for a name relative to the scratch root. */
    const p = (rel = "") => (rel === "" ? fx.root : joinPath(fx.root, rel));
    /** The name the filesystem reports for that path. */
    const n = (rel = "") => fs.normalizePath(p(rel));
    /** A reported name relative to the scratch root. */
    const fromRoot = (name: string) => (n() === "" ? name : name.slice(n().length + 1));
    /** Names relative to `base`, for comparing with tables. */
    const rel = (names: readonly string[], base: string) =>
      names.map((x) => (x === n(base) ? "." : x.slice(n(base).length + 1))).sort();
    const seed = async (files: Record<string, Uint8Array | string>) => {
      if (fx.seed) await fx.seed(files);
      else await fs.pipe(Object.fromEntries(Object.entries(files).map(([k, v]) => [p(k), v])));
      fs.invalidateCache();
    };
    const seedEdgeTree = () => seed(Object.fromEntries(EDGE_TREE.map((f) => [`src/${f}`, f])));

    beforeEach(async () => {
      fx = await makeFixture();
      fs = fx.fs;
    });
    afterEach(async () => {
      await fx.cleanup?.();
    });

    describe("listing and metadata", () => {
      it("ls gives details by default and names with detail: false", async () => {
        await seed({ "d/a.txt": "aaa", "d/sub/b.txt": "bb" });
        const detail = await fs.ls(p("d"));
        const byName = Object.fromEntries(detail.map((i) => [i.name, i]));
        expect(Object.keys(byName).sort()).toEqual([n("d/a.txt"), n("d/sub")]);
        expect(byName[n("d/a.txt")]).toMatchObject({ size: 3, type: "file" });
        expect(byName[n("d/sub")]!.type).toBe("directory");
        expect((await fs.ls(p("d"), { detail: false })).sort()).toEqual([n("d/a.txt"), n("d/sub")]);
      });

      it("ls of a file returns that file; ls of a missing path is ENOENT", async () => {
        await seed({ "f.bin": "12345" });
        const out = await fs.ls(p("f.bin"));
        expect(out).toHaveLength(1);
        expect(out[0]).toMatchObject({ name: n("f.bin"), size: 5, type: "file" });
        await expectCode(fs.ls(p("missing")), "ENOENT");
      });

      it("info of files, implied directories, and missing paths", async () => {
        await seed({ "x/y/z.txt": "hello" });
        expect(await fs.info(p("x/y/z.txt"))).toMatchObject({ name: n("x/y/z.txt"), size: 5, type: "file" });
        expect(await fs.info(p("x/y"))).toMatchObject({ name: n("x/y"), type: "directory" });
        expect(await fs.info(p("x"))).toMatchObject({ type: "directory" });
        const err = await expectCode(fs.info(p("x/nope")), "ENOENT");
        expect(err.path).toBe(n("x/nope"));
      });

      it("exists, isDir and isFile answer without throwing for missing paths", async () => {
        await seed({ "e/f": "1" });
        expect(await fs.exists(p("e/f"))).toBe(true);
        expect(await fs.exists(p("e"))).toBe(true);
        expect(await fs.exists(p("e/g"))).toBe(false);
        expect(await fs.isFile(p("e/f"))).toBe(true);
        expect(await fs.isFile(p("e"))).toBe(false);
        expect(await fs.isDir(p("e"))).toBe(true);
        expect(await fs.isDir(p("e/f"))).toBe(false);
        expect(await fs.isDir(p("nope/deeper"))).toBe(false);
        expect(await fs.isFile(p("nope"))).toBe(false);
      });

      it("size, sizes, checksum and ukey", async () => {
        await seed({ "s/a": "abc", "s/b": "" });
        expect(await fs.size(p("s/a"))).toBe(3);
        expect(await fs.sizes([p("s/a"), p("s/b")])).toEqual([3, 0]);
        const c1 = await fs.checksum(p("s/a"));
        expect(c1).toMatch(/^[0-9a-f]+$/);
        expect(await fs.checksum(p("s/a"))).toBe(c1);
        expect(typeof (await fs.ukey(p("s/a")))).toBe("string");
        expect(await fs.ukey(p("s/a"))).not.toBe(await fs.ukey(p("s/b")));
      });

      it(`modified returns a Date${unsupported("mtime")}`, async () => {
        await seed({ "m": "1" });
        if (!caps.mtime) {
          await expectCode(fs.modified(p("m")), "ENOTSUP");
          return;
        }
        const m = await fs.modified(p("m"));
        expect(m).toBeInstanceOf(Date);
        expect(Math.abs(m.getTime() - Date.now())).toBeLessThan(24 * 3600 * 1000);
      });

      it("unstripProtocol and stripProtocol round-trip a name", async () => {
        await seed({ "u/v": "1" });
        const name = n("u/v");
        const full = fs.unstripProtocol(name);
        expect(full).toMatch(/^[a-z0-9+.-]+:\/\//);
        expect(fs.normalizePath(full)).toBe(name);
      });
    });

    describe("walking", () => {
      beforeEach(async () => {
        await seed({ "w/a": "1", "w/b/c": "22", "w/b/d/e": "333" });
      });

      it("find lists files sorted; withDirs adds directories (and the root)", async () => {
        expect(await fs.find(p("w"))).toEqual([n("w/a"), n("w/b/c"), n("w/b/d/e")]);
        expect(await fs.find(p("w"), { withDirs: true })).toEqual([n("w"), n("w/a"), n("w/b"), n("w/b/c"), n("w/b/d"), n("w/b/d/e")]);
        expect(await fs.find(p("w"), { maxDepth: 1 })).toEqual([n("w/a")]);
        expect(await fs.find(p("w"), { maxDepth: 2, withDirs: true })).toEqual([n("w"), n("w/a"), n("w/b"), n("w/b/c"), n("w/b/d")]);
      });

      it("find of a file is [file]; of a missing path []; detail gives infos", async () => {
        expect(await fs.find(p("w/a"))).toEqual([n("w/a")]);
        expect(await fs.find(p("w/zzz"))).toEqual([]);
        const detail = await fs.find(p("w"), { detail: true });
        expect(detail[n("w/b/d/e")]).toMatchObject({ size: 3, type: "file" });
      });

      it("walk yields [root, dirs, files] top-down, and honours pruning", async () => {
        const seen: Array<[string, string[], string[]]> = [];
        for await (const [root, dirs, files] of fs.walk(p("w"))) seen.push([root, [...dirs], [...files]]);
        expect(seen).toEqual([
          [n("w"), ["b"], ["a"]],
          [n("w/b"), ["d"], ["c"]],
          [n("w/b/d"), [], ["e"]],
        ]);
        const pruned: string[] = [];
        for await (const [root, dirs] of fs.walk(p("w"))) {
          pruned.push(root);
          dirs.splice(0, dirs.length, ...dirs.filter((d) => d !== "d"));
        }
        expect(pruned).toEqual([n("w"), n("w/b")]);
      });

      it("walk with maxDepth, bottom-up, and detail", async () => {
        const roots: string[] = [];
        for await (const [root] of fs.walk(p("w"), { maxDepth: 1 })) roots.push(root);
        expect(roots).toEqual([n("w")]);
        const bottomUp: string[] = [];
        for await (const [root] of fs.walk(p("w"), { topdown: false })) bottomUp.push(root);
        expect(bottomUp).toEqual([n("w/b/d"), n("w/b"), n("w")]);
        for await (const [, dirs, files] of fs.walk(p("w"), { detail: true, maxDepth: 1 })) {
          expect(files.a).toMatchObject({ size: 1, type: "file" });
          expect(dirs.b).toMatchObject({ type: "directory" });
        }
      });

      it("du totals bytes, or maps paths to sizes", async () => {
        expect(await fs.du(p("w"))).toBe(6);
        expect(await fs.du(p("w"), { total: false })).toEqual({ [n("w/a")]: 1, [n("w/b/c")]: 2, [n("w/b/d/e")]: 3 });
        expect(await fs.du(p("w"), { maxDepth: 2 })).toBe(3);
      });

      it("expandPath keeps literals, expands globs and recursion, and fails on nothing", async () => {
        expect(await fs.expandPath(p("w/a"))).toEqual([n("w/a")]);
        expect(await fs.expandPath([p("w/a"), p("w/b/*")])).toEqual([n("w/a"), n("w/b/c"), n("w/b/d")]);
        expect(await fs.expandPath(p("w/b"), { recursive: true })).toEqual([n("w/b"), n("w/b/c"), n("w/b/d"), n("w/b/d/e")]);
        expect(await fs.expandPath(p("w/b"), { recursive: true, maxDepth: 1 })).toEqual([n("w/b"), n("w/b/c"), n("w/b/d")]);
        await expectCode(fs.expandPath(p("w/none*")), "ENOENT");
        await expectCode(fs.expandPath(p("w/gone"), { recursive: true }), "ENOENT");
      });
    });

    describe("glob edge cases", () => {
      beforeEach(seedEdgeTree);

      for (const row of GLOB_ROWS) {
        it(`glob('${row.pattern}'${row.maxDepth ? `, maxDepth ${row.maxDepth}` : ""})`, async () => {
          const got = await fs.glob(p(`src/${row.pattern}`), row.maxDepth ? { maxDepth: row.maxDepth } : {});
          expect(rel(got, "src")).toEqual(row.result);
        });
      }

      for (const row of EXPAND_ROWS) {
        it(`expandPath('${row.pattern}', recursive ${row.recursive}${row.maxDepth ? `, maxDepth ${row.maxDepth}` : ""})`, async () => {
          const got = await fs.expandPath(p(`src/${row.pattern}`), { recursive: row.recursive, maxDepth: row.maxDepth });
          expect(rel(got, "src")).toEqual(row.result);
        });
      }

      it("a pattern without magic returns [path] if it exists, else []", async () => {
        expect(await fs.glob(p("src/file1"))).toEqual([n("src/file1")]);
        expect(await fs.glob(p("src/file9"))).toEqual([]);
      });

      it("glob with detail returns infos", async () => {
        const d = await fs.glob(p("src/fil?1"), { detail: true });
        expect(d[n("src/file1")]).toMatchObject({ type: "file", size: 5 });
      });

      it("'**' inside a segment and maxDepth < 1 are EINVAL", async () => {
        await expectCode(fs.glob(p("src/a**b")), "EINVAL");
        await expectCode(fs.glob(p("src/*"), { maxDepth: 0 }), "EINVAL");
        await expectCode(fs.find(p("src"), { maxDepth: -1 }), "EINVAL");
      });

      it("a glob does not leave a partial listing behind (later ls/find are complete)", async () => {
        await fs.glob(p("src/subdir0/*1"));
        expect((await fs.ls(p("src/subdir0"), { detail: false })).sort()).toEqual([
          n("src/subdir0/nesteddir"),
          n("src/subdir0/subfile1"),
          n("src/subdir0/subfile2"),
        ]);
        expect(await fs.find(p("src/subdir0"))).toHaveLength(3);
      });
    });

    describe("same-name prefixes (subdir vs subdir.txt)", () => {
      beforeEach(async () => {
        await seed({ "pre/subdir/subfile.txt": "in", "pre/subdir.txt": "beside" });
      });

      it("find, glob and expandPath keep them apart", async () => {
        expect(await fs.find(p("pre/subdir"))).toEqual([n("pre/subdir/subfile.txt")]);
        expect(await fs.glob(p("pre/subdir*"))).toEqual([n("pre/subdir"), n("pre/subdir.txt")]);
        expect(await fs.expandPath(p("pre/subdir"), { recursive: true })).toEqual([n("pre/subdir"), n("pre/subdir/subfile.txt")]);
      });

      itNeeds(["write"], "a recursive copy of subdir does not take subdir.txt", async () => {
        await fs.copy(p("pre/subdir"), p("out") + "/", { recursive: true });
        expect(await fs.find(p("out"))).toEqual([n("out/subdir/subfile.txt")]);
      });

      itNeeds(["write"], "rm of subdir leaves subdir.txt", async () => {
        await fs.rm(p("pre/subdir"), { recursive: true });
        expect(await fs.exists(p("pre/subdir.txt"))).toBe(true);
        expect(await fs.exists(p("pre/subdir/subfile.txt"))).toBe(false);
      });
    });

    describe("names holding glob characters: an existing name is itself", () => {
      beforeEach(() => seed(LITERAL_TREE));
      const names = (got: readonly string[]) => got.map(fromRoot).sort();

      for (const row of EXPAND_LITERAL_ROWS) {
        itNeeds(row.matchesBracket ? ["plainNames"] : [], `expandPath('${row.path}'${row.recursive ? ", recursive" : ""})`, async () => {
          expect(names(await fs.expandPath(p(row.path), { recursive: row.recursive }))).toEqual(row.result);
        });
      }

      for (const row of GLOB_LITERAL_ROWS) {
        itNeeds(row.matchesBracket ? ["plainNames"] : [], `glob('${row.path}') reads a pattern`, async () => {
          expect(names(await fs.glob(p(row.path)))).toEqual(row.result);
        });
      }

      it("cat of an existing name gives its bytes; a list or glob keeps each name", async () => {
        expect(text((await fs.cat(p("lit/a[1].txt"))) as Uint8Array)).toBe("literal");
        expect(text((await fs.cat(p("lit/st*r"))) as Uint8Array)).toBe("star");
        const rec = await fs.cat([p("lit/a[1].txt"), p("lit/a1.txt")]);
        expect(text(rec[n("lit/a[1].txt")])).toBe("literal");
        expect(text(rec[n("lit/a1.txt")])).toBe("one");
        const all = (await fs.cat(p("lit/run*"), { recursive: true })) as Record<string, Uint8Array>;
        expect(Object.keys(all)).toEqual([n("lit/run*/log")]);
      });

      it("get of an existing name takes it literally, and keeps the name", async () => {
        const local = new MemoryFileSystem({ store: "private" });
        await fs.get(p("lit/a[1].txt"), "/dl/", { localFs: local });
        await fs.get(p("lit/run*"), "/dl/", { localFs: local, recursive: true });
        expect(await local.find("/dl")).toEqual(["/dl/a[1].txt", "/dl/run*/log"]);
        expect(await local.readText("/dl/a[1].txt")).toBe("literal");
      });

      itNeeds(["plainNames"], "a name holding '?' is itself too", async () => {
        await seed(QUESTION_TREE);
        expect(names(await fs.expandPath(p("q/x?")))).toEqual(["q/x?"]);
        expect(names(await fs.expandPath(p("q/x[y]")))).toEqual(["q/xy"]);
        expect(names(await fs.expandPath(p("q/st?r")))).toEqual(["q/st*r"]);
        expect(names(await fs.glob(p("q/x?")))).toEqual(["q/x?", "q/xy"]);
        expect(text((await fs.cat(p("q/x?"))) as Uint8Array)).toBe("question");
      });

      itNeeds(["write"], "rm deletes the existing name, not what it would match", async () => {
        await fs.rm(p("lit/a[1].txt"));
        await fs.rm(p("lit/st*r"));
        await fs.rm(p("lit/run*"), { recursive: true });
        await fs.rm(p("lit/[!"), { recursive: true });
        expect(names(await fs.find(p("lit")))).toEqual(["lit/a1.txt", "lit/run1/log", "lit/stAr"]);
      });

      itNeeds(["write", "plainNames"], "rm of a name holding '?' deletes only it", async () => {
        await seed(QUESTION_TREE);
        await fs.rm(p("q/x?"));
        expect(names(await fs.find(p("q")))).toEqual(["q/st*r", "q/xy"]);
      });

      itNeeds(["write"], "copy and mv of an existing name keep the name", async () => {
        await fs.copy(p("lit/a[1].txt"), p("out") + "/");
        await fs.mv(p("lit/st*r"), p("out") + "/");
        await fs.mv(p("lit/run*"), p("out") + "/", { recursive: true });
        expect(names(await fs.find(p("out")))).toEqual(["out/a[1].txt", "out/run*/log", "out/st*r"]);
        expect(names(await fs.find(p("lit")))).toEqual(["lit/[!/x", "lit/a1.txt", "lit/a[1].txt", "lit/run1/log", "lit/stAr"]);
        expect(await fs.readText(p("out/run*/log"))).toBe("run-star");
      });

      itNeeds(["write"], "put of an existing local name takes it literally", async () => {
        const local = new MemoryFileSystem({ store: "private" });
        await local.pipe({ "/up/b[2]": "literal", "/up/b2": "wrong" });
        await fs.put("/up/b[2]", p("up") + "/", { localFs: local });
        expect(names(await fs.find(p("up")))).toEqual(["up/b[2]"]);
      });
    });

    describe(`copies and moves onto their own source${unsupported("write")}`, () => {
      const asPath = (x: string) => (x.endsWith("/") ? `${p(x.slice(0, -1))}/` : p(x));
      const tree = async () => {
        const out: Record<string, string> = {};
        for (const name of await fs.find(p("d"))) out[fromRoot(name)] = await fs.readText(name);
        return out;
      };
      for (const row of OVERLAP_ROWS) {
        const show = (x: string | string[]) => (typeof x === "string" ? x : `[${x.join(", ")}]`);
        itNeeds(["write"], `${row.op}(${show(row.src)}, ${show(row.dst)}${row.recursive ? ", recursive" : ""}): ${row.result}`, async () => {
          await seed(OVERLAP_TREE);
          const src = typeof row.src === "string" ? asPath(row.src) : row.src.map(asPath);
          const dst = typeof row.dst === "string" ? asPath(row.dst) : row.dst.map(asPath);
          const call = fs[row.op](src, dst, { recursive: row.recursive });
          if (row.result === "no-op") await call;
          else await expectCode(call, row.result);
          expect(await tree()).toEqual(OVERLAP_TREE);
          if (row.result !== "no-op") expect(await fs.exists(p("e"))).toBe(false);
        });
      }

      itNeeds(["write"], "moving a tree's contents up into its parent removes the emptied tree", async () => {
        await seed(OVERLAP_TREE);
        await fs.mv(p("d/sub") + "/", p("d"), { recursive: true });
        expect(await tree()).toEqual({ "d/f": "F", "d/g": "G" });
        expect(await fs.exists(p("d/sub"))).toBe(false);
      });
    });

    describe("bytes", () => {
      const DATA = "0123456789abcdefghij"; // 20 bytes

      beforeEach(async () => {
        await seed({ "b/data": DATA, "b/other": "xyz", "b/empty": "" });
      });

      const ranges: Array<[number | undefined | null, number | undefined | null, string]> = [
        [undefined, undefined, DATA],
        [0, 5, "01234"],
        [5, undefined, DATA.slice(5)],
        [-5, undefined, "fghij"],
        [-5, -2, "fgh"],
        [2, -2, DATA.slice(2, -2)],
        [15, 100, "fghij"],
        [100, 200, ""],
        [10, 5, ""],
        [null, 3, "012"],
        [-100, 2, "01"],
      ];
      for (const [s, e, want] of ranges) {
        it(`catFile(${s}, ${e}) is a slice`, async () => {
          expect(text(await fs.catFile(p("b/data"), s, e))).toBe(want);
        });
      }

      it("catFile of missing files and directories fails clearly", async () => {
        await expectCode(fs.catFile(p("b/nope")), "ENOENT");
        // Python fsspec's memory filesystem answers ENOENT here; a directory is EISDIR everywhere.
        await expectCode(fs.catFile(p("b")), "EISDIR");
        await expectCode(fs.open(p("b"), "rb"), "EISDIR");
        await expectCode(fs.catFile(p("b/data"), 1.5), "EINVAL");
      });

      it("cat: bytes for one literal path, a record for lists, globs and recursion", async () => {
        expect(text((await fs.cat(p("b/data"))) as Uint8Array)).toBe(DATA);
        const rec = await fs.cat([p("b/data"), p("b/other")]);
        expect(Object.keys(rec).sort()).toEqual([n("b/data"), n("b/other")]);
        expect(text(rec[n("b/other")])).toBe("xyz");
        const globbed = (await fs.cat(p("b/o*"))) as Record<string, Uint8Array>;
        expect(Object.keys(globbed)).toEqual([n("b/other")]);
        const all = (await fs.cat(p("b"), { recursive: true })) as Record<string, Uint8Array>;
        expect(Object.keys(all).sort()).toEqual([n("b/data"), n("b/empty"), n("b/other")]);
        expect(all[n("b/empty")]!.byteLength).toBe(0);
      });

      it("cat onError: raise, omit, return", async () => {
        await expectCode(fs.cat([p("b/data"), p("b/missing")]), "ENOENT");
        const omitted = await fs.cat([p("b/data"), p("b/missing")], { onError: "omit" });
        expect(Object.keys(omitted)).toEqual([n("b/data")]);
        const returned = await fs.cat([p("b/data"), p("b/missing")], { onError: "return" });
        expect(returned[n("b/missing")]).toBeInstanceOf(FsError);
        expect((returned[n("b/missing")] as FsError).code).toBe("ENOENT");
      });

      it("catRanges returns one result per range in order, broadcasting scalars", async () => {
        const out = await fs.catRanges([p("b/data"), p("b/other"), p("b/data"), p("b/data")], [10, 0, 0, -3], [12, 2, 3, null]);
        expect(out.map(text)).toEqual(["ab", "xy", "012", "hij"]);
        const same = await fs.catRanges(p("b/data"), [0, 5], 7);
        expect(same.map(text)).toEqual(["0123456", "56"]);
        await expectCode(fs.catRanges([p("b/data")], [0, 1], [1, 2]), "EINVAL");
      });

      it("catRanges reports per-range errors with onError: return (the default)", async () => {
        const out = await fs.catRanges([p("b/data"), p("b/missing")], [0, 0], [2, 2]);
        expect(text(out[0])).toBe("01");
        expect(out[1]).toBeInstanceOf(FsError);
        expect((out[1] as FsError).code).toBe("ENOENT");
        await expectCode(fs.catRanges([p("b/missing")], [0], [1], { onError: "raise" }), "ENOENT");
      });

      it("head, tail, readText", async () => {
        expect(text(await fs.head(p("b/data"), 4))).toBe("0123");
        expect(text(await fs.tail(p("b/data"), 4))).toBe("ghij");
        expect(text(await fs.tail(p("b/other"), 100))).toBe("xyz");
        expect(await fs.readText(p("b/other"))).toBe("xyz");
      });

      it("readBlock without and with a delimiter", async () => {
        await seed({ "b/lines": "aa\nbbb\ncccc\nd\n" });
        expect(text(await fs.readBlock(p("b/lines"), 1, 3))).toBe("a\nb");
        // Starts after the first newline at or after 1, ends after the first at or after 1+3.
        expect(text(await fs.readBlock(p("b/lines"), 1, 3, "\n"))).toBe("bbb\n");
        expect(text(await fs.readBlock(p("b/lines"), 0, 2, "\n"))).toBe("aa\n");
        expect(text(await fs.readBlock(p("b/lines"), 5, 100, "\n"))).toBe("cccc\nd\n");
        expect(text(await fs.readBlock(p("b/lines"), 13, 5, "\n"))).toBe("");
      });
    });

    describe("opened files for reading", () => {
      beforeEach(async () => {
        await seed({ "r/f": "line1\nline2\nlast" });
      });

      it("read, seek, tell, readline, reading past the end", async () => {
        await using f = await fs.open(p("r/f"), "rb");
        expect(f.size).toBe(16);
        expect(text(await f.read(5))).toBe("line1");
        expect(f.tell()).toBe(5);
        expect(text(await f.readline())).toBe("\n");
        expect(text(await f.readline())).toBe("line2\n");
        expect(text(await f.read(100))).toBe("last");
        expect((await f.read(10)).byteLength).toBe(0);
        f.seek(-4, 2);
        expect(text(await f.read())).toBe("last");
        f.seek(0);
        f.seek(2, 1);
        expect(text(await f.read(3))).toBe("ne1");
        expect(() => f.seek(-1)).toThrow(FsError);
      });

      it("each reader keeps its own position", async () => {
        const a = await fs.open(p("r/f"));
        const b = await fs.open(p("r/f"));
        expect(text(await a.read(5))).toBe("line1");
        expect(text(await b.read(2))).toBe("li");
        expect(text(await a.read(1))).toBe("\n");
        await a.close();
        await b.close();
      });

      it("text mode reads strings and iterates lines", async () => {
        const f = await fs.open(p("r/f"), "r");
        const lines: string[] = [];
        for await (const line of f) lines.push(line);
        expect(lines).toEqual(["line1\n", "line2\n", "last"]);
        await f.close();
      });

      it("closed files refuse reads; close is idempotent", async () => {
        const f = await fs.open(p("r/f"));
        await f.close();
        await f.close();
        expect(f.closed).toBe(true);
        await expectCode(f.read(1), "ECLOSED");
      });

      it("bad modes and missing files fail", async () => {
        await expectCode(fs.open(p("r/f"), "rw" as "rb"), "EINVAL");
        await expectCode(fs.open(p("r/none"), "rb"), "ENOENT");
      });
    });

    describe(`writes${unsupported("write")}`, () => {
      itNeeds(["write"], "pipeFile overwrites; mode create refuses an existing file", async () => {
        await fs.pipeFile(p("w/a"), "one");
        await fs.pipeFile(p("w/a"), new TextEncoder().encode("two"));
        expect(await fs.readText(p("w/a"))).toBe("two");
        await expectCode(fs.pipeFile(p("w/a"), "three", { mode: "create" }), "EEXIST");
        expect(await fs.readText(p("w/a"))).toBe("two");
        await fs.pipeFile(p("w/b"), "new", { mode: "create" });
        expect(await fs.readText(p("w/b"))).toBe("new");
      });

      itNeeds(["write"], "pipe writes one file or a record; writeText round-trips", async () => {
        await fs.pipe(p("pp/x"), "1");
        await fs.pipe({ [p("pp/y")]: "2", [p("pp/z/w")]: new Uint8Array([51]) });
        expect(await fs.find(p("pp"))).toEqual([n("pp/x"), n("pp/y"), n("pp/z/w")]);
        await fs.writeText(p("pp/t"), "héllo");
        expect(await fs.readText(p("pp/t"))).toBe("héllo");
      });

      itNeeds(["write"], "touch creates empty files and truncates by default", async () => {
        await fs.touch(p("t/a"));
        expect(await fs.size(p("t/a"))).toBe(0);
        await fs.pipe(p("t/a"), "data");
        await fs.touch(p("t/a"), { truncate: false });
        expect(await fs.readText(p("t/a"))).toBe("data");
        await fs.touch(p("t/a"));
        expect(await fs.size(p("t/a"))).toBe(0);
      });

      itNeeds(["write"], "rmFile, rm of files, rm of a directory needs recursive", async () => {
        await fs.pipe({ [p("del/a")]: "1", [p("del/b")]: "2", [p("del/sub/c")]: "3" });
        await fs.rmFile(p("del/a"));
        expect(await fs.exists(p("del/a"))).toBe(false);
        await expectCode(fs.rmFile(p("del/a")), "ENOENT");
        await expectCode(fs.rm(p("del/sub")), "EISDIR");
        expect(await fs.exists(p("del/sub/c"))).toBe(true);
        await fs.rm(p("del"), { recursive: true });
        expect(await fs.exists(p("del/b"))).toBe(false);
        expect(await fs.exists(p("del/sub/c"))).toBe(false);
        await expectCode(fs.rm(p("del/zzz")), "ENOENT");
      });

      itNeeds(["write"], "rm with a glob and with a list", async () => {
        await fs.pipe({ [p("g/a.txt")]: "1", [p("g/b.txt")]: "2", [p("g/c.bin")]: "3" });
        await fs.rm(p("g/*.txt"));
        expect(await fs.find(p("g"))).toEqual([n("g/c.bin")]);
        await fs.pipe(p("g/d"), "4");
        await fs.rm([p("g/c.bin"), p("g/d")]);
        expect(await fs.find(p("g"))).toEqual([]);
      });

      itNeeds(["write"], "opened writers publish on close, not before; ab appends; xb refuses existing", async () => {
        const f = await fs.open(p("o/a"), "wb");
        await f.write("hello ");
        await f.write(new TextEncoder().encode("world"));
        expect(await fs.exists(p("o/a"))).toBe(false);
        await f.close();
        expect(await fs.readText(p("o/a"))).toBe("hello world");
        const g = await fs.open(p("o/a"), "ab");
        await g.write("!");
        await g.close();
        expect(await fs.readText(p("o/a"))).toBe("hello world!");
        await expectCode(fs.open(p("o/a"), "xb"), "EEXIST");
        const x = await fs.open(p("o/new"), "xb");
        await x.close();
        expect(await fs.size(p("o/new"))).toBe(0);
      });

      itNeeds(["write"], "text mode writes strings; asyncDispose closes", async () => {
        {
          await using f = await fs.open(p("o/t.txt"), "w");
          await f.write("ünïcode\n");
        }
        expect(await fs.readText(p("o/t.txt"))).toBe("ünïcode\n");
      });

      itNeeds(["write"], "autocommit: false publishes only on commit; discard drops", async () => {
        const f = await fs.open(p("ac/a"), "wb", { autocommit: false });
        await f.write("kept");
        await f.close();
        expect(await fs.exists(p("ac/a"))).toBe(false);
        await f.commit();
        expect(await fs.readText(p("ac/a"))).toBe("kept");
        const g = await fs.open(p("ac/b"), "wb", { autocommit: false });
        await g.write("dropped");
        await g.discard();
        expect(await fs.exists(p("ac/b"))).toBe(false);
      });

      itNeeds(["write"], "writing over a directory is EISDIR and loses nothing", async () => {
        await fs.pipe(p("dd/sub/f"), "keep");
        await expectCode(fs.pipeFile(p("dd/sub"), "x"), "EISDIR");
        expect(await fs.readText(p("dd/sub/f"))).toBe("keep");
      });
    });

    describe(`directories${unsupported("emptyDirectories")}`, () => {
      itNeeds(["write", "emptyDirectories"], "mkdir makes an empty directory that ls and info see", async () => {
        await fs.mkdir(p("md/empty"));
        expect(await fs.isDir(p("md/empty"))).toBe(true);
        expect(await fs.ls(p("md/empty"))).toEqual([]);
        expect(await fs.ls(p("md"), { detail: false })).toEqual([n("md/empty")]);
        await expectCode(fs.mkdir(p("md/empty")), "EEXIST");
      });

      itNeeds(["write", "emptyDirectories"], "mkdir without createParents needs the parent", async () => {
        await expectCode(fs.mkdir(p("mp/a/b"), { createParents: false }), "ENOENT");
        await fs.mkdir(p("mp/a/b"));
        expect(await fs.isDir(p("mp/a"))).toBe(true);
      });

      itNeeds(["write", "emptyDirectories"], "makedirs with existOk, rmdir of empty and non-empty", async () => {
        await fs.makedirs(p("mk/x/y"));
        await expectCode(fs.makedirs(p("mk/x/y")), "EEXIST");
        await fs.makedirs(p("mk/x/y"), { existOk: true });
        await fs.pipe(p("mk/x/f"), "1");
        await expectCode(fs.rmdir(p("mk/x")), "ENOTEMPTY");
        await fs.rmdir(p("mk/x/y"));
        expect(await fs.exists(p("mk/x/y"))).toBe(false);
        expect(await fs.exists(p("mk/x/f"))).toBe(true);
      });

      itNeeds(["write", "emptyDirectories"], "rm recursive removes empty directories too", async () => {
        await fs.makedirs(p("rr/a/b"), { existOk: true });
        await fs.pipe(p("rr/f"), "1");
        await fs.rm(p("rr"), { recursive: true });
        expect(await fs.exists(p("rr"))).toBe(false);
      });

      itNeeds(["write"], "mkdir is accepted and a directory appears once it holds a file", async () => {
        await fs.mkdir(p("od/x"));
        await fs.pipe(p("od/x/f"), "1");
        expect(await fs.isDir(p("od/x"))).toBe(true);
      }, "emptyDirectories");
    });

    describe(`copy, mv, get, put (fsspec's rules)${unsupported("write")}`, () => {
      const TREE = { "s/f1": "f1", "s/f2": "f2", "s/sub/g1": "g1", "s/sub/g2": "g2", "s/sub/n/h": "h" };
      const under = async (dir: string) => rel(await fs.find(p(dir)), dir);

      beforeEach(async () => {
        if (!caps.write) return;
        await seed(TREE);
        await fs.makedirs(p("t"), { existOk: true });
        if (!caps.emptyDirectories) await fs.pipe(p("t/.keep"), "");
      });
      const tFiles = async () => (await under("t")).filter((x) => x !== ".keep");

      const table: Array<[string, () => Promise<void>, string[] | "ENOENT"]> = [
        ["copy(s/f1, t)", () => fs.copy(p("s/f1"), p("t")), ["f1"]],
        ["copy(s/f1, t/)", () => fs.copy(p("s/f1"), p("t") + "/"), ["f1"]],
        ["copy(s/f1, t/new)", () => fs.copy(p("s/f1"), p("t/new")), ["new"]],
        ["copy(s/f1, t/newdir/)", () => fs.copy(p("s/f1"), p("t/newdir") + "/"), ["newdir/f1"]],
        ["copy(s/sub, t) does nothing", () => fs.copy(p("s/sub"), p("t")), []],
        ["copy(s/sub, t, recursive)", () => fs.copy(p("s/sub"), p("t"), { recursive: true }), ["sub/g1", "sub/g2", "sub/n/h"]],
        ["copy(s/sub/, t, recursive)", () => fs.copy(p("s/sub") + "/", p("t"), { recursive: true }), ["g1", "g2", "n/h"]],
        ["copy(s/sub, t/new, recursive)", () => fs.copy(p("s/sub"), p("t/new"), { recursive: true }), ["new/g1", "new/g2", "new/n/h"]],
        ["copy(s/sub, t, recursive, maxDepth 1)", () => fs.copy(p("s/sub"), p("t"), { recursive: true, maxDepth: 1 }), ["sub/g1", "sub/g2"]],
        ["copy(s/sub/*, t)", () => fs.copy(p("s/sub/*"), p("t")), ["g1", "g2"]],
        ["copy(s/sub/**, t)", () => fs.copy(p("s/sub/**"), p("t")), ["g1", "g2", "n/h"]],
        ["copy(s/sub/*, t, recursive)", () => fs.copy(p("s/sub/*"), p("t"), { recursive: true }), ["g1", "g2", "n/h"]],
        ["copy([s/f1, s/sub/g1], t/new)", () => fs.copy([p("s/f1"), p("s/sub/g1")], p("t/new")), ["new/f1", "new/g1"]],
        ["copy(s/missing, t)", () => fs.copy(p("s/missing"), p("t")), "ENOENT"],
      ];
      for (const [title, call, want] of table) {
        itNeeds(["write"], title, async () => {
          if (want === "ENOENT") {
            await expectCode(call(), "ENOENT");
            return;
          }
          await call();
          expect(await tFiles()).toEqual(want);
        });
      }

      itNeeds(["write"], "a recursive copy into a missing target, repeated, nests one level deeper", async () => {
        await fs.copy(p("s/sub"), p("t/new"), { recursive: true });
        await fs.copy(p("s/sub"), p("t/new"), { recursive: true });
        expect(await tFiles()).toEqual(["new/g1", "new/g2", "new/n/h", "new/sub/g1", "new/sub/g2", "new/sub/n/h"]);
      });

      itNeeds(["write"], "copy keeps content and lists pair one to one", async () => {
        await fs.copy([p("s/f1"), p("s/f2")], [p("t/a"), p("t/b")]);
        expect(await fs.readText(p("t/a"))).toBe("f1");
        expect(await fs.readText(p("t/b"))).toBe("f2");
        await expectCode(fs.copy([p("s/f1")], [p("t/a"), p("t/b")]), "EINVAL");
      });

      itNeeds(["write"], "mv moves a file and a directory tree", async () => {
        await fs.mv(p("s/f1"), p("t/moved"));
        expect(await fs.exists(p("s/f1"))).toBe(false);
        expect(await fs.readText(p("t/moved"))).toBe("f1");
        await fs.mv(p("s/sub"), p("t/subm"), { recursive: true });
        expect(await fs.exists(p("s/sub/g1"))).toBe(false);
        expect(await tFiles()).toEqual(["moved", "subm/g1", "subm/g2", "subm/n/h"]);
      });

      itNeeds(["write"], "get and put follow the same rules, with progress", async () => {
        const local = new MemoryFileSystem({ store: "private" });
        const sizes: number[] = [];
        let done = 0;
        await fs.get(p("s/sub"), "/dl", { recursive: true, localFs: local, callback: { setSize: (n) => sizes.push(n), relativeUpdate: (k) => (done += k) } });
        expect(await local.find("/dl")).toEqual(["/dl/g1", "/dl/g2", "/dl/n/h"]);
        expect(await local.readText("/dl/n/h")).toBe("h");
        expect(sizes).toEqual([5]);
        expect(done).toBe(5);
        await local.pipe("/up/a/b", "up");
        await fs.put("/up/a", p("t") + "/", { recursive: true, localFs: local });
        expect(await fs.readText(p("t/a/b"))).toBe("up");
        await fs.getFile(p("s/f2"), "/one", { localFs: local });
        expect(await local.readText("/one")).toBe("f2");
      });
    });

    describe(`copy edge cases (fsspec's table)${unsupported("write")}`, () => {
      beforeEach(async () => {
        if (!caps.write) return;
        await seedEdgeTree();
        await fs.makedirs(p("tgt"), { existOk: true });
        if (!caps.emptyDirectories) await fs.pipe(p("tgt/.keep"), "");
      });
      for (const row of COPY_ROWS) {
        itNeeds(
          ["write"],
          `copy('${row.pattern}', 'tgt/${row.dst}', recursive ${row.recursive}${row.maxDepth ? `, maxDepth ${row.maxDepth}` : ""})`,
          async () => {
            await fs.copy(p(`src/${row.pattern}`), `${p("tgt")}/${row.dst}`, {
              recursive: row.recursive,
              maxDepth: row.maxDepth,
            });
            const got = rel(await fs.find(p("tgt")), "tgt").filter((x) => x !== ".keep");
            expect(got).toEqual(row.result);
          },
        );
      }
    });

    describe(`transactions${unsupported("transactions")}`, () => {
      itNeeds(["write", "transactions"], "files written in a transaction appear together on success", async () => {
        await fs.transaction(async () => {
          await fs.pipe(p("tx/a"), "1");
          const f = await fs.open(p("tx/b"), "wb");
          await f.write("2");
          await f.close();
          expect(await fs.exists(p("tx/a"))).toBe(false);
          expect(await fs.exists(p("tx/b"))).toBe(false);
        });
        expect(await fs.readText(p("tx/a"))).toBe("1");
        expect(await fs.readText(p("tx/b"))).toBe("2");
      });

      itNeeds(["write", "transactions"], "a throwing transaction publishes nothing", async () => {
        await fs.pipe(p("tx2/keep"), "old");
        await expect(
          fs.transaction(async () => {
            await fs.pipe(p("tx2/keep"), "new");
            await fs.pipe(p("tx2/other"), "x");
            throw new Error("boom");
          }),
        ).rejects.toThrow("boom");
        expect(await fs.readText(p("tx2/keep"))).toBe("old");
        expect(await fs.exists(p("tx2/other"))).toBe(false);
        expect(fs.inTransaction).toBe(false);
      });
    });

    describe("bad input", () => {
      it("empty paths and non-strings are EINVAL", async () => {
        await expectCode(fs.ls(""), "EINVAL");
        await expectCode(fs.info(""), "EINVAL");
        await expectCode(fs.exists(42 as unknown as string), "EINVAL");
        await expectCode(fs.catFile(""), "EINVAL");
      });

      it("negative maxDepth, walk maxDepth 0 and bad offsets are EINVAL", async () => {
        await expectCode(fs.find(p(), { maxDepth: 0 }), "EINVAL");
        await expectCode(fs.expandPath(p(), { recursive: true, maxDepth: -2 }), "EINVAL");
        await expectCode((async () => {
          for await (const _ of fs.walk(p(), { maxDepth: 0 })) void _;
        })(), "EINVAL");
      });

      itNeeds(["write"], "pipeFile rejects data that is not bytes or text and a bad mode", async () => {
        await expectCode(fs.pipeFile(p("bad"), 123 as unknown as string), "EINVAL");
        await expectCode(fs.pipeFile(p("bad"), "x", { mode: "append" as "create" }), "EINVAL");
        expect(await fs.exists(p("bad"))).toBe(false);
      });
    });

    describe(`serialisation${unsupported("serializable")}`, () => {
      itNeeds(["serializable"], "toJSON / fromJSON rebuilds an equivalent filesystem", async () => {
        await seed({ "j/a": "json" });
        const json = JSON.parse(JSON.stringify(fs.toJSON()));
        const again = await AbstractFileSystem.fromJSON(json);
        expect(again.protocol).toBe(fs.protocol);
        expect(await again.readText(p("j/a"))).toBe("json");
      });
    });
  });
}

export type { FileInfo };
