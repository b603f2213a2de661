/**
 * What a Package says of its root without building anything: the root of a package rooted deeper
 * (`sub`), and the directory its files are cached in (`cache`).
 */
import { hubCacheDir } from "../cached/hub-layout.js";
import { isHubCacheTarget } from "../cached/hubcache.js";
import { splitChain, splitProtocol } from "../core/paths.js";
import { LocalFileSystem } from "../implementations/local.js";
import type { PackageOptions } from "./package.js";

/**
 * `root` with `inner` (a contained relative path) joined to its path: in a chain, the first part
 * that has a path (`zip://a::https://h/x.zip` → `zip://a/<inner>::…`, `simplecache::https://h/d` →
 * `simplecache::https://h/d/<inner>`), before a query or fragment.
 */
export function joinRoot(root: string, inner: string): string {
  if (inner === "") return root;
  const parts = splitChain(root);
  // A bare protocol name before `::` (`simplecache::…`) has no path.
  const hasPath = (part: string, i: number) => (part.includes("://") ? splitProtocol(part)[1] !== "" : i === parts.length - 1);
  const at = Math.max(0, parts.findIndex(hasPath));
  const part = parts[at]!;
  const q = part.search(/[?#]/);
  const [base, rest] = q < 0 ? [part, ""] : [part.slice(0, q), part.slice(q)];
  parts[at] = `${base.replace(/\/+$/, "")}/${inner}${rest}`;
  return parts.join("::");
}

/**
 * The directory a package's files are cached in: the Hugging Face cache for an `hf://` root
 * (unless `hfCache: false`), else the writable `cacheStorage` (the last of a list), by default
 * `defaultCache`. The same rules as the layer the package builds; environment read now.
 */
export function cacheDirectory(root: string, options: PackageOptions, defaultCache: string): string {
  const hfCache = options.hfCache ?? true;
  const hubRoot = options.fs ? isHubCacheTarget(options.fs) : splitChain(root).length === 1 && splitProtocol(root)[0] === "hf";
  // Normalised as the Hugging Face cache layer does it.
  if (hfCache !== false && hubRoot) return new LocalFileSystem().normalizePath((hfCache === true ? undefined : hfCache.cacheDir) ?? hubCacheDir());
  const storage = options.cacheOptions?.cacheStorage;
  if (typeof storage === "string") return storage;
  if (Array.isArray(storage) && storage.length > 0) return storage[storage.length - 1]!;
  return defaultCache;
}
