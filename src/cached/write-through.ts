/**
 * Writes through a whole-file cache: the bytes go to a temporary file in the cache directory,
 * and only when the file is committed (closed, or its transaction commits) are they uploaded
 * to the target; the temporary then becomes the cached copy. A discarded or failed write
 * leaves the target and the cache as they were.
 */
import { createHash } from "node:crypto";
import type { AbstractFileSystem } from "../core/abstract.js";
import { FsError } from "../core/errors.js";
import type { BufferedFile } from "../files/buffered-file.js";
import type { SinkOptions, UploadSink } from "../files/upload-sink.js";
import type { StorageDir, TempFile } from "./storage.js";

const UPLOAD_CHUNK = 8 * 2 ** 20;

export interface WrittenFile {
  tempName: string;
  size: number;
  sha256: string;
}

export class WriteThroughSink implements UploadSink {
  private readonly hash = createHash("sha256");
  private size = 0;

  constructor(
    private readonly target: AbstractFileSystem,
    private readonly path: string,
    private readonly storage: StorageDir,
    private readonly temp: TempFile,
    private readonly mode: SinkOptions["mode"],
    /** Makes the uploaded temporary the cached copy of `path`. */
    private readonly publish: (written: WrittenFile) => Promise<void>,
  ) {}

  /** Start with existing bytes (append mode). */
  async seed(data: Uint8Array): Promise<void> {
    await this.uploadChunk(data);
  }

  async uploadChunk(data: Uint8Array): Promise<boolean> {
    if (data.byteLength > 0) {
      this.hash.update(data);
      this.size += data.byteLength;
      await this.temp.write(data);
    }
    return true;
  }

  async commit(): Promise<void> {
    try {
      await this.temp.close();
      await this.upload();
    } catch (err) {
      await this.temp.abort();
      throw err;
    }
    await this.publish({ tempName: this.temp.name, size: this.size, sha256: this.hash.digest("hex") });
  }

  async discard(): Promise<void> {
    await this.temp.abort();
  }

  private async upload(): Promise<void> {
    const reader = await this.storage.openReader(this.temp.name);
    if (!reader) throw new FsError("EIO", "the temporary file of this write vanished", { path: this.storage.pathOf(this.temp.name) });
    let writer: BufferedFile | undefined;
    try {
      // "a" was turned into a full rewrite: the temporary already holds the old bytes.
      writer = await this.target.open(this.path, this.mode === "x" ? "xb" : "wb", { blockSize: UPLOAD_CHUNK });
      for (let off = 0; off < reader.size; off += UPLOAD_CHUNK) {
        await writer.write(await reader.read(off, Math.min(reader.size, off + UPLOAD_CHUNK)));
      }
      await writer.close();
    } catch (err) {
      if (writer && !writer.closed) await writer.discard().catch(() => undefined);
      throw err;
    } finally {
      await reader.close();
    }
  }
}

/**
 * Writes that go straight to the target's own opened writer (blockcache), so the target
 * streams them as it would (multipart uploads and the like); `published` runs after commit.
 */
export class TargetWriterSink implements UploadSink {
  constructor(
    private readonly file: BufferedFile,
    private readonly published: () => Promise<void>,
  ) {}

  static async open(target: AbstractFileSystem, path: string, options: SinkOptions, published: () => Promise<void>): Promise<TargetWriterSink> {
    const file = await target.open(path, `${options.mode}b` as "wb" | "ab" | "xb", { autocommit: false, signal: options.signal });
    return new TargetWriterSink(file, published);
  }

  async uploadChunk(data: Uint8Array): Promise<boolean> {
    await this.file.write(data);
    return true;
  }

  async commit(): Promise<void> {
    await this.file.commit();
    await this.published();
  }

  async discard(): Promise<void> {
    await this.file.discard();
  }
}
