/**
 * A separate process reading one URL through a blockcache layer:
 *   node --import tsx block-child.ts <url> <cacheDir> <blockSize> [<start> <end>]
 * Prints "sha256 <hex>" of the bytes it read (the whole file without start and end).
 */
import { createHash } from "node:crypto";
import { CachingFileSystem } from "../../../src/index.js";
import { HTTPFileSystem } from "../../../src/implementations/http.js";

const [url, cacheStorage, blockSize, start, end] = process.argv.slice(2) as [string, string, string, string?, string?];
const http = new HTTPFileSystem({ retryDelay: 1 });
const fs = new CachingFileSystem({ fs: http, cacheStorage, blockSize: Number(blockSize) });
const data = await fs.catFile(url, start === undefined ? undefined : Number(start), end === undefined ? undefined : Number(end));
process.stdout.write(`sha256 ${createHash("sha256").update(data).digest("hex")}\n`);
await http.close();
