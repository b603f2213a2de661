/** The shapes shared by every filesystem. */

export type FileType = "file" | "directory" | "other";

/** What `info` and `ls({detail: true})` return for one entry. Backends may add keys. */
export interface FileInfo {
  /** Full path without protocol, as this filesystem names it. */
  name: string;
  /** Bytes for files; 0 for directories; null when unknown. */
  size: number | null;
  type: FileType;
  mtime?: Date;
  created?: Date;
  /** True for symbolic links (local filesystem). */
  islink?: boolean;
  mode?: number;
  etag?: string;
  [key: string]: unknown;
}

/** Options every filesystem accepts; backends extend this with their own. */
export interface FileSystemOptions {
  /** Build a new instance instead of reusing a cached one with the same options. */
  skipInstanceCache?: boolean;
  /** Keep directory listings (remote backends); on by default where the backend lists remotely. */
  useListingsCache?: boolean;
  /** Seconds a cached listing stays valid; undefined keeps listings until invalidated. */
  listingsExpiryTime?: number;
  /** Most directories kept in the listings cache (a real LRU bound). */
  maxPaths?: number;
  /** How many operations a batch call (cat of many files, rm, copy, get, put...) runs at once. */
  concurrency?: number;
  [key: string]: unknown;
}

export type OnError = "raise" | "omit" | "return";

export interface SignalOptions {
  signal?: AbortSignal;
}

export interface LsOptions extends SignalOptions {
  detail?: boolean;
  /** Skip the listings cache for this call. */
  refresh?: boolean;
}

export interface FindOptions extends SignalOptions {
  maxDepth?: number;
  withDirs?: boolean;
  detail?: boolean;
  /**
   * A directory below the start that cannot be listed (one that vanished meanwhile is
   * skipped): left out (default, as fsspec), raised, or handed to a function and left out.
   */
  onError?: "omit" | "raise" | ((err: unknown) => void);
}

export interface WalkOptions extends SignalOptions {
  maxDepth?: number;
  topdown?: boolean;
  detail?: boolean;
  onError?: "omit" | "raise" | ((err: unknown) => void);
}

export interface GlobOptions extends SignalOptions {
  maxDepth?: number;
  detail?: boolean;
}

export interface DuOptions extends SignalOptions {
  total?: boolean;
  maxDepth?: number;
  withDirs?: boolean;
}

export interface ExpandOptions extends SignalOptions {
  recursive?: boolean;
  maxDepth?: number;
}

export interface CatOptions extends SignalOptions {
  recursive?: boolean;
  onError?: OnError;
  maxDepth?: number;
}

export interface CatRangesOptions extends SignalOptions {
  onError?: OnError;
  /** Merge ranges of one file whose gap is at most this many bytes (0 disables). */
  maxGap?: number;
  /** Never merge ranges into a request longer than this. */
  maxBlock?: number;
  concurrency?: number;
}

export type PipeMode = "overwrite" | "create";

export interface PipeOptions extends SignalOptions {
  mode?: PipeMode;
}

export interface RmOptions extends SignalOptions {
  recursive?: boolean;
  maxDepth?: number;
}

/**
 * Progress of a transfer: `setSize` with the total bytes (of one file, or of a whole batch),
 * `relativeUpdate` as bytes move, `branch` when a batch starts a file.
 */
export interface ProgressCallback {
  setSize?(totalBytes: number): void;
  relativeUpdate?(bytes: number): void;
  branch?(src: string, dst: string, size: number | null): void;
}

export interface TransferOptions extends SignalOptions {
  recursive?: boolean;
  maxDepth?: number;
  onError?: OnError;
  callback?: ProgressCallback;
  concurrency?: number;
}

export type Bytes = Uint8Array;
export type BytesLike = Uint8Array | string;
