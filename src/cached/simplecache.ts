/**
 * simplecache: whole files like filecache, but without metadata: a file present under its
 * mapped name is a hit. No expiry, no revalidation; downloads are as safe as filecache's
 * (temporary file, verification, rename, per-file lock across processes).
 */
import { FsError } from "../core/errors.js";
import { WholeFileCacheFileSystem, type WholeFileCacheOptions } from "./filecache.js";

/**
 * Options of simplecache: filecache's without those that need metadata (`checkFiles`, `expiryMs`,
 * `cacheCheckMs`: EINVAL).
 */
export type SimpleCacheOptions = Omit<WholeFileCacheOptions, "checkFiles" | "expiryMs" | "cacheCheckMs">;

/**
 * simplecache: whole files cached like filecache, without metadata: a file present under its mapped
 * name is a hit. No expiry, no revalidation; downloads are as safe as filecache's.
 */
export class SimpleCacheFileSystem extends WholeFileCacheFileSystem {
  static override protocols: readonly string[] = ["simplecache"];
  static override keepsMetadata = false;

  constructor(options: SimpleCacheOptions) {
    for (const key of ["checkFiles", "expiryMs", "cacheCheckMs"] as const) {
      if ((options as WholeFileCacheOptions)?.[key]) {
        throw FsError.einval(`simplecache keeps no metadata, so '${key}' cannot be used; use filecache`);
      }
    }
    super(options);
  }
}
