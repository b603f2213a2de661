/** Turning command-line option strings into filesystem options, checked against what each layer takes. */
import { FsError } from "../core/errors.js";
import { splitChain, splitProtocol } from "../core/paths.js";
import { availableProtocols, getFilesystemClass } from "../core/registry.js";
import { anyValue, isPlainObject, mergeSpecs, unknownOption, type OptionSpec } from "../core/validate.js";

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

/** The protocol of each layer of a URL, outermost first (as urlToFs reads them: a bare path is `file`). */
function layerProtocols(url: string): string[] {
  const parts = splitChain(url);
  return parts.map((part, i) => splitProtocol(part)[0] ?? (i === parts.length - 1 ? "file" : part.toLowerCase()));
}

/**
 * The options each URL of one command gets, every name checked before anything runs against
 * the options its layer's class declares (`acceptedOptions`), with hints in the CLI's terms:
 * - `protocol.key` (a group named after a protocol) goes to that layer of every URL that has
 *   one; a group for a protocol no URL uses, or a key that layer does not take, is EINVAL.
 * - a plain key goes to the outermost layer of each URL that takes it; one that no outermost
 *   layer takes is EINVAL naming the closest known name (or the inner layer that takes it).
 */
export async function optionsForUrls(options: Record<string, unknown>, urls: readonly string[]): Promise<(url: string) => Record<string, unknown>> {
  const chains = new Map(urls.map((u) => [u, layerProtocols(u)] as const));
  const inChains = new Set([...chains.values()].flat());
  const registered = new Set(availableProtocols());
  const specOf = new Map<string, OptionSpec>();
  for (const protocol of inChains) if (registered.has(protocol)) specOf.set(protocol, (await getFilesystemClass(protocol)).acceptedOptions);
  const groups = Object.keys(options).filter((k) => registered.has(k) && isPlainObject(options[k]));
  for (const protocol of groups) {
    if (!inChains.has(protocol)) {
      throw FsError.einval(`options for '${protocol}' (-o ${protocol}.key=value): no URL of this command has a '${protocol}' layer (layers: ${[...inChains].join(", ")})`);
    }
    const spec = specOf.get(protocol)!;
    for (const key of Object.keys(options[protocol] as object)) if (!(key in spec)) throw unknownOption(`-o: the '${protocol}' layer`, key, spec);
  }
  const plain = Object.keys(options).filter((k) => !groups.includes(k));
  const outermost = (url: string) => chains.get(url)![0]!;
  const takes = (protocol: string, key: string) => key in (specOf.get(protocol) ?? {});
  for (const key of plain) {
    if (urls.some((u) => takes(outermost(u), key))) continue;
    const inner = [...inChains].find((p) => takes(p, key));
    if (inner) throw FsError.einval(`-o ${key}: not an option of ${urls.map(outermost).join(", ")}; for the '${inner}' layer write -o ${inner}.${key}=...`);
    // A dotted name whose prefix is no protocol (-o memroy.maxPaths=3) may be a misspelt layer.
    const layers = isPlainObject(options[key]) ? Object.fromEntries([...inChains].map((p) => [p, anyValue])) : {};
    throw unknownOption(`-o: the '${[...new Set(urls.map(outermost))].join("' and '")}' layer`, key, mergeSpecs(...urls.map((u) => specOf.get(outermost(u)))), layers);
  }
  return (url) => {
    const out: Record<string, unknown> = {};
    const chain = chains.get(url) ?? layerProtocols(url);
    for (const [key, value] of Object.entries(options)) {
      if (groups.includes(key) ? chain.includes(key) : takes(chain[0]!, key)) out[key] = value;
    }
    return out;
  };
}

export { formatBytes } from "../core/format.js";
