/**
 * Streaming decompression for archive members: compressed chunks in, decompressed chunks out,
 * through node:zlib, so a large member never has to sit whole in memory. `verifiedOutput`
 * holds a member to its recorded size and CRC-32; `StreamCursor` gives an opened file ranged
 * reads over a forward-only stream (a backwards seek starts the stream again).
 */
import type { Transform } from "node:stream";
import { FsError, isFsError } from "../../core/errors.js";
import { concatBytes } from "../../files/upload-sink.js";
import { crc32 } from "./crc32.js";

/**
 * Compressed input is handed to zlib in slices this small, so the output of one slice stays
 * bounded (deflate expands at most ~1,032 times: 64 MiB) and a zip bomb is stopped by the size
 * check before it fills memory.
 */
const INPUT_SLICE = 64 * 1024;

/**
 * `source` through a zlib transform (createInflateRaw, createGunzip...), pulled: the next
 * compressed chunk is asked of `source` only when everything from the last one has been taken,
 * so a reader that stops early never costs an extra read. Errors are EIO naming `path`.
 */
export async function* decompressChunks(
  source: AsyncIterable<Uint8Array>,
  transform: Transform,
  path: string,
): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  let failure: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  transform.on("data", (chunk: Uint8Array) => {
    out.push(chunk);
    signal();
  });
  transform.on("error", (err) => {
    failure = err;
    signal();
  });
  transform.on("end", () => {
    ended = true;
    signal();
  });
  /** Yield what `transform` produces until `done()` (or it fails). */
  async function* drain(done: () => boolean): AsyncGenerator<Uint8Array> {
    for (;;) {
      while (out.length > 0) yield out.shift()!;
      if (failure !== undefined) throw failure;
      if (done()) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  try {
    for await (const chunk of source) {
      for (let at = 0; at < chunk.byteLength; at += INPUT_SLICE) {
        let taken = false;
        transform.write(chunk.subarray(at, at + INPUT_SLICE), () => {
          taken = true;
          signal();
        });
        yield* drain(() => taken);
      }
    }
    transform.end();
    yield* drain(() => ended);
  } catch (err) {
    if (isFsError(err)) throw err;
    throw new FsError("EIO", `corrupt compressed data: ${(err as Error).message}`, { path, cause: err });
  } finally {
    transform.destroy();
  }
}

export interface Expected {
  size: number;
  /** CRC-32 of the whole output, when the format records one. */
  crc?: number;
}

/**
 * `chunks` checked against what the archive recorded: more bytes than `size` stops at once
 * (a member cannot inflate past its declared size), fewer at the end, or a CRC that differs
 * once all bytes are out, is EIO.
 */
export async function* verifiedOutput(chunks: AsyncIterable<Uint8Array>, expected: Expected, path: string): AsyncGenerator<Uint8Array> {
  let total = 0;
  let crc = 0;
  for await (const chunk of chunks) {
    total += chunk.byteLength;
    if (total > expected.size) {
      throw new FsError("EIO", `member holds more than its recorded size of ${expected.size} bytes`, { path });
    }
    if (expected.crc !== undefined) crc = crc32(chunk, crc);
    if (total === expected.size && expected.crc !== undefined && crc !== expected.crc) {
      throw new FsError("EIO", `CRC-32 mismatch: recorded ${hex(expected.crc)}, data gives ${hex(crc)}`, { path });
    }
    yield chunk;
  }
  if (total < expected.size) {
    throw new FsError("EIO", `member truncated: ${total} of ${expected.size} bytes`, { path });
  }
  if (expected.size === 0 && expected.crc !== undefined && expected.crc !== 0) {
    throw new FsError("EIO", `CRC-32 mismatch: recorded ${hex(expected.crc)} for an empty member`, { path });
  }
}

const hex = (n: number) => n.toString(16).padStart(8, "0");

/** Bytes [start, end) of a stream that begins at offset 0; stops reading once `end` is reached. */
export async function sliceOfStream(chunks: AsyncIterable<Uint8Array>, start: number, end: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let pos = 0;
  let collected = 0;
  for await (const chunk of chunks) {
    const from = Math.max(start - pos, 0);
    const to = Math.min(end - pos, chunk.byteLength);
    if (to > from) {
      parts.push(chunk.subarray(from, to));
      collected += to - from;
    }
    pos += chunk.byteLength;
    if (pos >= end) break;
  }
  return parts.length === 1 ? parts[0]! : concatBytes(parts, collected);
}

/**
 * Ranged reads over a stream that can only go forward: reads at or after the position continue
 * the stream (skipping what lies between), a read before it starts a new one. Calls are
 * serialised, since read caches may fetch ahead concurrently.
 */
export class StreamCursor {
  private iterator: AsyncIterator<Uint8Array> | undefined;
  private position = 0;
  /** Bytes of the last chunk not handed out yet, starting at `position`. */
  private carry: Uint8Array = new Uint8Array(0);
  private queue: Promise<unknown> = Promise.resolve();
  /** How many times the stream was started (tests and docs show what a backwards seek costs). */
  restarts = 0;

  constructor(private readonly open: () => AsyncIterable<Uint8Array>) {}

  read(start: number, end: number): Promise<Uint8Array> {
    const run = this.queue.then(() => this.readNow(start, end));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async readNow(start: number, end: number): Promise<Uint8Array> {
    if (!this.iterator || start < this.position) await this.restart();
    const parts: Uint8Array[] = [];
    let collected = 0;
    while (this.position < end) {
      if (this.carry.byteLength === 0) {
        const next = await this.iterator!.next();
        if (next.done) break;
        this.carry = next.value;
        continue;
      }
      const skip = Math.max(0, start - this.position);
      if (skip >= this.carry.byteLength) {
        this.position += this.carry.byteLength;
        this.carry = new Uint8Array(0);
        continue;
      }
      const take = Math.min(this.carry.byteLength, end - this.position);
      if (take > skip) {
        parts.push(this.carry.subarray(skip, take));
        collected += take - skip;
      }
      this.carry = this.carry.subarray(take);
      this.position += take;
    }
    return concatBytes(parts, collected);
  }

  private async restart(): Promise<void> {
    await this.close();
    this.iterator = this.open()[Symbol.asyncIterator]();
    this.position = 0;
    this.carry = new Uint8Array(0);
    this.restarts++;
  }

  /** Stop the stream (an opened file calls this when it is closed). */
  async close(): Promise<void> {
    const it = this.iterator;
    this.iterator = undefined;
    await it?.return?.(undefined).catch(() => undefined);
  }
}
