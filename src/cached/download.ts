/**
 * One whole-file download into a temporary file of the cache, verified before anyone may
 * rename it into place: every byte the target announced (size) and the content digest where
 * the target states one (`sha256` / `md5` in its info). The bytes are read through one opened
 * file, so backends that pin an opened file to one version (HTTP: If-Range with the ETag,
 * ECHANGED otherwise; memory: a snapshot) never hand over a mix of two versions; for the other
 * filesystems the target's ukey must be the same after the last read as before the first.
 * The target writes the bytes as they arrive (`downloadTo`): HTTP, hf, ngc, s3 and gs send the
 * file as one GET resumed where it breaks, or a large one as parallel ranges pinned to one
 * version into the temporary file at their offsets (hashed as they come while in order, the
 * rest read back once complete).
 */
import { createHash, type Hash } from "node:crypto";
import { once } from "node:events";
import type { Transform } from "node:stream";
import type { AbstractFileSystem } from "../core/abstract.js";
import { FsError, toFsError } from "../core/errors.js";
import { guardOpenedReads } from "../core/versions.js";
import type { FileInfo, ProgressCallback, SignalOptions } from "../core/types.js";
import type { ByteSink } from "../files/byte-sink.js";
import { getCodec } from "../files/compression.js";
import type { TempFile } from "./storage.js";

export interface DownloadOptions extends SignalOptions {
  /** Codec name to decompress with (already resolved from "infer"). */
  compression?: string;
  /** Bytes per read (default 8 MiB). */
  chunkSize?: number;
  /** Progress: setSize once, then relativeUpdate as bytes arrive. */
  callback?: ProgressCallback;
  /** The target's info of the file, just looked up by the caller (the download is pinned to it). */
  info?: FileInfo | undefined;
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
  const callback = options.callback;
  let size: number | null | undefined;
  let stated: ReturnType<typeof statedDigest>;
  let rawHash: Hash | undefined;
  let storedHash = createHash("sha256");
  let rawBytes = 0;
  let stored = 0;
  // Learnt before the first byte: the size for progress and the digest the target states.
  const onInfo = (info: FileInfo) => {
    size = info.size;
    stated = statedDigest(info);
    rawHash = stated ? createHash(stated.algorithm) : undefined;
    callback?.setSize?.(size ?? 0);
  };
  const onBytes = (n: number) => {
    rawBytes += n;
    callback?.relativeUpdate?.(n);
  };
  const decompressor = options.compression ? getCodec(options.compression).decompress() : undefined;
  // Uncompressed into a local temporary file: written at the offsets the bytes come for (parallel
  // ranges of a large file). Otherwise written and hashed in order.
  const positioned = decompressor ? undefined : temp.positioned;
  // Bytes hashed as they come while they come in order (one stream); the rest (parallel
  // parts past the first) is read back from the file once complete.
  let hashedTo = 0;
  let inOrder = true;
  // A range written again (a part retried) may replace bytes hashed already: all are read back.
  let rewritten = false;
  let info: FileInfo;
  try {
    if (positioned) {
      const hashing: ByteSink = {
        positioned: true,
        write: (data, offset) => {
          if (inOrder && offset === hashedTo) {
            storedHash.update(data);
            rawHash?.update(data);
            hashedTo += data.byteLength;
          } else {
            inOrder = false;
            if (offset < hashedTo) rewritten = true;
          }
          return positioned.write(data, offset);
        },
        flush: () => positioned.flush(),
      };
      info = await target.downloadTo(path, hashing, { signal: options.signal, info: options.info, onInfo, onBytes, blockSize: chunk });
      stored = rawBytes;
    } else {
      const store = async (data: Uint8Array) => {
        storedHash.update(data);
        stored += data.byteLength;
        await temp.write(data);
      };
      const drained = decompressor ? pump(decompressor, store) : undefined;
      const sink: ByteSink = {
        positioned: false,
        write: (raw) => {
          rawHash?.update(raw);
          if (!decompressor) return store(raw);
          if (!decompressor.write(raw)) return once(decompressor, "drain").then(() => undefined);
        },
        flush: async () => undefined,
      };
      try {
        info = await target.downloadTo(path, sink, { signal: options.signal, info: options.info, onInfo, onBytes, blockSize: chunk });
        if (decompressor) {
          decompressor.end();
          await drained;
        }
      } catch (err) {
        decompressor?.destroy();
        throw err;
      }
    }
  } catch (err) {
    if (err instanceof FsError) throw err;
    if (decompressor) throw new FsError("EIO", `cannot decompress (${options.compression}): ${(err as Error).message}`, { path, cause: err });
    throw toFsError(err, path);
  }
  if (size === undefined) onInfo(info);
  if (size != null && rawBytes !== size) {
    throw new FsError("EIO", `download incomplete: got ${rawBytes} of ${size} bytes`, { path });
  }
  let sha256: string;
  if (positioned && rewritten) {
    storedHash = createHash("sha256");
    rawHash = stated ? createHash(stated.algorithm) : undefined;
    hashedTo = 0;
  }
  if (positioned && hashedTo < rawBytes) await temp.hashFrom!(rawHash ? [storedHash, rawHash] : [storedHash], hashedTo);
  if (stated && rawHash?.digest("hex") !== stated.hex) throw corrupt(path, stated.algorithm);
  sha256 = storedHash.digest("hex");
  await unchanged();
  return { size: stored, sha256, info };
}

function corrupt(path: string, algorithm: string): FsError {
  return new FsError("EIO", `download corrupt: ${algorithm} differs from the one the target states`, { path });
}

/** Read a transform's output into `sink`; if the sink fails, the transform fails too. */
function pump(t: Transform, sink: (chunk: Uint8Array) => Promise<void>): Promise<void> {
  const done = (async () => {
    for await (const out of t) await sink(out as Uint8Array);
  })();
  done.catch((err: unknown) => t.destroy(err as Error));
  return done;
}
