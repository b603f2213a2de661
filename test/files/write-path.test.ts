/**
 * The writing side: the trace of chunks handed to the backend for given block and write sizes,
 * a backend that refuses small chunks, uploads that fail, empty files, xb, ab, write streams
 * with back-pressure, and commit / discard — over memory (with a recording sink) and local disk.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalFileSystem } from "../../src/index.js";
import { errorOf } from "../support/errors.js";
import { deferred, patterned, RecordingMemoryFs, settle } from "./support.js";

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

/** Write `sizes` bytes at a time (pattern bytes) with `blockSize`, close, return the trace. */
async function traceOf(blockSize: number, sizes: number[], fs = new RecordingMemoryFs()) {
  const data = patterned(sizes.reduce((a, b) => a + b, 0));
  const f = await fs.open("/out", "wb", { blockSize });
  let at = 0;
  for (const n of sizes) {
    expect(await f.write(data.subarray(at, at + n))).toBe(n);
    at += n;
  }
  expect(f.tell()).toBe(data.byteLength);
  await f.close();
  expect(Buffer.from(await fs.catFile("/out")).equals(data)).toBe(true);
  return { uploads: fs.uploads, events: fs.events };
}

describe("upload chunking", () => {
  it.each([
    // [blockSize, write sizes, expected uploads as [bytes, final]]
    [10, [3, 3, 3, 3], [[12, false], [0, true]]],
    [10, [25], [[25, false], [0, true]]],
    [10, [5, 5], [[10, false], [0, true]]],
    [10, [9], [[9, true]]],
    [10, [4, 4, 4, 4, 4, 4, 1], [[12, false], [12, false], [1, true]]],
    [10, [10, 10, 3], [[10, false], [10, false], [3, true]]],
    [7, [1, 1, 1, 1, 1, 1, 1, 1], [[7, false], [1, true]]],
    [100, [], [[0, true]]],
  ] as Array<[number, number[], Array<[number, boolean]>]>)("blockSize %i, writes %j -> %j", async (blockSize, sizes, expected) => {
    const { uploads, events } = await traceOf(blockSize, sizes);
    expect(uploads).toEqual(expected);
    expect(events[events.length - 1]).toEqual({ kind: "commit" });
  });

  it("nothing reaches the backend before a block is full, and nothing is visible before close", async () => {
    const fs = new RecordingMemoryFs();
    const f = await fs.open("/o", "wb", { blockSize: 10 });
    await f.write("123456789");
    expect(fs.events).toEqual([]);
    await f.flush(); // under a block: a plain flush sends nothing
    expect(fs.events).toEqual([]);
    await f.write("0");
    expect(fs.uploads).toEqual([[10, false]]);
    expect(await fs.exists("/o")).toBe(false);
    await f.close();
    expect(text(await fs.catFile("/o"))).toBe("1234567890");
  });

  it("flush(true) sends the rest as the final chunk; later writes are refused", async () => {
    const fs = new RecordingMemoryFs();
    const f = await fs.open("/o", "wb", { blockSize: 10 });
    await f.write("abc");
    await f.flush(true);
    expect(fs.uploads).toEqual([[3, true]]);
    expect((await errorOf(f.write("more"))).code).toBe("EINVAL");
    await f.close();
    expect(fs.uploads).toEqual([[3, true]]);
    expect(text(await fs.catFile("/o"))).toBe("abc");
  });

  it("writes that are not awaited keep their order and lose nothing, even while an upload is in flight", async () => {
    const fs = new RecordingMemoryFs();
    fs.recording.gate = () => settle(1);
    const f = await fs.open("/o", "wb", { blockSize: 8 });
    const parts = ["aaaaaa", "bbbbbb", "cccccc", "dddddd", "eeeeee"];
    await Promise.all(parts.map((p) => f.write(p)));
    await f.close();
    expect(text(await fs.catFile("/o"))).toBe(parts.join(""));
    expect(fs.uploads.reduce((n, [b]) => n + b, 0)).toBe(30);
  });

  it("the caller may reuse its buffer (even a pooled Node Buffer) once write returns", async () => {
    const fs = new RecordingMemoryFs();
    const f = await fs.open("/o", "wb", { blockSize: 1000 });
    const buf = Buffer.from("first");
    await f.write(buf);
    buf.write("XXXXX");
    await f.write(buf.subarray(0, 2));
    await f.close();
    expect(text(await fs.catFile("/o"))).toBe("firstXX");
  });
});

describe("a backend that refuses small chunks (S3's part minimum, scaled down)", () => {
  it("keeps a refused chunk buffered and offers it again one block later, joined with newer bytes", async () => {
    const fs = new RecordingMemoryFs();
    fs.recording.minChunk = 25;
    const { events } = await traceOf(10, Array.from({ length: 10 }, () => 4), fs);
    expect(events).toEqual([
      { kind: "chunk", bytes: 12, final: false, accepted: false },
      { kind: "chunk", bytes: 24, final: false, accepted: false },
      { kind: "chunk", bytes: 36, final: false, accepted: true },
      { kind: "chunk", bytes: 4, final: true, accepted: true }, // the last part may be small
      { kind: "commit" },
    ]);
  });

  it("a refused chunk is retried as a whole with big writes too", async () => {
    const fs = new RecordingMemoryFs();
    fs.recording.minChunk = 25;
    const { uploads } = await traceOf(10, [12, 30, 5], fs);
    expect(uploads).toEqual([[42, false], [5, true]]);
  });

  it("a final chunk the backend refuses is EIO and nothing is published", async () => {
    const fs = new RecordingMemoryFs();
    fs.recording.refuseFinal = true;
    const f = await fs.open("/o", "wb", { blockSize: 10 });
    await f.write("abc");
    expect((await errorOf(f.close())).code).toBe("EIO");
    expect(await fs.exists("/o")).toBe(false);
    expect(fs.events.map((e) => e.kind)).toEqual(["chunk", "discard"]);
  });
});

describe("failed uploads", () => {
  it("a failing chunk fails the write, close discards, and nothing is published", async () => {
    const fs = new RecordingMemoryFs();
    fs.recording.failChunk = 1;
    await fs.pipeFile("/o", "old");
    const f = await fs.open("/o", "wb", { blockSize: 4 });
    await f.write("1234");
    await expect(f.write("5678")).rejects.toThrow(/chunk 1 failed/);
    // Later uploads fail the same way: the file cannot be finished.
    await expect(f.close()).rejects.toThrow(/chunk 1 failed/);
    expect(fs.events.map((e) => e.kind)).toEqual(["chunk", "discard"]);
    expect(text(await fs.catFile("/o"))).toBe("old");
  });
});

describe("empty files, xb, ab", () => {
  it("closing without writing publishes an empty file (replacing what was there)", async () => {
    const fs = new RecordingMemoryFs();
    await fs.pipeFile("/e", "previous");
    const f = await fs.open("/e", "wb");
    await f.close();
    expect(fs.uploads).toEqual([[0, true]]);
    expect((await fs.catFile("/e")).byteLength).toBe(0);
    expect(await fs.size("/e")).toBe(0);
  });

  it("xb refuses an existing file at open, and at publication if one appeared meanwhile", async () => {
    const fs = new RecordingMemoryFs();
    await fs.pipeFile("/x", "here");
    expect((await errorOf(fs.open("/x", "xb"))).code).toBe("EEXIST");
    const f = await fs.open("/y", "xb");
    await f.write("mine");
    await fs.pipeFile("/y", "theirs");
    expect((await errorOf(f.close())).code).toBe("EEXIST");
    expect(text(await fs.catFile("/y"))).toBe("theirs");
    const g = await fs.open("/z", "xb");
    await g.write("new");
    await g.close();
    expect(text(await fs.catFile("/z"))).toBe("new");
  });

  it("ab appends to an existing file and creates a missing one", async () => {
    const fs = new RecordingMemoryFs();
    await fs.pipeFile("/a", "start-");
    const f = await fs.open("/a", "ab", { blockSize: 3 });
    await f.write("more-");
    await f.write("end");
    await f.close();
    expect(text(await fs.catFile("/a"))).toBe("start-more-end");
    const g = await fs.open("/fresh", "ab");
    await g.write("only");
    await g.close();
    expect(text(await fs.catFile("/fresh"))).toBe("only");
  });
});

describe("commit and discard", () => {
  it("autocommit false: close uploads but publishes nothing; commit publishes", async () => {
    const fs = new RecordingMemoryFs();
    const f = await fs.open("/c", "wb", { autocommit: false, blockSize: 4 });
    await f.write("123456");
    await f.close();
    expect(await fs.exists("/c")).toBe(false);
    expect(fs.events.map((e) => e.kind)).toEqual(["chunk", "chunk"]);
    await f.commit();
    await f.commit(); // once only
    expect(fs.events.filter((e) => e.kind === "commit")).toHaveLength(1);
    expect(text(await fs.catFile("/c"))).toBe("123456");
  });

  it("commit on an open file closes it first", async () => {
    const fs = new RecordingMemoryFs();
    const f = await fs.open("/c", "wb", { autocommit: false });
    await f.write("x");
    await f.commit();
    expect(f.closed).toBe(true);
    expect(text(await fs.catFile("/c"))).toBe("x");
  });

  it("discard drops the file, open or closed; a discarded file cannot be committed", async () => {
    const fs = new RecordingMemoryFs();
    await fs.pipeFile("/d", "keep");
    const f = await fs.open("/d", "wb", { autocommit: false, blockSize: 2 });
    await f.write("gone");
    await f.discard();
    await f.discard(); // idempotent
    expect(f.closed && f.discarded).toBe(true);
    expect((await errorOf(f.commit())).code).toBe("EINVAL");
    expect((await errorOf(f.write("x"))).code).toBe("ECLOSED");
    const g = await fs.open("/d", "wb", { autocommit: false });
    await g.write("gone too");
    await g.close();
    await g.discard();
    expect(text(await fs.catFile("/d"))).toBe("keep");
    expect(fs.events.filter((e) => e.kind === "commit")).toHaveLength(0);
  });

  it("discard while close is uploading wins: nothing is published", async () => {
    const fs = new RecordingMemoryFs();
    const gate = deferred();
    fs.recording.gate = () => gate.promise;
    const f = await fs.open("/race", "wb");
    await f.write("data");
    const closing = f.close();
    const discarding = f.discard();
    gate.resolve();
    await closing;
    await discarding;
    expect(await fs.exists("/race")).toBe(false);
  });

  it("commit and discard are for writers only", async () => {
    const fs = new RecordingMemoryFs();
    await fs.pipeFile("/r", "x");
    const f = await fs.open("/r");
    expect((await errorOf(f.commit())).code).toBe("EINVAL");
    expect((await errorOf(f.discard())).code).toBe("EINVAL");
  });
});

describe("write streams", () => {
  it("createWriteStream publishes on end; writes wait while the backend is busy (back-pressure)", async () => {
    const fs = new RecordingMemoryFs();
    const gates: Array<ReturnType<typeof deferred<void>>> = [];
    fs.recording.gate = () => {
      const g = deferred();
      gates.push(g);
      return g.promise;
    };
    const f = await fs.open("/s", "wb", { blockSize: 16 });
    const ws = f.createWriteStream();
    expect(ws.writableHighWaterMark).toBe(16);
    const accepted: boolean[] = [];
    for (let i = 0; i < 6; i++) accepted.push(ws.write(Buffer.from(`chunk-${i}!`))); // 8 bytes each
    await settle();
    // The first full block is held by the backend: the stream says stop, and queues the rest.
    expect(accepted).toContain(false);
    expect(gates).toHaveLength(1);
    expect(ws.writableLength).toBeGreaterThan(0);
    let done = false;
    const finished = new Promise<void>((resolve, reject) => {
      ws.on("finish", resolve);
      ws.on("error", reject);
    }).finally(() => (done = true));
    ws.end();
    // Release uploads as they arrive until the stream has finished.
    while (!done) {
      for (const g of gates) g.resolve();
      await settle();
    }
    await finished;
    expect(text(await fs.catFile("/s"))).toBe(Array.from({ length: 6 }, (_, i) => `chunk-${i}!`).join(""));
    expect(fs.uploads.every(([bytes, final]) => final || bytes >= 16)).toBe(true);
  });

  it("a stream destroyed by an error discards the file", async () => {
    const fs = new RecordingMemoryFs();
    const f = await fs.open("/bad", "wb");
    const source = Readable.from(
      (async function* () {
        yield Buffer.from("partial");
        throw new Error("source failed");
      })(),
    );
    await expect(pipeline(source, f.createWriteStream())).rejects.toThrow("source failed");
    await settle();
    expect(f.discarded).toBe(true);
    expect(await fs.exists("/bad")).toBe(false);
  });
});

describe("local files", () => {
  let dir: string;
  const fs = new LocalFileSystem();
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "fsspec-write-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("chunks land in a temp file that is renamed into place on close; discard leaves nothing", async () => {
    const data = patterned(10_000);
    const f = await fs.open(`${dir}/big`, "wb", { blockSize: 1000 });
    for (let i = 0; i < data.byteLength; i += 700) await f.write(data.subarray(i, i + 700));
    expect(await fs.exists(`${dir}/big`)).toBe(false);
    await f.close();
    expect(Buffer.from(await fs.catFile(`${dir}/big`)).equals(data)).toBe(true);
    const g = await fs.open(`${dir}/dropped`, "wb", { blockSize: 10 });
    await g.write(patterned(100));
    await g.discard();
    expect(await readdir(dir)).toEqual(["big"]);
  });

  it("empty files, xb and ab on disk", async () => {
    await (await fs.open(`${dir}/empty`, "wb")).close();
    expect(await fs.size(`${dir}/empty`)).toBe(0);
    expect((await errorOf(fs.open(`${dir}/empty`, "xb"))).code).toBe("EEXIST");
    const a = await fs.open(`${dir}/empty`, "ab");
    await a.write("appended");
    await a.close();
    const b = await fs.open(`${dir}/empty`, "ab", { blockSize: 2 });
    await b.write("+again");
    await b.close();
    expect(await fs.readText(`${dir}/empty`)).toBe("appended+again");
    expect((await readdir(dir)).sort()).toEqual(["empty"]);
  });
});
