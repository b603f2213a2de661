/**
 * The option names each filesystem class takes, so `-o bogus=1` is a usage error naming the
 * closest known name instead of being ignored. A class that declares its accepted options
 * (`acceptedOptions`, an object keyed by name) is asked; until every class does, this table
 * lists them, checked by the compiler against each options type: every declared key must be
 * listed and nothing else, so the table cannot drift from the types.
 */
import type { FileSystemClass } from "../core/abstract.js";
import type { FileSystemOptions } from "../core/types.js";
import type { BlockCacheOptions } from "../cached/blockcache.js";
import type { WholeFileCacheOptions } from "../cached/filecache.js";
import type { CacheLayerOptions } from "../cached/layer.js";
import type { SimpleCacheOptions } from "../cached/simplecache.js";
import type { ArchiveFileSystemOptions } from "../implementations/archive/archive-fs.js";
import type { DirFileSystemOptions } from "../implementations/dir.js";
import type { HuggingFaceFileSystemOptions } from "../implementations/hf.js";
import type { HTTPFileSystemOptions } from "../implementations/http.js";
import type { LocalFileSystemOptions } from "../implementations/local.js";
import type { MemoryFileSystemOptions } from "../implementations/memory.js";
import type { NGCFileSystemOptions } from "../implementations/ngc.js";
import type { S3FileSystemOptions } from "../implementations/s3.js";
import type { TarFileSystemOptions } from "../implementations/tar.js";
import type { ZipFileSystemOptions } from "../implementations/zip.js";

/** The declared keys of an options type, without its `[key: string]: unknown` index signature. */
type DeclaredKeys<T> = keyof { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };
/** The keys `T` declares beyond those of `Base`. */
type OwnKeys<T, Base> = Exclude<DeclaredKeys<T>, DeclaredKeys<Base>>;

function names<K extends PropertyKey>(all: Record<K, true>, base: readonly string[] = []): readonly string[] {
  return [...base, ...Object.keys(all)];
}

const COMMON = names<DeclaredKeys<FileSystemOptions>>({ skipInstanceCache: true, useListingsCache: true, listingsExpiryTime: true, maxPaths: true, concurrency: true });
const HTTP_TRANSPORT = {
  bodyTimeout: true,
  connections: true,
  headers: true,
  keepAliveTimeout: true,
  maxRedirects: true,
  maxRetryDelay: true,
  retries: true,
  retryDelay: true,
  timeout: true,
} as const;
/** What every cache layer takes but simplecache (no metadata: no checkFiles, expiryTime, cacheCheck). */
type SimpleLayerKeys = Exclude<OwnKeys<CacheLayerOptions, FileSystemOptions>, "checkFiles" | "expiryTime" | "cacheCheck">;
const CACHE_LAYER = names<SimpleLayerKeys>(
  {
    fs: true,
    targetProtocol: true,
    targetOptions: true,
    cacheMapper: true,
    cacheStorage: true,
    compression: true,
    lockStaleMs: true,
    lockTimeoutMs: true,
    offline: true,
    sameNames: true,
    storageFs: true,
  },
  COMMON,
);

const METADATA_LAYER = names<Exclude<OwnKeys<CacheLayerOptions, FileSystemOptions>, SimpleLayerKeys>>({ checkFiles: true, expiryTime: true, cacheCheck: true });

const ARCHIVE = names<OwnKeys<ArchiveFileSystemOptions, FileSystemOptions>>({ fo: true, fs: true, targetProtocol: true, targetOptions: true }, COMMON);

const BY_CLASS: Readonly<Record<string, readonly string[]>> = {
  ZipFileSystem: names<OwnKeys<ZipFileSystemOptions, ArchiveFileSystemOptions>>({}, ARCHIVE),
  TarFileSystem: names<OwnKeys<TarFileSystemOptions, ArchiveFileSystemOptions>>({ spoolMemoryLimit: true, spoolDir: true }, ARCHIVE),
  MemoryFileSystem: names<OwnKeys<MemoryFileSystemOptions, FileSystemOptions>>({ store: true }, COMMON),
  LocalFileSystem: names<OwnKeys<LocalFileSystemOptions, FileSystemOptions>>({ autoMkdir: true, fs: true, fsync: true }, COMMON),
  DirFileSystem: names<OwnKeys<DirFileSystemOptions, FileSystemOptions>>(
    { path: true, fs: true, targetProtocol: true, targetOptions: true, confineSymlinks: true },
    COMMON,
  ),
  HTTPFileSystem: names<OwnKeys<HTTPFileSystemOptions, FileSystemOptions>>({ ...HTTP_TRANSPORT, auth: true, headConcurrency: true, listSizes: true, uploadMethod: true }, COMMON),
  HuggingFaceFileSystem: names<OwnKeys<HuggingFaceFileSystemOptions, FileSystemOptions>>({ ...HTTP_TRANSPORT, endpoint: true, token: true }, COMMON),
  NGCFileSystem: names<OwnKeys<NGCFileSystemOptions, FileSystemOptions>>(
    { ...HTTP_TRANSPORT, apiKey: true, authUrl: true, baseUrl: true, org: true, team: true },
    COMMON,
  ),
  S3FileSystem: names<OwnKeys<S3FileSystemOptions, FileSystemOptions>>(
    {
      anon: true,
      checkDirectories: true,
      clientOptions: true,
      deleteBatchSize: true,
      endpoint: true,
      forcePathStyle: true,
      key: true,
      maxKeys: true,
      partConcurrency: true,
      partSize: true,
      region: true,
      secret: true,
      token: true,
      uploadParams: true,
    },
    COMMON,
  ),
  CachingFileSystem: names<OwnKeys<BlockCacheOptions, CacheLayerOptions>>({ blockSize: true }, [...CACHE_LAYER, ...METADATA_LAYER]),
  WholeFileCacheFileSystem: names<OwnKeys<WholeFileCacheOptions, CacheLayerOptions>>({ downloadChunkSize: true, fsync: true }, [
    ...CACHE_LAYER,
    ...METADATA_LAYER,
  ]),
  SimpleCacheFileSystem: names<OwnKeys<SimpleCacheOptions, CacheLayerOptions>>({ downloadChunkSize: true, fsync: true }, CACHE_LAYER),
};

/**
 * The option names `cls` accepts, or undefined when it is not known (a class registered by a
 * plugin that declares nothing): then nothing is refused.
 */
export function knownOptionNames(cls: FileSystemClass): readonly string[] | undefined {
  const declared = (cls as { acceptedOptions?: object }).acceptedOptions;
  if (declared && typeof declared === "object") return Object.keys(declared);
  for (let c: unknown = cls; typeof c === "function" && c.name; c = Object.getPrototypeOf(c)) {
    const known = BY_CLASS[c.name];
    if (known) return known;
  }
  return undefined;
}

/** The known name nearest to `name` by edit distance, when it is near enough to be a typo. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}
