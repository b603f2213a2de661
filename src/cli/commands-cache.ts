/** Inspecting and pruning a cache directory: cache ls | size | clear | prune. */
import type { Command } from "commander";
import { WholeFileCacheFileSystem } from "../cached/filecache.js";
import { MemoryFileSystem } from "../implementations/memory.js";
import { formatBytes } from "./options.js";
import { formatAge, parseDuration } from "./duration.js";
import { println, type CliIO } from "./io.js";

/** A layer over the directory that never touches any target: management calls only. */
function layerOver(dir: string): WholeFileCacheFileSystem {
  return new WholeFileCacheFileSystem({ fs: new MemoryFileSystem({ store: "private" }), cacheStorage: dir, offline: true, skipInstanceCache: true });
}

export function registerCacheCommands(program: Command, io: CliIO): void {
  const cache = program.command("cache").description("inspect or prune a cache directory of blockcache/filecache/simplecache");

  cache
    .command("ls")
    .description("cached files with their sizes and ages")
    .argument("<dir>", "the cache directory (cacheStorage)")
    .option("--json", "as JSON")
    .action(async (dir: string, opts: { json?: boolean }) => {
      const entries = await layerOver(dir).listCache();
      if (opts.json) return println(io.stdout, JSON.stringify(entries, null, 2));
      for (const e of entries) {
        const state = e.complete ? "" : " (partial)";
        await println(io.stdout, `${formatBytes(e.size).padStart(6)} ${formatAge(e.ageMs).padStart(4)} ${e.fn}${e.path ? `  <- ${e.path}` : ""}${state}`);
      }
    });

  cache
    .command("size")
    .description("bytes used by the cache directory")
    .argument("<dir>")
    .action(async (dir: string) => {
      await println(io.stdout, String(await layerOver(dir).cacheSize()));
    });

  cache
    .command("clear")
    .description("remove every cached file and the metadata")
    .argument("<dir>")
    .action(async (dir: string) => {
      await layerOver(dir).clearCache();
    });

  cache
    .command("prune")
    .description("remove files fetched longer ago than --older-than")
    .argument("<dir>")
    .requiredOption("--older-than <duration>", "age limit: 90s, 30m, 12h, 7d, 2w (a bare number is seconds)")
    .action(async (dir: string, opts: { olderThan: string }) => {
      const removed = await layerOver(dir).clearExpiredCache({ expiryMs: parseDuration("--older-than", opts.olderThan) });
      for (const r of removed) await println(io.stdout, `removed ${r}`);
    });
}
