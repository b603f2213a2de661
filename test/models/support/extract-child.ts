/**
 * A separate process extracting one archive through a filecache over HTTP:
 *   node --import tsx extract-child.ts <url> <cacheDir> <logFile>
 * Appends its pid to the log each time it actually extracts, and prints the folder.
 */
import { appendFile } from "node:fs/promises";
import { WholeFileCacheFileSystem } from "../../../src/index.js";
import { HTTPFileSystem } from "../../../src/implementations/http.js";
import { extractArchive } from "../../../src/models/extract.js";

const [url, cacheStorage, log] = process.argv.slice(2) as [string, string, string];
const http = new HTTPFileSystem({ retryDelay: 1 });
const cache = new WholeFileCacheFileSystem({ fs: http, cacheStorage });
const folder = await cache.ensureExtracted(url, {
  extract: async (job) => {
    await appendFile(log, `${process.pid}\n`);
    await extractArchive(job);
  },
});
process.stdout.write(`${folder}\n`);
await http.close();
