/**
 * The opened file's reading side and its rules: modes, positions, past-the-end reads, line and
 * chunk iteration, Node and web streams with back-pressure, text modes, and ECLOSED after close.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FsError, LocalFileSystem, MemoryFileSystem, TextFile, type BufferedFile } from "../../src/index.js";
import { errorOf } from "../support/errors.js";
import { patterned, settle } from "./support.js";

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

async function fsWith(files: Record<string, Uint8Array | string>): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem({ store: "private" });
  for (const [p, d] of Object.entries(files)) await fs.pipeFile(p, d);
  return fs;
}

/** The error a synchronous call throws (FsError expected). */
function syncError(fn: () => unknown): FsError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FsError) return err;
    throw err;
  }
  throw new Error("expected the call to throw");
}

describe("modes", () => {
  it("rb is the default; wb, ab, xb write; r and w are text; anything else is EINVAL", async () => {
    const fs = await fsWith({ "/f": "abc" });
    const f = await fs.open("/f");
    expect(f.mode).toBe("rb");
    expect(f.readable && !f.writable).toBe(true);
    for (const mode of ["wb", "ab", "xb"] as const) {
      const w = await fs.open(`/new-${mode}`, mode);
      expect(w.mode).toBe(mode);
      expect(w.writable && !w.readable).toBe(true);
      await w.discard();
    }
    expect(await fs.open("/f", "r")).toBeInstanceOf(TextFile);
    const w = await fs.open("/t", "w");
    expect(w).toBeInstanceOf(TextFile);
    await w.close();
    for (const bad of ["rw", "r+", "rb+", "", "wbx", "a+b"]) {
      expect((await errorOf(fs.open("/f", bad as "rb"))).code).toBe("EINVAL");
    }
  });

  it("reading a writer, writing a reader, and seeking a writer are errors", async () => {
    const fs = await fsWith({ "/f": "abc" });
    const r = await fs.open("/f", "rb");
    expect((await errorOf(r.write("x"))).code).toBe("EINVAL");
    const w = await fs.open("/g", "wb");
    expect((await errorOf(w.read())).code).toBe("EINVAL");
    expect((await errorOf(w.readInto(new Uint8Array(2)))).code).toBe("EINVAL");
    expect(syncError(() => w.seek(0)).code).toBe("EINVAL");
    expect(syncError(() => w.seek(0, 2)).code).toBe("EINVAL");
    expect(() => w.createReadStream()).toThrow(FsError);
    await w.discard();
  });

  it("opening a directory or a missing file for reading fails with its code", async () => {
    const fs = await fsWith({ "/d/f": "x" });
    expect((await errorOf(fs.open("/d"))).code).toBe("EISDIR");
    expect((await errorOf(fs.open("/missing"))).code).toBe("ENOENT");
    expect((await errorOf(fs.open("/d", "wb"))).code).toBe("EISDIR");
  });

  it("blockSize must be positive", async () => {
    const fs = await fsWith({ "/f": "abc" });
    expect((await errorOf(fs.open("/f", "rb", { blockSize: 0 }))).code).toBe("EINVAL");
    expect((await errorOf(fs.open("/g", "wb", { blockSize: -1 }))).code).toBe("EINVAL");
  });
});

describe("reading", () => {
  it("read, tell, seek from start, current and end; past the end gives fewer bytes, then none", async () => {
    const fs = await fsWith({ "/f": "0123456789" });
    const f = await fs.open("/f", "rb", { blockSize: 4 });
    expect(f.size).toBe(10);
    expect(text(await f.read(3))).toBe("012");
    expect(f.tell()).toBe(3);
    expect(f.seek(2, 1)).toBe(5);
    expect(text(await f.read(2))).toBe("56");
    expect(f.seek(-3, 2)).toBe(7);
    expect(text(await f.read(100))).toBe("789");
    expect((await f.read(5)).byteLength).toBe(0);
    expect(f.seek(50)).toBe(50); // past the end is allowed, reads give nothing
    expect((await f.read()).byteLength).toBe(0);
    expect(f.tell()).toBe(50);
    f.seek(0);
    expect(text(await f.read())).toBe("0123456789");
    expect(text(await (f.seek(4), f.read(-1)))).toBe("456789");
    expect((await f.read(0)).byteLength).toBe(0);
    expect((await errorOf(f.read(Number.NaN))).code).toBe("EINVAL");
  });

  it("seeking before 0 is EINVAL and leaves the position alone; bad whence is EINVAL", async () => {
    const fs = await fsWith({ "/f": "0123456789" });
    const f = await fs.open("/f");
    f.seek(4);
    expect(syncError(() => f.seek(-1)).code).toBe("EINVAL");
    expect(syncError(() => f.seek(-5, 1)).code).toBe("EINVAL");
    expect(syncError(() => f.seek(-11, 2)).code).toBe("EINVAL");
    expect(syncError(() => f.seek(0, 3 as 0)).code).toBe("EINVAL");
    expect(syncError(() => f.seek(Number.NaN)).code).toBe("EINVAL");
    expect(f.tell()).toBe(4);
  });

  it("readInto fills the caller's buffer and returns the count", async () => {
    const fs = await fsWith({ "/f": "abcdefg" });
    const f = await fs.open("/f", "rb", { blockSize: 2 });
    const buf = new Uint8Array(5);
    expect(await f.readInto(buf)).toBe(5);
    expect(text(buf)).toBe("abcde");
    expect(await f.readInto(buf)).toBe(2);
    expect(text(buf.subarray(0, 2))).toBe("fg");
    expect(await f.readInto(buf)).toBe(0);
  });

  it("read hands out private bytes: changing them never changes later reads or the stored file", async () => {
    const data = patterned(64 * 1024);
    for (const cacheType of ["none", "readahead", "bytes", "blockcache", "all", "first", "background"]) {
      const fs = await fsWith({ "/f": data });
      const f = await fs.open("/f", "rb", { cacheType, blockSize: 64 * 1024 });
      const whole = await f.read();
      whole.fill(0);
      f.seek(0);
      expect(Buffer.from(await f.read()).equals(data)).toBe(true);
      expect(Buffer.from(await fs.catFile("/f")).equals(data)).toBe(true);
      f.seek(0);
      const line = await f.readline();
      line.fill(0);
      f.seek(0);
      expect(Buffer.from(await f.readline()).equals(data.subarray(0, line.byteLength))).toBe(true);
    }
  });

  it("readahead over a local file: read() hands over fetched memory without a copy per read, safely", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fsspec-take-"));
    try {
      const data = patterned(100_000);
      const fs = new LocalFileSystem();
      await fs.pipeFile(`${dir}/f`, data);
      const f = await fs.open(`${dir}/f`, "rb", { blockSize: 50_000 });
      const a = await f.read(1000);
      const b = await f.read(1000);
      expect(b.buffer).toBe(a.buffer); // views of one fetched block, no per-read allocation
      a.fill(0);
      b.fill(0);
      f.seek(500);
      expect(Buffer.from(await f.read(1000)).equals(data.subarray(500, 1500))).toBe(true);
      expect(f.cacheStats).toEqual({ hits: 1, misses: 2, fetches: 2, bytesRequested: 102_000 });
      expect(Buffer.from(await fs.catFile(`${dir}/f`)).equals(data)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("readline and lines() split after each newline, the last line may lack one", async () => {
    const long = "x".repeat(70_000);
    const fs = await fsWith({ "/f": `a\n\nbc\n${long}\nend` });
    const f = await fs.open("/f", "rb", { blockSize: 3 });
    expect(text(await f.readline())).toBe("a\n");
    const rest: string[] = [];
    for await (const line of f.lines()) rest.push(text(line));
    expect(rest).toEqual(["\n", "bc\n", `${long}\n`, "end"]);
    expect((await f.readline()).byteLength).toBe(0);
  });

  it("async iteration yields blockSize chunks (at most 1 MiB) from the current position", async () => {
    const data = patterned(250);
    const fs = await fsWith({ "/f": data });
    const f = await fs.open("/f", "rb", { blockSize: 100 });
    f.seek(20);
    const chunks: Uint8Array[] = [];
    for await (const c of f) chunks.push(c);
    expect(chunks.map((c) => c.byteLength)).toEqual([100, 100, 30]);
    expect(Buffer.concat(chunks).equals(data.subarray(20))).toBe(true);
  });

  it("createReadStream reads only as fast as it is consumed (back-pressure)", async () => {
    const data = patterned(64 * 1024);
    const fs = await fsWith({ "/f": data });
    const f = await fs.open("/f", "rb", { cacheType: "none" });
    const hwm = 1024;
    const stream = f.createReadStream({ highWaterMark: hwm });
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    // A slow consumer: nothing more is taken while other work goes on.
    await settle(20);
    const consumed = (first.value as Uint8Array).byteLength;
    expect(f.tell() - consumed).toBeLessThanOrEqual(2 * hwm);
    expect(f.cacheStats.fetches).toBeLessThanOrEqual(3);
    const rest: Uint8Array[] = [first.value as Uint8Array];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value as Uint8Array);
    expect(Buffer.concat(rest).equals(data)).toBe(true);
    expect(f.cacheStats.fetches).toBe(64);
  });

  it("createReadStream ends with an error when a read fails", async () => {
    const fs = await fsWith({ "/f": patterned(100) });
    const f = await fs.open("/f", "rb", { cacheType: "parts", cacheOptions: { data: [[0, patterned(100).subarray(0, 10)]] }, blockSize: 10 });
    const stream = f.createReadStream({ highWaterMark: 10 });
    const chunks: Uint8Array[] = [];
    const err = await (async () => {
      try {
        for await (const c of stream) chunks.push(c as Uint8Array);
      } catch (e) {
        return e as FsError;
      }
      throw new Error("expected the stream to fail");
    })();
    expect(err.code).toBe("EIO");
    expect(chunks.map((c) => c.byteLength)).toEqual([10]);
  });

  it("stream() is a pull-based web ReadableStream", async () => {
    const data = patterned(10_000);
    const fs = await fsWith({ "/f": data });
    const f = await fs.open("/f", "rb", { blockSize: 1000, cacheType: "none" });
    const reader = f.stream().getReader();
    const first = await reader.read();
    await settle(20);
    expect(f.tell()).toBeLessThanOrEqual(2000); // the chunk taken and at most one queued
    const chunks = [first.value!];
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });
});

/** Each call must fail (throw or reject) with ECLOSED. */
async function expectAllClosed(calls: Array<[string, () => unknown]>): Promise<void> {
  for (const [name, call] of calls) {
    let code: string | undefined;
    try {
      await call();
    } catch (err) {
      code = (err as FsError).code;
    }
    expect(code, name).toBe("ECLOSED");
  }
}

describe("after close", () => {
  it("every method of a reader throws ECLOSED; close is idempotent", async () => {
    const fs = await fsWith({ "/f": "abc\ndef" });
    const f = await fs.open("/f");
    await f.read(1);
    await f.close();
    await f.close();
    expect(f.closed).toBe(true);
    const calls: Array<[string, () => unknown]> = [
      ["read", () => f.read()],
      ["readInto", () => f.readInto(new Uint8Array(1))],
      ["readline", () => f.readline()],
      ["lines", () => f.lines().next()],
      ["iterate", () => f[Symbol.asyncIterator]().next()],
      ["seek", () => f.seek(0)],
      ["tell", () => f.tell()],
      ["createReadStream", () => f.createReadStream()],
      ["stream", () => f.stream()],
      ["flush", () => f.flush()],
      ["write", () => f.write("x")],
    ];
    await expectAllClosed(calls);
  });

  it("every method of a writer throws ECLOSED; commit and discard keep their own rules", async () => {
    const fs = await fsWith({});
    const f = await fs.open("/w", "wb");
    await f.write("abc");
    await f.close();
    const calls: Array<[string, () => unknown]> = [
      ["write", () => f.write("x")],
      ["flush", () => f.flush()],
      ["flush(force)", () => f.flush(true)],
      ["seek", () => f.seek(0)],
      ["tell", () => f.tell()],
      ["read", () => f.read()],
      ["createWriteStream", () => f.createWriteStream()],
    ];
    await expectAllClosed(calls);
    await f.close();
    await f.commit(); // already published: nothing more to do
    expect((await errorOf(f.discard())).code).toBe("EINVAL");
    expect(text(await fs.catFile("/w"))).toBe("abc");
  });

  it("await using closes (and so publishes) at the end of the block", async () => {
    const fs = await fsWith({});
    let held: BufferedFile | undefined;
    {
      await using f = await fs.open("/u", "wb");
      held = f;
      await f.write("disposed");
      expect(await fs.exists("/u")).toBe(false);
    }
    expect(held.closed).toBe(true);
    expect(text(await fs.catFile("/u"))).toBe("disposed");
  });
});

describe("text modes", () => {
  it("r decodes, never splitting a multi-byte character across reads", async () => {
    const fs = await fsWith({ "/t": "héllo wörld\nsecond ☃ line\n" });
    const f = await fs.open("/t", "r", { blockSize: 2 });
    let out = "";
    for (;;) {
      const s = await f.read(1); // one byte at a time
      if (s === "") break;
      out += s;
    }
    expect(out).toBe("héllo wörld\nsecond ☃ line\n");
    await f.close();
    const g = await fs.open("/t", "r");
    const lines: string[] = [];
    for await (const line of g) lines.push(line);
    expect(lines).toEqual(["héllo wörld\n", "second ☃ line\n"]);
  });

  it("w encodes with the given encoding; text files refuse bytes", async () => {
    const fs = await fsWith({});
    const f = await fs.open("/l", "w", { encoding: "latin1" });
    await f.write("café");
    expect((await errorOf(f.write(new Uint8Array(1) as unknown as string))).code).toBe("EINVAL");
    await f.close();
    expect(Array.from(await fs.catFile("/l"))).toEqual([0x63, 0x61, 0x66, 0xe9]);
    const r = await fs.open("/l", "r", { encoding: "latin1" });
    expect(await r.read()).toBe("café");
    expect((await errorOf(fs.open("/l", "r", { encoding: "klingon" as BufferEncoding }))).code).toBe("EINVAL");
  });
});
