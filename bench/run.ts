/**
 * `npm run bench [-- filter]`: runs every case in bench/cases (or those whose file name
 * contains the filter) and prints medians and ratios measured side by side in this process.
 */
import { readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { formatResult, type BenchCase } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const files = (await readdir(join(here, "cases"))).filter((f) => f.endsWith(".ts") && (!filter || f.includes(filter))).sort();

console.log(`fsspec-ts benchmarks — node ${process.version}, ${new Date().toISOString()}`);
let failed = 0;
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, "cases", file)).href)) as { default: BenchCase };
  const bench = mod.default;
  try {
    const result = await bench.run();
    console.log(formatResult(bench.name, result));
  } catch (err) {
    failed++;
    console.log(`## ${bench.name}\n  FAILED: ${(err as Error).stack ?? err}`);
  }
}
process.exitCode = failed ? 1 : 0;
