/**
 * mv and copy never lose data: a destination that is the source is a no-op, a destination
 * inside the source is EINVAL, and a source is removed only once its copy is confirmed.
 * Run on memory and the local disk (the conformance suite repeats the common part everywhere).
 */
import { symlink } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { AbstractFileSystem, MemoryFileSystem } from "../../src/index.js";
import { codeOf } from "../support/errors.js";
import { scratchBackends } from "../support/scratch.js";

const backends = scratchBackends();

/** Every file below root, relative, with its content. */
async function tree(fs: AbstractFileSystem, root: string): Promise<Record<string, string>> {
  const names = await fs.find(root || "/");
  const out: Record<string, string> = {};
  for (const name of names) out[name.slice(root.length)] = await fs.readText(name);
  return out;
}

for (const [name, make] of backends) {
  describe(`${name}: mv and copy onto themselves`, () => {
    for (const [title, call] of [
      ["mv(/d/f, /d)", (fs: AbstractFileSystem, r: string) => fs.mv(`${r}/d/f`, `${r}/d`)],
      ["mv(/d/f, /d/)", (fs: AbstractFileSystem, r: string) => fs.mv(`${r}/d/f`, `${r}/d/`)],
      ["mv([/d/f], /d)", (fs: AbstractFileSystem, r: string) => fs.mv([`${r}/d/f`], `${r}/d`)],
      ["mv([/d/f], [/d/f])", (fs: AbstractFileSystem, r: string) => fs.mv([`${r}/d/f`], [`${r}/d/f`])],
      ["mv(/d/f, /d/f)", (fs: AbstractFileSystem, r: string) => fs.mv(`${r}/d/f`, `${r}/d/f`)],
      ["mv(/d, /, recursive)", (fs: AbstractFileSystem, r: string) => fs.mv(`${r}/d`, `${r}/`, { recursive: true })],
      ["mv(/d, /d, recursive)", (fs: AbstractFileSystem, r: string) => fs.mv(`${r}/d`, `${r}/d`, { recursive: true })],
      ["copy(/d, /d, recursive)", (fs: AbstractFileSystem, r: string) => fs.copy(`${r}/d`, `${r}/d`, { recursive: true })],
      ["copy(/d/f, /d)", (fs: AbstractFileSystem, r: string) => fs.copy(`${r}/d/f`, `${r}/d`)],
      ["copy([/d/f], [/d/f])", (fs: AbstractFileSystem, r: string) => fs.copy([`${r}/d/f`], [`${r}/d/f`])],
    ] as const) {
      it(`${title} is a no-op that keeps the file`, async () => {
        const { fs, root } = await make();
        await fs.pipe({ [`${root}/d/f`]: "F", [`${root}/d/sub/g`]: "G" });
        await call(fs, root);
        expect(await tree(fs, root)).toEqual({ "/d/f": "F", "/d/sub/g": "G" });
      });
    }

    it("mv of a missing path onto itself is ENOENT", async () => {
      const { fs, root } = await make();
      expect(await codeOf(fs.mv(`${root}/nope`, `${root}/nope`))).toBe("ENOENT");
    });
  });

  describe(`${name}: a destination inside the source is EINVAL, and nothing changes`, () => {
    const cases: Array<[string, (fs: AbstractFileSystem, r: string) => Promise<void>]> = [
      ["mv(/e, /e/sub, recursive) with /e/sub missing", (fs, r) => fs.mv(`${r}/e`, `${r}/e/sub`, { recursive: true })],
      ["mv(/e, /e/b, recursive) with /e/b existing", (fs, r) => fs.mv(`${r}/e`, `${r}/e/b`, { recursive: true })],
      ["mv(/e/, /e/b/, recursive)", (fs, r) => fs.mv(`${r}/e/`, `${r}/e/b/`, { recursive: true })],
      ["mv(/e, /e/b/deep, recursive, maxDepth 1)", (fs, r) => fs.mv(`${r}/e`, `${r}/e/b/deep`, { recursive: true, maxDepth: 1 })],
      ["mv(/e/*, /e/b/, recursive)", (fs, r) => fs.mv(`${r}/e/*`, `${r}/e/b/`, { recursive: true })],
      ["copy(/e, /e/sub, recursive)", (fs, r) => fs.copy(`${r}/e`, `${r}/e/sub`, { recursive: true })],
    ];
    for (const [title, call] of cases) {
      it(title, async () => {
        const { fs, root } = await make();
        await fs.pipe({ [`${root}/e/a`]: "A", [`${root}/e/b/c`]: "C" });
        expect(await codeOf(call(fs, root))).toBe("EINVAL");
        expect(await tree(fs, root)).toEqual({ "/e/a": "A", "/e/b/c": "C" });
      });
    }

    it("mv(/, /sub, recursive) of the whole filesystem is EINVAL", async () => {
      const fs = new MemoryFileSystem({ store: "private" });
      await fs.pipe({ "/a": "A", "/b/c": "C" });
      expect(await codeOf(fs.mv("/", "/sub", { recursive: true }))).toBe("EINVAL");
      expect(await tree(fs, "")).toEqual({ "/a": "A", "/b/c": "C" });
    });

    it("moving a tree into its own parent is a no-op; moving its contents up works", async () => {
      const { fs, root } = await make();
      await fs.pipe({ [`${root}/e/sub/f`]: "F", [`${root}/e/sub/n/h`]: "H" });
      await fs.mv(`${root}/e/sub`, `${root}/e`, { recursive: true });
      expect(await tree(fs, root)).toEqual({ "/e/sub/f": "F", "/e/sub/n/h": "H" });
      await fs.mv(`${root}/e/sub/`, `${root}/e`, { recursive: true });
      expect(await tree(fs, root)).toEqual({ "/e/f": "F", "/e/n/h": "H" });
      expect(await fs.exists(`${root}/e/sub`)).toBe(false);
    });

    it("a destination that is another source, or two sources to one destination, is EINVAL", async () => {
      const { fs, root } = await make();
      await fs.pipe({ [`${root}/a`]: "A", [`${root}/b`]: "B", [`${root}/x/b`]: "XB" });
      expect(await codeOf(fs.mv([`${root}/a`, `${root}/b`], [`${root}/b`, `${root}/c`]))).toBe("EINVAL");
      expect(await codeOf(fs.mv([`${root}/b`, `${root}/x/b`], `${root}/t/`))).toBe("EINVAL");
      expect(await codeOf(fs.copy([`${root}/b`, `${root}/x/b`], `${root}/t/`))).toBe("EINVAL");
      // A no-op pair still holds its destination.
      expect(await codeOf(fs.mv([`${root}/b`, `${root}/x/b`], root || "/"))).toBe("EINVAL");
      expect(await tree(fs, root)).toEqual({ "/a": "A", "/b": "B", "/x/b": "XB" });
    });

    it("get and put onto the same instance follow the same rules; two files to one destination is EINVAL anywhere", async () => {
      const { fs, root } = await make();
      await fs.pipe({ [`${root}/e/a`]: "A", [`${root}/e/b/c`]: "C" });
      await fs.get(`${root}/e/a`, `${root}/e`, { localFs: fs });
      await fs.put(`${root}/e/a`, `${root}/e/`, { localFs: fs });
      expect(await codeOf(fs.get(`${root}/e`, `${root}/e/sub`, { recursive: true, localFs: fs }))).toBe("EINVAL");
      expect(await codeOf(fs.put(`${root}/e`, `${root}/e/sub`, { recursive: true, localFs: fs }))).toBe("EINVAL");
      const other = new MemoryFileSystem({ store: "private" });
      await fs.pipe(`${root}/x/a`, "XA");
      expect(await codeOf(fs.get([`${root}/e/a`, `${root}/x/a`], "/t/", { localFs: other }))).toBe("EINVAL");
      expect(await other.exists("/t")).toBe(false);
      expect(await tree(fs, root)).toEqual({ "/e/a": "A", "/e/b/c": "C", "/x/a": "XA" });
    });

    it("a directory handed to mv without recursive is EISDIR, and nothing moves", async () => {
      const { fs, root } = await make();
      await fs.pipe({ [`${root}/p/f`]: "F", [`${root}/p/sub/g`]: "G" });
      expect(await codeOf(fs.mv(`${root}/p/sub`, `${root}/q`))).toBe("EISDIR");
      expect(await codeOf(fs.mv([`${root}/p/sub`], `${root}/q/`))).toBe("EISDIR");
      expect(await tree(fs, root)).toEqual({ "/p/f": "F", "/p/sub/g": "G" });
      // What a glob matches is moved as copy would copy it: files, not directories.
      await fs.mv(`${root}/p/*`, `${root}/q/`);
      expect(await tree(fs, root)).toEqual({ "/q/f": "F", "/p/sub/g": "G" });
    });

    it("a moved tree keeps what a maxDepth left behind", async () => {
      const { fs, root } = await make();
      await fs.pipe({ [`${root}/s/f`]: "F", [`${root}/s/sub/g`]: "G", [`${root}/s2/f`]: "F", [`${root}/s2/h`]: "H", [`${root}/s2/sub/g`]: "G" });
      await fs.mv(`${root}/s2`, `${root}/t2`, { recursive: true, maxDepth: 1 });
      expect(await tree(fs, `${root}/s2`)).toEqual({ "/sub/g": "G" });
      expect(await tree(fs, `${root}/t2`)).toEqual({ "/f": "F", "/h": "H" });
      await fs.mv(`${root}/s`, `${root}/t`, { recursive: true, maxDepth: 1 });
      // fsspec's rule: with maxDepth the directories drop out, and a single file left becomes the target.
      expect(await tree(fs, `${root}/s`)).toEqual({ "/sub/g": "G" });
      expect(await fs.readText(`${root}/t`)).toBe("F");
    });
  });
}

/** Memory whose copies of the files named in `failing` fail, or land short. */
class FaultyMemory extends MemoryFileSystem {
  failing = new Set<string>();
  short = new Set<string>();
  protected override async _cpFile(src: string, dst: string): Promise<void> {
    if (this.failing.has(src)) throw new Error(`injected failure copying ${src}`);
    await super._cpFile(src, dst);
    if (this.short.has(src)) await this.pipeFile(dst, "");
  }
}

describe("mv removes a source only after its copy is confirmed", () => {
  it("when one copy of many fails, that source stays; the moved ones are gone from the source", async () => {
    const fs = new FaultyMemory({ store: "private" });
    await fs.pipe({ "/s/a": "A", "/s/b": "B", "/s/c": "C" });
    fs.failing.add("/s/b");
    const err = await fs.mv("/s", "/t", { recursive: true }).catch((e: unknown) => e);
    expect(String(err)).toContain("injected failure");
    const files = await tree(fs, "");
    // Every file exists somewhere; b was never copied, so it is still at the source.
    expect(files["/s/b"]).toBe("B");
    expect(files["/t/b"]).toBeUndefined();
    for (const f of ["a", "c"]) expect(files[`/s/${f}`] ?? files[`/t/${f}`]).toBe(f.toUpperCase());
  });

  it("a copy that lands with the wrong size is EIO and the source is kept", async () => {
    const fs = new FaultyMemory({ store: "private" });
    await fs.pipe({ "/s/a": "AAAA" });
    fs.short.add("/s/a");
    const err = await fs.mv("/s/a", "/t/a").catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe("EIO");
    expect(await fs.readText("/s/a")).toBe("AAAA");
  });

  it("a glob source is removed as planned, never re-expanded after the copy", async () => {
    const fs = new MemoryFileSystem({ store: "private" });
    await fs.pipe({ "/d/a.txt": "A", "/d/sub/b.txt": "B" });
    // The copies land under /d/out, where '/d/**' would match them again.
    await fs.mv("/d/**", "/d/out/");
    expect(await tree(fs, "")).toEqual({ "/d/out/a.txt": "A", "/d/out/sub/b.txt": "B" });
  });

  it("local: moving a file onto a symlink to itself keeps the file", async () => {
    const { fs, root: dir } = await backends[1]![1]();
    await fs.pipe(`${dir}/target`, "T");
    await symlink(`${dir}/target`, `${dir}/link`);
    await fs.mv(`${dir}/target`, `${dir}/link`);
    expect(await fs.readText(`${dir}/link`)).toBe("T");
    expect(await fs.readText(`${dir}/target`)).toBe("T");
  });
});
