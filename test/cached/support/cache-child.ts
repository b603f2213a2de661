/**
 * A separate process reading one URL through a cache layer, for the kill and race tests:
 *   node --import tsx cache-child.ts <layer> <url> <cacheDir> [<another url>]
 * Prints "ready", waits for a line on stdin when FSSPEC_TS_CHILD_WAIT is set, reports download
 * progress as "progress <bytes>", prints "sha256 <hex>" of the bytes it read, then caches the
 * other URL if given (so several processes add entries to one metadata file at once).
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { SimpleCacheFileSystem, WholeFileCacheFileSystem } from "../../../src/index.js";
import { HTTPFileSystem } from "../../../src/implementations/http.js";

const [layer, url, cacheStorage, another] = process.argv.slice(2) as [string, string, string, string | undefined];
const http = new HTTPFileSystem({ retryDelay: 1 });
const Layer = layer === "simplecache" ? SimpleCacheFileSystem : WholeFileCacheFileSystem;
const fs = new Layer({ fs: http, cacheStorage, downloadChunkSize: 4 * 2 ** 20 });
process.stdout.write("ready\n");
if (process.env.FSSPEC_TS_CHILD_WAIT) {
  await once(process.stdin, "data");
  process.stdin.destroy(); // a flowing stdin would keep this process alive
}

let received = 0;
await fs.ensureCached(url, {
  callback: {
    relativeUpdate: (n) => {
      received += n;
      process.stdout.write(`progress ${received}\n`);
    },
  },
});
const hash = createHash("sha256");
const file = await fs.open(url);
for await (const chunk of file) hash.update(chunk);
await file.close();
process.stdout.write(`sha256 ${hash.digest("hex")}\n`);
if (another) await fs.ensureCached(another);
await http.close();
process.exitCode = 0;
