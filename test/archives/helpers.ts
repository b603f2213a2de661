/**
 * Archives made by real tools at test time (Info-ZIP `zip`, GNU `tar`, Python's zipfile and
 * tarfile) in a temporary directory, and the Python with fsspec used as the behavioural
 * reference when it is installed ($FSSPEC_PYTHON or /tmp/fsvenv/bin/python).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

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
