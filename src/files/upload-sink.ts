/**
 * Where a written file's bytes go. The buffered file hands chunks to a sink; a backend
 * supplies the sink (a temp file for local disks, multipart for S3, memory by default).
 */
import type { PipeMode } from "../core/types.js";

/**
 * Where the bytes of a file opened for writing go: what a backend's `_openWriter` returns (a temp file
 * on local disks, a multipart upload on S3, one whole-file write by default).
 */
export interface UploadSink {
  /**
   * Take a chunk. `final` is true for the last chunk (sent on close, possibly empty).
   * Return false to refuse a non-final chunk (too small for the backend); the file keeps it
   * buffered and offers it again with more bytes.
   */
  uploadChunk(data: Uint8Array, final: boolean): Promise<boolean>;
  /** Publish the written file under its final name. */
  commit(): Promise<void>;
  /** Drop everything written; the destination keeps its previous state. */
  discard(): Promise<void>;
}

/** What `_openWriter` is told about the writer it makes. */
export interface SinkOptions {
  /** "w": replace, "a": append to what exists, "x": fail with EEXIST if it exists at commit. */
  mode: "w" | "a" | "x";
  /** Aborts the upload: the sink publishes nothing. */
  signal?: AbortSignal;
}

export function concatBytes(chunks: readonly Uint8Array[], total?: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const size = total ?? chunks.reduce((n, c) => n + c.byteLength, 0);
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/**
 * The default sink: collects chunks in memory and publishes them with one whole-file write.
 * `existing` supplies current content for append mode.
 */
export class CollectingSink implements UploadSink {
  private readonly chunks: Uint8Array[] = [];

  constructor(
    private readonly publish: (data: Uint8Array, mode: PipeMode) => Promise<void>,
    private readonly options: SinkOptions,
    private readonly existing?: () => Promise<Uint8Array | undefined>,
  ) {}

  async uploadChunk(data: Uint8Array, _final: boolean): Promise<boolean> {
    if (data.byteLength > 0) this.chunks.push(data);
    return true;
  }

  async commit(): Promise<void> {
    const prefix = this.options.mode === "a" && this.existing ? await this.existing() : undefined;
    const parts = prefix ? [prefix, ...this.chunks] : this.chunks;
    const data = parts.length === 0 ? new Uint8Array(0) : concatBytes(parts);
    await this.publish(data, this.options.mode === "x" ? "create" : "overwrite");
    this.chunks.length = 0;
  }

  async discard(): Promise<void> {
    this.chunks.length = 0;
  }
}
