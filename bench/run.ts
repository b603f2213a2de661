/**
 * `npm run bench [-- filter]`: runs every case in bench/cases (or those whose file name
 * contains the filter) and prints medians and ratios measured side by side. Each case runs in
 * a process of its own, so one case's heap and JIT state never slow the next one down.
 */
import { spawnSync } from "node:child_process";
import { readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { formatResult, type BenchCase } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));

async function runCase(file: string): Promise<boolean> {
  const mod = (await import(pathToFileURL(join(here, "cases", file)).href)) as { default: BenchCase };
  const bench = mod.default;
  try {
    console.log(formatResult(bench.name, await bench.run()));
    return true;
  } catch (err) {
    console.log(`## ${bench.name}\n  FAILED: ${(err as Error).stack ?? err}`);
    return false;
  }
}

const caseIndex = process.argv.indexOf("--case");
if (caseIndex >= 0) {
  process.exitCode = (await runCase(process.argv[caseIndex + 1]!)) ? 0 : 1;
} else {
  const filter = process.argv[2];
  const files = (await readdir(join(here, "cases"))).filter((f) => f.endsWith(".ts") && (!filter || f.includes(filter))).sort();
  console.log(`fsspec-ts benchmarks — node ${process.version}, ${new Date().toISOString()}`);
  let failed = 0;
  for (const file of files) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--case", file], { stdio: "inherit" });
    if (child.status !== 0) failed++;
  }
  process.exitCode = failed ? 1 : 0;
}
