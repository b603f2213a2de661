/**
 * Issue 2's goals: catFile of a 64 MiB local file vs fs.promises.readFile (goal >= 1.5x), and
 * memory pipe + catFile of 10,000 files of 1 KiB vs a raw memfs volume and a plain Map, with
 * Python fsspec's memory filesystem alongside when a Python with fsspec is available.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Volume } from "memfs";
import { LocalFileSystem, MemoryFileSystem } from "../../src/index.js";
import { measure, measureInterleaved, speedup, type BenchCase, type CaseResult, type Sample } from "../harness.js";
import { findPython } from "../support/peers.js";

const FILES = 10_000;
const payload = new Uint8Array(1024).fill(7);

async function pipeCatMemory(): Promise<void> {
  const fs = new MemoryFileSystem({ store: "private" });
  for (let i = 0; i < FILES; i++) await fs.pipeFile(`/bench/f${i}`, payload);
  for (let i = 0; i < FILES; i++) await fs.catFile(`/bench/f${i}`);
}

async function pipeCatMemfs(): Promise<void> {
  const vol = new Volume();
  vol.mkdirSync("/bench", { recursive: true });
  for (let i = 0; i < FILES; i++) vol.writeFileSync(`/bench/f${i}`, payload);
  for (let i = 0; i < FILES; i++) vol.readFileSync(`/bench/f${i}`);
}

async function pipeCatMap(): Promise<void> {
  const map = new Map<string, Uint8Array>();
  for (let i = 0; i < FILES; i++) map.set(`/bench/f${i}`, payload.slice());
  for (let i = 0; i < FILES; i++) map.get(`/bench/f${i}`)!.slice();
}

function pythonMemoryBench(python: string): Sample | undefined {
  const script = `
import fsspec, time, statistics
data = bytes([7]) * 1024
times = []
for run in range(8):
    fs = fsspec.filesystem("memory", skip_instance_cache=True)
    fs.store.clear(); fs.pseudo_dirs.clear(); fs.pseudo_dirs.append("")
    t0 = time.perf_counter()
    for i in range(${FILES}): fs.pipe_file(f"/bench/f{i}", data)
    for i in range(${FILES}): fs.cat_file(f"/bench/f{i}")
    times.append((time.perf_counter() - t0) * 1000)
print(",".join(str(t) for t in times[1:]))
`;
  const out = spawnSync(python, ["-c", script], { encoding: "utf8" });
  if (out.status !== 0) return undefined;
  const runs = out.stdout.trim().split(",").map(Number);
  const sorted = [...runs].sort((a, b) => a - b);
  return { label: "python fsspec memory (other process)", medianMs: sorted[Math.floor(sorted.length / 2)]!, runsMs: runs };
}

const bench: BenchCase = {
  name: "foundation: local catFile, memory pipe+cat",
  async run(): Promise<CaseResult> {
    const dir = await mkdtemp(join(tmpdir(), "fsspec-bench-"));
    const big = join(dir, "big.bin");
    const data = Buffer.alloc(64 * 2 ** 20);
    for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
    await writeFile(big, data);
    const local = new LocalFileSystem();
    try {
      // Measured one after another, not interleaved: memfs's heavy allocation otherwise slows
      // whatever runs next, which would measure memfs's garbage rather than our code.
      const mem = await measure(`memory pipe+catFile x${FILES} (1 KiB)`, pipeCatMemory, { runs: 15, warmup: 10, gcBetweenRuns: false });
      const memfs = await measure(`memfs writeFileSync+readFileSync x${FILES}`, pipeCatMemfs, { runs: 11, warmup: 3, gcBetweenRuns: false });
      const map = await measure(`Map set+get x${FILES}`, pipeCatMap, { runs: 15, warmup: 10, gcBetweenRuns: false });
      const [cat, read] = await measureInterleaved(
        [
          { label: "LocalFileSystem.catFile 64 MiB", fn: () => local.catFile(big) },
          { label: "fs.promises.readFile 64 MiB", fn: () => readFile(big) },
        ],
        { runs: 9, warmup: 2 },
      );
      const samples = [cat!, read!, mem!, memfs!, map!];
      const ratios = [
        speedup("catFile over readFile (64 MiB)", read!, cat!, 1.5),
        speedup("memory fs over raw memfs volume", memfs!, mem!),
        speedup("memory fs vs plain Map (Map time / ours)", map!, mem!),
      ];
      const notes: string[] = [];
      const python = findPython();
      const py = python ? pythonMemoryBench(python) : undefined;
      if (py) {
        samples.push(py);
        ratios.push(speedup("memory fs over Python fsspec memory", py, mem!, 3));
      } else {
        notes.push("no Python with fsspec found (set FSSPEC_PYTHON); Python comparison skipped");
      }
      return { samples, ratios, notes };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
