/** Text modes (`r`, `w`, ...): strings in and out over a byte file, decoded incrementally. */
import { StringDecoder } from "node:string_decoder";
import { FsError } from "../core/errors.js";
import { invalidArgument } from "../core/validate.js";

/** What a text file needs of the byte file beneath it. */
export interface ByteFile {
  readonly path: string;
  readonly closed: boolean;
  read(length?: number): Promise<Uint8Array>;
  readline(): Promise<Uint8Array>;
  write(data: Uint8Array | string): Promise<number>;
  close(): Promise<void>;
}

export class TextFile implements AsyncIterable<string> {
  private readonly decoder: StringDecoder;

  constructor(
    readonly raw: ByteFile,
    readonly encoding: BufferEncoding = "utf8",
  ) {
    if (!Buffer.isEncoding(encoding)) throw FsError.einval(`unknown encoding '${encoding}'`, raw.path);
    this.decoder = new StringDecoder(encoding);
  }

  get path(): string {
    return this.raw.path;
  }

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

  async *lines(): AsyncGenerator<string> {
    for (;;) {
      const line = await this.readline();
      if (line === "") return;
      yield line;
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<string> {
    return this.lines();
  }

  async write(text: string): Promise<number> {
    if (typeof text !== "string") throw invalidArgument("write", "text", "must be a string (text files take strings)", text, this.path);
    await this.raw.write(Buffer.from(text, this.encoding));
    return text.length;
  }

  async close(): Promise<void> {
    await this.raw.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
