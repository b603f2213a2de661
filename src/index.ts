/**
 * fsspec-ts: one async filesystem interface for every storage. Public exports only.
 * @module fsspec-ts
 */
export { AbstractFileSystem } from "./core/abstract.js";
export { makeTransferPlan, planTransfer, runMoves, runTransfers, transferFile } from "./core/transfer.js";
export type { TransferFileOptions, TransferPair, TransferPlan } from "./core/transfer.js";
export type { CatResult, FileSystemClass, FileSystemJSON, WalkEntry, WalkEntryDetail } from "./core/abstract.js";
export { FsError, NETWORK_ERROR_CODES, isFsError, isNetworkError, toFsError } from "./core/errors.js";
export type { FsErrorCode, FsErrorOptions, NetworkErrorCode } from "./core/errors.js";
export {
  registerImplementation,
  getFilesystemClass,
  availableProtocols,
  filesystem,
  clearInstanceCache,
  tokenize,
} from "./core/registry.js";
export type { FileSystemLoader } from "./core/registry.js";
export { urlToFs, open, openFiles, OpenFile } from "./core/url-chain.js";
export type { OpenOptions, OpenFilesOptions, OpenedFile, UrlToFsResult } from "./core/url-chain.js";
export { globToRegExp, hasMagic } from "./core/glob.js";
export { planDestinations } from "./core/copy-plan.js";
export type { PlanInput } from "./core/copy-plan.js";
export { mapBounded, settleBounded, Semaphore, DEFAULT_CONCURRENCY } from "./core/limiter.js";
export type { MapBoundedOptions, Settled } from "./core/limiter.js";
export { ListingsCache } from "./core/listings-cache.js";
export type { ListingsCacheOptions } from "./core/listings-cache.js";
export type { FileVersion, PinnedReadOptions, PinnedReads } from "./core/versions.js";
export * as paths from "./core/paths.js";
export * as validate from "./core/validate.js";
export type { CallOptionSpecs } from "./core/abstract.js";
export type * from "./core/types.js";

export { BufferedFile, parseMode } from "./files/buffered-file.js";
export type { FileOpenOptions, OpenMode, BinaryMode, TextMode } from "./files/buffered-file.js";
export { TextFile } from "./files/text-file.js";
export type { ByteFile } from "./files/text-file.js";
export { CompressedFile, registerCompression, availableCompressions, inferCompression } from "./files/compression.js";
export type { Codec } from "./files/compression.js";
export {
  ReadCache,
  registerReadCache,
  readCacheNames,
  makeReadCache,
  DEFAULT_BLOCK_SIZE,
} from "./files/read-caches.js";
export type { CacheStats, RangeFetcher, ReadCacheClass, ReadCacheInit } from "./files/read-caches.js";
export { coalesceRanges } from "./files/coalesce.js";
export type { ByteRange, MergedRange } from "./files/coalesce.js";
export type { UploadSink, SinkOptions } from "./files/upload-sink.js";

export { MemoryFileSystem, MemoryStore } from "./implementations/memory.js";
export type { MemoryFileSystemOptions } from "./implementations/memory.js";
export { LocalFileSystem } from "./implementations/local.js";
export type { LocalFileSystemOptions, NodeFsLike } from "./implementations/local.js";
export { DirFileSystem } from "./implementations/dir.js";
export type { DirFileSystemOptions } from "./implementations/dir.js";
export { ZipFileSystem } from "./implementations/zip.js";
export type { ZipFileSystemOptions } from "./implementations/zip.js";
export { TarFileSystem } from "./implementations/tar.js";
export type { TarFileSystemOptions } from "./implementations/tar.js";
export { ArchiveFileSystem } from "./implementations/archive/archive-fs.js";
export type { ArchiveFileSystemOptions, ArchiveLocation } from "./implementations/archive/archive-fs.js";
export type { ArchiveMember, ArchiveMemberKind, IndexedEntry } from "./implementations/archive/members.js";
// Network backends load on first use (filesystem("s3"), urlToFs("hf://...")): their clients
// (undici, the AWS SDK) cost hundreds of milliseconds to import. Their classes are imported from
// subpaths, "fsspec-ts/http", "fsspec-ts/hf", "fsspec-ts/ngc", "fsspec-ts/s3" and "fsspec-ts/gs"; the root
// exports only their types.
export type { HTTPFileSystem, HTTPFileSystemOptions, HttpCallOptions, HttpAuth } from "./implementations/http.js";
export type { HuggingFaceFileSystem, HuggingFaceFileSystemOptions, HfPath, HfRepoType, HubFile } from "./implementations/hf.js";
export type { NGCFileSystem, NGCFileSystemOptions, NgcPath } from "./implementations/ngc.js";
export type { S3FileSystem, S3FileSystemOptions } from "./implementations/s3.js";
export type { GCSFileSystem, GCSFileSystemOptions, GcsAccess, GcsToken } from "./implementations/gs.js";

export { CacheLayer } from "./cached/layer.js";
export type { CacheLayerOptions, CachedFileInfo, ClearExpiredOptions } from "./cached/layer.js";
export { CachingFileSystem } from "./cached/blockcache.js";
export type { BlockCacheOptions } from "./cached/blockcache.js";
export { WholeFileCacheFileSystem } from "./cached/filecache.js";
export type { WholeFileCacheOptions, FetchOptions, CacheHit, ExtractOptions as CacheExtractOptions, Extractor } from "./cached/filecache.js";
export { SimpleCacheFileSystem } from "./cached/simplecache.js";
export type { SimpleCacheOptions } from "./cached/simplecache.js";
export { HubCacheFileSystem } from "./cached/hubcache.js";
export type { HubCacheOptions, HubCacheTarget } from "./cached/hubcache.js";
export { hubCacheDir } from "./cached/hub-layout.js";
export { HashMapper, BasenameMapper, makeMapper } from "./cached/mappers.js";
export type { CacheMapper, MapperSpec } from "./cached/mappers.js";
export { FileLock } from "./cached/locks.js";
export type { LockOptions } from "./cached/locks.js";
export type { CacheEntry } from "./cached/metadata.js";
export { OFFLINE_ENV, HF_OFFLINE_ENV } from "./cached/env.js";

export { Package, PACKAGE_ENV, DEFAULT_PACKAGE_CONCURRENCY } from "./models/package.js";
export type { PackageOptions, ProgressFactory, PrefetchOptions, ExtractOptions, PackageFile, VerifiedFile } from "./models/package.js";
export { extractArchive } from "./models/extract.js";
export type { ArchiveFormat, ExtractJob, Extracted } from "./models/extract.js";
export { parseManifest, DEFAULT_MANIFEST } from "./models/pins.js";
export type { FilePin, Pins } from "./models/pins.js";
export { AutoModel, AutoModelMixin } from "./models/auto-model.js";
export type { AutoModelStatics } from "./models/auto-model.js";
export { progressBar, batchProgress } from "./models/progress.js";
export type { BatchProgress, BatchItem, ProgressBar, ProgressStream } from "./models/progress.js";
export { formatBytes } from "./core/format.js";
