/**
 * Issue 3's goals: sequential read(64 KiB) through the readahead cache over a 64 MiB local file
 * vs one catFile of the whole file (goal >= 0.9: catFile time / readahead time), and 1,000
 * random 4 KiB ranges through catRanges (default gap, and a narrow one) vs one catFile per
 * range, with the fetch counts of each (counted on a LocalFileSystem subclass, so what is
 * counted is what reached the disk). The read comparison also reports CPU time (process-wide,
 * thread pool included), which a shared, busy machine disturbs much less than wall time.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalFileSystem } from "../../src/index.js";
import { DEFAULT_BLOCK_SIZE } from "../../src/files/read-caches.js";
import { measureInterleaved, median, speedup, type BenchCase, type CaseResult } from "../harness.js";

const FILE_SIZE = 64 * 2 ** 20;
const READ = 64 * 2 ** 10;
const RANGES = 1_000;
const RANGE = 4 * 2 ** 10;
/** A gap below the ranges' average spacing (64 KiB), so some merge and most do not. */
const NARROW_GAP = 16 * 2 ** 10;

/** The local filesystem, counting the ranged fetches that reach it. */
class CountingLocal extends LocalFileSystem {
  fetches = 0;
  protected override async _catFile(path: string, start: number, end: number | undefined): Promise<Uint8Array> {
    this.fetches++;
    return super._catFile(path, start, end);
  }
}

async function readSequentially(fs: LocalFileSystem, path: string, blockSize: number): Promise<number> {
  await using f = await fs.open(path, "rb", { cacheType: "readahead", blockSize });
  const buf = new Uint8Array(READ);
  let total = 0;
  for (;;) {
    const n = await f.readInto(buf);
    if (n === 0) return total;
    total += n;
  }
}

async function readWithRead(fs: LocalFileSystem, path: string, blockSize: number): Promise<number> {
  await using f = await fs.open(path, "rb", { cacheType: "readahead", blockSize });
  let total = 0;
  for (;;) {
    const chunk = await f.read(READ);
    if (chunk.byteLength === 0) return total;
    total += chunk.byteLength;
  }
}

/** `fn` that also records the CPU time (user + system, ms) of each call in `into`. */
function withCpu(fn: () => Promise<unknown>, into: number[]): () => Promise<unknown> {
  return async () => {
    const before = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(before);
    into.push((used.user + used.system) / 1000);
  };
}

/** Deterministic pseudo-random offsets (a small LCG) so every run reads the same ranges. */
function randomStarts(count: number, size: number, span: number): number[] {
  let x = 12345;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out.push(x % (size - span));
  }
  return out;
}

const bench: BenchCase = {
  name: "files: readahead reads, catRanges coalescing",
  async run(): Promise<CaseResult> {
    const dir = await mkdtemp(join(tmpdir(), "fsspec-bench-files-"));
    const big = join(dir, "big.bin");
    const data = Buffer.alloc(FILE_SIZE);
    for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
    await writeFile(big, data);
    const fs = new CountingLocal();
    try {
      const cpu = { cat: [] as number[], ahead: [] as number[], aheadInto: [] as number[] };
      const [cat, ahead, aheadInto] = await measureInterleaved(
        [
          { label: "catFile 64 MiB (one fetch)", fn: withCpu(() => fs.catFile(big), cpu.cat) },
          { label: "readahead read(64 KiB) x1024", fn: withCpu(() => readWithRead(fs, big, DEFAULT_BLOCK_SIZE), cpu.ahead) },
          { label: "readahead readInto(64 KiB) x1024", fn: withCpu(() => readSequentially(fs, big, DEFAULT_BLOCK_SIZE), cpu.aheadInto) },
        ],
        // More runs than usual: these are I/O-bound and the machine is shared.
        { runs: 15, warmup: 2 },
      );
      const cpuMs = (runs: number[]) => Number(median(runs).toFixed(1));
      cat!.extra = { fetches: 1, "cpu ms": cpuMs(cpu.cat) };
      aheadInto!.extra = { "cpu ms": cpuMs(cpu.aheadInto) };
      fs.fetches = 0;
      await readWithRead(fs, big, DEFAULT_BLOCK_SIZE);
      ahead!.extra = { fetches: fs.fetches, "cpu ms": cpuMs(cpu.ahead) };

      const starts = randomStarts(RANGES, FILE_SIZE, RANGE);
      const ends = starts.map((s) => s + RANGE);
      const [merged, narrow, single] = await measureInterleaved(
        [
          { label: `catRanges ${RANGES} x 4 KiB (coalesced)`, fn: () => fs.catRanges(big, starts, ends) },
          { label: `catRanges ${RANGES} x 4 KiB (maxGap 16 KiB)`, fn: () => fs.catRanges(big, starts, ends, { maxGap: NARROW_GAP }) },
          {
            label: `catFile per range ${RANGES} x 4 KiB`,
            fn: () => Promise.all(starts.map((s, i) => fs.catFile(big, s, ends[i]!))),
          },
        ],
        { runs: 9, warmup: 2 },
      );
      fs.fetches = 0;
      await fs.catRanges(big, starts, ends);
      merged!.extra = { fetches: fs.fetches };
      fs.fetches = 0;
      await fs.catRanges(big, starts, ends, { maxGap: NARROW_GAP });
      narrow!.extra = { fetches: fs.fetches };
      fs.fetches = 0;
      await Promise.all(starts.map((s, i) => fs.catFile(big, s, ends[i]!)));
      single!.extra = { fetches: fs.fetches };

      return {
        samples: [cat!, ahead!, aheadInto!, merged!, narrow!, single!],
        ratios: [
          speedup("readahead read() vs one catFile (catFile time / readahead time)", cat!, ahead!, 0.9),
          speedup("readahead readInto() vs one catFile", cat!, aheadInto!),
          { label: "readahead read() vs one catFile by CPU time", value: median(cpu.cat) / median(cpu.ahead) },
          speedup("catRanges over one catFile per range", single!, merged!),
          speedup("catRanges (maxGap 16 KiB) over one catFile per range", single!, narrow!),
        ],
        notes: [`block size ${DEFAULT_BLOCK_SIZE / 2 ** 20} MiB (the default); ranges use the default maxGap 1 MiB`],
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
