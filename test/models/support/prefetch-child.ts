/**
 * A separate process prefetching package files into a shared cache directory:
 *   node --import tsx prefetch-child.ts <root> <cacheDir> <path>...
 * Prints the local paths, one a line.
 */
import { Package } from "../../../src/index.js";

const [root, cacheStorage, ...paths] = process.argv.slice(2) as [string, string, ...string[]];
const pkg = new Package(root, { cacheOptions: { cacheStorage }, progress: false });
for (const p of await pkg.prefetch(paths)) process.stdout.write(`${p}\n`);
