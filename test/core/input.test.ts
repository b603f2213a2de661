/**
 * Input, end to end: the reported wrong-argument calls, unknown option names in constructors,
 * URL chains, open/openFiles and Package, `signal` on memory and the local disk (already aborted
 * and aborted mid-way, opened files included), get/put from a subpath import, and closed
 * instances leaving the instance cache.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  BufferedFile,
  CachingFileSystem,
  CompressedFile,
  getFilesystemClass,
  registerImplementation,
  DirFileSystem,
  filesystem,
  FsError,
  LocalFileSystem,
  MemoryFileSystem,
  open,
  openFiles,
  Package,
  SimpleCacheFileSystem,
  urlToFs,
  WholeFileCacheFileSystem,
  AbstractFileSystem,
} from "../../src/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { HuggingFaceFileSystem } from "../../src/implementations/hf.js";
import { NGCFileSystem } from "../../src/implementations/ngc.js";
import { S3FileSystem } from "../../src/implementations/s3.js";
import { runCli } from "../../src/cli/main.js";
import { errorOf } from "../support/errors.js";
import { FIXTURES, changed, join as under, seed, snapshot, type ApiFixture } from "../support/public-api.js";
import { createBucket } from "../s3/helpers.js";

const here = dirname(fileURLToPath(import.meta.url));

/** The EINVAL a call fails with (synchronous throws included). */
async function einval(call: () => unknown): Promise<FsError> {
  const err = await errorOf(Promise.resolve().then(call));
  expect(err.code, err.message).toBe("EINVAL");
  return err;
}

describe("the reported wrong-argument calls", () => {
  let fs: MemoryFileSystem;
  beforeAll(async () => {
    fs = new MemoryFileSystem({ store: "private" });
    await fs.pipe({ "/d/f": "F", "/d/g": "G" });
  });
  const files = async () => (await fs.find("/")).join(",");

  it("pipe(42, d) and pipe(new String('a'), d) are EINVAL and write nothing", async () => {
    expect((await einval(() => fs.pipe(42 as never, "d"))).message).toContain("pathOrRecord");
    expect((await einval(() => fs.pipe(new String("a") as never, "d"))).message).toContain("pathOrRecord");
    expect((await einval(() => fs.pipe({ "/d/new": "ok", "/d/bad": 5 as never }))).message).toContain("/d/bad");
    expect(await files()).toBe("/d/f,/d/g");
  });

  it("misspelled options are refused instead of ignored with effect", async () => {
    const mode = await einval(() => fs.pipeFile("/d/f", "overwritten", { Mode: "create" } as never));
    expect(mode.message).toContain("did you mean 'mode'");
    const truncate = await einval(() => fs.touch("/d/g", { trucate: false } as never));
    expect(truncate.message).toContain("did you mean 'truncate'");
    const recursive = await einval(() => fs.copy("/d", "/copy", { recurisve: true } as never));
    expect(recursive.message).toContain("did you mean 'recursive'");
    expect(await fs.readText("/d/f")).toBe("F");
    expect(await fs.readText("/d/g")).toBe("G");
    expect(await files()).toBe("/d/f,/d/g");
  });

  it("wrong types are EINVAL naming the argument, never a TypeError or RangeError", async () => {
    const cases: Array<[() => unknown, string]> = [
      [() => fs.glob(1 as never), "pattern"],
      [() => fs.ls("/d", null as never), "options"],
      [() => fs.rm({} as never), "path"],
      [() => fs.cat(new Set(["/d/f"]) as never), "path"],
      [() => fs.catFile("/d/f", 0, 1, { signal: { aborted: true } as never }), "signal"],
      [() => fs.readText("/d/f", "bogus" as never), "encoding"],
      [() => fs.writeText("/d/h", "x", "bogus" as never), "encoding"],
      [() => fs.head("/d/f", 10n as never), "size"],
      [() => fs.catFile("/d/f", 0n as never), "start"],
      [() => fs.readBlock("/d/f", 0, 2n as never), "length"],
      [() => fs.catRanges(["/d/f"], [0], [1], { concurrency: 0 }), "concurrency"],
      [() => fs.copy("/d/f", "/d/c", { concurrency: 0 }), "concurrency"],
      [() => fs.open("/d/f", "rb", { blockSize: "4" as never }), "blockSize"],
      [() => fs.find("/d", { maxDepth: 0 }), "maxDepth"],
      [() => fs.sizes("/d/f" as never), "paths"],
      [() => new MemoryFileSystem({ concurrency: 0 }), "concurrency"],
      [() => new CachingFileSystem({ fs, blockSize: "4" as never }), "blockSize"],
      [() => AbstractFileSystem.fromJSON("{not json"), "json"],
      [() => AbstractFileSystem.fromJSON({ protocol: 1 } as never), "json"],
    ];
    for (const [call, name] of cases) expect((await einval(call)).message).toContain(name);
    expect(await files()).toBe("/d/f,/d/g");
  });
});

describe("opened files and the registry check their arguments too", () => {
  it("BufferedFile, TextFile and CompressedFile methods: EINVAL naming the argument", async () => {
    const fs = new MemoryFileSystem({ store: "private" });
    await fs.pipe("/o/f", "abcdef");
    const reader = await fs.open("/o/f", "rb");
    const writer = await fs.open("/o/w", "wb");
    const text = await fs.open("/o/t", "w");
    const gz = (await open("memory://o/z.gz", "wb", { compression: "infer", store: fs.store })) as CompressedFile;
    const cases: Array<[() => unknown, string]> = [
      [() => reader.read("2" as never), "length"],
      [() => reader.readInto(42 as never), "target"],
      [() => reader.seek("1" as never), "seek"],
      [() => reader.seek(0, 5 as never), "seek"],
      [() => reader.createReadStream({ highWatermark: 2 } as never), "did you mean 'highWaterMark'"],
      [() => writer.write(42 as never), "data"],
      [() => writer.write(new String("x") as never), "data"],
      [() => writer.flush("yes" as never), "force"],
      [() => text.write(42 as never), "text"],
      [() => gz.write(42 as never), "data"],
    ];
    for (const [call, name] of cases) expect((await einval(call)).message).toContain(name);
    await writer.close();
    await text.close();
    await gz.close();
    await reader.close();
    expect(await fs.readText("/o/w")).toBe("");
    expect(await fs.readText("/o/f")).toBe("abcdef");
  });

  it("cache layer management: ensureCached, localPath, openLocal, clearExpiredCache", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fsspec-ts-input-cache-"));
    try {
      const target = new MemoryFileSystem({ store: "private" });
      await target.pipe("/c/f", "F");
      const cache = new WholeFileCacheFileSystem({ fs: target, cacheStorage: dir });
      const cases: Array<[() => unknown, string]> = [
        [() => cache.ensureCached(42 as never), "path"],
        [() => cache.ensureCached("/c/f", { callbak: {} } as never), "did you mean 'callback'"],
        [() => cache.localPath("/c/f", { signal: 1 } as never), "signal"],
        [() => cache.openLocal({} as never), "paths"],
        [() => cache.clearExpiredCache("5" as never), "options must be a plain object"],
        [() => cache.clearExpiredCache({ expiry: 5 } as never), "did you mean 'expiryMs'"],
        [() => cache.clearExpiredCache(3600 as never), "takes { expiryMs } (milliseconds)"],
      ];
      for (const [call, name] of cases) expect((await einval(call)).message).toContain(name);
      expect(await cache.listCache()).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("registerImplementation and getFilesystemClass", async () => {
    expect((await einval(() => registerImplementation("args-test", 42 as never))).message).toContain("impl");
    expect((await einval(() => registerImplementation("args-test", MemoryFileSystem, { clober: true } as never))).message).toContain("did you mean 'clobber'");
    expect((await einval(() => getFilesystemClass(42 as never))).message).toContain("protocol");
    expect((await einval(() => filesystem("memory", null as never))).message).toContain("options");
  });
});

describe("constructors, URL chains, open/openFiles and Package refuse unknown option names", () => {
  let dir: string;
  const mem = new MemoryFileSystem({ store: "private" });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fsspec-ts-input-"));
    await mem.pipe("/p/f", "F");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("names the closest known option", async () => {
    const cases: Array<[string, () => unknown, string]> = [
      ["memory", () => new MemoryFileSystem({ stor: "private" } as never), "store"],
      ["file", () => new LocalFileSystem({ autoMkDir: false } as never), "autoMkdir"],
      ["dir", () => new DirFileSystem({ pth: "/p", fs: mem } as never), "path"],
      ["http", () => new HTTPFileSystem({ retires: 1 } as never), "retries"],
      ["s3", () => new S3FileSystem({ endpont: "http://127.0.0.1:1" } as never), "endpoint"],
      ["hf", () => new HuggingFaceFileSystem({ tokne: "t" } as never), "token"],
      ["ngc", () => new NGCFileSystem({ apikey: "k" } as never), "apiKey"],
      ["blockcache", () => new CachingFileSystem({ fs: mem, cacheStorage: dir, blocksize: 4 } as never), "blockSize"],
      ["filecache", () => new WholeFileCacheFileSystem({ fs: mem, cacheStorge: dir } as never), "cacheStorage"],
      ["simplecache", () => new SimpleCacheFileSystem({ fs: mem, cacheStorag: dir } as never), "cacheStorage"],
      ["filesystem()", () => filesystem("memory", { stroe: "private" }), "store"],
      ["targetOptions", () => filesystem("dir", { path: "/p", targetProtocol: "memory", targetOptions: { stor: "private" } }), "store"],
      ["chain key", () => urlToFs("filecache::memory://p/f", { filecach: { cacheStorage: dir } }), "filecache"],
      ["chain layer", () => urlToFs("filecache::memory://p/f", { filecache: { cacheStorge: dir } }), "cacheStorage"],
      ["chain outer", () => urlToFs("simplecache::memory://p/f", { cacheStorge: dir }), "cacheStorage"],
      ["open", () => open("memory://p/f", "rb", { blocksize: 1024 }), "blockSize"],
      ["openFiles", () => openFiles("memory://p/*", "rb", { cachetype: "none" }), "cacheType"],
      ["Package", () => new Package("memory://p", { fsoptions: {} } as never), "fsOptions"],
      ["Package.open", () => new Package("/p", { fs: mem }).open("f", "rb", { blocksize: 1 } as never), "blockSize"],
      ["open options", () => mem.open("/p/f", "rb", { signal: new AbortController().signal, sze: 1 } as never), "size"],
    ];
    const problems: string[] = [];
    for (const [label, call, suggestion] of cases) {
      const err = await errorOf(Promise.resolve().then(call));
      if (err.code !== "EINVAL" || !err.message.includes(`did you mean '${suggestion}'`)) problems.push(`${label}: ${err.code} ${err.message}`);
    }
    expect(problems).toEqual([]);
  });

  it("known names still work: protocol keys (with aliases), outer options, file options", async () => {
    const { fs } = await urlToFs("dir::memory://p", { dir: { concurrency: 3 }, memory: { maxPaths: 9 } });
    expect(fs.options.concurrency).toBe(3);
    expect((fs as DirFileSystem).target.options.maxPaths).toBe(9);
    const http = await urlToFs("http://127.0.0.1:1/x", { https: { retries: 0, timeout: 50 }, http: { timeout: 60 } });
    expect((http.fs as HTTPFileSystem).options).toMatchObject({ retries: 0, timeout: 60 });
    await new MemoryFileSystem().pipe("/input-test/f", "shared");
    // One options object for several URLs (as the CLI's): blocks of other protocols go unused.
    const shared = { s3: { anon: true }, memory: { maxPaths: 5 } };
    expect((await urlToFs(join(dir, "x"), shared)).fs).toBeInstanceOf(LocalFileSystem);
    expect((await urlToFs("memory://p/f", shared)).fs.options.maxPaths).toBe(5);
    const f = (await open("memory://input-test/f", "rb", { blockSize: 1024, cacheType: "none", store: "shared" })) as BufferedFile;
    expect(f.blockSize).toBe(1024);
    expect(new TextDecoder().decode(await f.read())).toBe("shared");
    await f.close();
  });
});

describe.each(FIXTURES)("a signal works on $name", ({ make }) => {
  let f: ApiFixture;
  let before: Map<string, string>;
  const at = (rel: string) => under(f.root, rel);
  beforeAll(async () => {
    f = await make();
    await seed(f.fs, f.root);
    before = await snapshot(f.fs, f.root);
  });
  afterAll(() => f.cleanup());

  it("an already-aborted signal is EABORT before any work, and changes nothing", async () => {
    const signal = AbortSignal.abort();
    const calls: Array<() => Promise<unknown>> = [
      () => f.fs.catFile(at("d/f"), undefined, undefined, { signal }),
      () => f.fs.cat(at("d/f"), { signal }),
      () => f.fs.ls(at("d"), { signal }),
      () => f.fs.info(at("d/f"), { signal }),
      () => f.fs.exists(at("d/f"), { signal }),
      () => f.fs.pipeFile(at("d/new"), "x", { signal }),
      () => f.fs.pipe({ [at("d/new")]: "x" }, undefined, { signal }),
      () => f.fs.rm(at("d/f"), { signal }),
      () => f.fs.rm(at("d"), { recursive: true, signal }),
      () => f.fs.copy(at("d"), at("c"), { recursive: true, signal }),
      () => f.fs.mv(at("d/f"), at("m"), { signal }),
      () => f.fs.touch(at("d/f"), { signal }),
      () => f.fs.open(at("d/f"), "rb", { signal }),
      () => f.fs.open(at("d/new"), "wb", { signal }),
      () => f.fs.find(at("d"), { signal }),
      () => f.fs.get(at("d/f"), "/tmp/x", { signal, localFs: f.localFs }),
    ];
    const codes = [];
    for (const call of calls) codes.push((await errorOf(call())).code);
    expect(codes).toEqual(calls.map(() => "EABORT"));
    expect(changed(before, await snapshot(f.fs, f.root))).toEqual([]);
  });

  it("an opened file stops reading once its signal fires (reads, streams)", async () => {
    const controller = new AbortController();
    const file = await f.fs.open(at("d/g.txt"), "rb", { signal: controller.signal, blockSize: 2, cacheType: "none" });
    expect(new TextDecoder().decode(await file.read(2))).toBe("G-");
    controller.abort();
    expect((await errorOf(file.read(2))).code).toBe("EABORT");
    await file.close();

    const streaming = new AbortController();
    const again = await f.fs.open(at("d/g.txt"), "rb", { signal: streaming.signal, blockSize: 2, cacheType: "none" });
    const stream = again.createReadStream({ highWaterMark: 2 });
    const chunks: Buffer[] = [];
    const ended = new Promise<unknown>((resolve) => {
      stream.on("data", (c: Buffer) => {
        chunks.push(c);
        streaming.abort();
      });
      stream.on("error", resolve);
      stream.on("end", () => resolve(undefined));
    });
    const err = await ended;
    expect(err).toBeInstanceOf(FsError);
    expect((err as FsError).code).toBe("EABORT");
    expect(Buffer.concat(chunks).byteLength).toBeLessThan(6);
    await again.close();
  });

  it("a writer whose signal fires publishes nothing", async () => {
    const controller = new AbortController();
    const w = await f.fs.open(at("d/written"), "wb", { signal: controller.signal });
    await w.write("partial");
    controller.abort();
    expect((await errorOf(w.write("more"))).code).toBe("EABORT");
    expect((await errorOf(w.close())).code).toBe("EABORT");
    expect(await f.fs.exists(at("d/written"))).toBe(false);
    expect(changed(before, await snapshot(f.fs, f.root))).toEqual([]);
  });
});

describe("a signal stops a large local read mid-way", () => {
  it("catFile and an opened file's stream of an 8 MiB file end with EABORT", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fsspec-ts-abort-"));
    try {
      const big = join(dir, "big.bin");
      await writeFile(big, Buffer.alloc(8 * 2 ** 20, 7));
      const fs = new LocalFileSystem();
      const controller = new AbortController();
      const reading = fs.catFile(big, undefined, undefined, { signal: controller.signal });
      controller.abort();
      expect((await errorOf(reading)).code).toBe("EABORT");

      const streaming = new AbortController();
      const file = await fs.open(big, "rb", { signal: streaming.signal, blockSize: 2 ** 16 });
      let received = 0;
      const err = await new Promise<unknown>((resolve) => {
        const stream = file.createReadStream();
        stream.on("data", (c: Buffer) => {
          received += c.byteLength;
          streaming.abort();
        });
        stream.on("error", resolve);
        stream.on("end", () => resolve(undefined));
      });
      expect((err as FsError).code).toBe("EABORT");
      expect(received).toBeLessThan(8 * 2 ** 20);
      await file.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a signal stops a large local write mid-way, leaving the destination as it was", () => {
  const BIG = 256 * 2 ** 20;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fsspec-ts-abort-write-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Abort `controller` once a temporary beside the destination holds bytes: the write is under way. */
  async function abortOnceWriting(controller: AbortController): Promise<void> {
    for (;;) {
      for (const name of await readdir(dir)) {
        if (name.startsWith(".fsspec-") && (await stat(join(dir, name)).catch(() => undefined))?.size) return controller.abort();
      }
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Run `write` with a signal fired mid-way: EABORT, `dest` still "old", no temporary left. */
  async function expectStopped(dest: string, write: (signal: AbortSignal) => Promise<unknown>): Promise<void> {
    await writeFile(dest, "old");
    const controller = new AbortController();
    const writing = write(controller.signal);
    await Promise.race([abortOnceWriting(controller), writing.catch(() => undefined)]);
    expect((await errorOf(writing)).code).toBe("EABORT");
    expect(await readFile(dest, "utf8")).toBe("old");
    expect((await readdir(dir)).filter((n) => n.startsWith(".fsspec-"))).toEqual([]);
  }

  it("pipeFile of one big buffer", async () => {
    const fs = new LocalFileSystem();
    await expectStopped(join(dir, "piped.bin"), (signal) => fs.pipeFile(join(dir, "piped.bin"), new Uint8Array(BIG), { signal }));
  });

  it("cpFile over an existing file, and so put within the local disk", async () => {
    const fs = new LocalFileSystem();
    const src = join(dir, "..", `${basename(dir)}-src.bin`);
    await writeFile(src, new Uint8Array(BIG));
    try {
      await expectStopped(join(dir, "copied.bin"), (signal) => fs.cpFile(src, join(dir, "copied.bin"), { signal }));
      await expectStopped(join(dir, "put.bin"), (signal) => fs.put(src, join(dir, "put.bin"), { signal }));
    } finally {
      await rm(src, { force: true });
    }
  });

  it("get from memory, and a transfer of many files stops between them", async () => {
    const mem = new MemoryFileSystem({ store: "private" });
    await mem.pipeFile("/big.bin", new Uint8Array(BIG));
    const local = new LocalFileSystem();
    await expectStopped(join(dir, "got.bin"), (signal) => mem.get("/big.bin", join(dir, "got.bin"), { signal, localFs: local }));
    await mem.pipe(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`/many/f${String(i).padStart(2, "0")}`, `file ${i}`])));
    const controller = new AbortController();
    const err = await errorOf(
      mem.get("/many/", join(dir, "many/"), { recursive: true, concurrency: 1, signal: controller.signal, localFs: local, callback: { relativeUpdate: () => controller.abort() } }),
    );
    expect(err.code).toBe("EABORT");
    expect(await readdir(join(dir, "many"))).toEqual(["f00"]);
  });
});

describe("get and put work from any entry point", () => {
  const child = (args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", join(here, "support", "subpath-child.ts"), ...args], { encoding: "utf8", timeout: 60_000 });

  it("importing only fsspec-ts/http", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fsspec-ts-subpath-"));
    try {
      const out = child(["http", dir]);
      expect(out.stderr).toBe("");
      expect(out.stdout).toBe("hello over http\nuploaded through http\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.runIf(Boolean(inject("s3Endpoint")))("importing only fsspec-ts/s3", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fsspec-ts-subpath-"));
    const bucket = `subpath-${process.pid}-${Date.now().toString(36)}`;
    await createBucket(bucket);
    try {
      const out = child(["s3", dir, inject("s3Endpoint"), bucket]);
      expect(out.stderr).toBe("");
      expect(out.stdout).toBe("uploaded through s3\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("one options object for several URLs", () => {
  it("the CLI's cp passes -o protocol.key options to both URLs; each uses its own", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fsspec-ts-cli-opts-"));
    try {
      await new MemoryFileSystem().pipe("/cli-opts/f", "copied");
      const stderr = new PassThrough();
      const errors: Buffer[] = [];
      stderr.on("data", (c: Buffer) => errors.push(c));
      const code = await runCli(["-o", "memory.maxPaths=3", "cp", "memory://cli-opts/f", join(dir, "f")], { stdout: new PassThrough(), stderr, progress: false });
      expect(Buffer.concat(errors).toString()).toBe("");
      expect(code).toBe(0);
      expect(await new LocalFileSystem().readText(join(dir, "f"))).toBe("copied");
      expect(await runCli(["-o", "memroy.maxPaths=3", "cat", "memory://cli-opts/f"], { stdout: new PassThrough(), stderr, progress: false })).toBe(2);
      expect(Buffer.concat(errors).toString()).toContain("unknown option 'memroy'; did you mean 'memory'?");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("Package passes its stall timeout only to layers that take one", () => {
  it.runIf(Boolean(inject("s3Endpoint")))("an s3 root (no timeout option) resolves a file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fsspec-ts-pkg-s3-"));
    const bucket = `pkg-${process.pid}-${Date.now().toString(36)}`;
    await createBucket(bucket);
    try {
      const s3 = { endpoint: inject("s3Endpoint"), region: "us-east-1", key: "testing-key", secret: "testing-secret-value" };
      await new S3FileSystem(s3).pipe(`${bucket}/models/m.bin`, "weights");
      const pkg = new Package(`s3://${bucket}/models`, { fsOptions: { s3 }, cacheOptions: { cacheStorage: dir }, progress: false });
      const local = await pkg.resolve("m.bin");
      expect(await new LocalFileSystem().readText(local)).toBe("weights");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a closed instance leaves the instance cache", () => {
  it("filesystem() and urlToFs() build a new one after close()", async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ["http", { retries: 1 }],
      ["s3", { endpoint: "http://127.0.0.1:1", anon: true }],
      ["hf", { token: false }],
      ["ngc", { apiKey: null }],
      ["memory", { maxPaths: 11 }],
    ];
    for (const [protocol, options] of cases) {
      const first = await filesystem<AbstractFileSystem>(protocol, options);
      expect(await filesystem(protocol, options)).toBe(first);
      await first.close();
      expect(first.closed).toBe(true);
      const second = await filesystem(protocol, options);
      expect(second, protocol).not.toBe(first);
      expect(second.closed).toBe(false);
      await second.close();
    }
    const { fs } = await urlToFs("http://127.0.0.1:1/x", { retries: 2 });
    await fs.close();
    expect((await urlToFs("http://127.0.0.1:1/x", { retries: 2 })).fs).not.toBe(fs);
  });
});
