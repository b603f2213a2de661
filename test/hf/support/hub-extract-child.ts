/**
 * A separate process extracting one archive of the local Hub through hfcache:
 *   node --import tsx hub-extract-child.ts <endpoint> <cacheDir> <hf path> <logFile>
 * Appends its pid to the log each time it actually extracts, and prints the folder.
 */
import { appendFile } from "node:fs/promises";
import { HubCacheFileSystem } from "../../../src/index.js";
import { HuggingFaceFileSystem } from "../../../src/implementations/hf.js";
import { extractArchive } from "../../../src/models/extract.js";

const [endpoint, cacheDir, path, log] = process.argv.slice(2) as [string, string, string, string];
const hf = new HuggingFaceFileSystem({ endpoint, token: false, retryDelay: 1, skipInstanceCache: true });
const cache = new HubCacheFileSystem({ fs: hf, cacheDir, skipInstanceCache: true });
const folder = await cache.ensureExtracted(path, {
  extract: async (job) => {
    await appendFile(log, `${process.pid}\n`);
    await extractArchive(job);
  },
});
process.stdout.write(`${folder}\n`);
await hf.close();
