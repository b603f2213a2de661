/**
 * The public API of a filesystem as data, for the argument tests: each method's parameters (by
 * kind, with a valid value in a small seeded tree) and the options it takes (with valid and
 * wrong values). The table-driven test puts one wrong argument in each place; the property
 * test draws whole calls from the same tables.
 */
import { mkdtemp, rm as rmDisk } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import {
  BufferedFile,
  DirFileSystem,
  LocalFileSystem,
  MemoryFileSystem,
  TextFile,
  WholeFileCacheFileSystem,
  type AbstractFileSystem,
} from "../../src/index.js";

/** The seeded tree, relative to a fixture's root. */
export const TREE: Readonly<Record<string, string>> = {
  "d/f": "F",
  "d/g.txt": "G-data",
  "d/sub/h": "H",
  "e/x": "X",
  top: "T",
};

export type ArgKind =
  | "path" // an existing file
  | "dirPath" // an existing directory
  | "newPath" // a path that does not exist yet
  | "paths" // a path or a list of paths
  | "pattern"
  | "data"
  | "record" // pipe's {path: data}
  | "offset" // an integer or null (negative counts from the end)
  | "offsets" // an offset or a list of them
  | "count" // a non-negative integer
  | "length" // a non-negative integer or null
  | "encoding"
  | "text"
  | "delimiter"
  | "mode"
  | "boolean"
  | "function"
  | "options";

export interface ApiArg {
  name: string;
  kind: ArgKind;
  /** Optional arguments may be left out (undefined is then a valid value, not a wrong one). */
  optional?: boolean;
  /** The valid value, when not the kind's usual one. */
  valid?: unknown;
}

export interface ApiMethod {
  name: string;
  args: ApiArg[];
  /** Option names the method takes (looked up in OPTION_VALUES, or in `own`). */
  options?: readonly string[];
  /** Options whose values differ from the shared table for this method. */
  own?: Record<string, OptionValues>;
}

export interface OptionValues {
  valid: readonly unknown[];
  wrong: readonly unknown[];
}

const bool: OptionValues = { valid: [true, false], wrong: ["yes", 1, null] };
const positiveInt: OptionValues = { valid: [1, 2, 4], wrong: [0, -1, 1.5, "2", 2n, Number.NaN] };

/** Option values by name: the same name means the same thing in every method. */
export const OPTION_VALUES: Record<string, OptionValues> = {
  signal: { valid: [new AbortController().signal], wrong: [{}, "signal", { aborted: false }] },
  detail: bool,
  refresh: bool,
  withDirs: bool,
  topdown: bool,
  total: bool,
  recursive: bool,
  truncate: bool,
  createParents: bool,
  existOk: bool,
  autocommit: bool,
  maxDepth: positiveInt,
  concurrency: positiveInt,
  maxBlock: positiveInt,
  blockSize: { valid: [1024, 65536], wrong: [0, "4", 1.5, -1, 4n] },
  maxGap: { valid: [0, 100], wrong: [-1, "1", 0.5] },
  onError: { valid: ["raise", "omit", "return"], wrong: ["ignore", 1, null] },
  mode: { valid: ["overwrite", "create"], wrong: ["Create", 1, null] },
  callback: { valid: [{}, { relativeUpdate() {} }], wrong: [1, { setSize: 1 }, "cb"] },
  expirationMs: { valid: [60_000], wrong: [0, "60", -5] },
  cacheType: { valid: ["none", "readahead", "bytes"], wrong: [1, null] },
  cacheOptions: { valid: [{}], wrong: [1, [], "x"] },
  size: { valid: [], wrong: [-1, "4", 1.5] },
  encoding: { valid: ["utf8", "latin1"], wrong: ["bogus", 1, null] },
  localFs: { valid: [], wrong: [{}, 1, "memory"] },
};

const SIGNAL = ["signal"];
const path = (name = "path"): ApiArg => ({ name, kind: "path" });
const options: ApiArg = { name: "options", kind: "options", optional: true };
const TRANSFER = ["signal", "recursive", "maxDepth", "onError", "callback", "concurrency"];
const OPEN = ["blockSize", "cacheType", "cacheOptions", "autocommit", "size", "encoding", "signal"];

export const API: readonly ApiMethod[] = [
  { name: "ls", args: [{ name: "path", kind: "dirPath" }, options], options: ["signal", "detail", "refresh"] },
  ...["info", "exists", "isDir", "isFile", "size", "checksum", "ukey", "modified", "created", "rmFile"].map(
    (name): ApiMethod => ({ name, args: [path(), options], options: SIGNAL }),
  ),
  { name: "sizes", args: [{ name: "paths", kind: "paths" }, options], options: SIGNAL },
  { name: "sign", args: [path(), options], options: ["expirationMs"] },
  {
    name: "walk",
    args: [{ name: "path", kind: "dirPath" }, options],
    options: ["signal", "maxDepth", "topdown", "detail", "onError"],
    own: { onError: { valid: ["omit", "raise", () => undefined], wrong: ["return", 1, null] } },
  },
  { name: "find", args: [{ name: "path", kind: "dirPath" }, options], options: ["signal", "maxDepth", "withDirs", "detail"] },
  { name: "glob", args: [{ name: "pattern", kind: "pattern" }, options], options: ["signal", "maxDepth", "detail"] },
  { name: "du", args: [{ name: "path", kind: "dirPath" }, options], options: ["signal", "total", "maxDepth", "withDirs"] },
  { name: "expandPath", args: [{ name: "path", kind: "paths" }, options], options: ["signal", "recursive", "maxDepth"] },
  { name: "cat", args: [{ name: "path", kind: "paths" }, options], options: ["signal", "recursive", "onError", "maxDepth"] },
  {
    name: "catFile",
    args: [path(), { name: "start", kind: "offset", optional: true }, { name: "end", kind: "offset", optional: true }, options],
    options: SIGNAL,
  },
  {
    name: "catRanges",
    args: [{ name: "paths", kind: "paths" }, { name: "starts", kind: "offsets" }, { name: "ends", kind: "offsets" }, options],
    options: ["signal", "onError", "maxGap", "maxBlock", "concurrency"],
  },
  { name: "head", args: [path(), { name: "size", kind: "count", optional: true }, options], options: SIGNAL },
  { name: "tail", args: [path(), { name: "size", kind: "count", optional: true }, options], options: SIGNAL },
  { name: "readText", args: [path(), { name: "encoding", kind: "encoding", optional: true }, options], options: SIGNAL },
  {
    name: "writeText",
    args: [{ name: "path", kind: "newPath" }, { name: "text", kind: "text" }, { name: "encoding", kind: "encoding", optional: true }, options],
    options: ["signal", "mode"],
  },
  {
    name: "readBlock",
    args: [path(), { name: "offset", kind: "count" }, { name: "length", kind: "length" }, { name: "delimiter", kind: "delimiter", optional: true }, options],
    options: SIGNAL,
  },
  {
    name: "pipe",
    args: [{ name: "pathOrRecord", kind: "record" }, { name: "data", kind: "data", optional: true, valid: undefined }, options],
    options: ["signal", "mode"],
  },
  { name: "pipeFile", args: [{ name: "path", kind: "newPath" }, { name: "data", kind: "data" }, options], options: ["signal", "mode"] },
  { name: "touch", args: [{ name: "path", kind: "newPath" }, options], options: ["signal", "truncate"] },
  { name: "mkdir", args: [{ name: "path", kind: "newPath" }, options], options: ["signal", "createParents"] },
  { name: "makedirs", args: [{ name: "path", kind: "newPath" }, options], options: ["signal", "existOk"] },
  { name: "rmdir", args: [{ name: "path", kind: "dirPath" }, options], options: SIGNAL },
  { name: "rm", args: [{ name: "path", kind: "paths" }, options], options: ["signal", "recursive", "maxDepth"] },
  { name: "copy", args: [{ name: "src", kind: "paths" }, { name: "dst", kind: "newPath" }, options], options: TRANSFER },
  { name: "mv", args: [{ name: "src", kind: "paths" }, { name: "dst", kind: "newPath" }, options], options: TRANSFER },
  { name: "cpFile", args: [path("src"), { name: "dst", kind: "newPath" }, options], options: SIGNAL },
  { name: "get", args: [{ name: "rpath", kind: "paths" }, { name: "lpath", kind: "newPath" }, options], options: [...TRANSFER, "localFs"] },
  { name: "put", args: [{ name: "lpath", kind: "paths" }, { name: "rpath", kind: "newPath" }, options], options: [...TRANSFER, "localFs"] },
  { name: "getFile", args: [path("rpath"), { name: "lpath", kind: "newPath" }, options], options: [...TRANSFER, "localFs"] },
  { name: "putFile", args: [path("lpath"), { name: "rpath", kind: "newPath" }, options], options: [...TRANSFER, "localFs"] },
  { name: "open", args: [path(), { name: "mode", kind: "mode", optional: true }, options], options: OPEN },
  { name: "invalidateCache", args: [{ name: "path", kind: "path", optional: true }] },
  { name: "unstripProtocol", args: [{ name: "name", kind: "path" }] },
  { name: "transaction", args: [{ name: "fn", kind: "function" }] },
];

/** Wrong values of each kind of parameter: every one of them must be EINVAL naming the parameter. */
export const WRONG: Record<ArgKind, readonly unknown[]> = {
  path: [42, null, {}, [], true, 3n, new String("/x"), () => "/x"],
  dirPath: [42, null, {}, true, 3n],
  newPath: [42, null, {}, [], 3n, new String("/x")],
  paths: [42, null, {}, new Set(["/x"]), [1], ["/x", null], true, 3n, new String("/x")],
  pattern: [1, null, {}, [], 3n],
  data: [42, null, {}, [1, 2], true, 3n, new String("a"), undefined],
  record: [42, null, [], new String("a"), new Map([["/x", "1"]]), true],
  offset: ["4", 1.5, 3n, Number.NaN, {}, true, Infinity],
  offsets: ["4", 1.5, 3n, {}, [1.5], ["0"], [3n]],
  count: [-1, 1.5, "4", 3n, Number.NaN, null, {}],
  length: [-1, 1.5, "4", 3n, Number.NaN, {}],
  encoding: ["bogus", 42, null, {}],
  text: [42, null, {}, new Uint8Array(1)],
  delimiter: [42, {}, [10], true],
  mode: ["read", "rw", 1, null, {}],
  boolean: ["yes", 1, null],
  function: ["fn", 1, null, {}],
  options: [null, 42, "x", [], new Map(), true, 3n, new Date(0)],
};

/** Names that are almost an option name, for each name: the misspellings users make. */
export function misspellingsOf(name: string): string[] {
  const swapped = name.length > 3 ? name.slice(0, 1) + name[2] + name[1] + name.slice(3) : `${name}s`;
  return [name[0]!.toUpperCase() + name.slice(1), name.slice(0, -1), swapped];
}

/** A fixture: a filesystem, a root (its own path form) with TREE seeded below it, and a local side. */
export interface ApiFixture {
  name: string;
  fs: AbstractFileSystem;
  root: string;
  /** Where `get`/`put` write and read in these tests: never the real disk's root. */
  localFs: AbstractFileSystem;
  cleanup(): Promise<void>;
}

export function join(root: string, rel: string): string {
  if (rel === "") return root;
  if (root === "" || root.endsWith("/")) return `${root}${rel}`;
  return `${root}/${rel}`;
}

/** Seed TREE below `root` (replacing whatever is there). */
export async function seed(fs: AbstractFileSystem, root: string): Promise<void> {
  if (await fs.exists(root)) await fs.rm(root, { recursive: true });
  await fs.pipe(Object.fromEntries(Object.entries(TREE).map(([k, v]) => [join(root, k), v])));
}

/**
 * Every entry below `root`: directories as "<dir>", files with their content, or with size and
 * ETag where the listing has one (S3: the ETag changes with the content, and saves a GET per file).
 */
export async function snapshot(fs: AbstractFileSystem, root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!(await fs.exists(root))) return out;
  const found = await fs.find(root, { withDirs: true, detail: true });
  for (const [name, info] of Object.entries(found)) {
    if (info.type === "directory") out.set(name, "<dir>");
    else if (typeof info.etag === "string") out.set(name, `<${info.size} bytes, etag ${info.etag}>`);
    else out.set(name, new TextDecoder().decode(await fs.catFile(name)));
  }
  return out;
}

/** Names whose entry differs between two snapshots. */
export function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((n) => before.get(n) !== after.get(n)).sort();
}

export const scratchLocal = (): MemoryFileSystem => new MemoryFileSystem({ store: "private" });

/** The backends the argument tests run on: memory, the local disk, dir over memory, a cache layer over memory. */
export const FIXTURES: ReadonlyArray<{ name: string; make: () => Promise<ApiFixture> }> = [
  {
    name: "memory",
    make: async () => ({ name: "memory", fs: new MemoryFileSystem({ store: "private" }), root: "/t", localFs: scratchLocal(), cleanup: async () => {} }),
  },
  {
    name: "file",
    make: async () => {
      const dir = await mkdtemp(joinPath(tmpdir(), "fsspec-ts-args-"));
      return { name: "file", fs: new LocalFileSystem(), root: `${dir}/t`, localFs: scratchLocal(), cleanup: () => rmDisk(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: "dir over memory",
    make: async () => {
      const target = new MemoryFileSystem({ store: "private" });
      await target.mkdir("/base");
      return { name: "dir over memory", fs: new DirFileSystem({ path: "/base", fs: target }), root: "t", localFs: scratchLocal(), cleanup: async () => {} };
    },
  },
  {
    name: "filecache over memory",
    make: async () => {
      const fs = new WholeFileCacheFileSystem({
        fs: new MemoryFileSystem({ store: "private" }),
        storageFs: new MemoryFileSystem({ store: "private" }),
        cacheStorage: "/cache",
        skipInstanceCache: true,
      });
      return { name: "filecache over memory", fs, root: "/t", localFs: scratchLocal(), cleanup: async () => {} };
    },
  },
];

/** A valid value of each kind of parameter in a fixture seeded with TREE. */
export function validArg(kind: ArgKind, f: ApiFixture): unknown {
  const at = (rel: string) => join(f.root, rel);
  switch (kind) {
    case "path":
      return at("d/f");
    case "dirPath":
      return at("d");
    case "newPath":
      return at("new/n1");
    case "paths":
      return [at("d/f")];
    case "pattern":
      return at("d/*");
    case "data":
      return "abc";
    case "record":
      return { [at("new/r")]: "r" };
    case "offset":
    case "offsets":
      return 0;
    case "count":
    case "length":
      return 1;
    case "encoding":
      return "utf8";
    case "text":
      return "t";
    case "delimiter":
      return "\n";
    case "mode":
      return "rb";
    case "boolean":
      return true;
    case "function":
      return async () => undefined;
    case "options":
      return {};
  }
}

/** Valid options for a call of `method`: get and put always name the fixture's local side. */
export function baseOptions(method: string, f: ApiFixture): Record<string, unknown> {
  return ["get", "put", "getFile", "putFile"].includes(method) ? { localFs: f.localFs } : {};
}

/**
 * Call `method` with `args`: a walk is iterated, an opened file closed (a writer opened with
 * `autocommit: false` then discarded, as its owner would), a thrown error turned into a
 * rejection, so the caller sees one settled promise per call.
 */
export async function invoke(fs: AbstractFileSystem, method: string, args: readonly unknown[]): Promise<unknown> {
  const fn = (fs as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!;
  const result = fn.apply(fs, args as unknown[]);
  if (result && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function" && !(result instanceof Promise)) {
    const seen: unknown[] = [];
    for await (const entry of result as AsyncIterable<unknown>) if (seen.push(entry) > 20) break;
    return seen;
  }
  const value = await result;
  if (value instanceof BufferedFile || value instanceof TextFile) {
    await value.close();
    const raw = value instanceof TextFile ? (value.raw as BufferedFile) : value;
    if (raw.writable && !raw.autocommit) await raw.discard();
  }
  return value;
}
