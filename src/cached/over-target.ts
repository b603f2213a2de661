/**
 * A layer over a target filesystem whose paths are the target's own: normalised by it, with its
 * root marker and protocol; forgetting cached listings forgets the target's too. The cache
 * layers (CacheLayer, hfcache) build on it.
 */
import { AbstractFileSystem } from "../core/abstract.js";
import { FsError } from "../core/errors.js";
import type { FileSystemOptions } from "../core/types.js";
import { isFileSystem, isRecord, isString, optionSpec } from "../core/validate.js";

/** Options of every layer over a target filesystem (the cache layers). */
export interface OverTargetOptions extends FileSystemOptions {
  /** The filesystem beneath (or `targetProtocol` / `targetOptions` through `filesystem()`). */
  fs?: AbstractFileSystem;
  /** With `filesystem()` or a URL chain instead of `fs`: the protocol of the target to build. */
  targetProtocol?: string;
  /** The options of the target built from `targetProtocol` (default none). */
  targetOptions?: FileSystemOptions;
}

/** @internal A layer over a target filesystem whose paths are the target's own. */
export abstract class OverTarget extends AbstractFileSystem {
  /**
   * Constructor options this class adds to its parent's, each with the check of its value. Constructors
   * refuse any other name.
   */
  static override ownOptions = optionSpec<OverTargetOptions, FileSystemOptions>({
    fs: isFileSystem,
    targetProtocol: isString,
    targetOptions: isRecord,
  });

  /** The filesystem beneath: every call the layer does not serve itself goes there. */
  readonly target: AbstractFileSystem;

  /** `what` names the layer in the error for a missing target. */
  constructor(options: OverTargetOptions, what: string) {
    super(options);
    if (!options?.fs) throw FsError.einval(`${what} needs a target filesystem: pass fs, or targetProtocol through filesystem()`);
    if (!(options.fs instanceof AbstractFileSystem)) throw FsError.einval("fs must be a filesystem instance");
    this.target = options.fs;
  }

  override normalizePath(path: string): string {
    return this.target.normalizePath(super.normalizePath(path));
  }

  override get rootMarker(): string {
    return this.target.rootMarker;
  }

  override unstripProtocol(name: string): string {
    return this.target.unstripProtocol(name);
  }

  override fileNameOf(segment: string): string | undefined {
    return this.target.fileNameOf(segment);
  }

  override segmentOf(name: string): string {
    return this.target.segmentOf(name);
  }

  override invalidateCache(path?: string): void {
    super.invalidateCache(path);
    this.target.invalidateCache(path === undefined ? undefined : this.normalizePath(path));
  }
}
