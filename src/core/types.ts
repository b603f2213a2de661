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

/** What an entry is: a file, a directory, or anything else (a socket, a device, a dangling link). */
export type FileType = "file" | "directory" | "other";

/** What `info` and `ls({detail: true})` return for one entry. Backends may add keys. */
export interface FileInfo {
  /** Full path without protocol, as this filesystem names it. */
  name: string;
  /** Bytes for files; 0 for directories; null when unknown. */
  size: number | null;
  /** What the entry is. */
  type: FileType;
  /** When the entry was last modified, where the backend records it. */
  mtime?: Date;
  /** When the entry was created, where the backend records it. */
  created?: Date;
  /** True for symbolic links (local filesystem). */
  islink?: boolean;
  /** POSIX type and permission bits (the local disk, archive members). */
  mode?: number;
  /** The server's entity tag (HTTP, S3, the Hub): it changes when the content does. */
  etag?: string;
  [key: string]: unknown;
}

/** Options every filesystem accepts; backends extend this with their own. */
export interface FileSystemOptions {
  /** Build a new instance instead of reusing a cached one with the same options (default false). */
  skipInstanceCache?: boolean;
  /**
   * Keep directory listings between calls; default true for the remote backends (http, s3, hf, ngc),
   * false for the others.
   */
  useListingsCache?: boolean;
  /**
   * Milliseconds a cached listing stays valid; default none (or 0): kept until a write or
   * `invalidateCache` drops it.
   */
  listingsExpiryMs?: number;
  /** Most directories kept in the listings cache (a real LRU bound); default 10,000. */
  maxPaths?: number;
  /**
   * How many operations a batch call (`cat` of many files, `rm`, `copy`, `get`, `put`...) runs at once;
   * default 16 (`DEFAULT_CONCURRENCY`).
   */
  concurrency?: number;
}

/** @internal The check of each `FileSystemOptions` name (see `validate.optionSpec`). */
export const FILESYSTEM_OPTIONS = optionSpec<FileSystemOptions>({
  skipInstanceCache: isBoolean,
  useListingsCache: isBoolean,
  listingsExpiryMs: isNonNegativeNumber,
  maxPaths: isPositiveInteger,
  concurrency: isPositiveInteger,
});

/**
 * What a batch call does when one item fails: reject the whole call (`raise`), leave the item out
 * (`omit`), or put its error in its place (`return`).
 */
export type OnError = "raise" | "omit" | "return";

/** The option every call takes. */
export interface SignalOptions {
  /**
   * Aborts the call: it rejects with EABORT (the signal's reason as `cause`) and stops the work in
   * flight.
   */
  signal?: AbortSignal;
}

/** @internal The check of `SignalOptions`. */
export const SIGNAL_OPTIONS = optionSpec<SignalOptions>({ signal: isSignal });
const signal = isSignal;
const onError = oneOf("raise", "omit", "return");

/** Options of `ls`. */
export interface LsOptions extends SignalOptions {
  /** Infos (default true), or names only (false). */
  detail?: boolean;
  /** Skip the listings cache for this call (default false). */
  refresh?: boolean;
}

/** @internal The check of each `LsOptions` name. */
export const LS_OPTIONS = optionSpec<LsOptions>({ signal, detail: isBoolean, refresh: isBoolean });

/** Options of `find`. */
export interface FindOptions extends SignalOptions {
  /** Levels below `path` to descend (1: its own entries); default unlimited. */
  maxDepth?: number;
  /** Directories in the result too (default false: files only). */
  withDirs?: boolean;
  /** Infos by path (true), or a sorted list of paths (default false). */
  detail?: boolean;
  /**
   * A directory below the start that cannot be listed (one that vanished meanwhile is
   * skipped): left out (default, as fsspec), raised, or handed to a function and left out.
   */
  onError?: "omit" | "raise" | ((err: unknown) => void);
}

/** @internal The check of each `FindOptions` name. */
export const FIND_OPTIONS = optionSpec<FindOptions>({
  signal,
  maxDepth: isPositiveInteger,
  withDirs: isBoolean,
  detail: isBoolean,
  onError: either(oneOf("omit", "raise"), isFunction),
});

/** Options of `walk`. */
export interface WalkOptions extends SignalOptions {
  /** Levels to walk (1: `path` alone); default unlimited. */
  maxDepth?: number;
  /** Yield a directory before its subdirectories (default true), or after them (false). */
  topdown?: boolean;
  /** Infos by name (true), or names (default false). */
  detail?: boolean;
  /**
   * A directory that cannot be listed: skipped ("omit", default), thrown ("raise"), or handed to a
   * function and skipped.
   */
  onError?: "omit" | "raise" | ((err: unknown) => void);
}

/** @internal The check of each `WalkOptions` name. */
export const WALK_OPTIONS = optionSpec<WalkOptions>({
  signal,
  maxDepth: isPositiveInteger,
  topdown: isBoolean,
  detail: isBoolean,
  onError: either(oneOf("omit", "raise"), isFunction),
});

/** Options of `glob`. */
export interface GlobOptions extends SignalOptions {
  /** Levels below the pattern's fixed leading part that `**` reaches; default unlimited. */
  maxDepth?: number;
  /** Infos by path (true), or a sorted list of paths (default false). */
  detail?: boolean;
}

/** @internal The check of each `GlobOptions` name. */
export const GLOB_OPTIONS = optionSpec<GlobOptions>({ signal, maxDepth: isPositiveInteger, detail: isBoolean });

/** Options of `du`. */
export interface DuOptions extends SignalOptions {
  /** One total in bytes (default true), or bytes per path (false). */
  total?: boolean;
  /** Levels below `path` to count (1: its own entries); default unlimited. */
  maxDepth?: number;
  /** Count the entries of directories too (default false: files only). */
  withDirs?: boolean;
}

/** @internal The check of each `DuOptions` name. */
export const DU_OPTIONS = optionSpec<DuOptions>({ signal, total: isBoolean, maxDepth: isPositiveInteger, withDirs: isBoolean });

/** Options of `expandPath`. */
export interface ExpandOptions extends SignalOptions {
  /** Add everything below each directory found (default false). */
  recursive?: boolean;
  /** With `recursive`, levels below each directory found; default unlimited. */
  maxDepth?: number;
}

/** @internal The check of each `ExpandOptions` name. */
export const EXPAND_OPTIONS = optionSpec<ExpandOptions>({ signal, recursive: isBoolean, maxDepth: isPositiveInteger });

/** Options of `cat`. */
export interface CatOptions extends SignalOptions {
  /** Read the files below directories too (default false). */
  recursive?: boolean;
  /**
   * A file that cannot be read: the call rejects ("raise", default), its error is kept in its place
   * ("return"), or it is left out ("omit").
   */
  onError?: OnError;
  /** With `recursive`, levels below each directory; default unlimited. */
  maxDepth?: number;
}

/** @internal The check of each `CatOptions` name. */
export const CAT_OPTIONS = optionSpec<CatOptions>({ signal, recursive: isBoolean, onError, maxDepth: isPositiveInteger });

/** Options of `catRanges` (docs/opened-files.md). */
export interface CatRangesOptions extends SignalOptions {
  /**
   * A range that cannot be read: its error in its place ("return", default), the call rejects
   * ("raise"), or it is left out ("omit").
   */
  onError?: OnError;
  /**
   * Merge ranges of one file whose gap is at most this many bytes; default 1 MiB, 0 disables merging.
   */
  maxGap?: number;
  /**
   * Bytes a merged request may span at most, gaps included; default 256 MiB. One range longer than this
   * is still one request.
   */
  maxBlock?: number;
  /** Requests in flight at once; default the filesystem's `concurrency`. */
  concurrency?: number;
}

/** @internal The check of each `CatRangesOptions` name. */
export const CAT_RANGES_OPTIONS = optionSpec<CatRangesOptions>({
  signal,
  onError,
  maxGap: isNonNegativeInteger,
  maxBlock: isPositiveInteger,
  concurrency: isPositiveInteger,
});

/**
 * How a whole-file write treats an existing file: `overwrite` replaces it; `create` writes only where
 * nothing is (EEXIST otherwise).
 */
export type PipeMode = "overwrite" | "create";

/** Options of `pipe`, `pipeFile` and `writeText`. */
export interface PipeOptions extends SignalOptions {
  /** Replace an existing file ("overwrite", default) or refuse it with EEXIST ("create"). */
  mode?: PipeMode;
}

/** @internal The check of each `PipeOptions` name. */
export const PIPE_OPTIONS = optionSpec<PipeOptions>({ signal, mode: oneOf("overwrite", "create") });

/** Options of `rm`. */
export interface RmOptions extends SignalOptions {
  /**
   * Delete directories with everything below them (default false: a directory is EISDIR and nothing is
   * deleted).
   */
  recursive?: boolean;
  /** With `recursive`, levels below each path; default unlimited. */
  maxDepth?: number;
}

/** @internal The check of each `RmOptions` name. */
export const RM_OPTIONS = optionSpec<RmOptions>({ signal, recursive: isBoolean, maxDepth: isPositiveInteger });

/**
 * Progress of a transfer: `setSize` with the total bytes (of one file, or of a whole batch),
 * `relativeUpdate` as bytes move, `branch` when a batch starts a file.
 */
export interface ProgressCallback {
  /** The total bytes to move: of one file, or of a whole batch. */
  setSize?(totalBytes: number): void;
  /** `bytes` more bytes have moved. */
  relativeUpdate?(bytes: number): void;
  /** A batch starts moving `src` to `dst` (`size` bytes; null when unknown). */
  branch?(src: string, dst: string, size: number | null): void;
}

/**
 * Options of `copy` and `mv` (and, with `localFs`, of `get` and `put`); the rules are in
 * docs/filesystem-api.md.
 */
export interface TransferOptions extends SignalOptions {
  /**
   * Copy directories with everything below them (default false: directories are not copied, and `mv` of
   * one is EISDIR).
   */
  recursive?: boolean;
  /** With `recursive`, levels below each source; default unlimited. */
  maxDepth?: number;
  /**
   * A source that vanished before its copy: skipped ("omit" or "return"; the default of a recursive
   * `copy`, as in fsspec) or the call rejects ("raise", the default otherwise). Other failures always
   * reject.
   */
  onError?: OnError;
  /**
   * Told of the bytes moved (`setSize` once with the batch's total, then `relativeUpdate`, `branch` per
   * file).
   */
  callback?: ProgressCallback;
  /** Files moved at once; default the filesystem's `concurrency`. */
  concurrency?: number;
}

/** @internal Whether a value has only the methods of a `ProgressCallback` that are functions. */
export const isProgressCallback = hasMethods("setSize", "relativeUpdate", "branch");

/** @internal The check of each `TransferOptions` name. */
export const TRANSFER_OPTIONS = optionSpec<TransferOptions>({
  signal,
  recursive: isBoolean,
  maxDepth: isPositiveInteger,
  onError,
  callback: isProgressCallback,
  concurrency: isPositiveInteger,
});

/** Options of `get`, `put`, `getFile` and `putFile`. */
export interface GetPutOptions extends TransferOptions {
  /** The filesystem of the local side (default: the local disk). */
  localFs?: AbstractFileSystem;
}

/** @internal The check of each `GetPutOptions` name. */
export const GET_PUT_OPTIONS = mergeSpecs(
  TRANSFER_OPTIONS,
  optionSpec<GetPutOptions, TransferOptions>({ localFs: isFileSystem }),
);

/** Options of `touch`. */
export interface TouchOptions extends SignalOptions {
  /** Empty an existing file (default true); false only updates its modification time. */
  truncate?: boolean;
}

/** @internal The check of each `TouchOptions` name. */
export const TOUCH_OPTIONS = optionSpec<TouchOptions>({ signal, truncate: isBoolean });

/** Options of `mkdir`. */
export interface MkdirOptions extends SignalOptions {
  /** Make missing parents too (default true). */
  createParents?: boolean;
}

/** @internal The check of each `MkdirOptions` name. */
export const MKDIR_OPTIONS = optionSpec<MkdirOptions>({ signal, createParents: isBoolean });

/** Options of `makedirs`. */
export interface MakedirsOptions extends SignalOptions {
  /** An existing directory is fine (default false: EEXIST). */
  existOk?: boolean;
}

/** @internal The check of each `MakedirsOptions` name. */
export const MAKEDIRS_OPTIONS = optionSpec<MakedirsOptions>({ signal, existOk: isBoolean });

/** Options of `sign`. */
export interface SignOptions {
  /** Milliseconds the signed URL stays valid (backends that sign whole seconds round up); the backend's default (S3: one hour). */
  expirationMs?: number;
}

/** @internal The check of each `SignOptions` name. */
export const SIGN_OPTIONS = optionSpec<SignOptions>({ expirationMs: isPositiveNumber });

/** Binary data. */
export type Bytes = Uint8Array;
/** Data to write: bytes, or a string (written as UTF-8). */
export type BytesLike = Uint8Array | string;
