/**
 * The shapes shared by every filesystem, each options type with its spec beside it: the names
 * a method takes and the check of each value (see validate.ts). Option types are closed: a
 * name not listed here is refused at runtime with the closest known one.
 */
import {
  either,
  hasMethods,
  isBoolean,
  isFileSystem,
  isFunction,
  isNonNegativeInteger,
  isNonNegativeNumber,
  isPositiveInteger,
  isPositiveNumber,
  isSignal,
  mergeSpecs,
  oneOf,
  optionSpec,
} from "./validate.js";
import type { AbstractFileSystem } from "./abstract.js";

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
  /** Milliseconds a cached listing stays valid; undefined or 0 keeps listings until invalidated. */
  listingsExpiryMs?: number;
  /** Most directories kept in the listings cache (a real LRU bound). */
  maxPaths?: number;
  /** How many operations a batch call (cat of many files, rm, copy, get, put...) runs at once. */
  concurrency?: number;
}

export const FILESYSTEM_OPTIONS = optionSpec<FileSystemOptions>({
  skipInstanceCache: isBoolean,
  useListingsCache: isBoolean,
  listingsExpiryMs: isNonNegativeNumber,
  maxPaths: isPositiveInteger,
  concurrency: isPositiveInteger,
});

export type OnError = "raise" | "omit" | "return";

export interface SignalOptions {
  signal?: AbortSignal;
}

export const SIGNAL_OPTIONS = optionSpec<SignalOptions>({ signal: isSignal });
const signal = isSignal;
const onError = oneOf("raise", "omit", "return");

export interface LsOptions extends SignalOptions {
  detail?: boolean;
  /** Skip the listings cache for this call. */
  refresh?: boolean;
}

export const LS_OPTIONS = optionSpec<LsOptions>({ signal, detail: isBoolean, refresh: isBoolean });

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

export const FIND_OPTIONS = optionSpec<FindOptions>({
  signal,
  maxDepth: isPositiveInteger,
  withDirs: isBoolean,
  detail: isBoolean,
  onError: either(oneOf("omit", "raise"), isFunction),
});

export interface WalkOptions extends SignalOptions {
  maxDepth?: number;
  topdown?: boolean;
  detail?: boolean;
  onError?: "omit" | "raise" | ((err: unknown) => void);
}

export const WALK_OPTIONS = optionSpec<WalkOptions>({
  signal,
  maxDepth: isPositiveInteger,
  topdown: isBoolean,
  detail: isBoolean,
  onError: either(oneOf("omit", "raise"), isFunction),
});

export interface GlobOptions extends SignalOptions {
  maxDepth?: number;
  detail?: boolean;
}

export const GLOB_OPTIONS = optionSpec<GlobOptions>({ signal, maxDepth: isPositiveInteger, detail: isBoolean });

export interface DuOptions extends SignalOptions {
  total?: boolean;
  maxDepth?: number;
  withDirs?: boolean;
}

export const DU_OPTIONS = optionSpec<DuOptions>({ signal, total: isBoolean, maxDepth: isPositiveInteger, withDirs: isBoolean });

export interface ExpandOptions extends SignalOptions {
  recursive?: boolean;
  maxDepth?: number;
}

export const EXPAND_OPTIONS = optionSpec<ExpandOptions>({ signal, recursive: isBoolean, maxDepth: isPositiveInteger });

export interface CatOptions extends SignalOptions {
  recursive?: boolean;
  onError?: OnError;
  maxDepth?: number;
}

export const CAT_OPTIONS = optionSpec<CatOptions>({ signal, recursive: isBoolean, onError, maxDepth: isPositiveInteger });

export interface CatRangesOptions extends SignalOptions {
  onError?: OnError;
  /** Merge ranges of one file whose gap is at most this many bytes (0 disables). */
  maxGap?: number;
  /** Never merge ranges into a request longer than this. */
  maxBlock?: number;
  concurrency?: number;
}

export const CAT_RANGES_OPTIONS = optionSpec<CatRangesOptions>({
  signal,
  onError,
  maxGap: isNonNegativeInteger,
  maxBlock: isPositiveInteger,
  concurrency: isPositiveInteger,
});

export type PipeMode = "overwrite" | "create";

export interface PipeOptions extends SignalOptions {
  mode?: PipeMode;
}

export const PIPE_OPTIONS = optionSpec<PipeOptions>({ signal, mode: oneOf("overwrite", "create") });

export interface RmOptions extends SignalOptions {
  recursive?: boolean;
  maxDepth?: number;
}

export const RM_OPTIONS = optionSpec<RmOptions>({ signal, recursive: isBoolean, maxDepth: isPositiveInteger });

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

export const isProgressCallback = hasMethods("setSize", "relativeUpdate", "branch");

export const TRANSFER_OPTIONS = optionSpec<TransferOptions>({
  signal,
  recursive: isBoolean,
  maxDepth: isPositiveInteger,
  onError,
  callback: isProgressCallback,
  concurrency: isPositiveInteger,
});

export interface GetPutOptions extends TransferOptions {
  /** The filesystem of the local side (default: the local disk). */
  localFs?: AbstractFileSystem;
}

export const GET_PUT_OPTIONS = mergeSpecs(
  TRANSFER_OPTIONS,
  optionSpec<GetPutOptions, TransferOptions>({ localFs: isFileSystem }),
);

export interface TouchOptions extends SignalOptions {
  /** Empty an existing file (default true); false only updates its modification time. */
  truncate?: boolean;
}

export const TOUCH_OPTIONS = optionSpec<TouchOptions>({ signal, truncate: isBoolean });

export interface MkdirOptions extends SignalOptions {
  /** Make missing parents too (default true). */
  createParents?: boolean;
}

export const MKDIR_OPTIONS = optionSpec<MkdirOptions>({ signal, createParents: isBoolean });

export interface MakedirsOptions extends SignalOptions {
  /** An existing directory is fine (default false: EEXIST). */
  existOk?: boolean;
}

export const MAKEDIRS_OPTIONS = optionSpec<MakedirsOptions>({ signal, existOk: isBoolean });

export interface SignOptions {
  /** Milliseconds the signed URL stays valid (backends that sign in whole seconds round up). */
  expirationMs?: number;
}

export const SIGN_OPTIONS = optionSpec<SignOptions>({ expirationMs: isPositiveNumber });

export type Bytes = Uint8Array;
export type BytesLike = Uint8Array | string;
