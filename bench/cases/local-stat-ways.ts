/**
 * Why LocalFileSystem stats synchronously, paced (src/implementations/local/listing.ts): the
 * ways node:fs offers to lstat each of 20,000 entries, timed side by side, wall time and the
 * whole process's CPU (the thread pool's included). Run it again with `UV_THREADPOOL_SIZE=16`
 * in the environment to see a bigger pool.
 */
import * as nodeFs from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measureInterleaved, median, type BenchCase, type CaseResult, type Sample } from "../harness.js";

const ENTRIES = 20_000;
const RUNS = 9;
const SLICE_MS = 4;

/** lstatSync of each, yielding to the event loop whenever SLICE_MS have passed. */
async function pacedSync(paths: readonly string[]): Promise<number> {
  let start = performance.now();
  let n = 0;
  for (let i = 0; i < paths.length; i++) {
    if (i % 32 === 0 && performance.now() - start > SLICE_MS) {
      await new Promise((r) => setImmediate(r));
      start = performance.now();
    }
    if (nodeFs.lstatSync(paths[i]!)) n++;
  }
  return n;
}

/** fs.lstat with callbacks, `inFlight` at once. */
function callbacks(paths: readonly string[], inFlight: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let done = 0;
    const one = () => {
      const path = paths[next++]!;
      nodeFs.lstat(path, (err) => {
        if (err) return reject(err);
        if (++done === paths.length) return resolve(done);
        if (next < paths.length) one();
      });
    };
    for (let i = 0; i < Math.min(inFlight, paths.length); i++) one();
  });
}

/** fs.promises.lstat, `inFlight` workers. */
async function promises(paths: readonly string[], inFlight: number): Promise<number> {
  let next = 0;
  let n = 0;
  const worker = async () => {
    while (next < paths.length) if (await nodeFs.promises.lstat(paths[next++]!)) n++;
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return n;
}

const bench: BenchCase = {
  name: `ways to lstat ${ENTRIES} entries (UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? "4, the default"})`,
  async run(): Promise<CaseResult> {
    const root = await mkdtemp(join(tmpdir(), "fsspec-bench-stat-"));
    try {
      const paths = Array.from({ length: ENTRIES }, (_, i) => join(root, `f${i}`));
      for (const p of paths) nodeFs.writeFileSync(p, "");
      const ways: Array<[string, () => Promise<number>]> = [
        ["lstatSync, yielding every 4 ms", () => pacedSync(paths)],
        ["fs.lstat callbacks, 64 in flight", () => callbacks(paths, 64)],
        ...[16, 64, 256].map((k): [string, () => Promise<number>] => [`fs.promises.lstat, ${k} in flight`, () => promises(paths, k)]),
      ];
      const cpu = ways.map(() => [] as number[]);
      const variants = ways.map(([label, fn], k) => ({
        label,
        fn: async () => {
          const before = process.cpuUsage();
          const n = await fn();
          const used = process.cpuUsage(before);
          cpu[k]!.push((used.user + used.system) / 1000);
          if (n !== ENTRIES) throw new Error(`${label}: ${n} stats, expected ${ENTRIES}`);
        },
      }));
      const samples: Sample[] = await measureInterleaved(variants, { runs: RUNS, warmup: 1 });
      samples.forEach((s, k) => (s.extra = { "cpu ms": Number(median(cpu[k]!.slice(-RUNS)).toFixed(1)) }));
      return { samples, ratios: [] };
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  },
};

export default bench;
