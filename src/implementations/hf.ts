/**
 * The Hugging Face Hub as a read-only filesystem (`hf`):
 * `hf://[datasets/|spaces/]<namespace>/<repo>[@<revision>]/<path>`.
 *
 * Listings come from the Hub's tree API (paginated, kept in the listings cache); bytes come
 * from `resolve` URLs (LFS files redirect to a CDN) through the HTTP backend's client and its
 * checked, retried and resumable ranged downloads. Where `resolve` redirected is kept per file
 * and commit, so later reads of the file go to the CDN directly (see http/resolved-urls.ts). A
 * whole-file download (`streaming: true`, as the file cache opens) is one GET, its size and
 * digest from the answer: no listing. Each branch or tag is resolved to its commit once per
 * filesystem, and every later call reads that commit: one filesystem sees one snapshot of a
 * repo until `invalidateCache()`.
 * @module fsspec-ts/hf
 */
import { LruMap } from "../core/lru.js";
import { AbstractFileSystem } from "../core/abstract.js";
import { FsError, isFsError, toFsError } from "../core/errors.js";
import { SIGNAL_OPTIONS, type FileInfo, type FileSystemOptions, type FindOptions, type ProgressCallback, type SignalOptions } from "../core/types.js";
import { anyValue, checkPath, mergeSpecs, optionSpec, pickSpec } from "../core/validate.js";
import { sameVersion, versionChanged, type FileVersion, type PinnedReadOptions, type PinnedReads } from "../core/versions.js";
import { readableFile, type BufferedFile, type BinaryMode, type OpenMode, type TextMode } from "../files/buffered-file.js";
import { DEFAULT_BLOCK_SIZE } from "../files/read-caches.js";
import type { TextFile } from "../files/text-file.js";
import { HTTP_TRANSPORT_KEYS, HTTPFileSystem, STREAMING_OPEN_OPTIONS, PROGRESS_CALL_OPTIONS, type HTTPFileSystemOptions, type HttpCallOptions, type HttpOpenOptions, type HttpTransportOptions } from "./http.js";
import { discardBody, header } from "./http/client.js";
import { RangeDownload, type DownloadOptions, type RangeSpec, type Validators } from "./http/download.js";
import { transportFailure } from "./http/errors.js";
import { ResolvedUrls, refusedUrl } from "./http/resolved-urls.js";
import { backoffMs, sleep } from "./http/retry.js";
import { streamedFile } from "./http/stream-cache.js";
import type { ByteSink, DownloadToOptions } from "../files/byte-sink.js";
import { finishFromFirst, linkedAbort } from "../files/parallel-ranges.js";
import { hubError, nextLink, resolveUrl, revisionUrl, siblingFiles, treePage, treeUrl, type SiblingFile } from "./hf/api.js";
import { effectiveRevision, formatHfPath, isCommitSha, parseHfPath, pinKey, withPath, type HfPath, type HfRepoType } from "./hf/path.js";

export type { HfPath, HfRepoType } from "./hf/path.js";
export { parseHfPath, formatHfPath } from "./hf/path.js";

export interface HuggingFaceFileSystemOptions extends FileSystemOptions, HttpTransportOptions {
  /** The Hub's address (default: the `HF_ENDPOINT` environment variable, else https://huggingface.co). */
  endpoint?: string;
  /**
   * Sent as `Authorization: Bearer <token>` to the endpoint (never to other origins a download
   * redirects to). Default: the `HF_TOKEN` environment variable; `false` sends none.
   */
  token?: string | false;
}

/** The Hub's address unless `endpoint` or `HF_ENDPOINT` says otherwise. */
export const DEFAULT_HF_ENDPOINT = "https://huggingface.co";
/** A listing longer than this many pages is taken for a pagination loop. */
const MAX_PAGES = 100_000;

/** The environment variables the backend reads (at construction). */
function fromEnvironment(): { endpoint: string | undefined; token: string | undefined } {
  return { endpoint: process.env.HF_ENDPOINT || undefined, token: process.env.HF_TOKEN || undefined };
}

function checkEndpoint(value: unknown): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw FsError.einval(`endpoint must be an http(s) URL, got '${String(value)}'`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.search || url.hash) {
    throw FsError.einval(`endpoint must be an http(s) URL without query or fragment, got '${String(value)}'`);
  }
  return url.href.replace(/\/+$/, "");
}

/** Wait for a shared promise, giving up (EABORT) when the caller's signal fires. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, path: string): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new FsError("EABORT", undefined, { path, cause: signal.reason }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new FsError("EABORT", undefined, { path, cause: signal.reason }));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

interface Pin {
  commit: Promise<string>;
  at: number;
}

/** What the redirect of an LFS file's `resolve` says of it (X-Linked-Etag, X-Linked-Size). */
interface LinkedFile {
  sha256?: string;
  size?: number;
}

function linkedFile(headers: Record<string, string | string[] | undefined>): LinkedFile {
  const out: LinkedFile = {};
  const etag = header(headers, "x-linked-etag")?.replace(/^W\//, "").replace(/"/g, "");
  if (etag !== undefined && /^[0-9a-f]{64}$/.test(etag)) out.sha256 = etag;
  const size = header(headers, "x-linked-size");
  if (size !== undefined && /^\d+$/.test(size)) out.size = Number(size);
  return out;
}

/** A file's info from the answer to its download: its size, its git blob id (ETag) or LFS sha256 (the redirect's). */
function answeredInfo(name: string, download: RangeDownload, linked: LinkedFile): FileInfo {
  const info: FileInfo = { name, size: download.total ?? linked.size ?? null, type: "file" };
  if (linked.sha256 !== undefined) {
    info.lfs = { oid: linked.sha256, size: linked.size ?? info.size };
    info.sha256 = linked.sha256;
    return info;
  }
  const oid = download.etag?.replace(/^W\//, "").replace(/"/g, "");
  if (oid !== undefined && /^[0-9a-f]{40}$/.test(oid)) info.oid = oid;
  return info;
}

/** The key of a file at one commit (its content never changes). */
const fileKey = (p: HfPath, commit: string) => `${p.repoType}:${p.repoId}@${commit}/${p.path}`;

/** `open` takes HttpOpenOptions here (types only: the base's open does the work). */
export interface HuggingFaceFileSystem {
  open(path: string, mode: TextMode, options?: HttpOpenOptions): Promise<TextFile>;
  open(path: string, mode?: BinaryMode, options?: HttpOpenOptions): Promise<BufferedFile>;
  open(path: string, mode?: OpenMode, options?: HttpOpenOptions): Promise<BufferedFile | TextFile>;
}

/**
 * The Hugging Face Hub as a read-only filesystem
 * (`hf://[datasets/|spaces/]<namespace>/<repo>[@<revision>]/<path>`), each revision pinned to one
 * commit per instance. See docs/backends/hf.md.
 */
export class HuggingFaceFileSystem extends AbstractFileSystem implements PinnedReads {
  static override protocols = ["hf"] as const;
  static override rootMarker = "";
  static override secretOptions = ["token", "proxy", "dispatcher"];
  static override ownOptions = mergeSpecs(
    // Checked by the constructor; the HTTP ones are checked by the HTTP backend they go to.
    optionSpec<HuggingFaceFileSystemOptions, FileSystemOptions & HttpTransportOptions>({
      endpoint: anyValue,
      token: anyValue,
    }),
    pickSpec(HTTPFileSystem.ownOptions, HTTP_TRANSPORT_KEYS),
  );
  /**
   * `catFile` and `open` also take `callback` (download progress), `open` also `streaming`.
   * @internal
   */
  static override callOptions = { catFile: PROGRESS_CALL_OPTIONS, open: STREAMING_OPEN_OPTIONS };

  /** The canonical name of a path (see hf/path.ts); anything but a repo path is EINVAL. */
  static override stripProtocol(path: string): string {
    return formatHfPath(parseHfPath(path));
  }

  /** The Hub's base URL in use (`endpoint` option, else `HF_ENDPOINT`, else https://huggingface.co). */
  readonly endpoint: string;
  /** The HTTP backend whose client (retries, redirects, timeouts, resumes) does every request. */
  private readonly http: HTTPFileSystem;
  private readonly hasToken: boolean;
  /** Branch or tag -> the commit this filesystem reads, by repo and revision. */
  private readonly pins = new Map<string, Pin>();
  private readonly endpointOrigin: string;
  /** Where `resolve` redirected, per file at a commit, with what the redirect said of the file. */
  private readonly cdnUrls = new ResolvedUrls<LinkedFile>();
  /** The files of a model at a commit, from its revision answer (see fetchCommit); a few repos. */
  private readonly commitFiles = new LruMap<string, Map<string, SiblingFile>>({ max: 16 });

  constructor(options: HuggingFaceFileSystemOptions = {}) {
    super(options);
    const env = fromEnvironment();
    this.endpoint = checkEndpoint(options.endpoint ?? env.endpoint ?? DEFAULT_HF_ENDPOINT);
    this.endpointOrigin = new URL(this.endpoint).origin;
    const token = options.token === false ? undefined : (options.token ?? env.token);
    if (token !== undefined && (typeof token !== "string" || token === "")) throw FsError.einval("token must be a non-empty string or false");
    this.hasToken = token !== undefined;
    const http: Record<string, unknown> = { useListingsCache: false, skipInstanceCache: true };
    for (const key of HTTP_TRANSPORT_KEYS) if (options[key] !== undefined) http[key] = options[key];
    if (token !== undefined) http.auth = { bearer: token };
    this.http = new HTTPFileSystem(http as HTTPFileSystemOptions);
  }

  protected override get listsRemotely(): boolean {
    return true;
  }

  /** Close this instance's connections (do not use it afterwards); it leaves the instance cache. */
  override async close(): Promise<void> {
    await super.close();
    await this.http.close();
  }

  // ---------------------------------------------------------------- snapshots

  /**
   * The commit `p` reads: a sha as given, else its branch or tag resolved once (one request,
   * shared by concurrent callers) and kept until `invalidateCache` or `listingsExpiryMs`.
   */
  private async commitOf(p: HfPath, signal: AbortSignal | undefined): Promise<string> {
    const revision = effectiveRevision(p);
    if (isCommitSha(revision)) return revision;
    const key = pinKey(p);
    let pin = this.pins.get(key);
    const expiry = this.options.listingsExpiryMs ?? 0;
    if (pin && expiry > 0 && Date.now() - pin.at > expiry) {
      this.unpin(p);
      pin = undefined;
    }
    if (!pin) {
      const fresh: Pin = { commit: this.fetchCommit(p), at: Date.now() };
      this.pins.set(key, (pin = fresh));
      // A failure is not kept: the next call asks again.
      fresh.commit.catch(() => this.pins.get(key) === fresh && this.pins.delete(key));
    }
    const name = formatHfPath(p);
    try {
      return await abortable(pin.commit, signal, name);
    } catch (err) {
      throw isFsError(err) && err.path !== name && err.code !== "EABORT" ? err.withPath(name) : err;
    }
  }

  /**
   * The commit of `p`'s revision. A model's answer is asked with its files' metadata too
   * (`blobs=true`: model repos are small), kept per commit for `hubFile`, so a cache filling
   * itself file by file needs no listing; datasets and spaces, which may hold millions of files,
   * are asked for the commit alone.
   */
  private async fetchCommit(p: HfPath): Promise<string> {
    const repo = withPath(p, "");
    const blobs = p.repoType === "model";
    const { body } = await this.getJson(revisionUrl(this.endpoint, repo, blobs), repo, undefined);
    const sha = (body as { sha?: unknown } | null)?.sha;
    if (typeof sha !== "string" || !isCommitSha(sha)) {
      throw new FsError("EPROTO", "the Hub's revision answer has no commit sha", { path: formatHfPath(repo) });
    }
    const files = blobs ? siblingFiles(body) : undefined;
    if (files) this.commitFiles.set(`${p.repoType}:${p.repoId}@${sha}`, files);
    return sha;
  }

  /**
   * The commit `path`'s revision reads in this filesystem (a sha as given; a branch or tag
   * resolved once and pinned, as every call here does).
   */
  async resolveCommit(path: string, options: SignalOptions = {}): Promise<string> {
    checkPath("resolveCommit", path);
    this.checkCall("resolveCommit", options, SIGNAL_OPTIONS);
    return this.commitOf(parseHfPath(this.normalizePath(path)), options.signal);
  }

  /**
   * Where `path` is and what the Hub's own cache names it by: its commit (pinned as above), its
   * size and its blob name, the ETag `resolve` answers with (the LFS sha256 for LFS files, else
   * the git blob id; from the model's revision answer, else the tree listing, at that commit).
   * A directory is EISDIR.
   */
  async hubFile(path: string, options: SignalOptions = {}): Promise<HubFile> {
    checkPath("hubFile", path);
    this.checkCall("hubFile", options, SIGNAL_OPTIONS);
    const p = parseHfPath(this.normalizePath(path));
    if (p.path === "") throw FsError.eisdir(formatHfPath(p), "is the root of a repository");
    const commit = await this.commitOf(p, options.signal);
    const atCommit = formatHfPath({ ...p, revision: commit });
    // The revision answer's metadata, where it came with it; a path not in it (a directory,
    // nothing) is told apart by the listing.
    const known = this.commitFiles.get(`${p.repoType}:${p.repoId}@${commit}`)?.get(p.path);
    if (known) return hubFileOf(p, commit, atCommit, { name: atCommit, type: "file", ...known });
    let info: FileInfo;
    try {
      info = await this._info(atCommit, options);
    } catch (err) {
      throw isFsError(err) ? err.withPath(formatHfPath(p)) : err;
    }
    if (info.type === "directory") throw FsError.eisdir(formatHfPath(p));
    return hubFileOf(p, commit, atCommit, info);
  }

  /** Forget the commit of `p`'s repo and revision, and every listing read from it. */
  private unpin(p: HfPath): void {
    this.pins.delete(pinKey(p));
    const revision = effectiveRevision(p);
    // Both spellings of the default branch name listings of the same snapshot.
    const spellings = p.revision === undefined || revision === "main" ? [undefined, "main"] : [revision];
    for (const r of spellings) this.dircache?.invalidate(formatHfPath({ ...p, revision: r, path: "" }), this.rootMarker);
  }

  /** Also forgets pinned commits: the next call reads the branch's current commit. */
  override invalidateCache(path?: string): void {
    if (path === undefined) {
      this.pins.clear();
      this.cdnUrls.forget();
      super.invalidateCache();
      return;
    }
    this.unpin(parseHfPath(this.normalizePath(path)));
  }

  // ---------------------------------------------------------------- API calls

  /** A JSON GET of the Hub's API; a body that breaks off is fetched again like a failed request. */
  private async getJson(url: string, p: HfPath, signal: AbortSignal | undefined): Promise<{ body: unknown; next: string | undefined }> {
    const client = this.http.client;
    for (let attempt = 0; ; attempt++) {
      const res = await client.send(url, { signal, headers: { accept: "application/json" } }).catch((err: unknown) => {
        throw toFsError(err).withPath(formatHfPath(p));
      });
      if (res.status !== 200) {
        discardBody(res.body);
        throw hubError(res.status, header(res.headers, "x-error-code"), p, this.hasToken);
      }
      let text: string;
      try {
        text = await res.body.text();
      } catch (err) {
        const failure = transportFailure(err, url, signal);
        if (!failure.retryable || attempt >= client.options.retries) throw failure.error.withPath(formatHfPath(p));
        await sleep(backoffMs(client.options, attempt), signal, formatHfPath(p));
        continue;
      }
      try {
        return { body: JSON.parse(text), next: nextLink(header(res.headers, "link")) };
      } catch (err) {
        throw new FsError("EPROTO", "the Hub answered with malformed JSON", { path: formatHfPath(p), cause: err });
      }
    }
  }

  /** Every page of one directory's tree listing at `commit` (with `recursive`, everything below it). */
  private async listTree(p: HfPath, commit: string, signal: AbortSignal | undefined, recursive = false): Promise<FileInfo[]> {
    const out: FileInfo[] = [];
    const seen = new Set<string>();
    let url: string | undefined = treeUrl(this.endpoint, p, commit, recursive);
    while (url !== undefined) {
      if (seen.has(url) || seen.size >= MAX_PAGES) throw new FsError("EPROTO", "the Hub's tree pagination does not end", { path: formatHfPath(p) });
      seen.add(url);
      const page: { body: unknown; next: string | undefined } = await this.getJson(url, p, signal);
      out.push(...treePage(page.body, p, recursive));
      url = page.next === undefined ? undefined : this.samePlace(page.next, url, p);
    }
    return out;
  }

  /** A next-page link, which must stay on the endpoint's origin (the token goes with it). */
  private samePlace(link: string, base: string, p: HfPath): string {
    let next: URL;
    try {
      next = new URL(link, base);
    } catch {
      throw new FsError("EPROTO", "the Hub's next-page link is not a URL", { path: formatHfPath(p) });
    }
    if (next.origin !== this.endpointOrigin) {
      throw new FsError("EPROTO", "the Hub's next-page link leaves the endpoint's origin; not following it", { path: formatHfPath(p) });
    }
    return next.href;
  }

  // ---------------------------------------------------------------- metadata

  /** A directory of the repo (tree API); a file gives `[itself]`. */
  protected override async _ls(path: string, options: SignalOptions): Promise<FileInfo[]> {
    const p = parseHfPath(path);
    const commit = await this.commitOf(p, options.signal);
    let listing: FileInfo[];
    try {
      listing = await this.listTree(p, commit, options.signal);
    } catch (err) {
      // The tree of a file is "not found": the file is in its parent's listing.
      if (!isFsError(err, "ENOENT") || p.path === "") throw err;
      return [await this.fileItself(path, p, options)];
    }
    // Git has no empty directories: an empty answer for a path names a file (or nothing).
    if (listing.length === 0 && p.path !== "") return [await this.fileItself(path, p, options)];
    return listing;
  }

  /** `path` as a file, from its parent's listing; ENOENT (naming the missing part) otherwise. */
  private async fileItself(path: string, p: HfPath, options: SignalOptions): Promise<FileInfo> {
    const info = await this._info(path, options);
    if (info.type !== "file") throw hubError(404, "EntryNotFound", p, this.hasToken);
    return info;
  }

  /** The entry of `path` in its parent's (cached) listing. */
  private async entryOf(path: string, options: SignalOptions): Promise<FileInfo | undefined> {
    const listing = await this.listDir(this.parent(path), options);
    return listing.find((e) => e.name === path);
  }

  protected override async _info(path: string, options: SignalOptions): Promise<FileInfo> {
    const p = parseHfPath(path);
    if (p.path === "") {
      await this.commitOf(p, options.signal);
      return { name: path, size: 0, type: "directory" };
    }
    let entry: FileInfo | undefined;
    try {
      entry = await this.entryOf(path, options);
    } catch (err) {
      // A missing parent names itself in the message; the error is about this path.
      throw isFsError(err) && err.path !== path ? err.withPath(path) : err;
    }
    if (!entry) throw hubError(404, "EntryNotFound", p, this.hasToken);
    return entry;
  }

  /**
   * Without maxDepth: one recursive tree listing (paginated) instead of one listing per
   * directory. The directory listings it holds go to the listings cache, whole, for later calls.
   */
  protected override async findInfos(path: string, options: FindOptions): Promise<Map<string, FileInfo>> {
    if (options.maxDepth !== undefined) return super.findInfos(path, options);
    const p = parseHfPath(path);
    let below: FileInfo[];
    try {
      below = await this.listTree(p, await this.commitOf(p, options.signal), options.signal, true);
    } catch (err) {
      if (!isFsError(err, "ENOENT")) throw err;
      if (p.path === "") return new Map();
      below = [];
    }
    // A file, or nothing: the per-directory walk answers that (as for every backend).
    if (below.length === 0 && p.path !== "") return super.findInfos(path, options);
    if (this.dircache) {
      const listings = new Map<string, FileInfo[]>([[path, []]]);
      for (const info of below) if (info.type === "directory") listings.set(info.name, []);
      for (const info of below) listings.get(this.parent(info.name))?.push(info);
      for (const [dir, listing] of listings) this.dircache.set(dir, listing);
    }
    const out = new Map<string, FileInfo>();
    if (options.withDirs) {
      const stub: FileInfo = { name: path, size: 0, type: "directory" };
      out.set(path, options.detail ? await this._info(path, options).catch(() => stub) : stub);
    }
    for (const info of below) if (info.type !== "directory" || options.withDirs) out.set(info.name, info);
    return out;
  }

  /** The file's version: its LFS sha256, else its git blob id. Stable for a given content. */
  override async ukey(path: string, options: SignalOptions = {}): Promise<string> {
    const info = await this.info(path, options);
    const oid = (info.lfs as { oid?: unknown } | undefined)?.oid ?? info.oid;
    return typeof oid === "string" && oid !== "" ? oid : super.ukey(path, options);
  }

  // ---------------------------------------------------------------- bytes

  /** The file `path` names and the commit it is read at (EISDIR for a repo's root). */
  private async fileAt(path: string, signal: AbortSignal | undefined): Promise<{ p: HfPath; commit: string }> {
    const p = parseHfPath(path);
    if (p.path === "") throw FsError.eisdir(path, "is the root of a repository");
    return { p, commit: await this.commitOf(p, signal) };
  }

  /**
   * A download through `resolve`; where it redirects (an LFS file's CDN URL) is kept, with
   * what the redirect says of the file, for later reads of the same file at that commit.
   */
  private async resolved(p: HfPath, commit: string, range: RangeSpec, options: DownloadOptions): Promise<{ download: RangeDownload; linked: LinkedFile }> {
    const url = resolveUrl(this.endpoint, p, commit);
    const linked: LinkedFile = {};
    let hops = 0;
    const onRedirect: DownloadOptions["onRedirect"] = (_status, headers) => {
      if (hops++ === 0) Object.assign(linked, linkedFile(headers));
    };
    const download = await RangeDownload.open(this.http.client, url, range, { ...options, onRedirect });
    if (download.finalUrl !== undefined && download.finalUrl.href !== new URL(url).href) this.cdnUrls.set(fileKey(p, commit), download.finalUrl.href, linked);
    return { download, linked };
  }

  /**
   * Bytes [start, end) of the file at `commit`: from the CDN URL kept for it (no Hub request;
   * the token only goes to the Hub's own origin), else through `resolve`. A kept URL that storage
   * refuses (expired) is dropped and the file resolved once more.
   */
  private async readRange(p: HfPath, commit: string, start: number, end: number | undefined, options: DownloadOptions): Promise<{ download: RangeDownload; bytes: Uint8Array }> {
    const key = fileKey(p, commit);
    const kept = this.cdnUrls.get(key);
    if (kept) {
      try {
        const download = await this.openKept(kept.url, start, end, options);
        return { download, bytes: await download.readAll() };
      } catch (err) {
        if (!refusedUrl(err)) throw err;
        this.cdnUrls.drop(key, kept.url);
      }
    }
    const { download } = await this.resolved(p, commit, { start, end }, options);
    return { download, bytes: await download.readAll() };
  }

  /** A ranged GET of a kept CDN URL, without the token where the CDN is another origin. */
  private openKept(url: string, start: number, end: number | undefined, options: DownloadOptions): Promise<RangeDownload> {
    const anonymous = new URL(url).origin !== this.endpointOrigin;
    return RangeDownload.open(this.http.client, url, { start, end }, { ...options, anonymous });
  }

  /**
   * One GET from byte 0 through `resolve` (the size and version from its answer, as a streamed
   * open has them); for a large file into a positioned sink, parts of its tail go as parallel
   * ranges of the CDN URL it redirected to where that pays, pinned to the first answer's ETag.
   * @internal
   */
  protected override async _downloadTo(path: string, sink: ByteSink, options: DownloadToOptions): Promise<FileInfo> {
    const signal = options.signal;
    const { p, commit } = await this.fileAt(path, signal);
    const onBytes = options.onBytes;
    const callback: ProgressCallback | undefined = onBytes ? { relativeUpdate: (n) => onBytes(n) } : undefined;
    const stop = linkedAbort(signal);
    try {
      const first = await this.resolved(p, commit, { start: 0 }, { signal: stop.signal, callback });
      const { download } = first;
      const listed = this.dircache?.get(this.parent(path))?.find((e) => e.name === path);
      const info = listed?.type === "file" ? listed : answeredInfo(path, download, first.linked);
      options.onInfo?.(download.total === undefined ? info : { ...info, size: download.total });
      const expect: Validators = { etag: download.etag, lastModified: download.lastModified, size: download.total };
      const partUrl = download.finalUrl?.href ?? resolveUrl(this.endpoint, p, commit);
      await finishFromFirst(download, 0, download.total, sink, this.http.downloads, stop.controller, (start, end, partSignal) =>
        this.openKept(partUrl, start, end, { signal: partSignal, callback, expect }),
      );
      await sink.flush();
      return info;
    } catch (err) {
      throw await this.readError(err, path, { signal });
    } finally {
      stop.dispose();
    }
  }

  /** A failed read named by its hf path; a "not found" is explained by the listing (which part is missing, or a directory). */
  private async readError(err: unknown, path: string, options: SignalOptions): Promise<FsError> {
    const e = toFsError(err);
    if (e.status === 401 || e.status === 403) return hubError(e.status, undefined, parseHfPath(path), this.hasToken);
    if (e.code !== "ENOENT") return e.path === path ? e : e.withPath(path);
    let info: FileInfo;
    try {
      info = await this._info(path, options);
    } catch (why) {
      return toFsError(why);
    }
    if (info.type === "directory") return FsError.eisdir(path);
    return e.withPath(path);
  }

  protected override async _catFile(path: string, start: number, end: number | undefined, options: HttpCallOptions): Promise<Uint8Array> {
    const { p, commit } = await this.fileAt(path, options.signal);
    if (end !== undefined && end <= start) return new Uint8Array(0);
    try {
      return (await this.readRange(p, commit, start, end, { signal: options.signal, callback: options.callback })).bytes;
    } catch (err) {
      throw await this.readError(err, path, options);
    }
  }

  /** What a read can be pinned to: the file's oid (LFS sha256, else git blob id) and size. */
  async fileVersion(path: string, options: SignalOptions = {}): Promise<FileVersion> {
    return versionOfInfo(await this.info(path, options));
  }

  /**
   * Bytes at the pinned commit, whose content never changes, once its listing shows the file
   * at `options.version`; a commit that moved meanwhile (its pin expired) is ECHANGED too.
   */
  async catFilePinned(path: string, start: number, end: number, options: PinnedReadOptions): Promise<Uint8Array> {
    const p = this.normalizePath(path);
    const commit = await this.commitOf(parseHfPath(p), options.signal);
    if (!sameVersion(versionOfInfo(await this._info(p, { signal: options.signal })), options.version)) throw versionChanged(p);
    const data = await this._catFile(p, start, end, { signal: options.signal });
    if ((await this.commitOf(parseHfPath(p), options.signal)) !== commit) throw versionChanged(p, "the revision moved");
    return data;
  }

  /**
   * A seekable file over ranged reads of the pinned commit. The first answer's ETag and the
   * listed size pin the version: a later block from anything else fails with ECHANGED.
   */
  protected override async openForRead(path: string, options: HttpOpenOptions): Promise<BufferedFile> {
    if (options.streaming === true) return this.openStreamed(path, options);
    const info = options.size === undefined ? await this._info(path, { signal: options.signal }) : undefined;
    if (info?.type === "directory") throw FsError.eisdir(path);
    const size = options.size ?? info?.size ?? null;
    if (size === null) throw FsError.enotsup("cannot open a file of unknown size for random access", path);
    const { p, commit } = await this.fileAt(path, options.signal);
    const signal = options.signal;
    const callback = options.callback;
    callback?.setSize?.(size);
    const progress: ProgressCallback | undefined = callback?.relativeUpdate ? { relativeUpdate: (n) => callback.relativeUpdate!(n) } : undefined;
    const expect: Validators = { size };
    const fetcher = async (start: number, end: number): Promise<Uint8Array> => {
      if (end <= start) return new Uint8Array(0);
      try {
        const { download, bytes } = await this.readRange(p, commit, start, end, { signal, callback: progress, expect });
        if (expect.etag === undefined && expect.lastModified === undefined) {
          expect.etag = download.etag;
          expect.lastModified = download.lastModified;
        }
        return bytes;
      } catch (err) {
        throw await this.readError(err, path, { signal });
      }
    };
    // Each fetch is a fresh buffer (readAll allocates it), so the read cache may hand it on.
    return readableFile(path, size, fetcher, options, { details: info ?? {}, ownedFetches: true });
  }

  /**
   * A forward-only file over one GET from byte 0 (a whole-file download): its size and its
   * version (git blob id, or the LFS sha256 the redirect states) come from the answer, or from
   * a listing already cached; no listing is asked for.
   */
  private async openStreamed(path: string, options: HttpOpenOptions): Promise<BufferedFile> {
    const { p, commit } = await this.fileAt(path, options.signal);
    const signal = options.signal;
    const callback = options.callback;
    const progress: ProgressCallback | undefined = callback?.relativeUpdate ? { relativeUpdate: (n) => callback.relativeUpdate!(n) } : undefined;
    let first: { download: RangeDownload; linked: LinkedFile };
    try {
      first = await this.resolved(p, commit, { start: 0 }, { signal, callback: progress });
    } catch (err) {
      throw await this.readError(err, path, { signal });
    }
    const { download } = first;
    const listed = this.dircache?.get(this.parent(path))?.find((e) => e.name === path);
    const details = listed?.type === "file" ? listed : answeredInfo(path, download, first.linked);
    const size = download.total ?? details.size;
    if (size !== null) callback?.setSize?.(size);
    const reopen = async (start: number, expect: Validators) => (await this.resolved(p, commit, { start }, { signal, callback: progress, expect })).download;
    return streamedFile(path, download, details, options.blockSize ?? DEFAULT_BLOCK_SIZE, reopen);
  }
}

/** A file at one commit, as the Hub's cache layout names it (see `hubFile`). */
export interface HubFile {
  /** The kind of repository. */
  repoType: HfRepoType;
  /** `namespace/name`. */
  repoId: string;
  /** The revision the path asked for (`main` when none was written). */
  revision: string;
  /** The commit the revision resolved to (40 hex). */
  commit: string;
  /** The path inside the repo. */
  path: string;
  /** The file's name as it was asked for (`org/repo/a.bin`), for messages. */
  name: string;
  /** The same file named at its commit: reading it never sees another commit. */
  pinnedName: string;
  /** The blob's name: the LFS sha256 (64 hex) or the git blob id (40 hex). */
  etag: string;
  /** Bytes. */
  size: number;
  /** Whether the file lives in LFS (then `etag` is the sha256 of its bytes). */
  lfs: boolean;
}

function hubFileOf(p: HfPath, commit: string, pinnedName: string, info: FileInfo): HubFile {
  const lfs = (info.lfs as { oid?: unknown } | undefined)?.oid;
  const etag = typeof lfs === "string" ? lfs : info.oid;
  const valid = typeof etag === "string" && (typeof lfs === "string" ? /^[0-9a-f]{64}$/ : /^[0-9a-f]{40}$/).test(etag);
  if (!valid || typeof info.size !== "number") {
    throw new FsError("EPROTO", "the Hub's listing gives this file no usable oid or size", { path: formatHfPath(p) });
  }
  return {
    repoType: p.repoType, repoId: p.repoId, revision: effectiveRevision(p), commit, path: p.path, name: formatHfPath(p), pinnedName,
    etag, size: info.size, lfs: typeof lfs === "string",
  };
}

function versionOfInfo(info: FileInfo): FileVersion {
  if (info.type === "directory") throw FsError.eisdir(info.name);
  const oid = (info.lfs as { oid?: unknown } | undefined)?.oid ?? info.oid;
  return typeof oid === "string" && oid !== "" ? { size: info.size, key: oid } : { size: info.size };
}
