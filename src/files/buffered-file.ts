/**
 * The opened file every backend gets for free: reads go through a read cache over a ranged
 * fetch, writes are buffered and handed to an upload sink in blocks.
 */
import { Readable, Writable } from "node:stream";
import { inspect, type InspectOptions } from "node:util";
import { FsError, throwIfAborted } from "../core/errors.js";
import { inspectRedacted } from "../core/redact.js";
import {
  checkArg,
  checkOptions,
  invalidArgument,
  isBoolean,
  isEncoding,
  isPositiveInteger,
  isNonNegativeInteger,
  isRecord,
  isSignal,
  isString,
  optionSpec,
} from "../core/validate.js";
import { DEFAULT_BLOCK_SIZE, makeReadCache, type CacheStats, type RangeFetcher, type ReadCache } from "./read-caches.js";
import { concatBytes, type UploadSink } from "./upload-sink.js";

/** Modes of a `BufferedFile`: read, write (replace), append, exclusive create. */
export type BinaryMode = "rb" | "wb" | "ab" | "xb";
/** Modes of a `TextFile`: as the binary ones, with strings in an encoding. */
export type TextMode = "r" | "w" | "a" | "x" | "rt" | "wt" | "at" | "xt";
/** Every mode `open` takes; another is EINVAL. */
export type OpenMode = BinaryMode | TextMode;

const MODES = new Set<string>(["rb", "wb", "ab", "xb", "r", "w", "a", "x", "rt", "wt", "at", "xt"]);

/** Validate a mode string; returns its kind ("r" | "w" | "a" | "x") and whether it is text. */
export function parseMode(mode: string): { kind: "r" | "w" | "a" | "x"; text: boolean } {
  if (typeof mode !== "string" || !MODES.has(mode)) {
    throw FsError.einval(`invalid mode '${String(mode)}'; use one of rb, wb, ab, xb, r, w, a, x`);
  }
  return { kind: mode[0] as "r" | "w" | "a" | "x", text: !mode.endsWith("b") };
}

/** Options of `open` (docs/opened-files.md). */
export interface FileOpenOptions {
  /** Read-ahead / block size for reads, and the upload chunk size for writes (default 5 MiB). */
  blockSize?: number;
  /** Read cache by name: none, readahead (default), bytes, blockcache, first, parts, all, background. */
  cacheType?: string;
  /**
   * Options of the read cache (`cacheType`), e.g. `{maxBlocks: 8}` for blockcache or `{data}` for
   * parts; default none.
   */
  cacheOptions?: Record<string, unknown>;
  /** Publish on close (default). With false, only `commit()` publishes and `discard()` drops. */
  autocommit?: boolean;
  /** Known size in bytes, saving an `info` call when opening for read (default: looked up). */
  size?: number;
  /** Text encoding for text modes (default utf-8). */
  encoding?: BufferEncoding;
  /** Aborts the opening and every later read and write of the file (EABORT). */
  signal?: AbortSignal;
}

/** @internal The check of each `FileOpenOptions` name. */
export const FILE_OPEN_OPTIONS = optionSpec<FileOpenOptions>({
  blockSize: isPositiveInteger,
  cacheType: isString,
  cacheOptions: isRecord,
  autocommit: isBoolean,
  size: isNonNegativeInteger,
  encoding: isEncoding,
  signal: isSignal,
});

/** @internal What a backend builds a `BufferedFile` from. */
export interface BufferedFileInit {
  path: string;
  mode: "rb" | "wb" | "ab" | "xb";
  blockSize?: number;
  /** Read mode: total size and the ranged fetch. */
  size?: number;
  fetcher?: RangeFetcher;
  /** The fetcher's answers are nobody else's memory (see ReadCacheInit.ownedFetches). */
  ownedFetches?: boolean;
  /** Read mode without a ranged fetch: a ready cache (a forward-only stream); `size` may be Infinity. */
  readCache?: ReadCache;
  cacheType?: string;
  cacheOptions?: Record<string, unknown>;
  /** Write modes: where the bytes go. */
  sink?: UploadSink;
  autocommit?: boolean;
  /** Extra metadata the backend knows (etag, info...). */
  details?: Record<string, unknown>;
  /** Called once when the file is closed (transactions use it). */
  onClose?: (file: BufferedFile) => void;
  /** Once it fires, reads and writes fail with EABORT and a writer publishes nothing. */
  signal?: AbortSignal;
}

const READ_STREAM_OPTIONS = optionSpec<{ highWaterMark?: number }>({ highWaterMark: isPositiveInteger });

/** A plain Uint8Array copy (never a Buffer, whose `slice` would be a view). */
function ownedCopy(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}

/**
 * A readable file over `fetcher`, taking the read options a caller gave to `open()`
 * (blockSize, cacheType, cacheOptions); `extra` adds details, ownedFetches, onClose...
 */
export function readableFile(
  path: string,
  size: number,
  fetcher: RangeFetcher,
  options: FileOpenOptions,
  extra: Partial<BufferedFileInit> = {},
): BufferedFile {
  return new BufferedFile({
    path,
    mode: "rb",
    size,
    blockSize: options.blockSize ?? DEFAULT_BLOCK_SIZE,
    cacheType: options.cacheType,
    cacheOptions: options.cacheOptions,
    fetcher,
    signal: options.signal,
    ...extra,
  });
}

/**
 * A file opened in binary mode. Reading: `read`, `seek`, `tell`, `readline`, async iteration and Node
 * streams, through a read cache (`cacheType`) over ranged fetches. Writing: bytes are buffered and sent
 * in `blockSize` chunks; `close()` publishes the file (or `commit()` without autocommit), `discard()`
 * drops it. Errors are `FsError`s with the path; after `close()` every call is ECLOSED. `await using`
 * closes it.
 */
export class BufferedFile implements AsyncIterable<Uint8Array> {
  /** The path as the filesystem names it (without protocol). */
  readonly path: string;
  /** The binary mode the file was opened with. */
  readonly mode: "rb" | "wb" | "ab" | "xb";
  /** Bytes per read-cache block and per upload chunk (`blockSize` option; default 5 MiB). */
  readonly blockSize: number;
  /** What the backend knows of the file (its info when opened for read: etag, mtime...). */
  readonly details: Record<string, unknown>;
  /** Whether `close()` publishes a written file (default true; false inside a transaction). */
  autocommit: boolean;

  private position = 0;
  private isClosed = false;
  private readonly cache: ReadCache | undefined;
  private readonly cacheName: string | undefined;
  private readonly fileSize: number;
  private readonly sink: UploadSink | undefined;
  private buffer: Uint8Array[] = [];
  private buffered = 0;
  private uploadedFinal = false;
  private committed = false;
  private isDiscarded = false;
  /** Buffered bytes at which the next chunk is offered (one block; more after a refusal). */
  private offerAt: number;
  private uploads: Promise<void> = Promise.resolve();
  private forced: Promise<void> = Promise.resolve();
  private readonly onClose: ((file: BufferedFile) => void) | undefined;
  private readonly signal: AbortSignal | undefined;

  /** Printed with the credentials of a URL path (user info, signatures) as `***`. */
  [inspect.custom](depth: number, options: InspectOptions, show?: typeof inspect): string {
    return inspectRedacted(this, depth, options, show);
  }

  /**
   * Made by `open()`, not by hand.
   * @internal
   */
  constructor(init: BufferedFileInit) {
    this.path = init.path;
    this.mode = init.mode;
    this.blockSize = init.blockSize ?? DEFAULT_BLOCK_SIZE;
    if (!(this.blockSize > 0)) throw FsError.einval(`blockSize must be positive, got ${init.blockSize}`, init.path);
    this.offerAt = this.blockSize;
    this.details = init.details ?? {};
    this.autocommit = init.autocommit ?? true;
    this.onClose = init.onClose;
    this.signal = init.signal;
    if (init.mode === "rb" && init.readCache) {
      this.fileSize = init.size ?? init.readCache.size;
      this.cache = init.readCache;
    } else if (init.mode === "rb") {
      if (init.size === undefined || !init.fetcher) throw FsError.einval("a readable file needs size and fetcher", init.path);
      this.fileSize = init.size;
      this.cacheName = init.cacheType ?? "readahead";
      this.cache = makeReadCache(this.cacheName, {
        blockSize: this.blockSize,
        size: init.size,
        fetcher: init.fetcher,
        options: init.cacheOptions,
        path: init.path,
        ownedFetches: init.ownedFetches,
      });
    } else {
      if (!init.sink) throw FsError.einval("a writable file needs a sink", init.path);
      this.sink = init.sink;
      this.fileSize = 0;
    }
  }

  /** True once `close()` (or `discard()`) ran. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** True once `discard()` dropped the file. */
  get discarded(): boolean {
    return this.isDiscarded;
  }

  /** True in mode `rb`. */
  get readable(): boolean {
    return this.mode === "rb";
  }

  /** True in modes `wb`, `ab` and `xb`. */
  get writable(): boolean {
    return this.mode !== "rb";
  }

  /** Size of a file opened for reading; bytes written so far for a writer. */
  get size(): number {
    return this.readable ? this.fileSize : this.position;
  }

  /** Hit/miss/fetch counters of the read cache (zeros for writers). */
  get cacheStats(): CacheStats {
    return this.cache?.stats ?? { hits: 0, misses: 0, fetches: 0, bytesRequested: 0 };
  }

  /** The read cache's registered name ("readahead", "blockcache"...); undefined for writers. */
  get cacheType(): string | undefined {
    return this.cacheName;
  }

  private checkOpen(): void {
    if (this.isClosed) throw new FsError("ECLOSED", "I/O operation on a closed file", { path: this.path });
  }

  private checkReadable(): void {
    this.checkOpen();
    if (!this.readable) throw FsError.einval(`file not open for reading (mode ${this.mode})`, this.path);
    if (this.signal?.aborted) throwIfAborted(this.signal, this.path);
  }

  private checkWritable(): void {
    this.checkOpen();
    if (!this.writable) throw FsError.einval("file not open for writing (mode rb)", this.path);
    if (this.signal?.aborted) throwIfAborted(this.signal, this.path);
  }

  /** The read position in bytes, or the bytes written so far. */
  tell(): number {
    this.checkOpen();
    return this.position;
  }

  /** Move the read position; `whence` 0 = from start, 1 = from current, 2 = from end. */
  seek(offset: number, whence: 0 | 1 | 2 = 0): number {
    this.checkOpen();
    if (!this.readable) throw FsError.einval("seek is only allowed in read mode", this.path);
    if (!Number.isFinite(offset) || ![0, 1, 2].includes(whence)) {
      throw FsError.einval(`invalid seek(${offset}, ${whence})`, this.path);
    }
    if (whence === 2 && !Number.isFinite(this.fileSize)) throw FsError.einval("seeking from the end needs a known size", this.path);
    const base = whence === 0 ? 0 : whence === 1 ? this.position : this.fileSize;
    const next = base + Math.trunc(offset);
    if (next < 0) throw FsError.einval(`seek to negative position ${next}`, this.path);
    this.position = next;
    return next;
  }

  /** Read up to `length` bytes (all that is left when omitted or negative). */
  async read(length = -1): Promise<Uint8Array> {
    this.checkReadable();
    if (typeof length !== "number" || Number.isNaN(length)) throw invalidArgument("read", "length", "must be a number", length, this.path);
    const start = Math.min(this.position, this.fileSize);
    const end = length < 0 ? this.fileSize : Math.min(this.fileSize, start + Math.floor(length));
    if (end <= start) return new Uint8Array(0);
    // The caller's own bytes: a cache hands over memory only when nothing else holds it
    // (readahead over owned fetches), and copies otherwise. `readInto` never allocates.
    const out = await this.cache!.take(start, end);
    // Fewer bytes only at the end of a file whose size was not known.
    this.position = start + out.byteLength;
    return out;
  }

  /** Read into `target`, returning the number of bytes placed. */
  async readInto(target: Uint8Array): Promise<number> {
    this.checkReadable();
    if (!(target instanceof Uint8Array)) throw invalidArgument("readInto", "target", "must be a Uint8Array", target, this.path);
    const start = Math.min(this.position, this.fileSize);
    const end = Math.min(this.fileSize, start + target.byteLength);
    if (end <= start) return 0;
    const data = await this.cache!.read(start, end);
    target.set(data);
    this.position = start + data.byteLength;
    return data.byteLength;
  }

  /** Read through the next `\n` (included), or to the end. */
  async readline(): Promise<Uint8Array> {
    this.checkReadable();
    const parts: Uint8Array[] = [];
    const chunk = Math.min(this.blockSize, 64 * 1024);
    while (this.position < this.fileSize) {
      if (this.signal?.aborted) throwIfAborted(this.signal, this.path);
      const start = this.position;
      const data = await this.cache!.read(start, Math.min(this.fileSize, start + chunk));
      if (data.byteLength === 0) break;
      const nl = data.indexOf(10);
      if (nl >= 0) {
        parts.push(data.subarray(0, nl + 1));
        this.position = start + nl + 1;
        break;
      }
      parts.push(data);
      this.position = start + data.byteLength;
    }
    return parts.length === 1 ? ownedCopy(parts[0]!) : concatBytes(parts);
  }

  /** Lines (bytes, each ending with `\n` except perhaps the last). */
  async *lines(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const line = await this.readline();
      if (line.byteLength === 0) return;
      yield line;
    }
  }

  /** Chunks of `blockSize` (at most 1 MiB) from the current position to the end. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    const chunk = Math.min(this.blockSize, 2 ** 20);
    for (;;) {
      const data = await this.read(chunk);
      if (data.byteLength === 0) return;
      yield data;
    }
  }

  /** A Node Readable over the rest of the file; reads only as fast as it is consumed. */
  createReadStream(options: { highWaterMark?: number } = {}): Readable {
    checkOptions("createReadStream", options, READ_STREAM_OPTIONS, undefined, this.path);
    this.checkReadable();
    const chunk = options.highWaterMark ?? Math.min(this.blockSize, 2 ** 20);
    const stream: Readable = new Readable({
      highWaterMark: chunk,
      read: () => {
        this.read(chunk).then(
          (data) => stream.push(data.byteLength === 0 ? null : data),
          (err) => stream.destroy(err as Error),
        );
      },
    });
    return stream;
  }

  /** A web ReadableStream over the rest of the file (pull-based, so back-pressure holds). */
  stream(): ReadableStream<Uint8Array> {
    this.checkReadable();
    const chunk = Math.min(this.blockSize, 2 ** 20);
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const data = await this.read(chunk);
        if (data.byteLength === 0) controller.close();
        else controller.enqueue(data);
      },
    });
  }

  /** Buffer `data`; a full block is handed to the backend. Returns the bytes accepted. */
  async write(data: Uint8Array | string): Promise<number> {
    this.checkWritable();
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw invalidArgument("write", "data", "must be a Uint8Array or a string", data, this.path);
    }
    if (this.uploadedFinal) throw FsError.einval("file already finished uploading", this.path);
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    if (bytes.byteLength === 0) return 0;
    // Copy: the caller may reuse its buffer after write returns (Node's pooled Buffers do).
    this.buffer.push(ownedCopy(bytes));
    this.buffered += bytes.byteLength;
    this.position += bytes.byteLength;
    if (this.buffered >= this.offerAt) await this.queueUpload(false);
    return bytes.byteLength;
  }

  /**
   * Hand buffered bytes to the backend when at least one block is waiting. `force` sends
   * whatever is buffered as the final chunk (close does this).
   */
  async flush(force = false): Promise<void> {
    checkArg("flush", "force", force, isBoolean, this.path);
    this.checkOpen();
    if (!this.writable) return;
    await this.queueUpload(force);
  }

  /**
   * Uploads run one at a time and in order, so writes that are not awaited neither lose
   * bytes nor reorder chunks. After a failed upload every later one fails the same way.
   */
  private queueUpload(final: boolean): Promise<void> {
    const next = this.uploads.then(() => this.uploadBuffered(final));
    this.uploads = next;
    return next;
  }

  private async uploadBuffered(final: boolean): Promise<void> {
    if (this.uploadedFinal) return;
    // An aborted writer sends nothing more, so close() fails and publishes nothing.
    if (this.signal?.aborted) throwIfAborted(this.signal, this.path);
    if (!final && this.buffered < this.offerAt) return;
    // Take the buffer before awaiting: writes during the upload start a new one.
    const size = this.buffered;
    const data = concatBytes(this.buffer, size);
    this.buffer = [];
    this.buffered = 0;
    const accepted = await this.sink!.uploadChunk(data, final);
    if (accepted) {
      this.offerAt = this.blockSize;
      if (final) this.uploadedFinal = true;
      return;
    }
    if (final) throw new FsError("EIO", "the backend refused the final chunk", { path: this.path });
    // Keep it (as one chunk, ahead of newer writes) and offer it again one block later, so a
    // backend with a part minimum (S3: 5 MiB) is not asked, and the buffer not re-joined, per write.
    this.buffer.unshift(data);
    this.buffered += size;
    this.offerAt = size + this.blockSize;
  }

  /**
   * A Node Writable into this file: `end()` closes (and publishes) it; a stream destroyed by
   * an error discards the file, so a failed pipeline publishes nothing.
   */
  createWriteStream(): Writable {
    this.checkWritable();
    return new Writable({
      highWaterMark: Math.min(this.blockSize, 2 ** 20),
      write: (chunk: Uint8Array, _enc, cb) => {
        this.write(chunk).then(() => cb(), cb);
      },
      final: (cb) => {
        this.close().then(() => cb(), cb);
      },
      destroy: (err, cb) => {
        if (!err || this.isClosed) return cb(err);
        this.discard().then(
          () => cb(err),
          () => cb(err),
        );
      },
    });
  }

  /** Upload what remains; publish unless autocommit is off. Safe to call twice. */
  async close(): Promise<void> {
    if (this.isClosed) return this.forced;
    this.isClosed = true;
    this.forced = this.finish();
    return this.forced;
  }

  private async finish(): Promise<void> {
    try {
      if (this.writable) {
        await this.queueUpload(true);
        if (this.autocommit) await this.commitNow();
      }
    } catch (err) {
      if (this.writable && !this.committed) await this.sink!.discard().catch(() => undefined);
      throw err;
    } finally {
      this.cache?.clear();
      this.notifyClosed();
    }
  }

  private async commitNow(): Promise<void> {
    if (this.committed) return;
    this.committed = true;
    try {
      await this.sink!.commit();
    } catch (err) {
      // Nothing was published: drop what the backend holds (temp file, multipart upload).
      await this.sink!.discard().catch(() => undefined);
      throw err;
    }
  }

  /** Publish a file written with `autocommit: false` (closing it first if needed). */
  async commit(): Promise<void> {
    if (!this.writable) throw FsError.einval("commit is only for files open for writing", this.path);
    if (this.isDiscarded) throw FsError.einval("file was discarded; nothing to commit", this.path);
    if (!this.isClosed) {
      this.autocommit = false;
      await this.close();
    } else {
      await this.forced;
    }
    await this.commitNow();
  }

  /** Drop a file written with `autocommit: false`; nothing is published. */
  async discard(): Promise<void> {
    if (!this.writable) throw FsError.einval("discard is only for files open for writing", this.path);
    if (this.isDiscarded) return;
    if (this.committed) throw FsError.einval("file already committed", this.path);
    // Set before waiting, so a close in progress does not publish.
    this.autocommit = false;
    this.committed = true;
    this.isDiscarded = true;
    const wasClosing = this.isClosed;
    this.isClosed = true;
    this.buffer = [];
    this.buffered = 0;
    await this.uploads.catch(() => undefined);
    if (wasClosing) await this.forced.catch(() => undefined);
    this.notifyClosed();
    await this.sink!.discard();
  }

  private notified = false;
  private notifyClosed(): void {
    if (this.notified) return;
    this.notified = true;
    this.onClose?.(this);
  }

  /** `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
