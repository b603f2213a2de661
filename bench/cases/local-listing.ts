/**
 * Issue 12's local listing goals, each side by side with Python fsspec's LocalFileSystem (when
 * a Python with fsspec is found), OpenDAL's fs service where it has the operation, and
 * pyarrow.fs.LocalFileSystem for find. Trees are made here, in a temporary directory:
 *   - `ls` of one directory of 20,000 files, with detail (goal >= 1.0x Python) and names only
 *     (goal >= 3x Python; OpenDAL's `list` beside it)
 *   - `find` of 50,000 files in 500 directories (goal >= 1.5x Python and >= 0.8x OpenDAL's
 *     recursive `list`; pyarrow's recursive `get_file_info` beside it)
 *   - `glob("**\/*.bin")` of the same (goal >= 1.5x Python and >= 0.8x OpenDAL's recursive list)
 *   - `du` of the same (goal >= 1.5x Python)
 * Beside the ls cases run the raw node:fs calls any Node listing must make (readdirSync, and an
 * lstatSync per entry for detail): Python's time over theirs is the ceiling of those ratios.
 * Each variant checks that it saw every entry, so a fast wrong answer cannot pass. The longest
 * event-loop stall during one more (untimed) run of ours is printed too: listings must not block
 * the loop for long.
 */
import { lstatSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { LocalFileSystem } from "../../src/index.js";
import { measureInterleaved, speedup, type BenchCase, type CaseResult, type Ratio, type Sample, type Variant } from "../harness.js";
import { loadOpenDAL, PythonPeer } from "../support/peers.js";

const FLAT = 20_000;
const DIRS = 500;
const PER_DIR = 100;
const RUNS = 7;

function makeTrees(root: string): { flat: string; tree: string } {
  const flat = join(root, "flat");
  const tree = join(root, "tree");
  mkdirSync(flat);
  for (let i = 0; i < FLAT; i++) writeFileSync(join(flat, `f${String(i).padStart(5, "0")}.bin`), "x".repeat(i % 97));
  for (let d = 0; d < DIRS; d++) {
    const dir = join(tree, `d${String(d).padStart(3, "0")}`);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < PER_DIR; i++) writeFileSync(join(dir, `f${i}.bin`), "y".repeat(i));
  }
  return { flat, tree };
}

/** `fn`, failing the run when it does not return `want` entries. */
function expecting(want: number, what: string, fn: () => Promise<unknown>): () => Promise<unknown> {
  return async () => {
    const got = await fn();
    const n = typeof got === "number" ? got : Array.isArray(got) ? got.length : Object.keys(got as object).length;
    if (n !== want) throw new Error(`${what}: ${n} entries, expected ${want}`);
  };
}

/** A Python variant, failing the run when Python's answer has another size. */
function pythonVariant(py: PythonPeer, label: string, name: string, want: number): Variant {
  return {
    label,
    timed: async () => {
      const { ms, size } = await py.run(name);
      if (size !== want) throw new Error(`${label}: ${size} entries, expected ${want}`);
      return ms;
    },
  };
}

/** The longest event-loop stall (ms) during one untimed run of `fn`. */
async function longestStall(fn: () => Promise<unknown>): Promise<number> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  try {
    await fn();
    // One more turn, so a stall at the very end is recorded too.
    await new Promise((r) => setTimeout(r, 2));
  } finally {
    h.disable();
  }
  return Number((h.max / 1e6).toFixed(1));
}

const bench: BenchCase = {
  name: "local listings: ls 20k, find/glob/du 50k vs Python fsspec, OpenDAL, pyarrow",
  async run(): Promise<CaseResult> {
    const root = await mkdtemp(join(tmpdir(), "fsspec-bench-listing-"));
    const notes: string[] = [];
    const py = PythonPeer.start(notes);
    const opendal = await loadOpenDAL(notes);
    try {
      const { flat, tree } = makeTrees(root);
      const fs = new LocalFileSystem();
      const op = opendal ? new opendal.Operator("fs", { root }) : undefined;
      const arrow = py ? await py.has("pyarrow.fs") : false;
      if (py && !arrow) notes.push("pyarrow not importable in the Python peer; its find comparison skipped");
      if (py) {
        const setup = `import fsspec\nfs = fsspec.filesystem("file")\nflat = ${JSON.stringify(flat)}\ntree = ${JSON.stringify(tree)}`;
        await py.define("ls-detail", setup, "fs.ls(flat, detail=True)");
        await py.define("ls-names", setup, "fs.ls(flat, detail=False)");
        await py.define("find", setup, "fs.find(tree)");
        await py.define("glob", setup, 'fs.glob(tree + "/**/*.bin")');
        await py.define("du", setup, "fs.du(tree)");
        if (arrow) {
          await py.define(
            "arrow-find",
            `from pyarrow.fs import LocalFileSystem, FileSelector, FileType\nfs = LocalFileSystem()\ntree = ${JSON.stringify(tree)}`,
            "[i for i in fs.get_file_info(FileSelector(tree, recursive=True)) if i.type == FileType.File]",
          );
        }
      }
      const total = DIRS * PER_DIR;
      const bytes = DIRS * ((PER_DIR * (PER_DIR - 1)) / 2);
      const samples: Sample[] = [];
      const ratios: Ratio[] = [];
      const group = async (ours: Variant & { fn: () => Promise<unknown> }, peers: Array<{ variant: Variant; goal?: number; vs: string } | undefined>) => {
        const present = peers.filter((p): p is { variant: Variant; goal?: number; vs: string } => p !== undefined);
        const [mine, ...others] = await measureInterleaved([ours, ...present.map((p) => p.variant)], { runs: RUNS, warmup: 1 });
        mine!.extra = { "longest event-loop stall ms": await longestStall(ours.fn) };
        samples.push(mine!, ...others);
        present.forEach((p, i) => ratios.push(speedup(`${ours.label.split(" ")[0]} vs ${p.vs}`, others[i]!, mine!, p.goal)));
        return new Map(present.map((p, i) => [p.vs, others[i]!]));
      };
      /** Python's time over the raw calls' time: the most any Node listing could reach here. */
      const ceiling = (got: Map<string, Sample>, python: string, raw: string) => {
        if (got.has(python)) ratios.push(speedup(`ceiling: ${python} vs ${raw}`, got.get(python)!, got.get(raw)!));
      };
      const rawLs = (label: string, fn: () => number): { variant: Variant; vs: string } => ({ variant: { label, fn: expecting(FLAT, label, async () => fn()) }, vs: label });
      const rawNames = "raw node:fs readdirSync";
      const rawDetail = "raw node:fs readdirSync + lstatSync each";
      const lsNote = `${FLAT} files in one directory`;
      const detail = await group({ label: `ls(detail) ${lsNote}`, fn: expecting(FLAT, "ls", () => fs.ls(flat)) }, [
        py && { variant: pythonVariant(py, "python fsspec ls(detail=True)", "ls-detail", FLAT), vs: "Python fsspec (detail)", goal: 1.0 },
        rawLs(rawDetail, () => readdirSync(flat).map((n) => lstatSync(join(flat, n))).length),
      ]);
      ceiling(detail, "Python fsspec (detail)", rawDetail);
      const names = await group({ label: `ls(names) ${lsNote}`, fn: expecting(FLAT, "ls names", () => fs.ls(flat, { detail: false })) }, [
        py && { variant: pythonVariant(py, "python fsspec ls(detail=False)", "ls-names", FLAT), vs: "Python fsspec (names)", goal: 3 },
        op && { variant: { label: "opendal list(flat/)", fn: expecting(FLAT + 1, "opendal list", () => op.list("flat/")) }, vs: "OpenDAL list (names)" },
        rawLs(rawNames, () => readdirSync(flat).length),
      ]);
      ceiling(names, "Python fsspec (names)", rawNames);
      const treeNote = `${total} files in ${DIRS} directories`;
      await group({ label: `find ${treeNote}`, fn: expecting(total, "find", () => fs.find(tree)) }, [
        py && { variant: pythonVariant(py, "python fsspec find", "find", total), vs: "Python fsspec", goal: 1.5 },
        op && { variant: { label: "opendal list(tree/, recursive)", fn: expecting(total + DIRS + 1, "opendal list", () => op.list("tree/", { recursive: true })) }, vs: "OpenDAL recursive list", goal: 0.8 },
        arrow ? { variant: pythonVariant(py!, "pyarrow get_file_info(FileSelector(recursive=True))", "arrow-find", total), vs: "pyarrow" } : undefined,
      ]);
      await group({ label: `glob("**/*.bin") ${treeNote}`, fn: expecting(total, "glob", () => fs.glob(`${tree}/**/*.bin`)) }, [
        py && { variant: pythonVariant(py, 'python fsspec glob("**/*.bin")', "glob", total), vs: "Python fsspec", goal: 1.5 },
        op && { variant: { label: "opendal list(tree/, recursive)", fn: expecting(total + DIRS + 1, "opendal list", () => op.list("tree/", { recursive: true })) }, vs: "OpenDAL recursive list", goal: 0.8 },
      ]);
      await group({ label: `du ${treeNote}`, fn: expecting(bytes, "du", () => fs.du(tree)) }, [
        py && { variant: { label: "python fsspec du", timed: async () => (await py.run("du")).ms }, vs: "Python fsspec", goal: 1.5 },
      ]);
      if (py) notes.push(`Python: ${py.python} (timed inside its own process, rounds interleaved with ours)`);
      return { samples, ratios, notes };
    } finally {
      await py?.close();
      await rm(root, { recursive: true, force: true });
    }
  },
};

export default bench;
