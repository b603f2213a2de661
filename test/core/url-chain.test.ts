import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { codeOf } from "../support/errors.js";
import {
  CompressedFile,
  DirFileSystem,
  MemoryFileSystem,
  open,
  openFiles,
  TextFile,
  urlToFs,
} from "../../src/index.js";

const shared = new MemoryFileSystem();


describe("urlToFs", () => {
  it("resolves protocols and plain paths", async () => {
    const { fs, path } = await urlToFs("memory://chain/a.txt");
    expect(fs).toBeInstanceOf(MemoryFileSystem);
    expect(path).toBe("/chain/a.txt");
    const local = await urlToFs("/tmp/some/file");
    expect(local.fs.protocol).toBe("file");
    expect(local.path).toBe("/tmp/some/file");
    const rel = await urlToFs("relative.txt");
    expect(rel.path).toBe(`${process.cwd()}/relative.txt`);
  });

  it("chains layers innermost first, with options keyed by protocol", async () => {
    await shared.pipe("/chain-root/sub/file.txt", "inside");
    const { fs, path } = await urlToFs("dir::memory://chain-root", { dir: { concurrency: 3 } });
    expect(fs).toBeInstanceOf(DirFileSystem);
    const dir = fs as DirFileSystem;
    expect(dir.root).toBe("/chain-root");
    expect((dir.target as MemoryFileSystem).store).toBe(shared.store);
    expect(dir.options.concurrency).toBe(3);
    expect(path).toBe("");
    expect(await fs.readText("sub/file.txt")).toBe("inside");
  });

  it("top-level options go to the outermost layer, keyed ones to their layer", async () => {
    const { fs } = await urlToFs("dir::memory://chain-root", { memory: { maxPaths: 9 }, concurrency: 5 });
    const dir = fs as DirFileSystem;
    expect(dir.options.concurrency).toBe(5);
    expect(dir.target.options.maxPaths).toBe(9);
    expect(dir.target.options.concurrency).toBeUndefined();
  });

  it("malformed chains, unknown protocols and bad option shapes are EINVAL", async () => {
    expect(await codeOf(urlToFs(""))).toBe("EINVAL");
    expect(await codeOf(urlToFs("::memory://x"))).toBe("EINVAL");
    expect(await codeOf(urlToFs("memory://x::"))).toBe("EINVAL");
    expect(await codeOf(urlToFs("nosuchproto://x"))).toBe("EINVAL");
    expect(await codeOf(urlToFs("bad layer::memory://x"))).toBe("EINVAL");
    expect(await codeOf(urlToFs("memory://x", { memory: 5 }))).toBe("EINVAL");
  });
});

describe("open", () => {
  it("reads and writes through URLs, in binary and text modes", async () => {
    const w = await open("memory://open-test/t.txt", "w");
    expect(w).toBeInstanceOf(TextFile);
    await w.write("héllo\nworld\n");
    await w.close();
    const r = await open("memory://open-test/t.txt", "r");
    expect(await (r as TextFile).readline()).toBe("héllo\n");
    await r.close();
    const b = await open("memory://open-test/t.txt", "rb", { blockSize: 4 });
    expect(new TextDecoder().decode(await b.read())).toBe("héllo\nworld\n");
    await b.close();
    expect(await codeOf(open("memory://open-test/t.txt", "rw" as "rb"))).toBe("EINVAL");
  });

  it("compression: 'infer' writes and reads gzip by extension", async () => {
    const text = "a line of text\n".repeat(1000);
    const w = await open("memory://open-test/data.txt.gz", "wb", { compression: "infer" });
    expect(w).toBeInstanceOf(CompressedFile);
    await w.write(text);
    await w.close();
    const stored = await shared.catFile("/open-test/data.txt.gz");
    expect(stored[0]).toBe(0x1f);
    expect(stored.byteLength).toBeLessThan(text.length / 10);
    expect(gunzipSync(stored).toString()).toBe(text);
    const r = await open("memory://open-test/data.txt.gz", "r", { compression: "infer" });
    const lines: string[] = [];
    for await (const line of r as TextFile) lines.push(line);
    expect(lines).toHaveLength(1000);
    expect(lines[0]).toBe("a line of text\n");
    // A file compressed elsewhere reads the same way.
    await shared.pipe("/open-test/other.gz", gzipSync(Buffer.from("outside")));
    const o = await open("memory://open-test/other.gz", "rb", { compression: "gzip" });
    expect(new TextDecoder().decode(await o.read())).toBe("outside");
    await o.close();
    expect(await codeOf(open("memory://open-test/x.gz", "rb", { compression: "zstd-nope" }))).toBe("EINVAL");
  });

  it("corrupt compressed data is a clear EIO, not garbage", async () => {
    await shared.pipe("/open-test/bad.gz", "not gzip at all");
    const f = await open("memory://open-test/bad.gz", "rb", { compression: "infer" });
    expect(await codeOf(f.read())).toBe("EIO");
  });
});

describe("openFiles", () => {
  it("expands globs in read mode to files only, sorted", async () => {
    await shared.pipe({ "/of/a.csv": "a", "/of/b.csv": "b", "/of/c.txt": "c", "/of/sub/d.csv": "d" });
    const files = await openFiles("memory://of/*.csv");
    expect(files.map((f) => f.path)).toEqual(["/of/a.csv", "/of/b.csv"]);
    expect(files[0]!.fullName).toBe("memory:///of/a.csv");
    const contents = await Promise.all(files.map((f) => f.use(async (h) => new TextDecoder().decode(await (h as { read(): Promise<Uint8Array> }).read()))));
    expect(contents).toEqual(["a", "b"]);
    const listed = await openFiles(["memory://of/c.txt", "memory://of/sub/d.csv"]);
    expect(listed.map((f) => f.path)).toEqual(["/of/c.txt", "/of/sub/d.csv"]);
  });

  it("numbers a '*' per file in write mode", async () => {
    const files = await openFiles("memory://of-out/part-*.csv", "w", { num: 12 });
    expect(files.map((f) => f.path)).toEqual(Array.from({ length: 12 }, (_, i) => `/of-out/part-${String(i).padStart(2, "0")}.csv`));
    for (const [i, f] of files.entries()) await f.use(async (h) => void (await (h as TextFile).write(`row ${i}\n`)));
    expect(await shared.readText("/of-out/part-11.csv")).toBe("row 11\n");
    const named = await openFiles("memory://of-out/x-*.bin", "wb", { num: 2, nameFunction: (i) => `n${i * 10}` });
    expect(named.map((f) => f.path)).toEqual(["/of-out/x-n0.bin", "/of-out/x-n10.bin"]);
    expect(await codeOf(openFiles("memory://of-out/*-*.csv", "w", { num: 2 }))).toBe("EINVAL");
    expect(await codeOf(openFiles("memory://of-out/p-*.csv", "w", { num: 0 }))).toBe("EINVAL");
  });
});
