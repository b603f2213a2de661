/**
 * Inspecting and pruning a cache directory: cache ls | size | clear | prune. Deleting commands
 * first check that the folder is a cache (so a mistyped path never empties an ordinary folder)
 * and ask before deleting (--yes skips the question; without a terminal to ask, they refuse).
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Command } from "commander";
import { WholeFileCacheFileSystem } from "../cached/filecache.js";
import { isHubCache } from "../cached/hub-inventory.js";
import { parseMetadata } from "../cached/metadata.js";
import { isInternalName } from "../cached/storage.js";
import { FsError, toFsError } from "../core/errors.js";
import { MemoryFileSystem } from "../implementations/memory.js";
import type { CliContext } from "./context.js";
import { confirm } from "./io.js";
import { formatAge, parseDuration } from "./duration.js";
import { formatBytes } from "./options.js";
import { jsonOptions, printObjects, wantsJson, type JsonFlags } from "./output.js";

/** A layer over the directory that never touches any target: management calls only. */
function layerOver(dir: string): WholeFileCacheFileSystem {
  return new WholeFileCacheFileSystem({ fs: new MemoryFileSystem({ store: "private" }), cacheStorage: dir, offline: true, skipInstanceCache: true });
}

/** The folder an archive `<fn>` is extracted into, beside it (Package.extract). */
const EXTRACTED_SUFFIX = ".extracted";

/** A default-mapper file name: the sha256 of the path, with blockcache's `~<hash>` suffix. */
const HASH_NAME = /^[0-9a-f]{64}(~[0-9a-f]+)?$/;

/**
 * What the folder is: "empty", "cache", or EINVAL for anything else. A cache is a Hugging Face
 * Hub cache (models--*, datasets--*, spaces-- folders of blobs and snapshots), or flat (but for
 * the `<file>.extracted` folders of extracted archives) and holds a valid metadata file, files
 * of the cache's own (`.fsspec-*`), or only hash-named files (a simplecache); a missing folder
 * is ENOENT.
 */
export async function classifyCacheDir(dir: string): Promise<"empty" | "cache"> {
  if (await isHubCache(dir)) return "cache";
  const entries = await readdir(dir, { withFileTypes: true }).catch((err) => {
    throw toFsError(err, dir);
  });
  if (entries.length === 0) return "empty";
  const files = entries.filter((e) => e.isFile()).map((e) => e.name);
  const metadata = files.includes("cache") ? parseMetadata(await readFile(join(dir, "cache")).catch(() => new Uint8Array())) : undefined;
  const flat = entries.every((e) => e.isFile() || (e.isDirectory() && e.name.endsWith(EXTRACTED_SUFFIX)));
  const ownFiles = files.some((f) => isInternalName(f) && f !== "cache");
  const hashNamed = files.every((f) => HASH_NAME.test(f) || isInternalName(f));
  if (flat && (metadata !== undefined || ownFiles || hashNamed)) return "cache";
  throw FsError.einval(
    "does not look like a cache directory (no Hugging Face Hub cache's repo folders, no valid 'cache' metadata file, no .fsspec-* files, not only hash-named files, or it has subfolders other than extracted archives); nothing removed",
    dir,
  );
}

/** Ask unless --yes; false when the answer is no. */
async function allowed(ctx: CliContext, yes: boolean | undefined, question: string): Promise<boolean> {
  if (yes) return true;
  const ok = await confirm(ctx.io, question, ctx.signal);
  if (!ok) ctx.note("nothing removed");
  return ok;
}

export function registerCacheCommands(program: Command, ctx: CliContext): void {
  const cache = program
    .command("cache")
    .description("inspect or prune a cache directory of blockcache/filecache/simplecache, or a Hugging Face Hub cache");

  jsonOptions(
    cache
      .command("ls")
      .description("cached files with their sizes and ages")
      .argument("<dir>", "the cache directory (cacheStorage)"),
  ).action(async (dir: string, opts: JsonFlags) => {
    const json = wantsJson(opts);
    await classifyCacheDir(dir).catch((err) => {
      if (err instanceof FsError && err.code !== "EINVAL") throw err; // missing: fails; any folder may be listed
    });
    const entries = await layerOver(dir).listCache();
    if (json) return printObjects(ctx, opts, entries);
    for (const e of entries) {
      const state = e.complete ? "" : " (partial)";
      const name = e.directory ? `${e.fn}/ (extracted; its archive is gone)` : e.fn;
      await ctx.out(`${formatBytes(e.size).padStart(6)} ${formatAge(e.ageMs).padStart(4)} ${name}${e.path ? `  <- ${e.path}` : ""}${state}`);
      if (e.extracted) await ctx.out(`${formatBytes(e.extracted.size).padStart(6)} ${"".padStart(4)} ${relative(e.storage, e.extracted.localPath)}/ (extracted from it)`);
    }
  });

  cache
    .command("size")
    .description("bytes of every file in the cache directory, extracted folders included")
    .argument("<dir>")
    .action(async (dir: string) => {
      await readdir(dir).catch((err) => {
        throw toFsError(err, dir);
      });
      await ctx.out(String(await layerOver(dir).cacheSize()));
    });

  cache
    .command("clear")
    .description("remove every cached file, extracted folder and the metadata (asks first; --yes to skip)")
    .argument("<dir>")
    .option("-y, --yes", "do not ask")
    .action(async (dir: string, opts: { yes?: boolean }) => {
      if ((await classifyCacheDir(dir)) === "empty") return ctx.note("nothing to remove");
      const layer = layerOver(dir);
      const entries = await layer.listCache();
      if (entries.length === 0) return ctx.note("nothing to remove");
      const bytes = entries.reduce((n, e) => n + e.size, 0);
      if (!(await allowed(ctx, opts.yes, `Remove ${entries.length} cached file(s) (${formatBytes(bytes)}) from ${dir}?`))) return;
      await layer.clearCache();
      ctx.note(`removed ${entries.length} cached file(s) (${formatBytes(bytes)})`);
    });

  cache
    .command("prune")
    .description("remove files fetched longer ago than --older-than, with their extracted folders (asks first; --yes to skip)")
    .argument("<dir>")
    .requiredOption("--older-than <duration>", "age limit: 90s, 30m, 12h, 7d, 2w (a bare number is seconds)")
    .option("-y, --yes", "do not ask")
    .action(async (dir: string, opts: { olderThan: string; yes?: boolean }) => {
      const limitMs = parseDuration("--older-than", opts.olderThan);
      if ((await classifyCacheDir(dir)) === "empty") return ctx.note("nothing to remove");
      const layer = layerOver(dir);
      const old = (await layer.listCache()).filter((e) => e.ageMs !== undefined && e.ageMs > limitMs);
      if (old.length === 0) return ctx.note("nothing to remove");
      if (!(await allowed(ctx, opts.yes, `Remove ${old.length} cached file(s) fetched more than ${opts.olderThan.trim()} ago from ${dir}?`))) return;
      for (const r of await layer.clearExpiredCache({ expiryMs: limitMs })) await ctx.out(`removed ${r}`);
    });
}
