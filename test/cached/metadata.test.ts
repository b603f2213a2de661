import { describe, expect, it } from "vitest";
import { FsError, MemoryFileSystem, type PipeMode } from "../../src/index.js";
import { CacheMetadata, parseMetadata, type CacheEntry } from "../../src/cached/metadata.js";
import { StorageDir } from "../../src/cached/storage.js";

const entry = (path: string, over: Partial<CacheEntry> = {}): CacheEntry => ({
  original: path, fn: `fn-${path.replace(/\//g, "")}`, blocks: true, time: 1000, uid: null, ...over,
});

/** Two metadata objects over one directory stand for two processes sharing a cache. */
function twoProcesses() {
  const fs = new MemoryFileSystem({ store: "private" });
  const storage = new StorageDir(fs, "/cache", false, 0);
  return { fs, storage, a: new CacheMetadata(storage), b: new CacheMetadata(storage) };
}

async function onDisk(fs: MemoryFileSystem): Promise<Record<string, CacheEntry>> {
  return JSON.parse(await fs.readText("/cache/cache"));
}

/** Memory storage whose metadata file cannot be read while `failing` is set (a flaky disk). */
class FlakyStorage extends MemoryFileSystem {
  failing = false;
  protected override _catFile(path: string, start: number, end: number | undefined): Promise<Uint8Array> {
    if (this.failing && path.endsWith("/cache")) return Promise.reject(new FsError("EIO", "disk read failed", { path }));
    return super._catFile(path, start, end);
  }
}

/** Memory storage counting the metadata lock's takes, with slow metadata writes (a busy disk). */
class SlowMetadataWrites extends MemoryFileSystem {
  lockTakes = 0;
  protected override _pipeFile(path: string, data: Uint8Array, mode: PipeMode): Promise<void> {
    if (path.endsWith("/.fsspec-metalock") && mode === "create") this.lockTakes++;
    if (!path.endsWith("/cache")) return super._pipeFile(path, data, mode);
    return new Promise((r) => setTimeout(r, 20)).then(() => super._pipeFile(path, data, mode));
  }
}

describe("cache metadata", () => {
  it("refresh(0) reads the file again even within the millisecond of the last read or save", async () => {
    const { fs, a, b } = twoProcesses();
    a.set("/x", entry("/x"));
    await a.save();
    for (let i = 0; i < 20; i++) {
      b.set(`/y${i}`, entry(`/y${i}`));
      await b.save();
      await a.refresh(0); // right after b's save, often in the same millisecond as a's last read
      expect(a.get(`/y${i}`), `round ${i}`).toBeDefined();
    }
    expect(Object.keys(await onDisk(fs))).toHaveLength(21);
  });

  it("saves made while one writes share its lock and its read: every entry lands, with at most two takes of the lock", async () => {
    const fs = new SlowMetadataWrites({ store: "private" });
    const storage = new StorageDir(fs, "/cache", false, 0);
    const md = new CacheMetadata(storage);
    const other = new CacheMetadata(storage);
    other.set("/theirs", entry("/theirs"));
    await other.save();
    fs.lockTakes = 0;
    md.set("/0", entry("/0"));
    const first = md.save();
    const later: Array<Promise<void>> = [];
    // Downloads finishing while the first save writes, one after another.
    for (let i = 1; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 3));
      md.set(`/${i}`, entry(`/${i}`));
      later.push(md.save());
    }
    await Promise.all([first, ...later]);
    expect(Object.keys(await onDisk(fs)).sort()).toEqual(["/0", "/1", "/2", "/3", "/4", "/5", "/6", "/7", "/theirs"]);
    expect(fs.lockTakes).toBeLessThanOrEqual(2);
    expect(await fs.exists("/cache/.fsspec-metalock")).toBe(false);
  });


  it("a save that cannot read the file on disk fails instead of writing over other entries", async () => {
    const fs = new FlakyStorage({ store: "private" });
    const storage = new StorageDir(fs, "/cache", false, 0);
    const other = new CacheMetadata(storage);
    other.set("/theirs", entry("/theirs"));
    await other.save();
    const mine = new CacheMetadata(storage);
    mine.set("/mine", entry("/mine"));
    fs.failing = true;
    await expect(mine.save()).rejects.toMatchObject({ code: "EIO" });
    fs.failing = false;
    expect(Object.keys(JSON.parse(await fs.readText("/cache/cache")))).toEqual(["/theirs"]);
    await mine.save(); // the change is still pending and lands once the disk reads again
    expect(Object.keys(JSON.parse(await fs.readText("/cache/cache"))).sort()).toEqual(["/mine", "/theirs"]);
  });

  it("saves fsspec's shape: a JSON object keyed by path", async () => {
    const { fs, a } = twoProcesses();
    a.set("/x", entry("/x", { size: 3, uid: "u1" }));
    await a.save();
    expect(await onDisk(fs)).toEqual({ "/x": { original: "/x", fn: "fn-x", blocks: true, time: 1000, uid: "u1", size: 3 } });
  });

  it("merges saves from several processes without losing entries", async () => {
    const { fs, a, b } = twoProcesses();
    await a.load();
    await b.load();
    a.set("/a", entry("/a"));
    b.set("/b", entry("/b"));
    await Promise.all([a.save(), b.save()]);
    expect(Object.keys(await onDisk(fs)).sort()).toEqual(["/a", "/b"]);
    await a.load();
    expect([...a.entries.keys()].sort()).toEqual(["/a", "/b"]);
  });

  it("adds up the blocks of one file version and lets the newer version win otherwise", async () => {
    const { fs, a, b } = twoProcesses();
    a.set("/f", entry("/f", { blocks: [0, 2], fn: "d1" }));
    b.set("/f", entry("/f", { blocks: [1, 2], fn: "d1" }));
    await a.save();
    await b.save();
    expect((await onDisk(fs))["/f"]!.blocks).toEqual([0, 1, 2]);
    a.set("/f", entry("/f", { blocks: [5], fn: "d2", time: 2000 }));
    await a.save();
    b.set("/f", entry("/f", { blocks: [0, 1, 2, 3], fn: "d1", time: 1500 }));
    await b.save();
    expect((await onDisk(fs))["/f"]).toMatchObject({ fn: "d2", blocks: [5] });
  });

  it("a removal is saved, but never removes a newer entry another process wrote", async () => {
    const { fs, a, b } = twoProcesses();
    a.set("/gone", entry("/gone"));
    a.set("/renewed", entry("/renewed"));
    await a.save();
    await b.load();
    b.delete("/gone");
    b.delete("/renewed");
    a.set("/renewed", entry("/renewed", { time: 5000 }));
    await a.save();
    await b.save();
    expect(Object.keys(await onDisk(fs))).toEqual(["/renewed"]);
  });

  it("a corrupted file is rebuilt from the entries whose files exist", async () => {
    const { fs, storage, a } = twoProcesses();
    await fs.pipe({ "/cache/fn-kept": "k" });
    a.set("/kept", entry("/kept"));
    a.set("/lost", entry("/lost"));
    await a.save();
    await fs.pipe("/cache/cache", '{"truncated": {"fn": ');
    await a.load();
    expect(a.rebuilt).toBe(true);
    expect([...a.entries.keys()]).toEqual(["/kept"]);
    expect(Object.keys(await onDisk(fs))).toEqual(["/kept"]);
    // A fresh process that finds garbage starts empty, and still writes valid JSON.
    await fs.pipe("/cache/cache", new Uint8Array([0, 255, 7]));
    const fresh = new CacheMetadata(storage);
    await fresh.load();
    expect(fresh.entries.size).toBe(0);
    expect(await onDisk(fs)).toEqual({});
  });

  it("bad entries are dropped one by one, good ones kept", () => {
    const raw = new TextEncoder().encode(JSON.stringify({
      "/ok": entry("/ok"),
      "/no-fn": { blocks: true, time: 1 },
      "/slash": { fn: "a/b", blocks: true, time: 1 },
      "/blocks": { fn: "x", blocks: "all", time: 1 },
    }));
    expect([...parseMetadata(raw)!.keys()]).toEqual(["/ok"]);
    expect(parseMetadata(new TextEncoder().encode("[1,2]"))).toBeUndefined();
  });

  it("read-only storage is read but never written", async () => {
    const fs = new MemoryFileSystem({ store: "private" });
    await fs.pipe("/ro/cache", JSON.stringify({ "/x": entry("/x") }));
    const md = new CacheMetadata(new StorageDir(fs, "/ro", true, 0));
    await md.load();
    expect(md.get("/x")?.fn).toBe("fn-x");
    md.set("/y", entry("/y"));
    await md.save();
    expect(Object.keys(JSON.parse(await fs.readText("/ro/cache")))).toEqual(["/x"]);
  });
});
