/**
 * Confinement of a root on local disk by real paths: a path is allowed only when, with every
 * symlink resolved, it is still inside the root's own real path. Lexical containment
 * (`resolveInside`) follows symlinks that live inside a root wherever they point; this is the
 * opt-in check (`confineSymlinks`) of `dir` and `Package` over local disk.
 *
 * The check runs just before each operation, so a link swapped in between by another process
 * is not seen (the usual check-then-use race of path-based confinement).
 */
import * as nodeFs from "node:fs";
import { FsError, isFsError, toFsError } from "../core/errors.js";
import { basename, isInside, joinPath, parentOf } from "../core/paths.js";
import type { FileInfo } from "../core/types.js";
import type { LocalFileSystem, LocalFileSystemOptions } from "./local.js";

type RealPath = (path: string) => Promise<string>;
type Lstat = (path: string) => Promise<nodeFs.Stats>;

export class RealPathConfinement {
  private readonly realpath: RealPath;
  private readonly lstat: Lstat;
  private realRoot: Promise<string | undefined> | undefined;

  /** `root` is a path of `local` (normalised); its real path is looked up on first use. */
  constructor(private readonly local: LocalFileSystem, readonly root: string) {
    // The instance's own fs module (memfs in some tests), else the disk.
    const mod = ((local.options as LocalFileSystemOptions).fs?.promises ?? nodeFs.promises) as Partial<typeof nodeFs.promises>;
    if (typeof mod.realpath !== "function" || typeof mod.lstat !== "function") {
      throw FsError.enotsup("confineSymlinks needs an fs module with realpath and lstat", root);
    }
    this.realpath = mod.realpath.bind(mod) as RealPath;
    this.lstat = mod.lstat.bind(mod) as Lstat;
  }

  /** The same confinement for a root deeper inside (a package's `sub`). */
  at(root: string): RealPathConfinement {
    return new RealPathConfinement(this.local, root);
  }

  /** Throw EACCES unless the real path of `path` (a path of the local filesystem) is inside the root's. */
  async check(path: string): Promise<void> {
    this.realRoot ??= this.resolve(this.root);
    const root = await this.realRoot;
    const real = await this.resolve(path);
    if (root === undefined || real === undefined || !isInside(real, root)) {
      throw FsError.eacces(path, "the real path (symlinks resolved) leaves the root; confineSymlinks is on");
    }
  }

  /** Whether a listed entry may be shown: only symlinks can point out. */
  async allows(info: FileInfo): Promise<boolean> {
    if (info.islink !== true) return true;
    return this.check(info.name).then(
      () => true,
      (err) => {
        if (isFsError(err, "EACCES")) return false;
        throw err;
      },
    );
  }

  /**
   * The real path of `path`; for a path that does not exist yet (a write), the real path of
   * its nearest existing ancestor joined with the rest. Undefined for a dangling symlink:
   * where a write through it would land cannot be known before it happens.
   */
  private async resolve(path: string): Promise<string | undefined> {
    try {
      return (await this.realpath(path)).replace(/\\/g, "/");
    } catch (err) {
      if (!isFsError(toFsError(err), "ENOENT")) throw toFsError(err, path);
    }
    const dangling = await this.lstat(path).then(
      (st) => st.isSymbolicLink(),
      () => false,
    );
    if (dangling) return undefined;
    const parent = parentOf(path);
    if (parent === path) return path;
    const realParent = await this.resolve(parent);
    return realParent === undefined ? undefined : joinPath(realParent, basename(path));
  }
}
