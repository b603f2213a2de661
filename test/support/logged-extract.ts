/** For the extraction child processes: extract `path` through `layer`, appending this pid to `log` each time an extraction really runs, and print the folder. */
import { appendFile } from "node:fs/promises";
import type { ExtractOptions } from "../../src/cached/filecache.js";
import { extractArchive } from "../../src/models/extract.js";

interface Extracting {
  ensureExtracted(path: string, options: ExtractOptions): Promise<string>;
}

export async function extractLogged(layer: Extracting, path: string, log: string): Promise<void> {
  const folder = await layer.ensureExtracted(path, {
    extract: async (job) => {
      await appendFile(log, `${process.pid}\n`);
      await extractArchive(job);
    },
  });
  process.stdout.write(`${folder}\n`);
}
