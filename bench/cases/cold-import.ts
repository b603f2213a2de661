/**
 * Issue 12's start-up goal: a fresh `node` that imports `fsspec-ts/http` may take at most 80 ms
 * longer than one that imports only `node:fs` (whole processes, interleaved, medians). Run on
 * the built package (`npm run build` first; skipped with a note without dist/) and, for
 * comparison, on the TypeScript sources through tsx. Each process also reports its own CPU
 * time, printed beside the wall-time goal: it shows the cost when the machine is busy.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { measureInterleaved, median, type BenchCase, type CaseResult, type Ratio, type Sample } from "../harness.js";

type Variant = ReturnType<typeof nodeImporting>;

const repo = fileURLToPath(new URL("../..", import.meta.url));
const RUNS = 9;

/**
 * A variant timing one whole `node` process that imports `specifier` (by its package name,
 * from the repo); the process also reports the CPU it used, which a busy machine disturbs
 * far less than wall time.
 */
function nodeImporting(label: string, specifier: string, execArgv: string[] = []) {
  const cpuMs: number[] = [];
  const script = `await import(${JSON.stringify(specifier)}); const u = process.cpuUsage(); console.log((u.user + u.system) / 1000);`;
  return {
    label,
    cpuMs,
    fn: async () => {
      const child = spawnSync(process.execPath, [...execArgv, "--input-type=module", "-e", script], { cwd: repo, encoding: "utf8" });
      if (child.status !== 0) throw new Error(`${label}: exit ${child.status}: ${child.stderr}`);
      cpuMs.push(Number(child.stdout.trim()));
    },
  };
}

const bench: BenchCase = {
  name: "cold start: a process importing fsspec-ts/http vs node:fs",
  async run(): Promise<CaseResult> {
    const samples: Sample[] = [];
    const ratios: Ratio[] = [];
    const notes: string[] = [];
    /** Wall and CPU of `s` over `base`; the goal is on wall time. */
    const over = (base: Variant, baseSample: Sample, v: Variant, s: Sample, label: string, goal?: number) => {
      const cpu = median(v.cpuMs.slice(-RUNS)) - median(base.cpuMs.slice(-RUNS));
      s.extra = { "cpu ms": Number(median(v.cpuMs.slice(-RUNS)).toFixed(1)) };
      ratios.push({ label: `${label}, wall`, value: s.medianMs - baseSample.medianMs, unit: "ms", goal, atMost: goal !== undefined });
      ratios.push({ label: `${label}, CPU`, value: cpu, unit: "ms" });
    };
    if (existsSync(`${repo}/dist/src/implementations/http.js`)) {
      const variants = [nodeImporting("node: import node:fs", "node:fs"), nodeImporting("node: import fsspec-ts/http (dist)", "fsspec-ts/http"), nodeImporting("node: import fsspec-ts (dist)", "fsspec-ts")];
      const [base, http, root] = await measureInterleaved(variants, { runs: RUNS, warmup: 1 });
      base!.extra = { "cpu ms": Number(median(variants[0]!.cpuMs.slice(-RUNS)).toFixed(1)) };
      samples.push(base!, http!, root!);
      over(variants[0]!, base!, variants[1]!, http!, "fsspec-ts/http over node:fs (dist)", 80);
      over(variants[0]!, base!, variants[2]!, root!, "fsspec-ts over node:fs (dist)");
    } else {
      notes.push("no dist/: run `npm run build` for the start-up goal on the built package");
    }
    const tsx = ["--import", "tsx"];
    const variants = [nodeImporting("tsx: import node:fs", "node:fs", tsx), nodeImporting("tsx: import src/implementations/http.ts", "./src/implementations/http.ts", tsx)];
    const [base, http] = await measureInterleaved(variants, { runs: RUNS, warmup: 1 });
    base!.extra = { "cpu ms": Number(median(variants[0]!.cpuMs.slice(-RUNS)).toFixed(1)) };
    samples.push(base!, http!);
    over(variants[0]!, base!, variants[1]!, http!, "src/implementations/http.ts over node:fs (tsx, which compiles on the fly)");
    return { samples, ratios, notes };
  },
};

export default bench;
