/**
 * How archives read their container: ranged reads of the target file, either as a stream of
 * growing chunks (member data, a gzip stream) or through one cached window (headers).
 */
import { FsError } from "../../core/errors.js";
import type { SignalOptions } from "../../core/types.js";

/** Bytes [start, end) of the archive file; fewer only at its end. */
export type RangeRead = (start: number, end: number, options?: SignalOptions) => Promise<Uint8Array>;

export interface ChunkPlan {
  /** Size of the first read. */
  first: number;
  /** Each later read doubles, up to this. */
  max: number;
}

export const MiB = 2 ** 20;

/**
 * Bytes [start, end) as ranged reads, each twice the last (from `plan.first` up to `plan.max`),
 * so a short range costs one request and a long one a few. A read that comes back short before
 * `end` means a truncated archive: EIO naming `path`. With `end` undefined the stream stops at
 * the first short read (the end of the file).
 */
export async function* rangeChunks(
  read: RangeRead,
  start: number,
  end: number | undefined,
  plan: ChunkPlan,
  path: string,
): AsyncGenerator<Uint8Array> {
  let pos = start;
  let size = Math.max(1, plan.first);
  while (end === undefined || pos < end) {
    const want = end === undefined ? size : Math.min(size, end - pos);
    const chunk = await read(pos, pos + want);
    if (chunk.byteLength > 0) yield chunk;
    pos += chunk.byteLength;
    if (chunk.byteLength < want) {
      if (end === undefined) return;
      throw new FsError("EIO", `archive truncated: ${end - pos} bytes missing at offset ${pos}`, { path });
    }
    size = Math.min(plan.max, size * 2);
  }
}

/**
 * Small reads at increasing offsets (tar headers) served from one window, refetched only when
 * a read falls outside it. The window grows (doubling up to `max`) while reads keep going on
 * where it ended, as when members are small, and shrinks back to `min` after a jump over a
 * large member, so indexing a tar of big files does not fetch much more than its headers.
 */
export class WindowReader {
  private windowStart = 0;
  private window: Uint8Array = new Uint8Array(0);
  private size: number;
  /** The file's length once a read has come back short. */
  private knownEnd: number | undefined;

  constructor(
    private readonly read: RangeRead,
    private readonly plan: { min: number; max: number },
    /** Bytes from offset 0 already read (the read that identified the format). */
    initial?: Uint8Array,
  ) {
    this.size = plan.min;
    if (initial) {
      this.window = initial;
      if (initial.byteLength < plan.min) this.knownEnd = initial.byteLength;
    }
  }

  /** Up to `n` bytes at `pos` (fewer only at the end of the file). */
  async bytes(pos: number, n: number): Promise<Uint8Array> {
    const windowEnd = this.windowStart + this.window.byteLength;
    const inWindow = pos >= this.windowStart && pos + n <= windowEnd;
    // A window that reached the end of the file already holds all there is past `pos`.
    const windowHasTheEnd = this.knownEnd === windowEnd && pos >= this.windowStart;
    if (!inWindow && !windowHasTheEnd) {
      this.size = pos <= windowEnd + this.plan.min ? Math.min(this.plan.max, this.size * 2) : this.plan.min;
      const want = Math.max(n, this.size);
      this.window = await this.read(pos, pos + want);
      this.windowStart = pos;
      if (this.window.byteLength < want) this.knownEnd = pos + this.window.byteLength;
    }
    const from = pos - this.windowStart;
    return this.window.subarray(from, Math.min(from + n, this.window.byteLength));
  }
}
