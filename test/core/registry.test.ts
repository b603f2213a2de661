import { errorOf } from "../support/errors.js";
import { describe, expect, it } from "vitest";
import {
  AbstractFileSystem,
  availableProtocols,
  clearInstanceCache,
  DirFileSystem,
  filesystem,
  FsError,
  getFilesystemClass,
  LocalFileSystem,
  MemoryFileSystem,
  registerImplementation,
  type FileInfo,
} from "../../src/index.js";

/** A tiny read-only backend: what a third-party author writes. */
class GreetingFileSystem extends AbstractFileSystem {
  static override protocols = ["greet-test"];
  protected override async _ls(path: string): Promise<FileInfo[]> {
    if (path === "/") return [{ name: "/hello", size: 5, type: "file" }];
    if (path === "/hello") return [{ name: "/hello", size: 5, type: "file" }];
    throw FsError.enoent(path);
  }
  protected override async _catFile(path: string, start: number, end?: number): Promise<Uint8Array> {
    if (path !== "/hello") throw FsError.enoent(path);
    return new TextEncoder().encode("hello").slice(start, end);
  }
}

async function code(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    return (e as FsError).code;
  }
  return undefined;
}

describe("registry", () => {
  it("knows the built-in protocols and defaults to file", async () => {
    expect(availableProtocols()).toEqual(expect.arrayContaining(["memory", "file", "local", "dir"]));
    expect(await getFilesystemClass()).toBe(LocalFileSystem);
    expect(await getFilesystemClass("memory")).toBe(MemoryFileSystem);
    expect(await getFilesystemClass("DIR")).toBe(DirFileSystem);
  });

  it("unknown protocols and bad names are EINVAL naming the known protocols", async () => {
    const err = await errorOf(getFilesystemClass("nope"));
    expect(err).toBeInstanceOf(FsError);
    expect(err.code).toBe("EINVAL");
    expect(err.message).toContain("memory");
    expect(await code(getFilesystemClass("bad name!"))).toBe("EINVAL");
  });

  it("registers classes, refuses conflicts without clobber, replaces with it", async () => {
    registerImplementation("greet-test", GreetingFileSystem);
    registerImplementation("greet-test", GreetingFileSystem); // same class again is fine
    class Other extends GreetingFileSystem {}
    expect(await code(() => registerImplementation("greet-test", Other))).toBe("EEXIST");
    registerImplementation("greet-test", Other, { clobber: true });
    expect(await getFilesystemClass("greet-test")).toBe(Other);
    registerImplementation("greet-test", GreetingFileSystem, { clobber: true });
    const fs = await filesystem("greet-test");
    expect(await fs.readText("/hello")).toBe("hello");
    expect(availableProtocols()).toContain("greet-test");
  });

  it("lazy loaders run once, on first use", async () => {
    let loads = 0;
    registerImplementation("lazy-test", async () => {
      loads++;
      return GreetingFileSystem;
    });
    expect(loads).toBe(0);
    await filesystem("lazy-test");
    await filesystem("lazy-test", { concurrency: 1 });
    expect(loads).toBe(1);
    registerImplementation("broken-test", async () => {
      throw new Error("module missing");
    });
    const err = await errorOf(filesystem("broken-test"));
    expect(err.code).toBe("ENOTSUP");
    expect(err.message).toContain("module missing");
    registerImplementation("notaclass-test", (async () => ({})) as never);
    expect(await code(filesystem("notaclass-test"))).toBe("EINVAL");
  });

  it("caches instances by class and options; skipInstanceCache and clearInstanceCache opt out", async () => {
    const a = await filesystem("memory", { listingsExpiryMs: 1000 });
    const b = await filesystem("memory", { listingsExpiryMs: 1000 });
    const c = await filesystem("memory", { listingsExpiryMs: 2000 });
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    const fresh = await filesystem("memory", { listingsExpiryMs: 1000, skipInstanceCache: true });
    expect(fresh).not.toBe(a);
    clearInstanceCache();
    expect(await filesystem("memory", { listingsExpiryMs: 1000 })).not.toBe(a);
    // Option order does not matter; object-valued options count by identity.
    expect(await filesystem("memory", { maxPaths: 1, concurrency: 2 })).toBe(await filesystem("memory", { concurrency: 2, maxPaths: 1 }));
    const target = new MemoryFileSystem({ store: "private" });
    const d1 = await filesystem("dir", { path: "/x", fs: target });
    expect(await filesystem("dir", { path: "/x", fs: target })).toBe(d1);
    expect(await filesystem("dir", { path: "/x", fs: new MemoryFileSystem({ store: "private" }) })).not.toBe(d1);
  });

  it("concurrent first calls share one instance", async () => {
    clearInstanceCache();
    const [x, y] = await Promise.all([filesystem("memory", { maxPaths: 7 }), filesystem("memory", { maxPaths: 7 })]);
    expect(x).toBe(y);
  });

  it("private memory stores are never shared through the cache", async () => {
    const a = await filesystem<MemoryFileSystem>("memory", { store: "private" });
    const b = await filesystem<MemoryFileSystem>("memory", { store: "private" });
    expect(a).not.toBe(b);
    await a.pipe("/only-a", "1");
    expect(await b.exists("/only-a")).toBe(false);
  });

  it("targetProtocol/targetOptions build the target of a wrapping filesystem", async () => {
    const shared = new MemoryFileSystem();
    await shared.pipe("/registry-target/f", "via target");
    const dir = await filesystem<DirFileSystem>("dir", { path: "/registry-target", targetProtocol: "memory" });
    expect(await dir.readText("f")).toBe("via target");
    expect(dir.target).toBeInstanceOf(MemoryFileSystem);
  });

  it("toJSON / fromJSON round-trip, nested filesystems included", async () => {
    const fs = await filesystem("dir", { path: "/json-root", targetProtocol: "memory" });
    const json = JSON.parse(JSON.stringify(fs.toJSON()));
    expect(json.protocol).toBe("dir");
    const again = await AbstractFileSystem.fromJSON(json);
    expect(again).toBeInstanceOf(DirFileSystem);
    expect((again as DirFileSystem).root).toBe("/json-root");
    const local = new LocalFileSystem({ autoMkdir: false });
    const back = await AbstractFileSystem.fromJSON(JSON.stringify(local.toJSON()));
    expect(back).toBeInstanceOf(LocalFileSystem);
    expect((back as LocalFileSystem).options.autoMkdir).toBe(false);
    expect(await code(() => new MemoryFileSystem({ store: new (MemoryFileSystem.sharedStore.constructor as new () => never)() }).toJSON())).toBe("EINVAL");
  });
});
