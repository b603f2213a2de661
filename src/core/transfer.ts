/**
 * Moving files between paths and filesystems: planning (fsspec's destination rules), running a
 * batch with bounded concurrency and progress, and copying one file across filesystems.
 */
import type { AbstractFileSystem } from "./abstract.js";
import { planDestinations } from "./copy-plan.js";
import { FsError, isFsError, throwIfAborted } from "./errors.js";
import { hasMagic } from "./glob.js";
import { mapBounded } from "./limiter.js";
import { isInside, normalizePosix } from "./paths.js";
import type { ExpandOptions, FileInfo, OnError, ProgressCallback, SignalOptions, TransferOptions } from "./types.js";
import { DEFAULT_BLOCK_SIZE } from "../files/read-caches.js";

export interface TransferPair {
  src: string;
  dst: string;
  info: FileInfo | undefined;
}

/**
 * Pair sources with destinations following fsspec's rules (see README); used by copy, mv,
 * get and put alike. `srcFs` expands the source; `dstFs` says whether the destination is a
 * directory.
 */
export async function planTransfer(
  srcFs: AbstractFileSystem,
  src: string | readonly string[],
  dstFs: AbstractFileSystem,
  dst: string | readonly string[],
  options: ExpandOptions = {},
): Promise<TransferPair[]> {
  if (Array.isArray(src) && Array.isArray(dst)) {
    if (src.length !== dst.length) throw FsError.einval(`${src.length} sources but ${dst.length} destinations`);
    return src.map((s, i) => ({ src: srcFs.normalizePath(s), dst: dstFs.normalizePath(dst[i]!), info: undefined }));
  }
  if (typeof dst !== "string") throw FsError.einval("a list of destinations needs a list of sources");
  const found = await srcFs.expandInfos(src, options);
  let sources = [...found.keys()].sort();
  const single = typeof src === "string";
  if (single && (!options.recursive || options.maxDepth !== undefined)) {
    // Directories are dropped: their files (if any) are already listed.
    const types = await mapBounded(
      sources,
      async (s) => found.get(s)?.type ?? (await srcFs.info(s, options).then((i) => i.type, () => "missing")),
      { concurrency: srcFs.concurrency },
    );
    sources = sources.filter((_, i) => types[i] !== "directory");
    if (sources.length === 0) return [];
  }
  const dstNorm = dstFs.normalizePath(dst);
  const destinationIsDir = dst.endsWith("/") || (await dstFs.isDir(dstNorm, options));
  const dsts = planDestinations({
    source: single ? src : [...src],
    sources,
    destination: dstNorm,
    destinationIsDir,
    sourceHasMagic: single && hasMagic(src),
    sourceTrailingSlash: single && src.endsWith("/"),
  });
  const pairs = sources.map((s, i) => ({ src: s, dst: dsts[i]!, info: found.get(s) }));
  checkContained(pairs, dstNorm);
  return pairs;
}

/**
 * Names found on the source (an S3 key `tree/../../evil`) never steer a transfer outside the
 * destination it was given: every planned destination must stay inside it once `..` is
 * resolved, or the whole batch is refused with EACCES before anything moves.
 */
function checkContained(pairs: readonly TransferPair[], destination: string): void {
  const root = normalizePosix(destination);
  for (const pair of pairs) {
    if (!isInside(normalizePosix(pair.dst), root)) {
      throw FsError.eacces(pair.dst, `destination escapes the target directory '${destination}'`);
    }
  }
}

/**
 * Run planned transfers: directories are made first, then files move with bounded
 * concurrency. Progress: `setSize` once with the batch's total bytes, then byte increments.
 * Sources that vanished are skipped unless `onError` is "raise".
 */
export async function runTransfers(
  pairs: readonly TransferPair[],
  srcFs: AbstractFileSystem,
  dstFs: AbstractFileSystem,
  options: TransferOptions,
): Promise<void> {
  const onError: OnError = options.onError ?? "raise";
  const dirPairs = pairs.filter((p) => p.info?.type === "directory");
  const filePairs = pairs.filter((p) => p.info?.type !== "directory");
  for (const pair of dirPairs) {
    try {
      await dstFs.makedirs(pair.dst, { existOk: true });
    } catch (err) {
      if (onError === "raise") throw err;
    }
  }
  const callback = options.callback;
  let sizes: Array<number | null> = filePairs.map((p) => p.info?.size ?? null);
  if (callback?.setSize) {
    sizes = (await mapBounded(
      filePairs,
      async (p, i) => sizes[i] ?? (await srcFs.size(p.src, options).catch(() => null)),
      { concurrency: srcFs.concurrency, signal: options.signal },
    )) as Array<number | null>;
    callback.setSize(sizes.reduce<number>((n, s) => n + (s ?? 0), 0));
  }
  await mapBounded(
    filePairs,
    async (pair, i) => {
      callback?.branch?.(pair.src, pair.dst, sizes[i] ?? null);
      try {
        await transferFile(srcFs, pair.src, dstFs, pair.dst, { ...options, info: pair.info, onBytes: bytesOf(callback) });
      } catch (err) {
        if (isFsError(err, "EISDIR") && pair.info === undefined) {
          // A literal source that turned out to be a directory is made, not copied.
          await dstFs.makedirs(pair.dst, { existOk: true });
        } else if (!(isFsError(err, "ENOENT") && onError !== "raise")) {
          throw err;
        }
      }
    },
    { concurrency: options.concurrency ?? dstFs.concurrency, signal: options.signal },
  );
}

/** One file with its own progress: `setSize(bytes)` then increments. */
export async function transferOne(
  srcFs: AbstractFileSystem,
  src: string,
  dstFs: AbstractFileSystem,
  dst: string,
  options: TransferOptions = {},
): Promise<void> {
  const callback = options.callback;
  // One lookup serves both the progress total and the copy.
  const info = callback?.setSize ? await srcFs.info(src, options) : undefined;
  if (info) callback!.setSize!(info.size ?? 0);
  await transferFile(srcFs, src, dstFs, dst, { ...options, info, onBytes: bytesOf(callback) });
}

/** Byte increments for a callback that wants them; undefined otherwise (so nothing is looked up for it). */
function bytesOf(callback: ProgressCallback | undefined): ((bytes: number) => void) | undefined {
  const update = callback?.relativeUpdate;
  return update ? (n) => update.call(callback, n) : undefined;
}

export interface TransferFileOptions extends SignalOptions {
  /** Called with each increment of bytes written. */
  onBytes?: (bytes: number) => void;
  /** The source's info when the caller already has it (saves a lookup). */
  info?: FileInfo;
  blockSize?: number;
}

/**
 * Copy one file: within one filesystem by its own cpFile; across filesystems, small files in
 * one read and one write, larger ones streamed block by block through an opened writer
 * (published atomically on close, dropped on failure).
 */
export async function transferFile(
  srcFs: AbstractFileSystem,
  src: string,
  dstFs: AbstractFileSystem,
  dst: string,
  given: TransferFileOptions = {},
): Promise<void> {
  // A batch's options arrive spread in (runTransfers): its progress callback is reported through
  // onBytes, so the reads and writes below must not see it and report each byte (and a per-file
  // size) a second time.
  const { callback: _reportedThroughOnBytes, ...options } = given as TransferFileOptions & { callback?: unknown };
  const known = options.info?.type === "file" && options.info.size !== null ? options.info : undefined;
  if (srcFs === dstFs) {
    await srcFs.cpFile(src, dst, options);
    if (options.onBytes) options.onBytes(known?.size ?? (await srcFs.size(src, options).catch(() => 0)) ?? 0);
    return;
  }
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  const info = known ?? (await srcFs.info(src, options));
  if (info.type === "directory") throw FsError.eisdir(src);
  if (info.size !== null && info.size <= blockSize) {
    const data = await srcFs.catFile(src, undefined, undefined, options);
    await dstFs.pipeFile(dst, data, options);
    options.onBytes?.(data.byteLength);
    return;
  }
  const reader = await srcFs.open(src, "rb", { blockSize, cacheType: "none", size: info.size ?? undefined, signal: options.signal });
  const writer = await dstFs.open(dst, "wb", { blockSize, signal: options.signal });
  try {
    for await (const chunk of reader) {
      throwIfAborted(options.signal, src);
      await writer.write(chunk);
      options.onBytes?.(chunk.byteLength);
    }
    await writer.close();
  } catch (err) {
    await writer.discard().catch(() => undefined);
    throw err;
  } finally {
    await reader.close();
  }
}

export type { ProgressCallback };
