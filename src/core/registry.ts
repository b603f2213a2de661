/**
 * Protocol name -> filesystem class, loaded lazily, plus the instance cache behind
 * `filesystem()`: the same class with the same options gives the same instance.
 */
import { AbstractFileSystem, setCloseListener, type FileSystemClass, type FileSystemJSON } from "./abstract.js";
import { FsError } from "./errors.js";
import { checkArg, checkOptions, isBoolean, isFunction, isPlainObject, optionSpec } from "./validate.js";

/**
 * Loads a filesystem class on first use (`registerImplementation("x", async () => (await
 * import("./x.js")).XFileSystem)`).
 */
export type FileSystemLoader = () => Promise<FileSystemClass>;

const implementations = new Map<string, FileSystemClass | FileSystemLoader>();
const loaded = new Map<string, FileSystemClass>();
const instances = new Map<string, AbstractFileSystem>();
/** The cache key of each cached instance, so a closed one can leave the cache. */
const keyOfInstance = new WeakMap<AbstractFileSystem, string>();

const REGISTER_OPTIONS = optionSpec<{ clobber?: boolean }>({ clobber: isBoolean });

function isFileSystemClass(value: unknown): value is FileSystemClass {
  return typeof value === "function" && (value === AbstractFileSystem || value.prototype instanceof AbstractFileSystem);
}

function checkName(name: string): string {
  if (typeof name !== "string" || !/^[a-zA-Z][a-zA-Z0-9+.-]*$/.test(name)) {
    throw FsError.einval(`invalid protocol name '${String(name)}'`);
  }
  return name.toLowerCase();
}

/**
 * Register a filesystem class, or an async loader that imports it on first use (so an
 * unused backend costs nothing). Replacing a different registration needs `clobber: true`.
 */
export function registerImplementation(
  name: string,
  impl: FileSystemClass | FileSystemLoader,
  options: { clobber?: boolean } = {},
): void {
  const key = checkName(name);
  checkArg("registerImplementation", "impl", impl, isFunction);
  checkOptions("registerImplementation", options, REGISTER_OPTIONS);
  const current = implementations.get(key);
  if (current !== undefined && current !== impl && loaded.get(key) !== impl && !options.clobber) {
    throw new FsError("EEXIST", `protocol '${key}' is already registered; pass {clobber: true} to replace it`);
  }
  implementations.set(key, impl);
  loaded.delete(key);
  if (isFileSystemClass(impl)) loaded.set(key, impl);
}

/** Known protocol names, sorted. */
export function availableProtocols(): string[] {
  return [...implementations.keys()].sort();
}

/** The class for `protocol` ("file" when omitted); unknown protocols name the known ones. */
export async function getFilesystemClass(protocol?: string): Promise<FileSystemClass> {
  const key = checkName(protocol ?? "file");
  const ready = loaded.get(key);
  if (ready) return ready;
  const impl = implementations.get(key);
  if (impl === undefined) {
    throw FsError.einval(`unknown protocol '${key}'; known protocols: ${availableProtocols().join(", ")}`);
  }
  if (isFileSystemClass(impl)) return impl;
  let cls: unknown;
  try {
    cls = await (impl as FileSystemLoader)();
  } catch (err) {
    throw new FsError("ENOTSUP", `could not load the implementation of '${key}': ${(err as Error).message}`, { cause: err });
  }
  if (!isFileSystemClass(cls)) throw FsError.einval(`the loader for '${key}' did not return a filesystem class`);
  loaded.set(key, cls);
  return cls;
}

const objectIds = new WeakMap<object, number>();
let nextObjectId = 1;

/** A stable key for options: plain data by value, everything else by identity. */
export function tokenize(value: unknown): string {
  if (value === undefined) return "u";
  if (value === null || typeof value !== "object") {
    if (typeof value === "function") return `f${idOf(value)}`;
    if (typeof value === "bigint") return `n${value}`;
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(tokenize).join(",")}]`;
  if (value instanceof Date) return `d${value.toISOString()}`;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return `o${idOf(value)}`;
  const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${tokenize((value as Record<string, unknown>)[k])}`).join(",")}}`;
}

function idOf(obj: object): number {
  let id = objectIds.get(obj);
  if (id === undefined) {
    id = nextObjectId++;
    objectIds.set(obj, id);
  }
  return id;
}

/**
 * An instance of the filesystem for `protocol`. Instances are cached by class and options
 * (`skipInstanceCache: true` builds a fresh one). `targetProtocol` / `targetOptions` are
 * resolved to a target filesystem (`fs`) for wrapping filesystems such as `dir`.
 */
export async function filesystem<T extends AbstractFileSystem = AbstractFileSystem>(
  protocol: string,
  options: Record<string, unknown> = {},
): Promise<T> {
  const cls = await getFilesystemClass(protocol);
  if (!isPlainObject(options)) checkOptions(`${protocol} options`, options, cls.acceptedOptions);
  const { skipInstanceCache, ...rest } = options;
  checkArg(`${protocol} options`, "option 'skipInstanceCache'", skipInstanceCache ?? false, isBoolean);
  const cacheable = !skipInstanceCache && cls.cacheable(rest);
  const key = `${idOf(cls)}|${tokenize(rest)}`;
  if (cacheable) {
    const hit = instances.get(key);
    if (hit) return hit as T;
  }
  let resolved: Record<string, unknown> = rest;
  if (typeof rest.targetProtocol === "string" && rest.fs === undefined) {
    const { targetProtocol, targetOptions, ...others } = rest;
    if (targetOptions !== undefined && !isPlainObject(targetOptions)) {
      throw FsError.einval(`${protocol} options: option 'targetOptions' must be a plain object`);
    }
    resolved = { ...others, fs: await filesystem(targetProtocol, targetOptions ?? {}) };
  }
  resolved = (await cls.prepareOptions(resolved)) as Record<string, unknown>;
  const instance = new (cls as unknown as new (o: Record<string, unknown>) => T)(resolved);
  if (cacheable) {
    // Two concurrent first calls: keep the first instance so both callers share it.
    const raced = instances.get(key);
    if (raced) return raced as T;
    instances.set(key, instance);
    keyOfInstance.set(instance, key);
  }
  return instance;
}

/** Forget all cached instances (the next `filesystem()` call builds anew). */
export function clearInstanceCache(): void {
  instances.clear();
}

// A closed instance is of no use to the next caller: it leaves the cache.
setCloseListener((fs) => {
  const key = keyOfInstance.get(fs);
  if (key !== undefined && instances.get(key) === fs) instances.delete(key);
});

async function revive(json: FileSystemJSON): Promise<AbstractFileSystem> {
  if (!isPlainObject(json) || typeof json.protocol !== "string" || (json.options !== undefined && !isPlainObject(json.options))) {
    throw FsError.einval("fromJSON: not a serialised filesystem ({protocol, options})");
  }
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json.options ?? {})) {
    const nested = (v as { __filesystem__?: FileSystemJSON } | null)?.__filesystem__;
    options[k] = nested ? await revive(nested) : v;
  }
  return filesystem(json.protocol, options);
}

/** `AbstractFileSystem.fromJSON` rebuilds through this (imported on use: no hook set at load). */
export { revive as reviveFileSystem };

// Built-in backends, each imported on first use.
registerImplementation("memory", async () => (await import("../implementations/memory.js")).MemoryFileSystem);
registerImplementation("file", async () => (await import("../implementations/local.js")).LocalFileSystem);
registerImplementation("local", async () => (await import("../implementations/local.js")).LocalFileSystem);
registerImplementation("dir", async () => (await import("../implementations/dir.js")).DirFileSystem);
// Cache layers (src/cached): blockcache (alias cached), filecache, simplecache; hfcache (over hf only).
registerImplementation("blockcache", async () => (await import("../cached/blockcache.js")).CachingFileSystem);
registerImplementation("cached", async () => (await import("../cached/blockcache.js")).CachingFileSystem);
registerImplementation("filecache", async () => (await import("../cached/filecache.js")).WholeFileCacheFileSystem);
registerImplementation("simplecache", async () => (await import("../cached/simplecache.js")).SimpleCacheFileSystem);
registerImplementation("hfcache", async () => (await import("../cached/hubcache.js")).HubCacheFileSystem);
registerImplementation("http", async () => (await import("../implementations/http.js")).HTTPFileSystem);
registerImplementation("https", async () => (await import("../implementations/http.js")).HTTPFileSystem);
registerImplementation("hf", async () => (await import("../implementations/hf.js")).HuggingFaceFileSystem);
registerImplementation("ngc", async () => (await import("../implementations/ngc.js")).NGCFileSystem);
registerImplementation("s3", async () => (await import("../implementations/s3/load.js")).loadS3FileSystem());
registerImplementation("s3a", async () => (await import("../implementations/s3/load.js")).loadS3FileSystem());
registerImplementation("gs", async () => (await import("../implementations/gs.js")).GCSFileSystem);
registerImplementation("gcs", async () => (await import("../implementations/gs.js")).GCSFileSystem);
// Archives (read-only, over any filesystem): zip://member::<url of the .zip>, tar://member::<url of the .tar/.tar.gz>.
registerImplementation("zip", async () => (await import("../implementations/zip.js")).ZipFileSystem);
registerImplementation("tar", async () => (await import("../implementations/tar.js")).TarFileSystem);
