import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AutoModel, AutoModelMixin, FsError, MemoryFileSystem, Package, PACKAGE_ENV, type ProgressFactory } from "../../src/index.js";
import { codeOf, errorOf } from "../support/errors.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";

let server: TestHttpServer;
let dir: string;
const weights = new Uint8Array(200_000).map((_, i) => (i * 7) % 251);

beforeAll(async () => {
  server = await startHttpServer();
  dir = await mkdtemp(join(tmpdir(), "fsspec-pkg-"));
  server.setFile("/models/tiny/config.json", JSON.stringify({ a: 2, b: 1 }));
  server.setFile("/models/tiny/weights.bin", weights);
  server.setFile("/models/tiny/sub/notes.txt", "notes\n");
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
const envBefore = { ...process.env };
afterEach(() => {
  for (const k of Object.values(PACKAGE_ENV)) {
    if (envBefore[k] === undefined) delete process.env[k];
    else process.env[k] = envBefore[k];
  }
  delete process.env.FSSPEC_TS_OFFLINE;
});

/** Counts progress reports per file. */
function recorder() {
  const seen: Array<{ name: string; total: number; bytes: number }> = [];
  const factory: ProgressFactory = (name) => {
    const row = { name, total: 0, bytes: 0 };
    seen.push(row);
    return { setSize: (n) => (row.total = n), relativeUpdate: (n) => (row.bytes += n) };
  };
  return { seen, factory };
}

describe("Package", () => {
  it("resolve downloads once into the cache and hands back a local path", async () => {
    const cacheStorage = join(dir, "c1");
    const { seen, factory } = recorder();
    const pkg = new Package(`${server.url}/models/tiny`, { cacheOptions: { cacheStorage }, progress: factory });
    server.resetCounts();
    const local = await pkg.resolve("weights.bin");
    expect(local.startsWith(cacheStorage)).toBe(true);
    expect(new Uint8Array(await readFile(local))).toEqual(weights);
    expect(server.requestCount("/models/tiny/weights.bin", "GET")).toBeGreaterThan(0);
    const bytesMoved = seen.filter((s) => s.bytes > 0);
    expect(bytesMoved.map((s) => [s.name, s.bytes])).toEqual([["weights.bin", weights.byteLength]]);
    server.resetCounts();
    expect(await pkg.resolve("weights.bin")).toBe(local);
    expect(server.requestCount()).toBe(0);
    expect(seen.filter((s) => s.bytes > 0)).toHaveLength(1); // a cache hit reports nothing
    expect(await pkg.resolve("/sub/notes.txt")).toMatch(/notes\.txt$|[0-9a-f]{64}$/);
  });

  it("open reads a package file through the cache; text mode too", async () => {
    const pkg = new Package(`${server.url}/models/tiny`, { cacheOptions: { cacheStorage: join(dir, "c2") }, progress: false });
    const f = await pkg.open("config.json", "r");
    expect(JSON.parse(await f.read())).toEqual({ a: 2, b: 1 });
    await f.close();
    server.resetCounts();
    const g = await pkg.open("config.json");
    expect(new TextDecoder().decode(await g.read())).toContain('"a":2');
    await g.close();
    expect(server.requestCount("/models/tiny/config.json", "GET")).toBe(0);
    expect(await codeOf(pkg.open("config.json", "w" as "r"))).toBe("EINVAL");
  });

  it("paths stay inside the root; missing files are ENOENT", async () => {
    const pkg = new Package(`${server.url}/models/tiny`, { cacheOptions: { cacheStorage: join(dir, "c3") }, progress: false });
    for (const escape of ["../other/file", "sub/../../x", "%2e%2e/x", "..\\x"]) expect(await codeOf(pkg.resolve(escape))).toBe("EACCES");
    expect(await codeOf(pkg.resolve("missing.bin"))).toBe("ENOENT");
    expect(await codeOf(pkg.resolve(""))).toBe("EINVAL");
    expect(await pkg.exists("config.json")).toBe(true);
    expect(await pkg.exists("nope")).toBe(false);
  });

  it("local packages are read in place, without a cache", async () => {
    const root = join(dir, "local-pkg");
    await mkdir(join(root, "a"), { recursive: true });
    await writeFile(join(root, "a/w.bin"), "local weights");
    const pkg = new Package(root);
    expect(await pkg.resolve("a/w.bin")).toBe(join(root, "a/w.bin"));
    expect(await codeOf(pkg.resolve("a/missing"))).toBe("ENOENT");
    const f = await pkg.open("a/w.bin", "r");
    expect(await f.read()).toBe("local weights");
    await f.close();
  });

  it("a stalled download fails with ETIMEDOUT naming FSSPEC_TS_PACKAGE_TIMEOUT", async () => {
    server.setFile("/models/slow/big.bin", new Uint8Array(100_000));
    server.fault({ path: "/models/slow/big.bin", method: "GET", stallMs: Infinity, times: Infinity });
    process.env[PACKAGE_ENV.timeout] = "0.3";
    const pkg = new Package(`${server.url}/models/slow`, { cacheOptions: { cacheStorage: join(dir, "c4") }, progress: false, fsOptions: { https: {}, http: { retries: 0 } } });
    expect(pkg.timeoutMs).toBe(300);
    const err = await errorOf(pkg.resolve("big.bin"));
    expect(err.code).toBe("ETIMEDOUT");
    expect(err.message).toContain("FSSPEC_TS_PACKAGE_TIMEOUT");
    expect(err.message).toContain("stalled for 300 ms");
    server.clearFaults();
  });

  it("defaultCache: ~/.cache/fsspec-ts, FSSPEC_TS_CACHE, then FSSPEC_TS_MODEL_CACHE, read at call time", () => {
    delete process.env[PACKAGE_ENV.cache];
    delete process.env[PACKAGE_ENV.modelCache];
    expect(Package.defaultCache()).toMatch(/\.cache\/fsspec-ts$/);
    process.env[PACKAGE_ENV.cache] = "/var/cache/all";
    expect(Package.defaultCache("fcn")).toBe("/var/cache/all/fcn");
    process.env[PACKAGE_ENV.modelCache] = "/models";
    expect(Package.defaultCache("fcn")).toBe("/models/fcn");
    expect(Package.defaultCache()).toBe("/models");
  });

  it("offline mode serves what is cached and is ENOENT for the rest", async () => {
    const cacheStorage = join(dir, "c5");
    const pkg = new Package(`${server.url}/models/tiny`, { cacheOptions: { cacheStorage }, progress: false });
    const local = await pkg.resolve("config.json");
    process.env.FSSPEC_TS_OFFLINE = "1";
    server.resetCounts();
    const again = new Package(`${server.url}/models/tiny`, { cacheOptions: { cacheStorage }, progress: false });
    expect(await again.resolve("config.json")).toBe(local);
    expect(await codeOf(again.resolve("weights.bin"))).toBe("ENOENT");
    expect(server.requestCount()).toBe(0);
  });

  it("any filesystem can hold the root: a given fs, or memory:// with the cache on disk", async () => {
    const mem = new MemoryFileSystem({ store: "private" });
    await mem.pipe("/ckpt/model.bin", "from memory");
    const pkg = new Package("/ckpt", { fs: mem, cacheOptions: { cacheStorage: join(dir, "c6") }, progress: false });
    expect(await readFile(await pkg.resolve("model.bin"), "utf8")).toBe("from memory");
    const shared = new MemoryFileSystem();
    await shared.pipe("/pkg-mem/x.txt", "shared memory");
    const viaUrl = new Package("memory://pkg-mem", { cacheOptions: { cacheStorage: join(dir, "c7") }, progress: false });
    expect(await readFile(await viaUrl.resolve("x.txt"), "utf8")).toBe("shared memory");
  });

  it("get is a deprecated alias of resolve", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on("warning", onWarning);
    const pkg = new Package(`${server.url}/models/tiny`, { cacheOptions: { cacheStorage: join(dir, "c8") }, progress: false });
    expect(await readFile(await pkg.get("config.json"), "utf8")).toContain("a");
    await new Promise((r) => setImmediate(r));
    process.off("warning", onWarning);
    expect(warnings.some((w) => w.includes("deprecated"))).toBe(true);
  });
});

describe("AutoModelMixin", () => {
  class Tiny extends AutoModel {
    constructor(readonly a: number, readonly b: number, readonly weights: Uint8Array) {
      super();
    }
    static defaultRoot = "";
    static override loadDefaultPackage(): Package {
      return new Package(Tiny.defaultRoot, { cacheOptions: { cacheStorage: join(dir, "tiny"), sameNames: true }, progress: false });
    }
    static override async loadModel(pkg: Package): Promise<Tiny> {
      const config = JSON.parse(await readFile(await pkg.resolve("config.json"), "utf8")) as { a: number; b: number };
      return new Tiny(config.a, config.b, new Uint8Array(await readFile(await pkg.resolve("weights.bin"))));
    }
    predict(x: number): number {
      return this.a * x + this.b;
    }
  }

  it("fromPretrained loads the default package, any root, or a given Package", async () => {
    Tiny.defaultRoot = `${server.url}/models/tiny`;
    const model = await Tiny.fromPretrained();
    expect(model).toBeInstanceOf(Tiny);
    expect(model.predict(3)).toBe(7);
    expect(model.weights).toEqual(weights);
    // sameNames: files keep readable names in the model's own cache folder
    expect(await readFile(join(dir, "tiny", "config.json"), "utf8")).toContain('"a":2');
    const root = join(dir, "tiny-local");
    await mkdir(root, { recursive: true });
    await writeFile(join(root, "config.json"), JSON.stringify({ a: 10, b: 0 }));
    await writeFile(join(root, "weights.bin"), "w");
    expect((await Tiny.fromPretrained(root)).predict(2)).toBe(20);
    const given = new Package(root);
    expect((await Tiny.fromPretrained(given)).predict(1)).toBe(10);
  });

  it("the base methods say they are not implemented; the mixin works over another base", async () => {
    class Bare extends AutoModel {}
    expect(() => Bare.loadDefaultPackage()).toThrow(FsError);
    expect(await codeOf(Bare.fromPretrained("/tmp"))).toBe("ENOTSUP");
    class Layer {
      kind = "layer";
    }
    class Mixed extends AutoModelMixin(Layer) {
      static override async loadModel(): Promise<Mixed> {
        return new Mixed();
      }
    }
    const m = await Mixed.fromPretrained("/anything");
    expect(m.kind).toBe("layer");
  });
});
