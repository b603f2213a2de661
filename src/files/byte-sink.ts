/**
 * Where a whole-file download writes its bytes: straight to the destination, at their offsets,
 * without copying the chunks the network gave. A positioned sink (a file on a local disk) takes
 * writes at any offset, from several ranged requests at once; any other destination takes them
 * in order only, through the filesystem's opened writer.
 */
import type { FileHandle } from "node:fs/promises";
import { FsError, toFsError } from "../core/errors.js";
import type { FileInfo, SignalOptions } from "../core/types.js";
import type { BufferedFile } from "./buffered-file.js";

/** Options of a whole-file download (`downloadTo`). */
export interface DownloadToOptions extends SignalOptions {
  /** The source's info when the caller has it (saves a lookup where the backend trusts it). */
  info?: FileInfo | undefined;
  /** Told of each increment of bytes received, each byte once. */
  onBytes?: ((bytes: number) => void) | undefined;
  /** Told of the version's info once known, before the first byte. */
  onInfo?: ((info: FileInfo) => void) | undefined;
  /** Bytes per read where the file is read block by block (default 5 MiB). */
  blockSize?: number | undefined;
}

export interface ByteSink {
  /** Whether writes may come at any offset and from several ranges at once; false: strictly in order. */
  readonly positioned: boolean;
  /**
   * Take `data` for `offset` (kept until written, never copied: the caller must not reuse it). A
   * promise asks the caller to wait before the next write. An earlier write's failure is thrown.
   */
  write(data: Uint8Array, offset: number): void | Promise<void>;
  /** Wait until every byte taken is written; throws the first failure. */
  flush(): Promise<void>;
}

/** A sink that publishes a file: nothing is visible under its name before `commit`. */
export interface DownloadTarget extends ByteSink {
  /** Write what is left and publish the file under its name (atomically where the storage can). */
  commit(): Promise<void>;
  /** Drop everything written (temporary files too); the destination keeps its previous state. */
  discard(): Promise<void>;
}

/** Bytes held for the disk at most, per sink, before writers are asked to wait. */
const HIGH_WATER = 16 * 2 ** 20;
/** Writes in flight at once (the thread pool has 4 threads, shared with everything else). */
const WRITES_IN_FLIGHT = 2;
/**
 * A run longer than this is written in several calls. Measured (512 MiB from nginx into a file,
 * each run after another process's download): 128-256 KiB writes 0.67-0.79 s, 1 MiB writes
 * 1.8-2.6 s, 64 KiB 1.06-1.19 s. Large writes make the page cache take large folios, which on a
 * VM whose host takes freed memory back come from never-touched pages (a fault per page inside
 * the copy); two writes in flight beat one.
 */
const MAX_RUN = 256 * 1024;

interface Run {
  offset: number;
  chunks: Uint8Array[];
  bytes: number;
}

/**
 * Positioned writes to an open file. Chunks that continue one another are gathered while a write
 * is in flight and go out as one `writev`, as a write stream does, so a download pays one
 * thread-pool call per batch rather than per chunk.
 */
export class PositionedFileSink implements ByteSink {
  readonly positioned = true;
  /** Runs of contiguous chunks waiting for the disk, by the offset where each ends. */
  private readonly runs = new Map<number, Run>();
  private queued = 0;
  private inFlight = 0;
  private failure: FsError | undefined;
  private waiters: Array<{ resolve: () => void; reject: (err: unknown) => void; below: number }> = [];

  constructor(
    private readonly fh: FileHandle,
    /** The path errors name. */
    private readonly path: string,
  ) {}

  write(data: Uint8Array, offset: number): void | Promise<void> {
    if (this.failure) throw this.failure;
    const n = data.byteLength;
    if (n === 0) return;
    const run = this.runs.get(offset);
    if (run && run.bytes < MAX_RUN) {
      this.runs.delete(offset);
      run.chunks.push(data);
      run.bytes += n;
      this.runs.set(offset + n, run);
    } else {
      this.runs.set(offset + n, { offset, chunks: [data], bytes: n });
    }
    this.queued += n;
    this.pumpWrites();
    if (this.queued >= HIGH_WATER) return this.below(HIGH_WATER / 2);
  }

  flush(): Promise<void> {
    return this.below(1);
  }

  /** Drop what waits for the disk and wait for the writes in flight (before the file is deleted). */
  async abandon(): Promise<void> {
    this.failure ??= new FsError("EABORT", "the download was dropped", { path: this.path });
    for (const run of this.runs.values()) this.queued -= run.bytes;
    this.runs.clear();
    this.wake();
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.waiters.push({ resolve, reject: () => resolve(), below: 1 }));
  }

  /** Resolves once fewer than `limit` bytes wait (flush: none), rejects on a failure. */
  private below(limit: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.queued < limit && (limit > 1 || this.inFlight === 0)) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject, below: limit }));
  }

  private pumpWrites(): void {
    while (this.inFlight < WRITES_IN_FLIGHT && this.runs.size > 0 && !this.failure) {
      // The run least recently added to: a part that went on meanwhile keeps gathering.
      const [end, run] = this.runs.entries().next().value as [number, Run];
      this.runs.delete(end);
      this.inFlight++;
      this.writeRun(run).then(
        () => {
          this.inFlight--;
          this.queued -= run.bytes;
          this.pumpWrites();
          this.wake();
        },
        (err: unknown) => {
          this.inFlight--;
          this.failure ??= toFsError(err, this.path);
          this.wake();
        },
      );
    }
  }

  private async writeRun(run: Run): Promise<void> {
    let { offset, chunks } = run;
    let left = run.bytes;
    while (left > 0) {
      const { bytesWritten } = chunks.length === 1 ? await this.fh.write(chunks[0]!, 0, chunks[0]!.byteLength, offset) : await this.fh.writev(chunks, offset);
      if (bytesWritten >= left) return;
      if (bytesWritten === 0) throw new FsError("EIO", "the disk took no bytes", { path: this.path });
      // A short write: go on from where it stopped.
      offset += bytesWritten;
      left -= bytesWritten;
      let skip = bytesWritten;
      while (skip >= chunks[0]!.byteLength) skip -= chunks.shift()!.byteLength;
      chunks = skip > 0 ? [chunks[0]!.subarray(skip), ...chunks.slice(1)] : chunks;
    }
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) {
      if (this.failure) w.reject(this.failure);
      else if (this.queued < w.below && (w.below > 1 || this.inFlight === 0)) w.resolve();
      else this.waiters.push(w);
    }
  }
}

/** A download into an opened writer of any filesystem: bytes must come in order (no parallel ranges). */
export function writerTarget(writer: BufferedFile, path: string): DownloadTarget {
  let next = 0;
  return {
    positioned: false,
    write: async (data, offset) => {
      if (offset !== next) throw new FsError("EINVAL", `a sequential download target was given byte ${offset}, expected ${next}`, { path });
      next += data.byteLength;
      await writer.write(data);
    },
    flush: async () => undefined,
    commit: () => writer.close(),
    discard: () => writer.discard(),
  };
}
