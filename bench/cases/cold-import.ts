/**
 * Issue 12's start-up goal: a fresh `node` that imports `fsspec-ts/http` may take at most 80 ms
 * longer than one that imports only `node:fs` (whole processes, interleaved, medians). Run on
 * the built package (`npm run build` first; skipped with a note without dist/) and, for
 * comparison, on the TypeScript sources through tsx.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { measureInterleaved, type BenchCase, type CaseResult, type Ratio, type Sample } from "../harness.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const RUNS = 9;

/** A variant timing one whole `node` process that imports `specifier` (by its package name, from the repo). */
function nodeImporting(label: string, specifier: string, execArgv: string[] = []) {
  return {
    label,
    fn: async () => {
      const child = spawnSync(process.execPath, [...execArgv, "--input-type=module", "-e", `await import(${JSON.stringify(specifier)});`], { cwd: repo, stdio: ["ignore", "ignore", "pipe"] });
      if (child.status !== 0) throw new Error(`${label}: exit ${child.status}: ${child.stderr}`);
    },
  };
}

const bench: BenchCase = {
  name: "cold start: a process importing fsspec-ts/http vs node:fs",
  async run(): Promise<CaseResult> {
    const samples: Sample[] = [];
    const ratios: Ratio[] = [];
    const notes: string[] = [];
    const extra = (base: Sample, s: Sample, label: string, goal?: number) =>
      ratios.push({ label, value: s.medianMs - base.medianMs, unit: "ms", goal, atMost: goal !== undefined });
    if (existsSync(`${repo}/dist/src/implementations/http.js`)) {
      const [base, http, root] = await measureInterleaved(
        [nodeImporting("node: import node:fs", "node:fs"), nodeImporting("node: import fsspec-ts/http (dist)", "fsspec-ts/http"), nodeImporting("node: import fsspec-ts (dist)", "fsspec-ts")],
        { runs: RUNS, warmup: 1 },
      );
      samples.push(base!, http!, root!);
      extra(base!, http!, "fsspec-ts/http over node:fs (dist)", 80);
      extra(base!, root!, "fsspec-ts over node:fs (dist)");
    } else {
      notes.push("no dist/: run `npm run build` for the start-up goal on the built package");
    }
    const tsx = ["--import", "tsx"];
    const [base, http] = await measureInterleaved(
      [nodeImporting("tsx: import node:fs", "node:fs", tsx), nodeImporting("tsx: import src/implementations/http.ts", "./src/implementations/http.ts", tsx)],
      { runs: RUNS, warmup: 1 },
    );
    samples.push(base!, http!);
    extra(base!, http!, "src/implementations/http.ts over node:fs (tsx, which compiles on the fly)");
    return { samples, ratios, notes };
  },
};

export default bench;
