/**
 * The read cache of a forward-only HTTP file: one response read as the caller goes, for
 * servers that refuse ranges or do not say the size. Only bytes not yet read by the caller
 * are held (plus the rest of the last chunk), so a long download stays small in memory.
 */
import { FsError } from "../../core/errors.js";
import type { FileInfo } from "../../core/types.js";
import { BufferedFile } from "../../files/buffered-file.js";
import { ReadCache } from "../../files/read-caches.js";
import { concatBytes } from "../../files/upload-sink.js";
import type { RangeDownload, Validators } from "./download.js";

export class StreamingCache extends ReadCache {
  private download: RangeDownload | undefined;
  /** Absolute offset of `chunks[0][0]`. */
  private bufStart = 0;
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private eof = false;
  /** Why the stream broke: every later read fails the same way (it must never look like the end). */
  private failure: unknown;

  /** `open(start)` sends the request, from `start` where the server allows it. */
  constructor(
    size: number,
    blockSize: number,
    path: string,
    private readonly open: (start: number) => Promise<RangeDownload>,
  ) {
    super({
      blockSize,
      size,
      path,
      fetcher: () => Promise.reject(FsError.enotsup("a streamed file has no ranged fetch", path)),
    });
  }

  async read(start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    if (this.failure !== undefined) throw this.failure;
    if (start < this.bufStart) {
      throw FsError.enotsup(`cannot go back to byte ${start} of a streamed file (now at ${this.bufStart})`, this.path);
    }
    if (!this.download) {
      this.stats.fetches++;
      this.download = await this.open(start);
      this.bufStart = this.download.first;
    }
    this.dropBefore(start);
    const missing = this.bufStart + this.buffered < end && !this.eof;
    if (missing) this.stats.misses++;
    else this.stats.hits++;
    while (!this.eof && this.bufStart + this.buffered < end) {
      let chunk: Uint8Array | undefined;
      try {
        chunk = await this.download.next();
      } catch (err) {
        this.failure = err;
        throw err;
      }
      if (!chunk) {
        this.eof = true;
        break;
      }
      this.stats.bytesRequested += chunk.byteLength;
      this.chunks.push(chunk);
      this.buffered += chunk.byteLength;
      this.dropBefore(start);
    }
    const upto = Math.min(end, this.bufStart + this.buffered) - this.bufStart;
    if (upto <= 0) return new Uint8Array(0);
    const first = this.chunks[0]!;
    if (upto <= first.byteLength) return first.subarray(0, upto);
    return concatBytes(this.chunks, this.buffered).subarray(0, upto);
  }

  /** Forget bytes before `start`: the caller never reads behind itself. */
  private dropBefore(start: number): void {
    while (this.chunks.length > 0 && this.bufStart < start) {
      const first = this.chunks[0]!;
      const drop = Math.min(first.byteLength, start - this.bufStart);
      if (drop === first.byteLength) this.chunks.shift();
      else this.chunks[0] = first.subarray(drop);
      this.bufStart += drop;
      this.buffered -= drop;
    }
    // With nothing held, chunks still to come are placed at `bufStart` and trimmed on arrival.
  }

  override clear(): void {
    this.chunks = [];
    this.buffered = 0;
    this.download?.cancel();
  }
}

/**
 * A forward-only opened file over a download already begun at byte 0 (a whole-file download whose
 * first answer told its size and version): the first read takes that answer; a first read
 * elsewhere drops it and `reopen` sends another request, pinned by `expect` to the same version.
 */
export function streamedFile(
  path: string,
  first: RangeDownload,
  details: FileInfo,
  blockSize: number,
  reopen: (start: number, expect: Validators) => Promise<RangeDownload>,
): BufferedFile {
  const size = first.total ?? details.size ?? Infinity;
  const expect: Validators = { etag: first.etag, lastModified: first.lastModified, size: Number.isFinite(size) ? size : null };
  let handed = false;
  const open = async (start: number): Promise<RangeDownload> => {
    if (!handed) {
      handed = true;
      if (start === first.first) return first;
      first.cancel();
    }
    return reopen(start, expect);
  };
  return new BufferedFile({
    path,
    mode: "rb",
    size,
    blockSize,
    details: { ...details, size: Number.isFinite(size) ? size : null },
    readCache: new StreamingCache(size, blockSize, path, open),
    // Opened but never read: its answer still holds a connection.
    onClose: () => first.cancel(),
  });
}
