/**
 * hfcache: a cache layer over the `hf` backend that keeps files in the Hugging Face Hub's own
 * cache (see hub-layout.ts), shared with Python's huggingface_hub: a file either tool fetched
 * is read by the other without a download.
 *
 * A read: the revision's commit (a sha as given: with its file on disk, no request at all; a
 * branch or tag: the backend's pinned commit, recorded in `refs/`) -> `snapshots/<commit>/<path>`
 * if it is there -> else, one task per file in this process, the blob's lock across processes
 * (the same lock file huggingface_hub takes) -> look again -> the blob if another snapshot
 * brought it, else a download into `blobs/<etag>.<hex>.incomplete`, checked (size, and the
 * sha256 for LFS files or the git blob id for others) and renamed into place -> the snapshot's
 * pointer to it. Offline, revisions are read from `refs/` and nothing touches the network.
 */
import { createHash, randomBytes } from "node:crypto";
import { promises as nodeFsPromises } from "node:fs";
import { mkdir, realpath, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, relative } from "node:path";
import { AbstractFileSystem } from "../core/abstract.js";
import { mapBounded, Semaphore } from "../core/limiter.js";
import { FsError, isFsError, toFsError } from "../core/errors.js";
import type { FileInfo, FindOptions, SignalOptions } from "../core/types.js";
import { checkOptions, checkPath, checkPaths, isBoolean, isNonEmptyString, isNonNegativeNumber, isPositiveInteger, optionSpec, pickSpec } from "../core/validate.js";
import { readableFile, type BufferedFile, type FileOpenOptions } from "../files/buffered-file.js";
import type { HubFile } from "../implementations/hf.js";
import { describeRepo, effectiveRevision, formatHfPath, isCommitSha, parseHfPath, type HfPath } from "../implementations/hf/path.js";
import { LocalFileSystem } from "../implementations/local.js";
import { downloadTo, type Downloaded } from "./download.js";
import { envFlag, HF_OFFLINE_ENV, offlineFromEnv, OFFLINE_ENV } from "./env.js";
import { checkSha256, checksumMismatch, EXTRACT_OPTIONS, FETCH_OPTIONS, type ExtractOptions, type FetchOptions } from "./filecache.js";
import { HubLock } from "./hub-lock.js";
import { OverTarget, type OverTargetOptions } from "./over-target.js";
import { fileSha256, fileSize, hashFile, HubRepoCache, hubCacheDir, linkPointer, listSnapshotDir } from "./hub-layout.js";
import { hubCacheSize, isDir, listHubCache } from "./hub-inventory.js";
import { clearHubCache, pruneHubCache, removeExtractTemps, type HubRemovalOptions } from "./hub-removal.js";
import { checkExpiry, type CachedFileInfo, type ClearExpiredOptions } from "./layer.js";
import { SharedTasks } from "./shared-tasks.js";
import { createLocalTemp, StorageDir } from "./storage.js";

/** What the layer needs of its target: the `hf` backend's commit and blob lookups. */
export interface HubCacheTarget extends AbstractFileSystem {
  /** The commit a path's revision resolves to. */
  resolveCommit(path: string, options?: SignalOptions): Promise<string>;
  /** The file at `path` as the Hub's cache layout names it. */
  hubFile(path: string, options?: SignalOptions): Promise<HubFile>;
}

export function isHubCacheTarget(fs: unknown): fs is HubCacheTarget {
  const t = fs as Partial<HubCacheTarget> | null;
  return fs instanceof AbstractFileSystem && typeof t?.resolveCommit === "function" && typeof t.hubFile === "function";
}

/** `fs` (or `targetProtocol: "hf"` through `filesystem()`) is the `hf` filesystem being cached. */
export interface HubCacheOptions extends OverTargetOptions {
  /** The Hub cache directory (default: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub, read at construction). */
  cacheDir?: string;
  /** Link snapshots to blobs with symlinks (default: yes, unless HF_HUB_DISABLE_SYMLINKS is set); copies otherwise. */
  symlinks?: boolean;
  /**
   * Never touch the Hub; default false, or true when HF_HUB_OFFLINE or FSSPEC_TS_OFFLINE is set (read
   * at call time).
   */
  offline?: boolean;
  /** Give up waiting for another process's download of a file after this long (ms; default: no limit). */
  lockTimeoutMs?: number;
  /** `.incomplete` files untouched this long are leftovers of killed downloads and are removed (ms, default one hour). */
  staleMs?: number;
  /** fsync downloads before renaming them into place (survives power loss; slower). Default false. */
  fsync?: boolean;
  /** Bytes per read of a download (default 8 MiB). */
  downloadChunkSize?: number;
  /** Most downloads this layer runs at once, whoever asks (a package's prefetch, open...). Default: no limit of its own. */
  downloadConcurrency?: number;
}

const DEFAULT_STALE_INCOMPLETE_MS = 3600_000;
/** An LFS blob is named by the sha256 of its bytes (checked when it was downloaded). */
const LFS_BLOB_NAME = /^[0-9a-f]{64}$/;

/** Downloads in progress in this process, by pointer path: every layer instance shares them. */
const inflight = new SharedTasks<string>();
/** Extractions in progress in this process, by folder. */
const extracting = new SharedTasks<string>();

/** The git blob id of a file's bytes: sha1 of `blob <size>\0` and the bytes. */
function gitBlobId(path: string, size: number): Promise<string> {
  return hashFile(path, createHash("sha1").update(`blob ${size}\0`));
}

/**
 * hfcache: whole files of the `hf` backend cached in the Hugging Face Hub's own cache layout (blobs,
 * snapshots, refs), shared with huggingface_hub and other programs that read it. See
 * docs/backends/hf.md.
 */
export class HubCacheFileSystem extends OverTarget {
  static override protocols: readonly string[] = ["hfcache"];
  static override ownOptions = optionSpec<HubCacheOptions, OverTargetOptions>({
    cacheDir: isNonEmptyString,
    symlinks: isBoolean,
    offline: isBoolean,
    lockTimeoutMs: isNonNegativeNumber,
    staleMs: isNonNegativeNumber,
    fsync: isBoolean,
    downloadChunkSize: isPositiveInteger,
    downloadConcurrency: isPositiveInteger,
  });
  /**
   * Opening reports the download's progress to `callback` (never called when the file is cached).
   * @internal
   */
  static override callOptions = { open: pickSpec(FETCH_OPTIONS, ["callback"]) };

  /** The `hf` filesystem being cached. */
  declare readonly target: HubCacheTarget;
  declare readonly options: Readonly<HubCacheOptions>;
  /**
   * The Hub cache directory in use (`cacheDir` option, else HF_HUB_CACHE, else $HF_HOME/hub, else
   * ~/.cache/huggingface/hub).
   */
  readonly cacheDir: string;
  /** The whole cache directory as read-only storage: opened files are read through it. */
  private readonly storage: StorageDir;
  /** Download slots (downloadConcurrency); undefined: no limit. */
  private readonly downloadSlots: Semaphore | undefined;
  /** sha256 of files read (or downloaded) here, by real path, for the size and mtime they had. */
  private readonly digests = new Map<string, { size: number; mtime: number; sha256: string }>();

  constructor(options: HubCacheOptions) {
    super(options, "hfcache");
    const target: AbstractFileSystem = this.target;
    if (!isHubCacheTarget(target)) throw FsError.einval(`hfcache caches the hf backend only, not '${target.protocol}'`);
    this.cacheDir = new LocalFileSystem().normalizePath(options.cacheDir ?? hubCacheDir());
    this.storage = new StorageDir(new LocalFileSystem(), this.cacheDir, true, 0);
    this.downloadSlots = options.downloadConcurrency === undefined ? undefined : new Semaphore(options.downloadConcurrency);
  }

  /** How many downloads the layer runs at once (Infinity: no limit of its own). */
  get downloadLimit(): number {
    return this.downloadSlots?.limit ?? Infinity;
  }

  /** Offline by option, by HF_HUB_OFFLINE or by FSSPEC_TS_OFFLINE (read at call time). */
  get offline(): boolean {
    return this.options.offline === true || offlineFromEnv() || envFlag(HF_OFFLINE_ENV);
  }

  private get useSymlinks(): boolean {
    return this.options.symlinks ?? !envFlag("HF_HUB_DISABLE_SYMLINKS");
  }

  // ---------------------------------------------------------------- where a file is

  private repoOf(p: HfPath): HubRepoCache {
    return new HubRepoCache(this.cacheDir, p.repoType, p.repoId);
  }

  private offlineWhy(): string {
    return `offline mode (${HF_OFFLINE_ENV} or ${OFFLINE_ENV}) forbids asking the Hub`;
  }

  /** The commit a revision reads offline: a sha as given, a branch or tag from `refs/`. */
  private async offlineCommit(p: HfPath, name: string): Promise<string> {
    const revision = effectiveRevision(p);
    const commit = isCommitSha(revision) ? revision : await this.repoOf(p).readRef(revision);
    if (commit === undefined) {
      throw FsError.enoent(name, `revision '${revision}' of ${describeRepo(p)} is not in the Hugging Face cache at ${this.cacheDir}, and ${this.offlineWhy()}`);
    }
    return commit;
  }

  /** Record where a branch or tag points; best effort, as a read-only cache may refuse it. */
  private async recordRef(repo: HubRepoCache, revision: string, commit: string): Promise<void> {
    await repo.writeRef(revision, commit).catch(() => undefined);
  }

  /**
   * The snapshot path of `path` (under `snapshots/<commit>/`, as huggingface_hub returns it),
   * fetching the file first if needed. Progress goes to `callback` only when bytes move. With a
   * pin (`sha256`), a download that differs is EIO "checksum mismatch" and is not kept, and a
   * cached file that differs is EIO too (the Hub's file at that commit is not the pinned one).
   */
  async localPath(path: string, options: FetchOptions = {}): Promise<string> {
    checkPath("localPath", path);
    this.checkCall("localPath", options, FETCH_OPTIONS);
    const name = this.normalizePath(path);
    const expected = options.sha256 === undefined ? undefined : checkSha256(options.sha256, name);
    const pointer = await this.fetchPointer(name, { ...options, sha256: expected });
    if (expected !== undefined) {
      const actual = await this.sha256Of(pointer);
      if (actual !== expected) throw checksumMismatch(name, actual, expected, "the cached copy");
    }
    return pointer;
  }

  /**
   * The sha256 of a cached file's bytes: an LFS blob's name when the snapshot links to it (the
   * download checked it), else remembered for the size and mtime the file had when it was read
   * (or downloaded) here, else read. `rehash` always reads.
   */
  async sha256Of(localPath: string, options: { rehash?: boolean } = {}): Promise<string> {
    const real = await realpath(localPath);
    if (!options.rehash && real !== localPath && basename(dirname(real)) === "blobs" && LFS_BLOB_NAME.test(basename(real))) return basename(real);
    const st = await stat(real);
    const known = this.digests.get(real);
    if (!options.rehash && known && known.size === st.size && known.mtime === st.mtimeMs) return known.sha256;
    const hex = await fileSha256(real);
    this.digests.set(real, { size: st.size, mtime: st.mtimeMs, sha256: hex });
    return hex;
  }

  /** The snapshot path of `path` when the file can be read from the cache as it is (offline rules), never downloading. */
  async findCached(path: string): Promise<string | undefined> {
    checkPath("findCached", path);
    const name = this.normalizePath(path);
    const p = parseHfPath(name);
    if (p.path === "") return undefined;
    try {
      const pointer = this.repoOf(p).pointerPath(await this.offlineCommit(p, name), p.path);
      return (await fileSize(pointer)) === undefined ? undefined : pointer;
    } catch (err) {
      if (isFsError(err, "ENOENT")) return undefined;
      throw err;
    }
  }

  private async fetchPointer(name: string, options: FetchOptions): Promise<string> {
    const p = parseHfPath(name);
    if (p.path === "") throw FsError.eisdir(name, "is the root of a repository");
    const repo = this.repoOf(p);
    const revision = effectiveRevision(p);
    if (this.offline) {
      const commit = await this.offlineCommit(p, name);
      const pointer = repo.pointerPath(commit, p.path);
      if ((await fileSize(pointer)) === undefined) {
        throw FsError.enoent(name, `not in the Hugging Face cache at ${this.cacheDir} (commit ${commit}), and ${this.offlineWhy()}`);
      }
      return pointer;
    }
    // A commit already on disk needs no request at all.
    if (isCommitSha(revision)) {
      const pointer = repo.pointerPath(revision, p.path);
      if ((await fileSize(pointer)) !== undefined) return pointer;
    } else {
      const commit = await this.target.resolveCommit(name, { signal: options.signal });
      const pointer = repo.pointerPath(commit, p.path);
      if ((await fileSize(pointer)) !== undefined) {
        await this.recordRef(repo, revision, commit);
        return pointer;
      }
    }
    const file = await this.target.hubFile(name, { signal: options.signal });
    const pointer = repo.pointerPath(file.commit, file.path);
    // Keyed by the pin too: a caller never shares a download checked against another's pin (or none).
    // A slot is taken inside: callers joining a download in progress need none.
    return inflight.run(`${pointer}\0${options.sha256 ?? ""}`, options.signal, async (signal) => {
      const release = await this.downloadSlots?.acquire(signal, name);
      try {
        return await this.fetchLocked(repo, file, pointer, { ...options, signal });
      } finally {
        release?.();
      }
    });
  }

  /** fsspec's open_local: snapshot paths for one path or several. */
  openLocal(path: string, options?: FetchOptions): Promise<string>;
  openLocal(paths: readonly string[], options?: FetchOptions): Promise<string[]>;
  async openLocal(paths: string | readonly string[], options: FetchOptions = {}): Promise<string | string[]> {
    checkPaths("openLocal", paths, "paths");
    checkOptions("openLocal", options, FETCH_OPTIONS);
    if (typeof paths === "string") return this.localPath(paths, options);
    return (await mapBounded(paths, (p) => this.localPath(p, options), { concurrency: this.concurrency, signal: options.signal })) as string[];
  }

  private async fetchLocked(repo: HubRepoCache, file: HubFile, pointer: string, options: FetchOptions): Promise<string> {
    await repo.ensureDirs(file.commit, file.path);
    await this.recordRef(repo, file.revision, file.commit);
    const lock = await HubLock.acquire(repo.lockPath(file.etag), { signal: options.signal, timeoutMs: this.options.lockTimeoutMs });
    try {
      // Another process may have made it while we waited.
      if ((await fileSize(pointer)) !== undefined) return pointer;
      // Or cleared the repo's folders (a clear spares the lock holder's download only).
      await repo.ensureDirs(file.commit, file.path);
      const blob = repo.blobPath(file.etag);
      // A blob of the wrong size is damaged: fetched again, and replaced.
      const newBlob = (await fileSize(blob)) !== file.size;
      if (newBlob) {
        await repo.removeStaleIncomplete(file.etag, this.options.staleMs ?? DEFAULT_STALE_INCOMPLETE_MS);
        await this.download(repo, file, blob, options);
      }
      // A clear during the download removed the snapshot's folder, and spared only the download.
      if (newBlob) await mkdir(dirname(pointer), { recursive: true });
      await linkPointer(blob, pointer, { newBlob, useSymlinks: this.useSymlinks });
      return pointer;
    } finally {
      await lock.release();
    }
  }

  /** The blob, downloaded at its commit into a file of its own, checked, then renamed into place. */
  private async download(repo: HubRepoCache, file: HubFile, blob: string, options: FetchOptions): Promise<void> {
    const incomplete = repo.incompletePath(file.etag);
    const temp = await createLocalTemp(nodeFsPromises, incomplete, incomplete, { fsync: this.options.fsync });
    try {
      const done = await downloadTo(this.target, file.pinnedName, temp, {
        signal: options.signal,
        callback: options.callback,
        chunkSize: this.options.downloadChunkSize,
      });
      await temp.close();
      await this.checkBlob(file, done, incomplete);
      // A pinned download that is not the pinned file is never kept.
      if (options.sha256 !== undefined && done.sha256 !== options.sha256) throw checksumMismatch(file.name, done.sha256, options.sha256, "the download");
      await rename(incomplete, blob);
      const st = await stat(blob);
      this.digests.set(await realpath(blob), { size: st.size, mtime: st.mtimeMs, sha256: done.sha256 });
    } catch (err) {
      await temp.abort();
      // Named as asked for, not by the commit it was read at.
      throw isFsError(err) && err.path === file.pinnedName ? err.withPath(file.name) : err;
    }
  }

  /** The bytes must be the blob the Hub names: its size, and its sha256 (LFS) or git blob id. */
  private async checkBlob(file: HubFile, done: Downloaded, incomplete: string): Promise<void> {
    if (done.size !== file.size) throw new FsError("EIO", `download incomplete: got ${done.size} of ${file.size} bytes`, { path: file.name });
    const actual = file.lfs ? done.sha256 : await gitBlobId(incomplete, done.size);
    if (actual !== file.etag) {
      const kind = file.lfs ? "sha256" : "git blob id";
      throw new FsError("EIO", `download corrupt: its ${kind} is ${actual}, the Hub's is ${file.etag}`, { path: file.name });
    }
  }

  // ---------------------------------------------------------------- metadata

  protected override async _ls(path: string, options: SignalOptions): Promise<FileInfo[]> {
    if (!this.offline) return this.target.ls(path, { ...options, detail: true });
    const self = await this.offlineInfo(path);
    if (self.type === "file") return [self];
    const p = parseHfPath(path);
    const dir = await this.offlineLocation(p, path);
    const out: FileInfo[] = [];
    for (const [child, size] of (await listSnapshotDir(dir)) ?? []) {
      const name = formatHfPath({ ...p, path: p.path === "" ? child : `${p.path}/${child}` });
      out.push(size === null ? { name, size: 0, type: "directory" } : { name, size, type: "file" });
    }
    return out;
  }

  protected override async _info(path: string, options: SignalOptions): Promise<FileInfo> {
    return this.offline ? this.offlineInfo(path) : this.target.info(path, options);
  }

  /** The target's own one-request find when online; offline, a walk of the snapshot. */
  protected override async findInfos(path: string, options: FindOptions): Promise<Map<string, FileInfo>> {
    if (this.offline) return super.findInfos(path, options);
    return new Map(Object.entries(await this.target.find(path, { ...options, detail: true })));
  }

  override async ukey(path: string, options: SignalOptions = {}): Promise<string> {
    return this.offline ? super.ukey(path, options) : this.target.ukey(this.normalizePath(path), options);
  }

  /** Where `path` is in its cached snapshot (the snapshot folder for a repo root). */
  private async offlineLocation(p: HfPath, name: string): Promise<string> {
    const repo = this.repoOf(p);
    const commit = await this.offlineCommit(p, name);
    return p.path === "" ? repo.snapshotDir(commit) : repo.pointerPath(commit, p.path);
  }

  /** info from the cached snapshot alone: a cached file, or a folder of cached files. */
  private async offlineInfo(path: string): Promise<FileInfo> {
    const p = parseHfPath(path);
    const at = await this.offlineLocation(p, path);
    const size = await fileSize(at);
    if (size !== undefined) return { name: path, size, type: "file" };
    if ((await listSnapshotDir(at)) !== undefined) return { name: path, size: 0, type: "directory" };
    throw FsError.enoent(path, `not in the Hugging Face cache at ${this.cacheDir}, and ${this.offlineWhy()}`);
  }

  // ---------------------------------------------------------------- management

  /** Every file of the cache directory: snapshot files (with their blob's size and fetch time), other blobs, downloads in progress. */
  async listCache(): Promise<CachedFileInfo[]> {
    return listHubCache(this.cacheDir);
  }

  /** Bytes the cache directory takes: each blob once, however many snapshots link to it. */
  async cacheSize(): Promise<number> {
    return hubCacheSize(this.cacheDir);
  }

  /**
   * Remove every repo folder of the cache directory: blobs, snapshots, refs and extracted
   * archives; a download or extraction in progress (its lock held) keeps its file and finishes.
   */
  async clearCache(): Promise<void> {
    await clearHubCache(this.cacheDir, this.removalOptions);
  }

  /**
   * Remove snapshot files fetched more than `expiryMs` ago, each blob once no kept snapshot file
   * shows it (with its extracted folder), and idle `.incomplete` files as old (see hub-removal.ts).
   * Returns the hf:// paths (and cache-relative names of blobs, downloads and folders) removed.
   */
  async clearExpiredCache(options: ClearExpiredOptions = {}): Promise<string[]> {
    return pruneHubCache(this.cacheDir, checkExpiry(options, undefined), this.removalOptions);
  }

  private get removalOptions(): HubRemovalOptions {
    return { lockTimeoutMs: this.options.lockTimeoutMs, staleMs: this.options.staleMs };
  }

  // ---------------------------------------------------------------- extracted archives

  /**
   * The folder the archive `path` is extracted into, `<repo folder>/fsspec-ts-extracted/<key>`:
   * fetched first if needed (and checked against a pin), extracted once per blob (`<key>` is the
   * blob's name: two snapshots showing one blob share the folder; with copies instead of
   * symlinks, the copy's sha256) into a temporary folder renamed into place, under the key's
   * extraction lock (racing processes extract once). The folder is named by the bytes it came
   * from, so one that exists is current.
   */
  async ensureExtracted(path: string, options: ExtractOptions): Promise<string> {
    checkPath("ensureExtracted", path);
    this.checkCall("ensureExtracted", options, EXTRACT_OPTIONS);
    if (typeof options?.extract !== "function") throw FsError.einval("ensureExtracted: option 'extract' (the extractor) is needed", path);
    const name = this.normalizePath(path);
    const { extract, ...fetch } = options;
    const pointer = await this.localPath(name, fetch);
    const repo = this.repoOf(parseHfPath(name));
    // Both sides resolved: a cache folder reached through a symlink (a linked ~/.cache, macOS's
    // /var) still finds its blob by name.
    const blob = await realpath(pointer);
    const blobsDir = await realpath(dirname(repo.blobPath("x"))).catch(() => dirname(repo.blobPath("x")));
    const isBlob = dirname(blob) === blobsDir;
    const key = isBlob ? basename(blob) : await this.sha256Of(pointer);
    // The blob itself is read, not the snapshot's link to it: a clear removes links first, and
    // leaves a blob whose extraction runs (see hub-removal.ts).
    const archive = isBlob ? blob : pointer;
    const folder = repo.extractedPath(key);
    if (await isDir(folder)) return folder;
    return extracting.run(folder, options.signal, async (signal) => {
      await mkdir(repo.lockDir, { recursive: true });
      const lock = await HubLock.acquire(repo.extractLockPath(key), { signal, timeoutMs: this.options.lockTimeoutMs });
      try {
        if (await isDir(folder)) return folder;
        if ((await fileSize(archive)) === undefined) throw FsError.enoent(name, "the archive was removed from the cache while waiting to extract it");
        // Under the lock no extraction of this key runs: a temporary here is a killed run's.
        await removeExtractTemps(dirname(folder), key);
        const temp = `${folder}.${randomBytes(4).toString("hex")}.tmp`;
        await mkdir(temp, { recursive: true });
        try {
          await extract({ fs: this.storage.fs, archive, into: temp, signal });
          await rename(temp, folder);
        } catch (err) {
          await rm(temp, { recursive: true, force: true }).catch(() => undefined);
          throw isFsError(err) ? err : toFsError(err, folder);
        }
        return folder;
      } finally {
        await lock.release();
      }
    });
  }

  // ---------------------------------------------------------------- bytes

  protected override async _catFile(path: string, start: number, end: number | undefined, options: SignalOptions): Promise<Uint8Array> {
    const local = await this.localPath(path, { signal: options.signal });
    return this.storage.fs.catFile(local, start, end, options);
  }

  protected override async openForRead(path: string, options: FileOpenOptions): Promise<BufferedFile> {
    const local = await this.localPath(path, { signal: options.signal, callback: (options as FetchOptions).callback });
    const reader = await this.storage.openReader(relative(this.cacheDir, local));
    if (!reader) throw FsError.enoent(path, "the cached file vanished while opening it");
    return readableFile(path, reader.size, (start, end) => reader.read(start, end), options, {
      details: { name: path, size: reader.size, type: "file", localPath: local },
      ownedFetches: true,
      onClose: () => void reader.close().catch(() => undefined),
    });
  }
}
