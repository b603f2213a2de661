/**
 * A separate process extracting one archive through a filecache over HTTP:
 *   node --import tsx extract-child.ts <url> <cacheDir> <logFile>
 * Appends its pid to the log each time it actually extracts, and prints the folder.
 */
import { WholeFileCacheFileSystem } from "../../../src/index.js";
import { HTTPFileSystem } from "../../../src/implementations/http.js";
import { extractLogged } from "../../support/logged-extract.js";

const [url, cacheStorage, log] = process.argv.slice(2) as [string, string, string];
const http = new HTTPFileSystem({ retryDelay: 1 });
const cache = new WholeFileCacheFileSystem({ fs: http, cacheStorage });
await extractLogged(cache, url, log);
await http.close();
