import { describe, expect, it } from "vitest";
import { AbstractFileSystem, FsError, ListingsCache, type FileInfo, type FileSystemOptions } from "../../src/index.js";

/** An object-store-like backend over a Map that counts its listings, as a remote one would. */
class CountingStore extends AbstractFileSystem {
  static override protocols = ["counting-test"];
  static override rootMarker = "";
  readonly files = new Map<string, Uint8Array>();
  lsCalls: string[] = [];
  constructor(options: FileSystemOptions = {}) {
    super(options);
  }
  protected override get listsRemotely(): boolean {
    return true;
  }
  protected override async _ls(path: string): Promise<FileInfo[]> {
    this.lsCalls.push(path);
    if (this.files.has(path)) return [{ name: path, size: this.files.get(path)!.byteLength, type: "file" }];
    const prefix = path === "" ? "" : `${path}/`;
    const out = new Map<string, FileInfo>();
    for (const [k, v] of this.files) {
      if (!k.startsWith(prefix)) continue;
      const rest = k.slice(prefix.length);
      const slash = rest.indexOf("/");
      if (slash < 0) out.set(k, { name: k, size: v.byteLength, type: "file" });
      else out.set(prefix + rest.slice(0, slash), { name: prefix + rest.slice(0, slash), size: 0, type: "directory" });
    }
    if (out.size === 0 && path !== "") throw FsError.enoent(path);
    return [...out.values()];
  }
  protected override async _catFile(path: string, start: number, end?: number): Promise<Uint8Array> {
    const data = this.files.get(path);
    if (!data) throw FsError.enoent(path);
    return data.slice(start, end);
  }
  protected override async _pipeFile(path: string, data: Uint8Array): Promise<void> {
    this.files.set(path, data.slice());
  }
  protected override async _rmFile(path: string): Promise<void> {
    if (!this.files.delete(path)) throw FsError.enoent(path);
  }
}

describe("ListingsCache", () => {
  const listing = (name: string): FileInfo[] => [{ name, size: 1, type: "file" }];

  it("is a real LRU bounded by maxPaths", () => {
    const cache = new ListingsCache({ maxPaths: 2 });
    cache.set("/a", listing("/a/x"));
    cache.set("/b", listing("/b/x"));
    cache.get("/a"); // /a is now most recent
    cache.set("/c", listing("/c/x"));
    expect(cache.has("/a")).toBe(true);
    expect(cache.has("/b")).toBe(false);
    expect(cache.has("/c")).toBe(true);
    expect(cache.size).toBe(2);
  });

  it("expires listings after expiryMs", async () => {
    const cache = new ListingsCache({ expiryMs: 50 });
    cache.set("/a", listing("/a/x"));
    expect(cache.get("/a")).toBeDefined();
    await new Promise((r) => setTimeout(r, 80));
    expect(cache.get("/a")).toBeUndefined();
  });

  it("invalidate drops the path, its ancestors and everything below", () => {
    const cache = new ListingsCache();
    for (const p of ["/", "/a", "/a/b", "/a/b/c", "/a/bc", "/z"]) cache.set(p, listing(p));
    cache.invalidate("/a/b");
    expect(["/", "/a", "/a/b", "/a/b/c"].map((p) => cache.has(p))).toEqual([false, false, false, false]);
    expect(cache.has("/a/bc")).toBe(true);
    expect(cache.has("/z")).toBe(true);
    cache.invalidate();
    expect(cache.size).toBe(0);
  });
});

describe("listings cache in a filesystem", () => {
  it("serves repeated listings from the cache and forgets them on writes", async () => {
    const fs = new CountingStore();
    await fs.pipe({ "b/k1": "1", "b/k2": "2", "b/sub/k3": "3" });
    fs.lsCalls = [];
    await fs.ls("b");
    await fs.ls("b");
    await fs.info("b/k1");
    expect(fs.lsCalls).toEqual(["b"]);
    await fs.pipe("b/k4", "4");
    expect(await fs.ls("b", { detail: false })).toContain("b/k4");
    expect(fs.lsCalls).toEqual(["b", "b"]);
    await fs.rm("b/k1");
    expect(await fs.ls("b", { detail: false })).not.toContain("b/k1");
    await fs.ls("b", { refresh: true });
    expect(fs.lsCalls.filter((c) => c === "b")).toHaveLength(4);
  });

  it("useListingsCache: false lists every time; invalidateCache clears on demand", async () => {
    const fs = new CountingStore({ useListingsCache: false });
    await fs.pipe("d/x", "1");
    await fs.ls("d");
    await fs.ls("d");
    expect(fs.lsCalls.filter((c) => c === "d")).toHaveLength(2);
    const cached = new CountingStore();
    await cached.pipe("d/x", "1");
    await cached.ls("d");
    cached.files.set("d/y", new Uint8Array(1)); // changed behind our back
    expect(await cached.ls("d", { detail: false })).toEqual(["d/x"]);
    cached.invalidateCache("d");
    expect((await cached.ls("d", { detail: false })).sort()).toEqual(["d/x", "d/y"]);
  });

  it("a glob never leaves a partial listing in the cache", async () => {
    const fs = new CountingStore();
    await fs.pipe({ "g/a1": "1", "g/a2": "2", "g/b1": "3", "g/deep/a3": "4" });
    expect(await fs.glob("g/a*")).toEqual(["g/a1", "g/a2"]);
    expect((await fs.ls("g", { detail: false })).sort()).toEqual(["g/a1", "g/a2", "g/b1", "g/deep"]);
    expect(await fs.find("g")).toEqual(["g/a1", "g/a2", "g/b1", "g/deep/a3"]);
  });

  it("maxPaths bounds the cache of a filesystem", async () => {
    const fs = new CountingStore({ maxPaths: 3 });
    const files: Record<string, string> = {};
    for (let i = 0; i < 10; i++) files[`m/d${i}/f`] = "x";
    await fs.pipe(files);
    for (let i = 0; i < 10; i++) await fs.ls(`m/d${i}`);
    expect(fs.dircache!.size).toBe(3);
  });
});
