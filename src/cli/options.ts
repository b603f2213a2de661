/** Turning command-line option strings into filesystem options. */
import { FsError } from "../core/errors.js";

/** Parse a value the way a user means it: JSON when it parses (numbers, booleans, objects), else text. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * `["s3.anon=true", "concurrency=4", "filecache.cacheStorage=/tmp/c"]` ->
 * `{ s3: { anon: true }, concurrency: 4, filecache: { cacheStorage: "/tmp/c" } }`:
 * a dotted key goes to the layer of that protocol, a plain one to the outermost layer.
 */
export function parseStorageOptions(pairs: readonly string[], json?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (json) {
    const parsed = parseValue(json);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw FsError.einval("--storage-options must be a JSON object");
    }
    Object.assign(out, parsed);
  }
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw FsError.einval(`option '${pair}' must look like key=value or protocol.key=value`);
    const key = pair.slice(0, eq);
    const value = parseValue(pair.slice(eq + 1));
    const dot = key.indexOf(".");
    if (dot < 0) {
      out[key] = value;
      continue;
    }
    const protocol = key.slice(0, dot);
    const layer = (out[protocol] ??= {}) as Record<string, unknown>;
    if (typeof layer !== "object" || layer === null) throw FsError.einval(`option '${protocol}' is both a value and a layer`);
    layer[key.slice(dot + 1)] = value;
  }
  return out;
}

/** A non-negative integer option, or EINVAL naming it. */
export function parseCount(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw FsError.einval(`${name} must be a non-negative integer, got '${text}'`);
  return n;
}

export { formatBytes } from "../core/format.js";
