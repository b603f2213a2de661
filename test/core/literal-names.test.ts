/**
 * Names holding glob characters (`*?[]`): a path that exists is taken literally before any
 * glob expansion (rm, cat, copy, mv, get, put, expandPath, openFiles), glob() alone always reads
 * a pattern, and what a glob found is never globbed again. Memory and the local disk here; the
 * conformance suite repeats this on every backend.
 */
import { describe, expect, it } from "vitest";
import { AbstractFileSystem, LocalFileSystem, MemoryFileSystem, openFiles } from "../../src/index.js";
import { codeOf } from "../support/errors.js";
import { scratchBackends } from "../support/scratch.js";

const backends = scratchBackends("/m");

const SEED = {
  "e/a[1].txt": "literal",
  "e/a1.txt": "one",
  "e/x?": "question",
  "e/xy": "xy",
  "e/st*r": "star",
  "e/stAr": "A",
};

for (const [name, make] of backends) {
  describe(`${name}: names with glob characters`, () => {
    let fs: AbstractFileSystem;
    let root: string;
    const p = (rel: string) => `${root}/${rel}`;
    const rels = (names: readonly string[]) => names.map((n) => n.slice(root.length + 1)).sort();

    async function seed(files: Record<string, string>) {
      ({ fs, root } = await make());
      await fs.pipe(Object.fromEntries(Object.entries(files).map(([k, v]) => [p(k), v])));
    }

    it("rm deletes the name that exists, not what it would match", async () => {
      await seed(SEED);
      await fs.rm(p("e/a[1].txt"));
      await fs.rm(p("e/x?"));
      await fs.rm(p("e/st*r"));
      expect(rels(await fs.find(p("e")))).toEqual(["e/a1.txt", "e/stAr", "e/xy"]);
    });

    it("a name that does not exist is still a glob", async () => {
      await seed(SEED);
      expect(rels(await fs.expandPath(p("e/a[0-9].txt")))).toEqual(["e/a1.txt"]);
      await fs.rm(p("e/x[y]"));
      expect(await fs.exists(p("e/xy"))).toBe(false);
      expect(await fs.exists(p("e/x?"))).toBe(true);
    });

    it("cat and expandPath read an existing name literally", async () => {
      await seed(SEED);
      expect(new TextDecoder().decode((await fs.cat(p("e/a[1].txt"))) as Uint8Array)).toBe("literal");
      expect(rels(await fs.expandPath(p("e/x?")))).toEqual(["e/x?"]);
      expect(rels(await fs.expandPath([p("e/st*r"), p("e/a[1].txt")]))).toEqual(["e/a[1].txt", "e/st*r"]);
    });

    it("openFiles for reading takes an existing name literally", async () => {
      // openFiles builds its filesystem from the URL: the shared memory store, or the disk.
      ({ root } = await make());
      fs = name === "memory" ? new MemoryFileSystem() : new LocalFileSystem();
      root = name === "memory" ? `/literal-names-${process.pid}-${Date.now()}` : root;
      await fs.pipe({ [p("o/a[1].txt")]: "literal", [p("o/a1.txt")]: "one" });
      try {
        const files = await openFiles(fs.unstripProtocol(fs.normalizePath(p("o/a[1].txt"))));
        expect(files.map((f) => f.path)).toEqual([fs.normalizePath(p("o/a[1].txt"))]);
      } finally {
        if (name === "memory") await fs.rm(root, { recursive: true });
      }
    });

    it("glob() is always a pattern; a class escapes a glob character", async () => {
      await seed(SEED);
      expect(rels(await fs.glob(p("e/a[1].txt")))).toEqual(["e/a1.txt"]);
      expect(rels(await fs.glob(p("e/a[[]1].txt")))).toEqual(["e/a[1].txt"]);
      expect(rels(await fs.glob(p("e/x[?]")))).toEqual(["e/x?"]);
      expect(rels(await fs.glob(p("e/st[*]r")))).toEqual(["e/st*r"]);
    });

    it("copy and mv of an existing name keep the name (it is not a pattern)", async () => {
      await seed(SEED);
      await fs.copy(p("e/a[1].txt"), p("out/"));
      await fs.mv(p("e/x?"), p("out/"));
      expect(rels(await fs.find(p("out")))).toEqual(["out/a[1].txt", "out/x?"]);
      expect(await fs.readText(p("out/x?"))).toBe("question");
      expect(await fs.exists(p("e/x?"))).toBe(false);
      expect(await fs.readText(p("e/xy"))).toBe("xy");
    });

    it("get and put of an existing name take it literally", async () => {
      await seed(SEED);
      const other = new MemoryFileSystem({ store: "private" });
      await fs.get(p("e/a[1].txt"), "/dl/", { localFs: other });
      expect(await other.find("/dl")).toEqual(["/dl/a[1].txt"]);
      await other.pipe("/up/b[2]", "up");
      await other.pipe("/up/b2", "wrong");
      await fs.put("/up/b[2]", p("up/"), { localFs: other });
      expect(rels(await fs.find(p("up")))).toEqual(["up/b[2]"]);
    });

    it("rm of a directory named like a glob removes it once, recursively", async () => {
      await seed({ "w/run*/log": "x", "w/run1/log": "y" });
      await fs.rm(p("w/run*"), { recursive: true });
      expect(rels(await fs.find(p("w")))).toEqual(["w/run1/log"]);
    });

    it("recursive expansion lists what a glob found without globbing it again", async () => {
      await seed({ "w/run*/log": "x", "w/run1/log": "y", "h/[!/x": "bang" });
      expect(rels(await fs.expandPath(p("w/ru?*"), { recursive: true }))).toEqual(["w/run*", "w/run*/log", "w/run1", "w/run1/log"]);
      expect(rels(await fs.expandPath(p("h/[!"), { recursive: true }))).toEqual(["h/[!", "h/[!/x"]);
      expect(rels(await fs.expandPath(p("h/*"), { recursive: true }))).toEqual(["h/[!", "h/[!/x"]);
      await fs.copy(p("h/[!/"), p("c/"), { recursive: true });
      expect(rels(await fs.find(p("c")))).toEqual(["c/x"]);
    });

    it("malformed classes are literal characters and terminate", async () => {
      await seed({ "k/[!": "a", "k/[]": "b", "k/[x": "c", "k/b": "d" });
      expect(rels(await fs.glob(p("k/[!")))).toEqual(["k/[!"]);
      expect(rels(await fs.glob(p("k/[]")))).toEqual(["k/[]"]);
      expect(rels(await fs.glob(p("k/[x")))).toEqual(["k/[x"]);
      expect(rels(await fs.glob(p("k/[[]*")))).toEqual(["k/[!", "k/[]", "k/[x"]);
      expect(await codeOf(fs.expandPath(p("k/[!]"), { recursive: true }))).toBe("ENOENT");
    });
  });
}
