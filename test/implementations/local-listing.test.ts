/**
 * Local listings take names and types from the directory itself: names-only `ls`, `find`,
 * `glob` and `walk` stat only symlinks (to say what they point at), detailed listings stat
 * every entry, and both agree on every entry's name and type, links included. Checked on the
 * real disk (synchronous calls in slices) and on an injected memfs volume (its promises).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsFromVolume, Volume } from "memfs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalFileSystem, type FileInfo, type NodeFsLike } from "../../src/index.js";
import { errorOf } from "../support/errors.js";

/** A tree with every kind of entry: files, a directory, links to each, a dangling link. */
function makeTree(fs: Pick<typeof import("node:fs"), "mkdirSync" | "writeFileSync" | "symlinkSync">, root: string): void {
  fs.mkdirSync(`${root}/sub/deep`, { recursive: true });
  fs.writeFileSync(`${root}/a.bin`, "12345");
  fs.writeFileSync(`${root}/sub/b.bin`, "1234567");
  fs.writeFileSync(`${root}/sub/deep/c.txt`, "123");
  fs.symlinkSync(`${root}/a.bin`, `${root}/link-to-file`);
  fs.symlinkSync(`${root}/sub`, `${root}/link-to-dir`);
  fs.symlinkSync(`${root}/missing`, `${root}/dangling`);
}

/** LocalFileSystem over a memfs volume, counting the stats that reach it. */
function countingMemfs(): { fs: LocalFileSystem; vol: InstanceType<typeof Volume>; stats: () => number } {
  const vol = new Volume();
  const inner = createFsFromVolume(vol) as unknown as NodeFsLike;
  let stats = 0;
  const promises = {
    ...inner.promises,
    lstat: ((...args: Parameters<typeof inner.promises.lstat>) => (stats++, inner.promises.lstat(...args))) as typeof inner.promises.lstat,
    stat: ((...args: Parameters<typeof inner.promises.stat>) => (stats++, inner.promises.stat(...args))) as typeof inner.promises.stat,
  };
  return { fs: new LocalFileSystem({ fs: { promises } }), vol, stats: () => stats };
}

const pick = (i: FileInfo) => ({ name: i.name, type: i.type });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fsspec-listing-"));
  makeTree({ mkdirSync, writeFileSync, symlinkSync }, `${dir}/t`);
  execFileSync("mkfifo", [`${dir}/t/fifo`]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each([
  ["the real disk", () => ({ fs: new LocalFileSystem(), root: `${dir}/t` })],
  [
    "a memfs volume",
    () => {
      const { fs, vol } = countingMemfs();
      makeTree(vol as never, "/t");
      return { fs, root: "/t" };
    },
  ],
])("listings on %s", (_name, make) => {
  it("names-only ls, find, glob and walk agree with the detailed ones, links included", async () => {
    const { fs, root } = make();
    const detail = await fs.ls(root);
    expect(await fs.ls(root, { detail: false })).toEqual(detail.map((i) => i.name));
    const byName = Object.fromEntries(detail.map((i) => [i.name.slice(root.length + 1), i]));
    expect(byName["link-to-file"]).toMatchObject({ type: "file", size: 5, islink: true });
    expect(byName["link-to-dir"]).toMatchObject({ type: "directory", islink: true });
    expect(byName["dangling"]).toMatchObject({ type: "other", islink: true });
    expect(byName["a.bin"]).toMatchObject({ type: "file", size: 5, islink: false });

    const found = await fs.find(root, { withDirs: true, detail: true });
    expect(await fs.find(root, { withDirs: true })).toEqual(Object.keys(found));
    expect(await fs.find(root)).toEqual(Object.keys(found).filter((k) => found[k]!.type !== "directory"));
    // The link to a directory is followed, as its type says.
    expect(Object.keys(found)).toContain(`${root}/link-to-dir/deep/c.txt`);
    const globbed = await fs.glob(`${root}/**/*.bin`, { detail: true });
    expect(await fs.glob(`${root}/**/*.bin`)).toEqual(Object.keys(globbed));
    expect(Object.keys(globbed)).toEqual([`${root}/a.bin`, `${root}/link-to-dir/b.bin`, `${root}/sub/b.bin`]);

    const walked: unknown[] = [];
    for await (const [path, dirs, files] of fs.walk(root)) walked.push([path, dirs, files]);
    const walkedDetail: unknown[] = [];
    for await (const [path, dirs, files] of fs.walk(root, { detail: true })) walkedDetail.push([path, Object.keys(dirs), Object.keys(files)]);
    expect(walked).toEqual(walkedDetail);
    expect(walked[0]).toEqual([root, ["link-to-dir", "sub"], expect.arrayContaining(["a.bin", "dangling", "link-to-file"])]);
  });

  it("a detailed ls gives each entry what info gives it", async () => {
    const { fs, root } = make();
    for (const entry of await fs.ls(root)) expect(entry).toEqual(await fs.info(entry.name));
    expect(await fs.du(root)).toBe(5 + 7 + 3 + 5 + 7 + 3 + (await fs.info(`${root}/dangling`)).size!);
  });

  it("ls of a file, a link to one and a dangling link lists the entry itself; a missing path is ENOENT", async () => {
    const { fs, root } = make();
    expect((await fs.ls(`${root}/a.bin`)).map(pick)).toEqual([{ name: `${root}/a.bin`, type: "file" }]);
    expect((await fs.ls(`${root}/link-to-file`)).map(pick)).toEqual([{ name: `${root}/link-to-file`, type: "file" }]);
    expect((await fs.ls(`${root}/dangling`)).map(pick)).toEqual([{ name: `${root}/dangling`, type: "other" }]);
    expect(await fs.ls(`${root}/link-to-file`, { detail: false })).toEqual([`${root}/link-to-file`]);
    expect(await fs.ls(`${root}/dangling`, { detail: false })).toEqual([`${root}/dangling`]);
    for (const detail of [true, false]) {
      expect((await errorOf(fs.ls(`${root}/nope`, { detail }))).code).toBe("ENOENT");
      expect((await errorOf(fs.ls(`${root}/a.bin/x`, { detail }))).code).toBe("ENOTDIR");
    }
  });
});

describe("what listings stat (counted on a memfs volume)", () => {
  it("names-only ls stats nothing, find, glob and walk only the symlinks; detail stats every entry", async () => {
    const { fs, vol, stats } = countingMemfs();
    vol.mkdirSync("/big/d", { recursive: true });
    for (let i = 0; i < 200; i++) vol.writeFileSync(`/big/d/f${i}.bin`, "x");
    vol.symlinkSync("/big/d/f0.bin", "/big/d/link");
    const before = stats();
    expect(await fs.ls("/big/d", { detail: false })).toHaveLength(201);
    expect(stats() - before).toBe(0);
    expect(await fs.find("/big")).toHaveLength(201);
    expect(await fs.glob("/big/**/*.bin")).toHaveLength(200);
    for await (const [, , files] of fs.walk("/big")) void files;
    // One lstat and one stat of the link per listing of /big/d (three of them), nothing else.
    expect(stats() - before).toBe(6);
    await fs.ls("/big/d");
    expect(stats() - before).toBe(6 + 201 + 1);
  });

  it("a listings cache keeps whole entries: a names-only listing never fills it with sizeless ones", async () => {
    const vol = Volume.fromJSON({ "/c/a.txt": "abc", "/c/b.txt": "de" });
    const fs = new LocalFileSystem({ fs: createFsFromVolume(vol) as unknown as NodeFsLike, useListingsCache: true });
    expect(await fs.ls("/c", { detail: false })).toEqual(["/c/a.txt", "/c/b.txt"]);
    expect((await fs.ls("/c")).map((i) => i.size)).toEqual([3, 2]);
  });
});

describe("a link loop on the real disk", () => {
  it("a link to itself is an entry of type other in every listing; a link into a subdirectory is a directory", async () => {
    const root = `${dir}/loops`;
    mkdirSync(`${root}/nested/inner`, { recursive: true });
    writeFileSync(`${root}/plain.txt`, "ab");
    symlinkSync(`${root}/self`, `${root}/self`);
    symlinkSync(`${root}/nested/inner`, `${root}/into-nested`);
    const fs = new LocalFileSystem();
    const byName = Object.fromEntries((await fs.ls(root)).map((i) => [i.name.slice(root.length + 1), i]));
    expect(byName["self"]).toMatchObject({ type: "other", islink: true });
    expect(byName["plain.txt"]).toMatchObject({ type: "file", size: 2, islink: false });
    expect(await fs.ls(root, { detail: false })).toEqual(Object.keys(byName).map((n) => `${root}/${n}`));
    const found = await fs.find(root, { withDirs: true, detail: true });
    expect(await fs.find(root, { withDirs: true })).toEqual(Object.keys(found));
    expect(found[`${root}/self`]).toMatchObject({ type: "other", islink: true });
    expect(found[`${root}/into-nested`]).toMatchObject({ type: "directory", islink: true });
    expect(await fs.glob(`${root}/*`)).toEqual(Object.keys(byName).map((n) => `${root}/${n}`));
  });
});

describe("a large directory on the real disk", () => {
  const COUNT = 10_000;
  let big: string;
  beforeAll(() => {
    big = `${dir}/big`;
    mkdirSync(big);
    for (let i = 0; i < COUNT; i++) writeFileSync(`${big}/f${i}`, "");
  }, 120_000); // file creation alone can take seconds on a machine whose disk is busy

  it("lets the event loop run while it is stat'ed, and stops when aborted", async () => {
    const fs = new LocalFileSystem();
    let turns = 0;
    const tick = () => {
      turns++;
      if (pending) setImmediate(tick);
    };
    let pending = true;
    setImmediate(tick);
    const listing = await fs.ls(big);
    pending = false;
    expect(listing).toHaveLength(COUNT);
    expect(listing.every((i) => i.type === "file" && i.size === 0)).toBe(true);
    expect(turns).toBeGreaterThan(0);

    const controller = new AbortController();
    setImmediate(() => controller.abort());
    expect((await errorOf(fs.ls(big, { signal: controller.signal }))).code).toBe("EABORT");
  });

  it("find, glob, walk and du of it agree, and find and du with detail let the event loop run and stop when aborted", async () => {
    const fs = new LocalFileSystem();
    expect(await fs.find(big)).toHaveLength(COUNT);
    expect(await fs.glob(`${big}/f1*`)).toHaveLength(1 + 10 + 100 + 1000);
    const walked: unknown[] = [];
    for await (const [path, dirs, files] of fs.walk(big)) walked.push([path, dirs, files.length]);
    expect(walked).toEqual([[big, [], COUNT]]);
    // With detail every entry is stat'ed, in slices: the loop turns between them, and an abort is seen.
    for (const list of [(signal?: AbortSignal) => fs.find(big, { detail: true, signal }), (signal?: AbortSignal) => fs.du(big, { total: false, signal })]) {
      let turns = 0;
      let pending = true;
      const tick = () => {
        turns++;
        if (pending) setImmediate(tick);
      };
      setImmediate(tick);
      const found = await list();
      pending = false;
      expect(Object.keys(found)).toHaveLength(COUNT);
      expect(turns).toBeGreaterThan(0);
      const controller = new AbortController();
      setImmediate(() => controller.abort());
      expect((await errorOf(list(controller.signal))).code).toBe("EABORT");
    }
  });
});
