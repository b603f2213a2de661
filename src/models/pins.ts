/**
 * Integrity pins of a package: the sha256 each file must have, from the `files` option and from
 * a manifest in the package (`SHA256SUMS`, the format `sha256sum` writes and `sha256sum -c`
 * checks). Pins are keyed by the file's path inside the package, normalized.
 */
import { createHash } from "node:crypto";
import type { AbstractFileSystem } from "../core/abstract.js";
import { FsError, isFsError } from "../core/errors.js";
import { resolveInside } from "../core/paths.js";
import { checkSha256 } from "../cached/filecache.js";

/** The manifest's name when `manifest: true`. */
export const DEFAULT_MANIFEST = "SHA256SUMS";

/** The expected digest of one file of a package (`files` option). */
export interface FilePin {
  /** 64 hex digits. */
  sha256: string;
}

/** Path inside the package -> sha256 (lower-case hex). */
export type Pins = Map<string, string>;

/** A path inside the package as pins key it ("a/b.bin"); EINVAL for one leaving the package. */
export function pinKey(path: string, source: string): string {
  try {
    return resolveInside("", path);
  } catch (err) {
    if (!isFsError(err)) throw err;
    const why = err.code === "EACCES" ? "a path outside the package" : `a path that cannot be (${err.detail})`;
    throw new FsError("EINVAL", `${source} pins ${why}: ${JSON.stringify(path)}`, { cause: err });
  }
}

/** Pins from the `files` option: `{ "fcn.mdlus": { sha256: "..." } }`. */
export function pinsFromOption(files: Record<string, FilePin> | undefined): Pins {
  const pins: Pins = new Map();
  if (files === undefined) return pins;
  if (files === null || typeof files !== "object" || Array.isArray(files)) throw FsError.einval("files must map package paths to { sha256 }");
  for (const [path, pin] of Object.entries(files)) {
    const key = pinKey(path, "the files option");
    const sha256 = checkSha256((pin as FilePin | undefined)?.sha256, path);
    addPin(pins, key, sha256, "the files option");
  }
  return pins;
}

function addPin(pins: Pins, key: string, sha256: string, source: string): void {
  const had = pins.get(key);
  if (had !== undefined && had !== sha256) {
    throw FsError.einval(`${source} pins '${key}' to sha256 ${sha256}, but it is already pinned to ${had}`);
  }
  pins.set(key, sha256);
}

/** `\\` and `\n` in a name sha256sum escaped (its line then starts with a backslash). */
function unescapeName(name: string): string {
  return name.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c === "r" ? "\r" : c));
}

/**
 * Parse a SHA256SUMS manifest: `<64 hex> <space or *><path>` per line; blank lines and lines
 * starting with `#` are skipped; `./` in front of a path is dropped. A malformed line is EINVAL
 * naming the manifest and the line.
 */
export function parseManifest(text: string, manifest: string): Pins {
  const pins: Pins = new Map();
  const lines = text.split("\n");
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    const escaped = line.startsWith("\\");
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(escaped ? line.slice(1) : line);
    if (!m) throw FsError.einval(`${manifest} line ${i + 1} is not '<sha256>  <path>': ${JSON.stringify(line.slice(0, 120))}`, manifest);
    const name = escaped ? unescapeName(m[2]!) : m[2]!;
    addPin(pins, pinKey(name, `${manifest} line ${i + 1}`), m[1]!.toLowerCase(), manifest);
  }
  return pins;
}

/** Both sets of pins; a path both pin to different digests is EINVAL (no file could satisfy both). */
export function mergePins(fromOption: Pins, fromManifest: Pins, manifest: string): Pins {
  const out: Pins = new Map(fromManifest);
  for (const [key, sha256] of fromOption) {
    const had = out.get(key);
    if (had !== undefined && had !== sha256) {
      throw FsError.einval(`${manifest} pins '${key}' to sha256 ${had}, the files option to ${sha256}`);
    }
    out.set(key, sha256);
  }
  return out;
}

/** The sha256 of a file's bytes, read through `fs` in 8 MiB pieces. */
export async function contentSha256(fs: AbstractFileSystem, path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  await using file = await fs.open(path, "rb", { cacheType: "none", blockSize: 8 * 2 ** 20, signal });
  for (;;) {
    const data = await file.read(8 * 2 ** 20);
    if (data.byteLength === 0) break;
    hash.update(data);
  }
  return hash.digest("hex");
}
