/**
 * Where the memory filesystem leads Python fsspec's, kept from regressing (issue 12): find and
 * glob("**\/*.bin") over 100,000 files in 10 directories, and du, whose cost grows linearly
 * here and quadratically in Python's (so Python runs it on 2,000 files, and ours also runs 20,000
 * and 200,000 to show the growth).
 */
import { MemoryFileSystem } from "../../src/index.js";
import { measureInterleaved, speedup, type BenchCase, type CaseResult, type Ratio, type Sample, type Variant } from "../harness.js";
import { PythonPeer } from "../support/peers.js";

const FILES = 100_000;
const DIRS = 10;
const DU_SMALL = 2_000;
const DU_MEDIUM = 20_000;
const DU_LARGE = 200_000;
const RUNS = 7;

async function fill(fs: MemoryFileSystem, root: string, files: number): Promise<void> {
  for (let i = 0; i < files; i++) await fs.pipeFile(`${root}/d${i % DIRS}/f${i}.bin`, new Uint8Array(i % 7));
}

/** Python's memory store is one per process: each setup empties it, then fills it for its cases. */
const pythonFill = (root: string, files: number) => `
import fsspec
fs = fsspec.filesystem("memory", skip_instance_cache=True)
fs.store.clear(); fs.pseudo_dirs.clear(); fs.pseudo_dirs.append("")
for i in range(${files}): fs.pipe_file(f"${root}/d{i % ${DIRS}}/f{i}.bin", bytes(i % 7))
`;

/** `fn`, failing the run when its answer has another size than `want`. */
function expecting(want: number, fn: () => Promise<string[] | number>): () => Promise<unknown> {
  return async () => {
    const got = await fn();
    const n = typeof got === "number" ? got : got.length;
    if (n !== want) throw new Error(`got ${n}, expected ${want}`);
  };
}

const bench: BenchCase = {
  name: "memory listings: find/glob of 100,000 files, du growth vs Python fsspec",
  async run(): Promise<CaseResult> {
    const notes: string[] = [];
    const py = PythonPeer.start(notes);
    try {
      const fs = new MemoryFileSystem({ store: "private" });
      await fill(fs, "/big", FILES);
      const duSmall = new MemoryFileSystem({ store: "private" });
      await fill(duSmall, "/du-small", DU_SMALL);
      const duMedium = new MemoryFileSystem({ store: "private" });
      await fill(duMedium, "/du-medium", DU_MEDIUM);
      const duLarge = new MemoryFileSystem({ store: "private" });
      await fill(duLarge, "/du-large", DU_LARGE);
      const bytes = (n: number) => Array.from({ length: n }, (_, i) => i % 7).reduce((a, b) => a + b, 0);
      if (py) {
        const setup = pythonFill("/big", FILES);
        await py.define("find", setup, 'fs.find("/big")');
        await py.define("glob", "import fsspec\nfs = fsspec.filesystem('memory')", 'fs.glob("/big/**/*.bin")');
      }
      const samples: Sample[] = [];
      const ratios: Ratio[] = [];
      const pair = async (ours: Variant, peer: Variant | undefined, label: string) => {
        const [mine, other] = await measureInterleaved(peer ? [ours, peer] : [ours], { runs: RUNS, warmup: 1 });
        samples.push(mine!);
        if (other) {
          samples.push(other);
          ratios.push(speedup(label, other, mine!));
        }
        return mine!;
      };
      const pyVariant = (label: string, name: string): Variant | undefined => py && { label, timed: async () => (await py.run(name)).ms };
      await pair({ label: `find ${FILES} files`, fn: expecting(FILES, () => fs.find("/big")) }, pyVariant("python fsspec memory find", "find"), "memory find vs Python fsspec");
      await pair(
        { label: `glob("**/*.bin") ${FILES} files`, fn: expecting(FILES, () => fs.glob("/big/**/*.bin")) },
        pyVariant('python fsspec memory glob("**/*.bin")', "glob"),
        "memory glob vs Python fsspec",
      );
      if (py) await py.define("du", pythonFill("/du-small", DU_SMALL), 'fs.du("/du-small")');
      await pair(
        { label: `du ${DU_SMALL} files`, fn: expecting(bytes(DU_SMALL), () => duSmall.du("/du-small") as Promise<number>) },
        pyVariant(`python fsspec memory du ${DU_SMALL} files`, "du"),
        `memory du of ${DU_SMALL} files vs Python fsspec`,
      );
      const [medium, large] = await measureInterleaved(
        [
          { label: `du ${DU_MEDIUM} files`, fn: expecting(bytes(DU_MEDIUM), () => duMedium.du("/du-medium") as Promise<number>) },
          { label: `du ${DU_LARGE} files`, fn: expecting(bytes(DU_LARGE), () => duLarge.du("/du-large") as Promise<number>) },
        ],
        { runs: RUNS },
      );
      samples.push(medium!, large!);
      ratios.push({ label: `du time growth for ${DU_LARGE / DU_MEDIUM}x the files (${DU_LARGE / DU_MEDIUM} = linear)`, value: large!.medianMs / medium!.medianMs, unit: "x" });
      return { samples, ratios, notes };
    } finally {
      await py?.close();
    }
  },
};

export default bench;
