/**
 * Moving bytes: cp, mv and sync between any two filesystems, with fsspec's copy rules, the
 * filters and switches of aws/rclone (--dry-run, --include/--exclude, --concurrency,
 * --no-clobber), and `-` for stdin/stdout.
 */
import type { Command } from "commander";
import type { AbstractFileSystem } from "../core/abstract.js";
import { FsError, isFsError } from "../core/errors.js";
import { hasMagic } from "../core/glob.js";
import { mapBounded } from "../core/limiter.js";
import { makeTransferPlan, runMoves, runTransfers, type TransferPair } from "../core/transfer.js";
import type { FileInfo, TransferOptions } from "../core/types.js";
import { catOne } from "./commands-files.js";
import type { CliContext, Resolved } from "./context.js";
import { compileFilters, filterCollectors, type Filter } from "./filters.js";
import { parseCount } from "./options.js";

interface TransferFlags {
  recursive?: boolean;
  maxDepth?: string;
  dryRun?: boolean;
  filters: Filter[];
  concurrency?: string;
  /** false with --no-clobber. */
  clobber?: boolean;
}

/** A path without trailing slashes, and without its glob part: what names below it are relative to. */
function sourceRoot(fs: AbstractFileSystem, path: string): string {
  let root = fs.normalizePath(path).replace(/\/+$/, "");
  if (hasMagic(root)) {
    const segments = root.split("/");
    root = segments.slice(0, segments.findIndex((s) => hasMagic(s))).join("/");
  }
  return root;
}

/** `file` relative to whichever of `roots` holds it (a root that is the file itself: its base name). */
function relativeToRoots(file: string, roots: readonly string[]): string {
  let best: string | undefined;
  for (const root of roots) if ((root === "" || file.startsWith(`${root}/`)) && (best === undefined || root.length > best.length)) best = root;
  if (best === undefined) return file.slice(file.lastIndexOf("/") + 1);
  return best === "" ? file.replace(/^\/+/, "") : file.slice(best.length + 1);
}

/** Directory pairs that some kept file lies below (so its parents are made), then the kept files. */
function keepWithParents(pairs: readonly TransferPair[], files: readonly TransferPair[]): TransferPair[] {
  const dirs = pairs.filter((p) => p.info?.type === "directory" && files.some((f) => f.dst.startsWith(`${p.dst.replace(/\/+$/, "")}/`)));
  return [...dirs, ...files];
}

const isDirPair = (p: TransferPair) => p.info?.type === "directory";

/** Literal sources that are directories need -r: an error naming the flag, before anything moves. */
async function refuseDirectories(ctx: CliContext, sources: readonly Resolved[], verb: string): Promise<void> {
  for (const { fs, path } of sources) {
    if (hasMagic(path)) continue;
    const info = await fs.info(path, { signal: ctx.signal });
    if (info.type === "directory") throw directoryNeedsRecursive(path, verb);
  }
}

function directoryNeedsRecursive(path: string, verb: string): FsError {
  return new FsError("EISDIR", `is a directory; use ${verb} -r to ${verb === "mv" ? "move" : "copy"} it and what it holds`, { path });
}

function transferOptions(ctx: CliContext, flags: TransferFlags): TransferOptions {
  return {
    recursive: flags.recursive,
    maxDepth: parseCount("--max-depth", flags.maxDepth),
    concurrency: flags.concurrency === undefined ? undefined : positive("--concurrency", flags.concurrency),
    signal: ctx.signal,
    onError: "raise",
  };
}

function positive(name: string, text: string): number {
  const n = parseCount(name, text)!;
  if (n < 1) throw FsError.einval(`${name} must be at least 1, got '${text}'`);
  return n;
}

async function printPlan(ctx: CliContext, verb: string, srcFs: AbstractFileSystem, dstFs: AbstractFileSystem, pairs: readonly TransferPair[]): Promise<void> {
  for (const p of pairs) if (!isDirPair(p)) await ctx.out(`(dry run) ${verb} ${srcFs.unstripProtocol(p.src)} -> ${dstFs.unstripProtocol(p.dst)}`);
}

/** Run pairs with a progress bar that is stopped (terminal restored) however the run ends. */
async function withProgress(ctx: CliContext, label: string, run: (callback: TransferOptions["callback"]) => Promise<void>): Promise<void> {
  const bar = await ctx.progress(label);
  try {
    await run(bar);
  } finally {
    ctx.stopProgress(bar);
  }
}

/** `cp - dst`: stdin into one file, published only when stdin ends (an interrupted upload leaves nothing). */
async function fromStdin(ctx: CliContext, dst: Resolved): Promise<void> {
  if (dst.path.endsWith("/") || (await dst.fs.isDir(dst.path, { signal: ctx.signal }))) throw FsError.einval("cp - <dest> needs a file name as the destination", dst.path);
  const writer = await dst.fs.open(dst.path, "wb", { signal: ctx.signal });
  await withProgress(ctx, "Copying stdin", async (bar) => {
    try {
      for await (const chunk of ctx.io.stdin ?? process.stdin) {
        ctx.signal.throwIfAborted();
        await writer.write(chunk as Uint8Array);
        bar?.relativeUpdate?.((chunk as Uint8Array).byteLength);
      }
      await writer.close();
    } catch (err) {
      await writer.discard().catch(() => undefined);
      throw err;
    }
  });
}

/** `cp src -`: one file to stdout. */
async function toStdout(ctx: CliContext, src: Resolved): Promise<void> {
  if (hasMagic(src.path)) throw FsError.einval("cp <src> - takes one file, not a pattern", src.path);
  if ((await src.fs.info(src.path, { signal: ctx.signal })).type === "directory") throw FsError.eisdir(src.path, "is a directory; cp to - takes one file");
  await catOne(ctx, src.fs, src.path);
}

async function copyOrMove(ctx: CliContext, paths: string[], flags: TransferFlags, move: boolean): Promise<void> {
  const verb = move ? "mv" : "cp";
  if (paths.length < 2) throw FsError.einval(`${verb} needs at least one source and a destination`);
  const srcUrls = paths.slice(0, -1);
  const dstUrl = paths[paths.length - 1]!;
  if (srcUrls.includes("-") || dstUrl === "-") {
    if (move) throw FsError.einval("mv cannot read stdin or write stdout ('-'); use cp");
    if (srcUrls.length !== 1 || (srcUrls[0] === "-" && dstUrl === "-")) throw FsError.einval("cp with '-' takes one source and one destination");
    if (flags.recursive) throw FsError.einval("cp with '-' copies one file; -r does not apply");
    if (srcUrls[0] === "-") return fromStdin(ctx, await ctx.resolve(dstUrl));
    return toStdout(ctx, await ctx.resolve(srcUrls[0]!));
  }
  const resolved = await ctx.resolveAll([...srcUrls, dstUrl]);
  const sources = resolved.slice(0, -1);
  const { fs: dstFs, path: dst } = resolved[resolved.length - 1]!;
  const srcFs = sources[0]!.fs;
  if (sources.some((s) => s.fs !== srcFs)) throw FsError.einval("all sources must be on one filesystem");
  const src = sources.length === 1 ? sources[0]!.path : sources.map((s) => s.path);
  const options = transferOptions(ctx, flags);
  const accept = await compileFilters(flags.filters);
  const plain = !accept && flags.clobber !== false && !flags.dryRun;
  const ownMove = move && plain && srcFs === dstFs;
  // One source is looked up by the plan, which says when it was a directory (skippedDir): no
  // lookup of its own here. Several, or the filesystem's own move, are checked first.
  if (!flags.recursive && (sources.length > 1 || ownMove)) await refuseDirectories(ctx, sources, verb);
  if (ownMove) {
    // The filesystem's own move (a rename where it has one).
    return withProgress(ctx, "Moving", (callback) => srcFs.mv(src, dst, { ...options, callback }));
  }
  const plan = await makeTransferPlan(srcFs, src, dstFs, dst, options);
  if (!flags.recursive && plan.skippedDir !== undefined) throw directoryNeedsRecursive(plan.skippedDir, verb);
  let pairs = plan.pairs;
  let files = pairs.filter((p) => !isDirPair(p));
  if (accept) {
    const roots = sources.map((s) => sourceRoot(srcFs, s.path));
    files = files.filter((p) => accept(relativeToRoots(p.src, roots)));
  }
  if (flags.clobber === false) {
    const exists = await mapBounded(files, (p) => dstFs.exists(p.dst, { signal: ctx.signal }), { concurrency: dstFs.concurrency, signal: ctx.signal });
    files = files.filter((_, i) => !exists[i]);
  }
  pairs = plain ? pairs : keepWithParents(pairs, files);
  if (flags.dryRun) return printPlan(ctx, move ? "move" : "copy", srcFs, dstFs, pairs);
  if (!move) return withProgress(ctx, "Copying", (callback) => runTransfers(pairs, srcFs, dstFs, { ...options, callback }));
  // Only the sources whose copies were confirmed are removed, and only the source directories
  // left empty (files the filters kept out stay, and so do their directories).
  await withProgress(ctx, "Moving", (callback) =>
    runMoves({ ...plan, pairs }, srcFs, dstFs, { ...options, callback }, (moved, dirs) => srcFs.removeEntries(moved, dirs, { keepNonEmpty: true })),
  );
}

function mtimeOf(info: FileInfo): number | undefined {
  const t = info.mtime as unknown;
  const ms = t instanceof Date ? t.getTime() : typeof t === "number" || typeof t === "string" ? new Date(t).getTime() : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Whether `dst` already holds `src` (sync skips it): both files of the same known size, and
 * then the same ETag when both stores are of one kind and both have one (ETags of different
 * kinds of store are not comparable), else a destination at least as new as the source when
 * both have a modification time, else the size alone.
 */
export function upToDate(src: FileInfo, dst: FileInfo | undefined, sameKind: boolean): boolean {
  if (!dst || dst.type !== "file" || src.size === null || src.size !== dst.size) return false;
  if (sameKind && src.etag && dst.etag) return src.etag === dst.etag;
  const s = mtimeOf(src);
  const d = mtimeOf(dst);
  if (s !== undefined && d !== undefined) return d >= s;
  return true;
}

async function sync(ctx: CliContext, srcUrl: string, dstUrl: string, flags: TransferFlags): Promise<void> {
  const [source, target] = await ctx.resolveAll([srcUrl, dstUrl]);
  if (hasMagic(source!.path)) throw FsError.einval("sync takes a directory, not a pattern; filter with --include/--exclude", source!.path);
  const { fs: srcFs } = source!;
  const { fs: dstFs } = target!;
  const srcRoot = sourceRoot(srcFs, source!.path);
  const dstRoot = dstFs.normalizePath(target!.path).replace(/\/+$/, "");
  if ((await srcFs.info(srcRoot, { signal: ctx.signal })).type !== "directory") throw FsError.enotdir(srcRoot, "sync copies a directory's contents; use cp for one file");
  const options = { ...transferOptions(ctx, flags), recursive: true };
  const { pairs } = await makeTransferPlan(srcFs, `${srcRoot}/`, dstFs, `${dstRoot}/`, options);
  const existing = await dstFs.find(dstRoot, { detail: true, signal: ctx.signal }).catch((err) => {
    if (isFsError(err, "ENOENT")) return {};
    throw err;
  }) as Record<string, FileInfo>;
  const accept = await compileFilters(flags.filters);
  const candidates = pairs.filter((p) => !isDirPair(p) && (!accept || accept(relativeToRoots(p.src, [srcRoot]))));
  const sameKind = srcFs.constructor === dstFs.constructor;
  const stale = candidates.filter((p) => !p.info || !upToDate(p.info, existing[p.dst], sameKind));
  const run = keepWithParents(pairs, stale);
  if (flags.dryRun) return printPlan(ctx, "copy", srcFs, dstFs, run);
  await withProgress(ctx, "Syncing", (callback) => runTransfers(run, srcFs, dstFs, { ...options, callback }));
  ctx.note(`sync: ${stale.length} copied, ${candidates.length - stale.length} up to date`);
}

function transferCommand(program: Command, name: string, description: string): { command: Command; filters: () => Filter[] } {
  const collect = filterCollectors();
  const command = program
    .command(name)
    .description(description)
    .option("-d, --max-depth <n>", "levels to descend with -r")
    .option("--dry-run", "print what would be copied; change nothing")
    .option("--include <pattern>", "copy only files matching (shell glob; repeatable, see docs/cli.md)", collect.include)
    .option("--exclude <pattern>", "skip files matching (shell glob; repeatable)", collect.exclude)
    .option("--concurrency <n>", "files transferred at once");
  return { command, filters: () => collect.filters };
}

export function registerTransferCommands(program: Command, ctx: CliContext): void {
  for (const move of [false, true]) {
    const { command, filters } = transferCommand(
      program,
      move ? "mv" : "cp",
      `${move ? "move" : "copy"} files between any two filesystems (fsspec's rules: a trailing / copies contents; '-' is stdin/stdout for cp)`,
    );
    command
      .argument("<paths...>", "sources (paths, URLs or globs, all on one filesystem), then the destination")
      .option("-r, --recursive", "directories and what they hold")
      .option("-n, --no-clobber", "skip files that exist at the destination")
      .action(async (paths: string[], flags: Omit<TransferFlags, "filters">) => copyOrMove(ctx, paths, { ...flags, filters: filters() }, move));
  }
  const { command, filters } = transferCommand(
    program,
    "sync",
    "copy a directory's contents, skipping files the destination already has (same size, and same ETag or not older); never deletes",
  );
  command
    .argument("<src>", "source directory")
    .argument("<dest>", "destination directory (made as needed)")
    .action(async (src: string, dst: string, flags: Omit<TransferFlags, "filters">) => sync(ctx, src, dst, { ...flags, filters: filters() }));
}
