/**
 * Compression codecs by name, inferred from file extensions with `compression: "infer"`.
 * A compressed file streams through zlib, so large files never sit whole in memory.
 */
import { Readable, type Transform } from "node:stream";
import * as zlib from "node:zlib";
import { FsError } from "../core/errors.js";
import { invalidArgument } from "../core/validate.js";
import { StreamReader } from "./stream-reader.js";
import type { ByteFile } from "./text-file.js";
import type { BufferedFile } from "./buffered-file.js";

/**
 * A compression format for `registerCompression`: the extensions `compression: "infer"` maps to it, and
 * its zlib-style streams.
 */
export interface Codec {
  /** File extensions without the dot (`["gz"]`). */
  extensions: string[];
  /** A fresh stream that decompresses. */
  decompress(): Transform;
  /** A fresh stream that compresses. */
  compress(): Transform;
}

const CODECS = new Map<string, Codec>([
  ["gzip", { extensions: ["gz"], decompress: () => zlib.createGunzip(), compress: () => zlib.createGzip() }],
  ["brotli", { extensions: ["br"], decompress: () => zlib.createBrotliDecompress(), compress: () => zlib.createBrotliCompress() }],
  ["deflate", { extensions: ["zz"], decompress: () => zlib.createInflate(), compress: () => zlib.createDeflate() }],
]);

/**
 * Add a codec under `name` (for `compression: name` and, by its extensions, `"infer"`). A registered
 * name is EINVAL unless `clobber`.
 */
export function registerCompression(name: string, codec: Codec, options: { clobber?: boolean } = {}): void {
  if (CODECS.has(name) && !options.clobber) throw FsError.einval(`compression '${name}' is already registered`);
  CODECS.set(name, codec);
}

/** The registered codec names (gzip, brotli, deflate and any added). */
export function availableCompressions(): string[] {
  return [...CODECS.keys()];
}

/** The codec name for a path's extension, or undefined. */
export function inferCompression(path: string): string | undefined {
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  for (const [name, codec] of CODECS) if (codec.extensions.includes(ext)) return name;
  return undefined;
}

/** Resolve a `compression` option ("infer", a name, null/undefined) for `path`. */
export function resolveCompression(compression: string | null | undefined, path: string): string | undefined {
  if (compression === undefined || compression === null) return undefined;
  const name = compression === "infer" ? inferCompression(path) : compression;
  if (name !== undefined && !CODECS.has(name)) {
    throw FsError.einval(`unknown compression '${name}'; known: ${availableCompressions().join(", ")}`, path);
  }
  return name;
}

export function getCodec(name: string): Codec {
  const codec = CODECS.get(name);
  if (!codec) throw FsError.einval(`unknown compression '${name}'; known: ${availableCompressions().join(", ")}`);
  return codec;
}

/**
 * A decompressing reader or compressing writer over a raw opened file, streaming through zlib so a
 * large file never sits whole in memory (`compression` option of `open`). Not seekable; a corrupt
 * stream is EIO; calls after `close()` are ECLOSED.
 */
export class CompressedFile implements ByteFile {
  private readonly reader: StreamReader | undefined;
  private readonly compressor: Transform | undefined;
  private readonly pumped: Promise<void> | undefined;
  private isClosed = false;

  constructor(
    /** The compressed file beneath. */
    readonly raw: BufferedFile,
    /** The codec name (gzip, brotli, deflate...). */
    readonly compression: string,
  ) {
    const codec = getCodec(compression);
    if (raw.readable) {
      const source = Readable.from(raw, { objectMode: false }).pipe(codec.decompress());
      this.reader = new StreamReader(source);
    } else {
      this.compressor = codec.compress();
      // Compressed output flows into the raw file as it is produced.
      this.pumped = (async () => {
        for await (const chunk of this.compressor!) await raw.write(chunk as Uint8Array);
      })();
      this.pumped.catch(() => undefined);
    }
  }

  /** The file's path, as the raw file's. */
  get path(): string {
    return this.raw.path;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  private checkOpen(): void {
    if (this.isClosed) throw new FsError("ECLOSED", undefined, { path: this.path });
  }

  /**
   * Up to `length` decompressed bytes (all that is left by default); empty at the end. EIO when the
   * data cannot be decompressed.
   */
  async read(length = -1): Promise<Uint8Array> {
    this.checkOpen();
    if (!this.reader) throw FsError.einval("file not open for reading", this.path);
    if (typeof length !== "number" || Number.isNaN(length)) throw invalidArgument("read", "length", "must be a number", length, this.path);
    return this.reader.read(length).catch((err) => {
      throw new FsError("EIO", `cannot decompress (${this.compression}): ${(err as Error).message}`, { path: this.path, cause: err });
    });
  }

  /** The next decompressed line with its `\n`; empty at the end. */
  async readline(): Promise<Uint8Array> {
    this.checkOpen();
    if (!this.reader) throw FsError.einval("file not open for reading", this.path);
    return this.reader.readline();
  }

  /** Decompressed chunks of up to 1 MiB, to the end. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = await this.read(2 ** 20);
      if (chunk.byteLength === 0) return;
      yield chunk;
    }
  }

  /** Compress and write `data` (strings as UTF-8); resolves with the uncompressed byte count. */
  async write(data: Uint8Array | string): Promise<number> {
    this.checkOpen();
    if (!this.compressor) throw FsError.einval("file not open for writing", this.path);
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw invalidArgument("write", "data", "must be a Uint8Array or a string", data, this.path);
    }
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    if (!this.compressor.write(bytes)) {
      await new Promise<void>((resolve) => this.compressor!.once("drain", resolve));
    }
    return bytes.byteLength;
  }

  /** Flush the compressor and close the raw file (a writer publishes). Safe to call twice. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.compressor) {
      this.compressor.end();
      await this.pumped;
    } else {
      await this.reader?.close();
    }
    await this.raw.close();
  }

  /** `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
