/**
 * One whole-file download into a temporary file of the cache, verified before anyone may
 * rename it into place: every byte the target announced (size) and the content digest where
 * the target states one (`sha256` / `md5` in its info). The bytes are read through one opened
 * file, so backends that pin an opened file to one version (HTTP: If-Range with the ETag,
 * ECHANGED otherwise; memory: a snapshot) never hand over a mix of two versions; for the other
 * filesystems the target's ukey must be the same after the last read as before the first.
 * Backends that take `streaming` (HTTP, hf, ngc) send the file as one GET, resumed if it breaks.
 */
import { createHash, type Hash } from "node:crypto";
import { once } from "node:events";
import type { Transform } from "node:stream";
import type { AbstractFileSystem } from "../core/abstract.js";
import { FsError, toFsError } from "../core/errors.js";
import { guardOpenedReads } from "../core/versions.js";
import type { FileInfo, ProgressCallback, SignalOptions } from "../core/types.js";
import type { BufferedFile } from "../files/buffered-file.js";
import { getCodec } from "../files/compression.js";
import type { TempFile } from "./storage.js";

export interface DownloadOptions extends SignalOptions {
  /** Codec name to decompress with (already resolved from "infer"). */
  compression?: string;
  /** Bytes per read (default 8 MiB). */
  chunkSize?: number;
  /** Progress: setSize once, then relativeUpdate as bytes arrive. */
  callback?: ProgressCallback;
}

export interface Downloaded {
  /** Bytes written to the temporary file (after decompression). */
  size: number;
  /** sha256 of those bytes, hex. */
  sha256: string;
  info: FileInfo;
}

export const DEFAULT_DOWNLOAD_CHUNK = 8 * 2 ** 20;

/** A digest the target states for the content, if any. */
export function statedDigest(info: FileInfo): { algorithm: "sha256" | "md5"; hex: string } | undefined {
  const sha = info.sha256;
  if (typeof sha === "string" && /^[0-9a-f]{64}$/i.test(sha)) return { algorithm: "sha256", hex: sha.toLowerCase() };
  const md5 = info.md5;
  if (typeof md5 === "string" && /^[0-9a-f]{32}$/i.test(md5)) return { algorithm: "md5", hex: md5.toLowerCase() };
  return undefined;
}

export async function downloadTo(
  target: AbstractFileSystem,
  path: string,
  temp: TempFile,
  options: DownloadOptions = {},
): Promise<Downloaded> {
  const chunk = Math.max(1, options.chunkSize ?? DEFAULT_DOWNLOAD_CHUNK);
  const unchanged = await guardOpenedReads(target, path, { signal: options.signal });
  // A whole file is read front to back: backends that can send it as one response (HTTP, hf,
  // ngc: `streaming`) are asked to, instead of one request per chunk.
  const streams = target.callOptionsOf("open")?.streaming !== undefined;
  const file = await target.open(path, "rb", { blockSize: chunk, cacheType: "none", signal: options.signal, ...(streams ? { streaming: true } : {}) });
  try {
    // The info the opened file is pinned to, where the backend hands it over.
    const details = file.details as Partial<FileInfo>;
    const info: FileInfo = typeof details.type === "string" ? (details as FileInfo) : await target.info(path, { signal: options.signal });
    const size = Number.isFinite(file.size) ? file.size : null;
    const stated = statedDigest(info);
    const rawHash: Hash | undefined = stated ? createHash(stated.algorithm) : undefined;
    const storedHash = createHash("sha256");
    let rawBytes = 0;
    let stored = 0;
    options.callback?.setSize?.(size ?? 0);

    const store = async (data: Uint8Array) => {
      storedHash.update(data);
      stored += data.byteLength;
      await temp.write(data);
    };
    const decompressor = options.compression ? getCodec(options.compression).decompress() : undefined;
    const drained = decompressor ? pump(decompressor, store) : undefined;
    const consume = async (raw: Uint8Array) => {
      rawHash?.update(raw);
      rawBytes += raw.byteLength;
      options.callback?.relativeUpdate?.(raw.byteLength);
      if (!decompressor) return store(raw);
      if (!decompressor.write(raw)) await once(decompressor, "drain");
    };

    try {
      await readAll(file, chunk, consume);
      if (decompressor) {
        decompressor.end();
        await drained;
      }
    } catch (err) {
      decompressor?.destroy();
      if (err instanceof FsError) throw err;
      if (decompressor) throw new FsError("EIO", `cannot decompress (${options.compression}): ${(err as Error).message}`, { path, cause: err });
      throw toFsError(err, path);
    }
    if (size !== null && rawBytes !== size) {
      throw new FsError("EIO", `download incomplete: got ${rawBytes} of ${size} bytes`, { path });
    }
    if (stated && rawHash!.digest("hex") !== stated.hex) {
      throw new FsError("EIO", `download corrupt: ${stated.algorithm} differs from the one the target states`, { path });
    }
    await unchanged();
    return { size: stored, sha256: storedHash.digest("hex"), info };
  } finally {
    await file.close().catch(() => undefined);
  }
}

/** Read the file to its end in `chunk`s, the next read in flight while the last is stored. */
async function readAll(file: BufferedFile, chunk: number, consume: (data: Uint8Array) => Promise<void>): Promise<void> {
  let next = file.read(chunk);
  for (;;) {
    const data = await next;
    if (data.byteLength === 0) return;
    next = file.read(chunk);
    next.catch(() => undefined); // awaited on the next turn; a failure must not go unhandled meanwhile
    await consume(data);
  }
}

/** Read a transform's output into `sink`; if the sink fails, the transform fails too. */
function pump(t: Transform, sink: (chunk: Uint8Array) => Promise<void>): Promise<void> {
  const done = (async () => {
    for await (const out of t) await sink(out as Uint8Array);
  })();
  done.catch((err: unknown) => t.destroy(err as Error));
  return done;
}
