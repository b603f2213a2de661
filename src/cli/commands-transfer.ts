/** Moving bytes: cp and mv between any two filesystems, with fsspec's copy rules. */
import type { Command } from "commander";
import { FsError } from "../core/errors.js";
import { makeTransferPlan, runMoves, runTransfers } from "../core/transfer.js";
import { urlToFs } from "../core/url-chain.js";
import { parseCount } from "./options.js";
import { progressBar } from "../models/progress.js";
import type { CliIO } from "./io.js";
import type { OptionsFor } from "./commands-files.js";

interface TransferFlags {
  recursive?: boolean;
  maxDepth?: string;
}

/** The filesystem of a URL and the path within it, keeping a trailing "/" (it changes the copy rules). */
async function resolve(url: string, fsOptions: Record<string, unknown>) {
  const { fs, path } = await urlToFs(url, fsOptions);
  return { fs, path: url.endsWith("/") && !path.endsWith("/") ? `${path}/` : path };
}

async function transfer(srcUrls: string[], dstUrl: string, flags: TransferFlags, io: CliIO, fsOptions: Record<string, unknown>, move: boolean) {
  const sources = await Promise.all(srcUrls.map((u) => resolve(u, fsOptions)));
  const srcFs = sources[0]!.fs;
  if (sources.some((s) => s.fs !== srcFs)) throw FsError.einval("all sources must be on one filesystem");
  const { fs: dstFs, path: dst } = await resolve(dstUrl, fsOptions);
  const src = sources.length === 1 ? sources[0]!.path : sources.map((s) => s.path);
  const options = { recursive: flags.recursive, maxDepth: parseCount("--max-depth", flags.maxDepth) };
  const bar = progressBar(move ? "Moving" : "Copying", io.progress);
  try {
    if (srcFs === dstFs) {
      if (move) await srcFs.mv(src, dst, { ...options, callback: bar });
      else await srcFs.copy(src, dst, { ...options, callback: bar, onError: "raise" });
      return;
    }
    const plan = await makeTransferPlan(srcFs, src, dstFs, dst, options);
    if (!move) return await runTransfers(plan.pairs, srcFs, dstFs, { ...options, callback: bar });
    if (plan.skippedDir !== undefined) throw FsError.eisdir(plan.skippedDir, "is a directory; pass -r to move it");
    // Only the sources whose copies were confirmed are removed (never a new expansion of src).
    await runMoves(plan, srcFs, dstFs, { ...options, callback: bar }, (files, dirs) => srcFs.removeEntries(files, dirs, { keepNonEmpty: true }));
  } finally {
    bar?.stop();
  }
}

export function registerTransferCommands(program: Command, io: CliIO, fsOptions: OptionsFor): void {
  for (const move of [false, true]) {
    program
      .command(move ? "mv" : "cp")
      .description(`${move ? "move" : "copy"} files, between any two filesystems (fsspec's rules: a trailing / copies contents)`)
      .argument("<paths...>", "sources (paths, URLs or globs, all on one filesystem), then the destination")
      .option("-r, --recursive", "directories and what they hold")
      .option("-d, --max-depth <n>", "levels to descend with -r")
      .action(async (paths: string[], flags: TransferFlags) => {
        if (paths.length < 2) throw FsError.einval(`${move ? "mv" : "cp"} needs at least one source and a destination`);
        await transfer(paths.slice(0, -1), paths[paths.length - 1]!, flags, io, fsOptions(), move);
      });
  }
}
