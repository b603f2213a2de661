/**
 * Archives made by real tools at test time (Info-ZIP `zip`, GNU `tar`, Python's zipfile and
 * tarfile) in a temporary directory, and the Python with fsspec used as the behavioural
 * reference when it is installed ($FSSPEC_PYTHON or /tmp/fsvenv/bin/python).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { MemoryFileSystem, type AbstractFileSystem } from "../../src/index.js";
import { codeOf } from "../support/errors.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";

export type ArchiveKind = "zip" | "tar" | "tgz";

export const EXTENSION: Record<ArchiveKind, string> = { zip: "zip", tar: "tar", tgz: "tar.gz" };

/** A fresh temporary directory, removed by `cleanup`. */
export function scratch(prefix = "fsspec-ts-archives-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Write `files` (relative paths) under `dir`. */
export function writeTree(dir: string, files: Record<string, Uint8Array | string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [rel, data] of Object.entries(files)) {
    const full = join(dir, rel);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, data);
  }
}

let counter = 0;

/**
 * The archive of `files` as the real tool makes it: `zip -r` (extra `zipArgs`, e.g. "-0" to
 * store, "-fz" for zip64), or GNU `tar -c` with `-z` for tgz (extra `tarArgs`, e.g. "--format=pax").
 */
export function buildArchive(
  kind: ArchiveKind,
  files: Record<string, Uint8Array | string>,
  options: { zipArgs?: string[]; tarArgs?: string[] } = {},
): Uint8Array {
  const { dir, cleanup } = scratch();
  try {
    const src = join(dir, "src");
    writeTree(src, files);
    const out = join(dir, `out-${counter++}.${EXTENSION[kind]}`);
    if (kind === "zip") {
      execFileSync("zip", ["-q", "-r", ...(options.zipArgs ?? []), out, "."], { cwd: src });
    } else {
      execFileSync("tar", ["-c", ...(kind === "tgz" ? ["-z"] : []), ...(options.tarArgs ?? []), "-f", out, "-C", src, "."]);
    }
    return new Uint8Array(readFileSync(out));
  } finally {
    cleanup();
  }
}

/** Run a Python 3 script (stdlib only) with `args`; returns its stdout. */
export function python(script: string, args: string[] = [], interpreter = "python3"): string {
  return execFileSync(interpreter, ["-c", script, ...args], { encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
}

/** A Python with fsspec installed, if there is one. */
export const FSSPEC_PYTHON = [process.env.FSSPEC_PYTHON, "/tmp/fsvenv/bin/python"]
  .filter((c): c is string => !!c)
  .find((c) => existsSync(c) && spawnSync(c, ["-c", "import fsspec"]).status === 0);

/** Python fsspec's view of an archive: `find(withdirs)` with each entry's size and type. */
export function fsspecListing(protocol: "zip" | "tar", archive: string): Record<string, { size: number; type: string }> {
  const script = `
import fsspec, json, sys
fs = fsspec.filesystem(sys.argv[1], fo=sys.argv[2])
found = fs.find("", withdirs=True, detail=True)
print(json.dumps({k: {"size": v["size"], "type": v["type"]} for k, v in found.items()}))
`;
  return JSON.parse(python(script, [protocol, archive], FSSPEC_PYTHON));
}

/** Bytes of `data` with the byte at `at` changed. */
export function flipped(data: Uint8Array, at: number): Uint8Array {
  const out = new Uint8Array(data);
  out[at] = out[at]! ^ 0xff;
  return out;
}

/** Deterministic bytes that deflate to something (not all one value, not random). */
export function sampleBytes(size: number, seed = 7): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = i % 64 < 48 ? 97 + ((x >>> 16) % 6) : (x >>> 24);
  }
  return out;
}

/** The tree most tests archive: a small file, a member that deflates well, one that does not, an empty one. */
export const SAMPLE_TREE = {
  "a.txt": "hello",
  "d/lines.txt": "a line\n".repeat(9000),
  "d/random.bin": sampleBytes(70_000),
  "d/sub/empty": "",
  "top.md": "# top",
};

const sharedMemory = new MemoryFileSystem();
let stored = 0;

/** `bytes` put in the shared memory store; returns its path there, for `{fo, fs: sharedMemory}`. */
export async function inMemory(bytes: Uint8Array, name = `a${stored++}`): Promise<{ fo: string; fs: MemoryFileSystem }> {
  const fo = `/archive-tests/${name}`;
  await sharedMemory.pipeFile(fo, bytes);
  return { fo, fs: sharedMemory };
}

/** The warnings about unsafe archive members emitted while `fn` runs (and the turn after). */
export async function unsafeMemberWarnings(fn: () => Promise<void>): Promise<Error[]> {
  const seen: Array<Error & { code?: string }> = [];
  const onWarning = (w: Error) => seen.push(w);
  process.on("warning", onWarning);
  try {
    await fn();
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off("warning", onWarning);
  }
  return seen.filter((w) => w.code === "FSSPEC_TS_UNSAFE_ARCHIVE_MEMBER");
}

/** A test HTTP server and a client over it for the tests of the enclosing describe block. */
export function useHttpServer(): { readonly srv: TestHttpServer; readonly http: HTTPFileSystem } {
  const state = {} as { srv: TestHttpServer; http: HTTPFileSystem };
  beforeAll(async () => {
    state.srv = await startHttpServer();
    state.http = new HTTPFileSystem({ retries: 0, timeout: 5_000 });
  });
  afterAll(async () => {
    await state.http.close();
    await state.srv.close();
  });
  return state;
}

/**
 * A tree with links under `dir`: `data/real.txt`, symlinks `inside` (to it), `chain` (to
 * `inside`), `escape` (`../../etc/hostname`), `absolute` (`/etc/hostname`), and a hardlink `zhard.txt`.
 */
export function linkTree(dir: string): void {
  writeTree(dir, { "data/real.txt": "real content" });
  symlinkSync("data/real.txt", join(dir, "inside"));
  symlinkSync("inside", join(dir, "chain"));
  symlinkSync("../../etc/hostname", join(dir, "escape"));
  symlinkSync("/etc/hostname", join(dir, "absolute"));
  linkSync(join(dir, "data/real.txt"), join(dir, "zhard.txt"));
}

/** The symlinks of `linkTree` as an archive filesystem must treat them: followed inside only. */
export async function expectLinksFollowedInside(fs: AbstractFileSystem): Promise<void> {
  expect(await fs.readText("inside")).toBe("real content");
  expect(await fs.readText("chain")).toBe("real content");
  expect(await codeOf(fs.catFile("escape"))).toBe("EACCES");
  expect(await codeOf(fs.open("absolute"))).toBe("EACCES");
}

/** `find(root, {withDirs, detail})` reduced to size and type, as `fsspecListing` gives it. */
export async function sizesAndTypes(fs: AbstractFileSystem, root: string): Promise<Record<string, { size: number | null; type: string }>> {
  const found = await fs.find(root, { withDirs: true, detail: true });
  return Object.fromEntries(Object.entries(found).map(([k, v]) => [k, { size: v.size, type: v.type }]));
}
