/**
 * One whole-file download into a temporary file of the cache, verified before anyone may
 * rename it into place: every byte the target announced (size), the content digest where the
 * target states one (`sha256` / `md5` in its info), and an ETag that did not change while we
 * read. Ranges are fetched a few at a time and written in order.
 */
import { createHash, type Hash } from "node:crypto";
import { once } from "node:events";
import type { Transform } from "node:stream";
import type { AbstractFileSystem } from "../core/abstract.js";
import { FsError, toFsError } from "../core/errors.js";
import type { FileInfo, ProgressCallback, SignalOptions } from "../core/types.js";
import { getCodec } from "../files/compression.js";
import type { TempFile } from "./storage.js";

export interface DownloadOptions extends SignalOptions {
  /** The target's info for the path, if the caller has it already. */
  info?: FileInfo;
  /** Codec name to decompress with (already resolved from "infer"). */
  compression?: string;
  /** Bytes per ranged read (default 8 MiB) and reads in flight (default 4). */
  chunkSize?: number;
  concurrency?: number;
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
export const DEFAULT_DOWNLOAD_CONCURRENCY = 4;

/** A digest the target states for the content, if any. */
function statedDigest(info: FileInfo): { algorithm: "sha256" | "md5"; hex: string } | undefined {
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
  const info = options.info ?? (await target.info(path, { signal: options.signal }));
  if (info.type === "directory") throw FsError.eisdir(path);
  const size = info.size;
  const stated = statedDigest(info);
  const rawHash: Hash | undefined = stated ? createHash(stated.algorithm) : undefined;
  const storedHash = createHash("sha256");
  let rawBytes = 0;
  let stored = 0;
  options.callback?.setSize?.(size ?? 0);

  const store = async (chunk: Uint8Array) => {
    storedHash.update(chunk);
    stored += chunk.byteLength;
    await temp.write(chunk);
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

  // Stop reads still in flight when one fails, or when the caller aborts.
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (size === null) {
      await consume(await target.catFile(path, undefined, undefined, { signal: controller.signal }));
    } else {
      await fetchInOrder(target, path, size, options, controller.signal, consume);
    }
    if (decompressor) {
      decompressor.end();
      await drained;
    }
  } catch (err) {
    controller.abort(err);
    decompressor?.destroy();
    if (err instanceof FsError) throw err;
    if (decompressor) throw new FsError("EIO", `cannot decompress (${options.compression}): ${(err as Error).message}`, { path, cause: err });
    throw toFsError(err, path);
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }

  if (size !== null && rawBytes !== size) {
    throw new FsError("EIO", `download incomplete: got ${rawBytes} of ${size} bytes`, { path });
  }
  if (stated && rawHash!.digest("hex") !== stated.hex) {
    throw new FsError("EIO", `download corrupt: ${stated.algorithm} differs from the one the target states`, { path });
  }
  if (typeof info.etag === "string") {
    // The file must not have changed while we read it in several requests.
    target.invalidateCache(path);
    const again = await target.info(path, { signal: options.signal });
    if (again.etag !== info.etag) {
      throw new FsError("ECHANGED", `the file changed during the download (ETag ${info.etag} -> ${String(again.etag)})`, { path });
    }
  }
  return { size: stored, sha256: storedHash.digest("hex"), info };
}

/** Ranged reads of `chunkSize`, `concurrency` in flight, handed to `consume` in file order. */
async function fetchInOrder(
  target: AbstractFileSystem,
  path: string,
  size: number,
  options: DownloadOptions,
  signal: AbortSignal,
  consume: (data: Uint8Array) => Promise<void>,
): Promise<void> {
  const chunk = Math.max(1, options.chunkSize ?? DEFAULT_DOWNLOAD_CHUNK);
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_DOWNLOAD_CONCURRENCY);
  const starts: number[] = [];
  for (let s = 0; s < size; s += chunk) starts.push(s);
  const inflight: Array<Promise<Uint8Array>> = [];
  let next = 0;
  const startNext = () => {
    const s = starts[next++]!;
    const p = target.catFile(path, s, Math.min(size, s + chunk), { signal });
    p.catch(() => undefined); // awaited in order below; a later failure must not go unhandled
    inflight.push(p);
  };
  while (next < starts.length && inflight.length < concurrency) startNext();
  for (const s of starts) {
    const data = await inflight.shift()!;
    if (next < starts.length) startNext();
    const want = Math.min(size, s + chunk) - s;
    if (data.byteLength !== want) {
      throw new FsError("EIO", `download incomplete: bytes ${s}-${s + want} gave ${data.byteLength} bytes`, { path });
    }
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
