/** Text modes (`r`, `w`, ...): strings in and out over a byte file, decoded incrementally. */
import { StringDecoder } from "node:string_decoder";
import { FsError } from "../core/errors.js";
import { invalidArgument } from "../core/validate.js";

/** What a text file needs of the byte file beneath it. */
export interface ByteFile {
  /** The file's path. */
  readonly path: string;
  /** True once closed. */
  readonly closed: boolean;
  /** Up to `length` bytes from the position (all that is left by default); empty at the end. */
  read(length?: number): Promise<Uint8Array>;
  /** The next line with its `\n`; empty at the end. */
  readline(): Promise<Uint8Array>;
  /** Write bytes (strings as UTF-8); resolves with the count written. */
  write(data: Uint8Array | string): Promise<number>;
  /** Close the file (a writer publishes). */
  close(): Promise<void>;
}

/**
 * A file opened in a text mode (`r`, `w`, `a`, `x`, ...): strings in and out over a byte file, decoded
 * incrementally so multi-byte characters never split. `await using` closes it.
 */
export class TextFile implements AsyncIterable<string> {
  private readonly decoder: StringDecoder;

  constructor(
    /** The byte file beneath (a `BufferedFile`, or a `CompressedFile`). */
    readonly raw: ByteFile,
    /** The text encoding (default utf8; an unknown one is EINVAL). */
    readonly encoding: BufferEncoding = "utf8",
  ) {
    if (!Buffer.isEncoding(encoding)) throw FsError.einval(`unknown encoding '${encoding}'`, raw.path);
    this.decoder = new StringDecoder(encoding);
  }

  /** The file's path, as the byte file's. */
  get path(): string {
    return this.raw.path;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.raw.closed;
  }

  /**
   * Decode about `length` bytes (everything left by default). Multi-byte characters never
   * split: a character cut at the end waits for the next read, so "" means the end of the file.
   */
  async read(length = -1): Promise<string> {
    for (;;) {
      const bytes = await this.raw.read(length);
      if (bytes.byteLength === 0) return this.decoder.end();
      const text = this.decoder.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      if (text !== "") return text;
    }
  }

  /** The next line including its `\n`; "" at the end. */
  async readline(): Promise<string> {
    const bytes = await this.raw.readline();
    if (bytes.byteLength === 0) return this.decoder.end();
    return this.decoder.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /**
   * Each line with its `\n` (the last may have none), to the end; also `for await (const line of
   * file)`.
   */
  async *lines(): AsyncGenerator<string> {
    for (;;) {
      const line = await this.readline();
      if (line === "") return;
      yield line;
    }
  }

  /** The lines, as `lines()`. */
  [Symbol.asyncIterator](): AsyncGenerator<string> {
    return this.lines();
  }

  /**
   * Write `text` in the file's encoding; resolves with its length in characters. A non-string is
   * EINVAL.
   */
  async write(text: string): Promise<number> {
    if (typeof text !== "string") throw invalidArgument("write", "text", "must be a string (text files take strings)", text, this.path);
    await this.raw.write(Buffer.from(text, this.encoding));
    return text.length;
  }

  /** Close the byte file (a writer publishes). */
  async close(): Promise<void> {
    await this.raw.close();
  }

  /** `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
