/**
 * Moving files between paths and filesystems: planning (fsspec's destination rules), running a
 * batch with bounded concurrency and progress, and copying one file across filesystems.
 */
import type { AbstractFileSystem } from "./abstract.js";
import { planDestinations } from "./copy-plan.js";
import { FsError, isFsError, throwIfAborted } from "./errors.js";
import { hasMagic } from "./glob.js";
import { mapBounded } from "./limiter.js";
import { isInside, normalizePosix, parentOf, trimTrailingSlashes } from "./paths.js";
import type { ExpandOptions, FileInfo, OnError, ProgressCallback, SignalOptions, TransferOptions } from "./types.js";
import { checkOptions, isFunction, isPositiveInteger, isRecord, isSignal, optionSpec } from "./validate.js";
import { DEFAULT_BLOCK_SIZE } from "../files/read-caches.js";

/** One file (or directory) to move: source and destination paths, each on its own filesystem. */
export interface TransferPair {
  /** The source path. */
  src: string;
  /** The destination path. */
  dst: string;
  /** The source's info, when planning looked it up (a directory is made, not copied). */
  info: FileInfo | undefined;
}

/** What `makeTransferPlan` decides for a copy or move, before anything moves. */
export interface TransferPlan {
  /** What to copy; within one filesystem, pairs whose destination is their source are left out. */
  pairs: TransferPair[];
  /** A single non-recursive source that is itself a directory: a copy copies nothing, a move refuses it. */
  skippedDir?: string;
  /**
   * Source directories whose contents the plan covers: a move removes them once they are
   * empty. Never the root, nor a directory a destination lies in.
   */
  sourceDirs: string[];
}

/**
 * Pair sources with destinations following fsspec's rules (see docs/filesystem-api.md); used
 * by copy, mv, get and put alike. `srcFs` expands the source; `dstFs` says whether the
 * destination is a directory.
 */
export async function planTransfer(
  srcFs: AbstractFileSystem,
  src: string | readonly string[],
  dstFs: AbstractFileSystem,
  dst: string | readonly string[],
  options: ExpandOptions = {},
): Promise<TransferPair[]> {
  return (await makeTransferPlan(srcFs, src, dstFs, dst, options)).pairs;
}

/** planTransfer with what a move needs besides the pairs, checked for overlaps (see checkOverlaps). */
export async function makeTransferPlan(
  srcFs: AbstractFileSystem,
  src: string | readonly string[],
  dstFs: AbstractFileSystem,
  dst: string | readonly string[],
  options: ExpandOptions = {},
): Promise<TransferPlan> {
  // Each call below gets only the options it takes (the caller's may be a whole TransferOptions).
  const signal = { signal: options.signal };
  const expand: ExpandOptions = { recursive: options.recursive, maxDepth: options.maxDepth, signal: options.signal };
  if (Array.isArray(src) && Array.isArray(dst)) {
    if (src.length !== dst.length) throw FsError.einval(`${src.length} sources but ${dst.length} destinations`);
    const pairs = src.map((s, i) => ({ src: srcFs.normalizePath(s), dst: dstFs.normalizePath(dst[i]!), info: undefined }));
    return checkOverlaps({ pairs, sourceDirs: [] }, srcFs === dstFs, srcFs.rootMarker);
  }
  if (typeof dst !== "string") throw FsError.einval("a list of destinations needs a list of sources");
  const found = await srcFs.expandInfos(src, expand);
  let sources = [...found.keys()].sort();
  const single = typeof src === "string";
  // A source that exists under its own name was taken literally, glob characters or not.
  const literal = single && found.has(srcFs.normalizePath(src));
  let skippedDir: string | undefined;
  const looked = new Map<string, FileInfo>();
  if (single && (!options.recursive || options.maxDepth !== undefined)) {
    // Directories are dropped: their files (if any) are already listed. An info looked up here
    // goes with its pair, so the copy does not ask again.
    const types = await mapBounded(
      sources,
      async (s) => {
        const known = found.get(s);
        if (known) return known.type;
        return srcFs.info(s, signal).then(
          (info) => (looked.set(s, info), info.type),
          () => "missing",
        );
      },
      { concurrency: srcFs.concurrency },
    );
    if (literal && !options.recursive && types[0] === "directory") skippedDir = sources[0];
    sources = sources.filter((_, i) => types[i] !== "directory");
  }
  // A recursive plan covers every directory it found; the root is never listed as found.
  const sourceDirs = options.recursive ? [...found].filter(([, i]) => i?.type === "directory").map(([p]) => p) : [];
  const inputs = typeof src === "string" ? [src] : src;
  if (options.recursive && inputs.some((s) => srcFs.normalizePath(s) === srcFs.rootMarker)) sourceDirs.push(srcFs.rootMarker);
  if (sources.length === 0) return { pairs: [], skippedDir, sourceDirs };
  const dstNorm = dstFs.normalizePath(dst);
  const destinationIsDir = dst.endsWith("/") || (await dstFs.isDir(dstNorm, signal));
  const dsts = planDestinations({
    source: single ? src : [...src],
    sources,
    destination: dstNorm,
    destinationIsDir,
    sourceHasMagic: single && hasMagic(src) && !literal,
    sourceTrailingSlash: single && src.endsWith("/"),
  });
  const root = trimTrailingSlashes(dstNorm);
  const pairs = sources.map((s, i) => ({ src: s, dst: srcFs === dstFs ? dsts[i]! : respell(dsts[i]!, root, s, srcFs, dstFs), info: found.get(s) ?? looked.get(s) }));
  checkContained(pairs, dstNorm);
  return checkOverlaps({ pairs, skippedDir, sourceDirs }, srcFs === dstFs, srcFs.rootMarker);
}

/** `path`, its parent, and so on up to the root. */
function selfAndAncestors(path: string, rootMarker: string): string[] {
  const out = [path];
  for (let p = path, up = parentOf(p, rootMarker); up !== p; p = up, up = parentOf(p, rootMarker)) out.push(up);
  return out;
}

/**
 * Refuse plans that would lose or garble data, before anything moves. Two files to one
 * destination is EINVAL. Within one filesystem, a pair whose destination is its source is
 * dropped (nothing to do), and a destination inside a source directory or on another pair's
 * source is EINVAL (POSIX mv refuses the first too).
 */
function checkOverlaps(plan: TransferPlan, sameFs: boolean, rootMarker: string): TransferPlan {
  const byDst = new Map<string, string>();
  for (const { src, dst, info } of plan.pairs) {
    if (info?.type === "directory") continue;
    const other = byDst.get(dst);
    if (other !== undefined) throw FsError.einval(`'${other}' and '${src}' would both be written to '${dst}'`, dst);
    byDst.set(dst, src);
  }
  if (!sameFs) return plan;
  const noOps = plan.pairs.filter((p) => p.src === p.dst);
  const pairs = plan.pairs.filter((p) => p.src !== p.dst);
  const sourceDirs = new Set(plan.sourceDirs);
  const sources = new Set(plan.pairs.map((p) => p.src));
  for (const { src, dst } of pairs) {
    const inside = selfAndAncestors(dst, rootMarker).find((d) => sourceDirs.has(d));
    if (inside !== undefined) throw FsError.einval(`cannot copy or move '${inside}' into itself ('${dst}')`, dst);
    if (sources.has(dst)) throw FsError.einval(`'${dst}' is both a source and the destination of '${src}'`, dst);
  }
  // Where a destination stays (a no-op), its directories stay too.
  const kept = new Set(noOps.flatMap((p) => selfAndAncestors(p.dst, rootMarker)));
  return { ...plan, pairs, sourceDirs: plan.sourceDirs.filter((d) => d !== rootMarker && !kept.has(d)) };
}

/**
 * A destination below `root` names its files as the source does, spelled the destination's
 * way: each segment after `root` becomes the plain name the source's segment stands for (an
 * HTTP `dir%20a` is `dir a` on disk, `%C3%BC` and `%c3%bc` are both `ü`), then the
 * destination's segment for that name. A segment whose name is no valid one (undecodable,
 * empty, `.` or `..`, or holding `/` or NUL) is refused: the file would land elsewhere.
 */
function respell(dst: string, root: string, src: string, srcFs: AbstractFileSystem, dstFs: AbstractFileSystem): string {
  const base = root.endsWith("/") ? root : `${root}/`;
  if (!dst.startsWith(base)) return dst;
  const segments = dst.slice(base.length).split("/").map((segment) => {
    const name = srcFs.fileNameOf(segment);
    if (name === segment) return dstFs.segmentOf(name);
    if (name === undefined || name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0")) {
      const shown = name === undefined ? "" : ` (it stands for ${JSON.stringify(name)})`;
      throw FsError.eacces(src, `'${segment}' is not a valid file name${shown}; nothing was written`);
    }
    return dstFs.segmentOf(name);
  });
  return base + segments.join("/");
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
  await transferPairs(pairs, srcFs, dstFs, options, (pair, fileOptions) => transferFile(srcFs, pair.src, dstFs, pair.dst, fileOptions));
}

/**
 * Run a planned move. A source is removed only once its copy is confirmed: the destination
 * exists as a file of the source's size and is not the source itself (a link, a hard link).
 * When a copy fails, the sources moved so far are removed and the rest stay where they are;
 * source directories go only after every file moved, and only those left empty.
 * `remove(files, dirs)` deletes sources (so a backend can batch it).
 */
export async function runMoves(
  plan: TransferPlan,
  srcFs: AbstractFileSystem,
  dstFs: AbstractFileSystem,
  options: TransferOptions,
  remove: (files: string[], dirs: string[]) => Promise<void>,
): Promise<void> {
  const pairs = await withSourceInfos(plan.pairs, srcFs, options);
  const moved: string[] = [];
  let failure: { error: unknown } | undefined;
  try {
    await transferPairs(pairs, srcFs, dstFs, options, async (pair, fileOptions) => {
      const signal = { signal: fileOptions.signal };
      const before = fileOptions.info ?? (await srcFs.info(pair.src, signal));
      if (before.type === "directory") throw FsError.eisdir(pair.src);
      if (await landsOnItself(before, dstFs, pair.dst, signal)) return;
      await transferFile(srcFs, pair.src, dstFs, pair.dst, { ...fileOptions, info: before });
      await confirmCopy(before, dstFs, pair.dst, signal);
      moved.push(pair.src);
    });
  } catch (error) {
    failure = { error };
  }
  try {
    await remove(moved, failure ? [] : plan.sourceDirs);
  } catch (error) {
    failure ??= { error };
  }
  if (failure) throw failure.error;
}

/** Pairs with the source's info looked up where the plan had none; a directory there is EISDIR before anything moves. */
async function withSourceInfos(pairs: readonly TransferPair[], srcFs: AbstractFileSystem, options: TransferOptions): Promise<TransferPair[]> {
  const infos = await mapBounded(
    pairs,
    async (pair) =>
      pair.info ??
      (await srcFs.info(pair.src, { signal: options.signal }).catch((err) => {
        // A missing source is the copy's to report (or skip, with onError).
        if (isFsError(err, "ENOENT")) return undefined;
        throw err;
      })),
    { concurrency: srcFs.concurrency, signal: options.signal },
  ) as Array<FileInfo | undefined>;
  const dir = pairs.find((p, i) => p.info === undefined && infos[i]?.type === "directory");
  if (dir) throw FsError.eisdir(dir.src, "is a directory; pass recursive: true to move it");
  return pairs.map((p, i) => ({ ...p, info: infos[i] }));
}

/** Whether `dst` already is the file `src` describes (a symlink or hard link to it): moving it would delete it. */
async function landsOnItself(src: FileInfo, dstFs: AbstractFileSystem, dst: string, options: SignalOptions): Promise<boolean> {
  if (src.ino === undefined || src.ino === 0) return false;
  const there = await dstFs.info(dst, options).catch(() => undefined);
  return there !== undefined && there.ino === src.ino && there.size === src.size && sameTime(there.mtime, src.mtime);
}

function sameTime(a: unknown, b: unknown): boolean {
  return a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b;
}

/** The copy of `src` at `dst` is there, a file of the same size; EIO (so the source stays) otherwise. */
async function confirmCopy(src: FileInfo, dstFs: AbstractFileSystem, dst: string, options: SignalOptions): Promise<void> {
  const copied = await dstFs.info(dst, options).catch((err) => {
    if (isFsError(err, "ENOENT") || isFsError(err, "ENOTDIR")) return undefined;
    throw err;
  });
  const sizesDiffer = src.size !== null && copied?.size !== null && copied?.size !== src.size;
  if (!copied || copied.type !== "file" || sizesDiffer) {
    const found = copied ? `a ${copied.type} of ${copied.size} bytes` : "nothing";
    throw new FsError("EIO", `the copy of '${src.name}' could not be confirmed (found ${found}, expected ${src.size} bytes); the source is kept`, { path: dst });
  }
}

/** Directories first, then each file through `copy` with bounded concurrency and progress. */
async function transferPairs(
  pairs: readonly TransferPair[],
  srcFs: AbstractFileSystem,
  dstFs: AbstractFileSystem,
  options: TransferOptions,
  copy: (pair: TransferPair, fileOptions: TransferFileOptions) => Promise<void>,
): Promise<void> {
  const onError: OnError = options.onError ?? "raise";
  const signal = { signal: options.signal };
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
  // The infos looked up for the progress total also serve the copies (no second lookup per file).
  const infos: Array<FileInfo | undefined> = filePairs.map((p) => p.info);
  if (callback?.setSize) {
    await mapBounded(
      filePairs,
      async (p, i) => {
        if (infos[i]?.size == null) infos[i] = await srcFs.info(p.src, signal).catch(() => infos[i]);
      },
      { concurrency: srcFs.concurrency, signal: options.signal },
    );
    callback.setSize(infos.reduce<number>((n, info) => n + (info?.type === "file" ? (info.size ?? 0) : 0), 0));
  }
  const sizes = infos.map((info) => (info?.type === "file" ? (info.size ?? null) : null));
  await mapBounded(
    filePairs,
    async (pair, i) => {
      callback?.branch?.(pair.src, pair.dst, sizes[i] ?? null);
      try {
        await copy(pair, { signal: options.signal, info: infos[i], onBytes: bytesOf(callback) });
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
  const info = callback?.setSize ? await srcFs.info(src, { signal: options.signal }) : undefined;
  if (info) callback!.setSize!(info.size ?? 0);
  await transferFile(srcFs, src, dstFs, dst, { signal: options.signal, info, onBytes: bytesOf(callback) });
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
  /** Bytes per chunk when streaming between filesystems; default 5 MiB (`DEFAULT_BLOCK_SIZE`). */
  blockSize?: number;
}

const TRANSFER_FILE_OPTIONS = optionSpec<TransferFileOptions>({ signal: isSignal, onBytes: isFunction, info: isRecord, blockSize: isPositiveInteger });

/**
 * Copy one file: within one filesystem by its own cpFile; across filesystems, small files in
 * one read and one write, larger ones downloaded by the source into the destination's download
 * target (published atomically on commit, dropped on failure).
 */
export async function transferFile(
  srcFs: AbstractFileSystem,
  src: string,
  dstFs: AbstractFileSystem,
  dst: string,
  options: TransferFileOptions = {},
): Promise<void> {
  checkOptions("transferFile", options, TRANSFER_FILE_OPTIONS);
  const known = options.info?.type === "file" && options.info.size !== null ? options.info : undefined;
  const signal = { signal: options.signal };
  if (srcFs === dstFs) {
    await srcFs.cpFile(src, dst, signal);
    if (options.onBytes) options.onBytes(known?.size ?? (await srcFs.size(src, signal).catch(() => 0)) ?? 0);
    return;
  }
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  const info = known ?? (await srcFs.info(src, signal));
  if (info.type === "directory") throw FsError.eisdir(src);
  if (info.size !== null && info.size <= blockSize) {
    const data = await srcFs.catFile(src, undefined, undefined, signal);
    await dstFs.pipeFile(dst, data, signal);
    options.onBytes?.(data.byteLength);
    return;
  }
  // Straight from the source's responses to the destination (parallel ranges where both sides can).
  const target = await dstFs.openDownloadTarget(dst, { signal: options.signal, blockSize });
  try {
    await srcFs.downloadTo(src, target, { signal: options.signal, info, onBytes: options.onBytes, blockSize });
    throwIfAborted(options.signal, src);
    await target.commit();
  } catch (err) {
    await target.discard().catch(() => undefined);
    throw err;
  }
}

export type { ProgressCallback };
