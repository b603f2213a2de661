/**
 * A separate process extracting one archive of the local Hub through hfcache:
 *   node --import tsx hub-extract-child.ts <endpoint> <cacheDir> <hf path> <logFile>
 * Appends its pid to the log each time it actually extracts, and prints the folder.
 */
import { HubCacheFileSystem } from "../../../src/index.js";
import { HuggingFaceFileSystem } from "../../../src/implementations/hf.js";
import { extractLogged } from "../../support/logged-extract.js";

const [endpoint, cacheDir, path, log] = process.argv.slice(2) as [string, string, string, string];
const hf = new HuggingFaceFileSystem({ endpoint, token: false, retryDelay: 1, skipInstanceCache: true });
const cache = new HubCacheFileSystem({ fs: hf, cacheDir, skipInstanceCache: true });
await extractLogged(cache, path, log);
await hf.close();
