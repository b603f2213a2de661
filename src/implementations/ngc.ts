/**
 * The NGC model registry as a read-only filesystem (`ngc`):
 * `ngc://models/[<org>/[<team>/]]<name>@<version>[/<path>]`.
 *
 * A file's bytes come from a presigned URL that the registry's file lookup hands out; it is
 * read with the HTTP backend's machinery (ranged GETs, checks, retries, resume, ECHANGED). URLs
 * are kept and reused until their signature expires or storage refuses one, then looked up
 * afresh once (see http/resolved-urls.ts). A whole-file download (`streaming: true`, as the file
 * cache opens) is the lookup and one GET, its size and ETag from the answer. Listings come from the older per-version listing endpoint (one request per
 * version, kept in the listings cache); without it, files are still found one by one.
 * With an API key, the registry is asked with a bearer token (cached until it expires,
 * fetched again once on a 401). Neither the key nor a token appears in any error.
 * @module fsspec-ts/ngc
 */
import { createHash } from "node:crypto";
import { AbstractFileSystem } from "../core/abstract.js";
import { FsError, isFsError } from "../core/errors.js";
import { isInside, parentOf } from "../core/paths.js";
import type { FileInfo, FileSystemOptions, ProgressCallback, SignalOptions, SignOptions } from "../core/types.js";
import { anyValue, mergeSpecs, optionSpec, pickSpec } from "../core/validate.js";
import type { FileVersion, PinnedReadOptions, PinnedReads } from "../core/versions.js";
import { readableFile, type BufferedFile, type BinaryMode, type OpenMode, type TextMode } from "../files/buffered-file.js";
import { DEFAULT_BLOCK_SIZE } from "../files/read-caches.js";
import type { TextFile } from "../files/text-file.js";
import { HTTP_TRANSPORT_KEYS, HTTPFileSystem, STREAMING_OPEN_OPTIONS, type HTTPFileSystemOptions, type HttpOpenOptions, type HttpTransportOptions } from "./http.js";
import { discardBody, type HttpClient } from "./http/client.js";
import { RangeDownload, type DownloadOptions, type Validators } from "./http/download.js";
import type { ByteSink, DownloadToOptions } from "../files/byte-sink.js";
import { finishFromFirst, linkedAbort } from "../files/parallel-ranges.js";
import { statusError } from "./http/errors.js";
import { refusedUrl, ResolvedUrls } from "./http/resolved-urls.js";
import { streamedFile } from "./http/stream-cache.js";
import {
  baseWithSlash,
  buildTree,
  DEFAULT_AUTH_URL,
  DEFAULT_BASE_URL,
  fileLookupUrl,
  listingUrl,
  NGC_ENV,
  parseFileUrls,
  parseListing,
  statusDescription,
  type ListedFile,
  type PackageTree,
} from "./ngc/api.js";
import { TokenSource } from "./ngc/auth.js";
import { formatNgcPath, packageName, parseNgcPath, type NgcPath } from "./ngc/grammar.js";
import { abortable, readErrorJson, readJson } from "./ngc/json.js";

export { parseNgcPath, formatNgcPath, type NgcPath } from "./ngc/grammar.js";

export interface NGCFileSystemOptions extends FileSystemOptions, HttpTransportOptions {
  /** The registry's API (default `NGC_CLI_SEARCH_SERVICE_URL`, else https://api.ngc.nvidia.com/). */
  baseUrl?: string;
  /** The token service (default https://authn.nvidia.com/). */
  authUrl?: string;
  /** API key (default `NGC_CLI_API_KEY`); `null` or "" means anonymous whatever the environment says. */
  apiKey?: string | null;
  /** Org for tokens when a path names none (default `NGC_CLI_ORG`). */
  org?: string;
  /** Team for tokens when a path names no org (default `NGC_CLI_TEAM`). */
  team?: string;
}

/** Pages of one listing followed at most. */
const MAX_LISTING_PAGES = 10_000;

const env = (name: string): string | undefined => process.env[name] || undefined;

/** A listing the registry answered but cannot give (4xx, odd JSON): files are looked up one by one. */
function listingUnavailable(err: unknown): boolean {
  if (!isFsError(err)) return false;
  const s = err.status;
  return err.code === "EPROTO" || (s !== undefined && s >= 400 && s < 500 && s !== 408 && s !== 429);
}

/** An org or team setting: a `[\w-]+` word, or undefined when empty. */
function owner(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string" || !/^[\w-]+$/.test(value)) throw FsError.einval(`${what} must be a word of letters, digits, '_' or '-'`);
  return value;
}

/** The same failure, reported for the NGC name instead of the presigned URL. */
function forName(err: unknown, name: string): unknown {
  if (!(err instanceof FsError)) return err;
  return err.withPath(name);
}

/** `open` takes HttpOpenOptions here (types only: the base's open does the work). */
export interface NGCFileSystem {
  open(path: string, mode: TextMode, options?: HttpOpenOptions): Promise<TextFile>;
  open(path: string, mode?: BinaryMode, options?: HttpOpenOptions): Promise<BufferedFile>;
  open(path: string, mode?: OpenMode, options?: HttpOpenOptions): Promise<BufferedFile | TextFile>;
}

/**
 * The NVIDIA NGC model registry as a read-only filesystem
 * (`ngc://models/[<org>/[<team>/]]<name>@<version>[/<path>]`). See docs/backends/ngc.md.
 */
export class NGCFileSystem extends AbstractFileSystem implements PinnedReads {
  static override protocols = ["ngc"] as const;
  static override rootMarker = "";
  static override secretOptions = ["apiKey", "proxy", "dispatcher"];
  static override ownOptions = mergeSpecs(
    // Checked by the constructor; the transport ones are checked by the HTTP backend they go to.
    optionSpec<NGCFileSystemOptions, FileSystemOptions & HttpTransportOptions>({ baseUrl: anyValue, authUrl: anyValue, apiKey: anyValue, org: anyValue, team: anyValue }),
    pickSpec(HTTPFileSystem.ownOptions, HTTP_TRANSPORT_KEYS),
  );
  /**
   * `open` also takes `callback` (download progress) and `streaming`.
   * @internal
   */
  static override callOptions = { open: STREAMING_OPEN_OPTIONS };

  /** The canonical name: `models/[org/[team/]]name@version[/path]`; anything else is EINVAL. */
  static override stripProtocol(path: string): string {
    return formatNgcPath(parseNgcPath(path));
  }

  /**
   * The registry API's base URL in use (`baseUrl` option, else `NGC_CLI_SEARCH_SERVICE_URL`, else
   * https://api.ngc.nvidia.com/).
   */
  readonly baseUrl: string;
  /** The token service's base URL in use (`authUrl` option, else https://authn.nvidia.com/). */
  readonly authUrl: string;
  private readonly http: HTTPFileSystem;
  private readonly tokens: TokenSource | undefined;
  private readonly org: string | undefined;
  private readonly team: string | undefined;
  /** Presigned URLs by NGC name, reused until they expire or are refused. */
  private readonly urls = new ResolvedUrls();
  private readonly resolving = new Map<string, Promise<string>>();
  private readonly listing = new Map<string, Promise<PackageTree>>();
  /** Packages whose listing the registry would not give (kept like listings: until invalidated). */
  private readonly unlisted = new Map<string, FsError>();

  constructor(options: NGCFileSystemOptions = {}) {
    super(options);
    this.baseUrl = baseWithSlash(options.baseUrl ?? env(NGC_ENV.baseUrl) ?? DEFAULT_BASE_URL, "baseUrl");
    this.authUrl = baseWithSlash(options.authUrl ?? DEFAULT_AUTH_URL, "authUrl");
    // An option given (even null or "") wins over the environment.
    const apiKey = options.apiKey === undefined ? env(NGC_ENV.apiKey) : options.apiKey || undefined;
    if (apiKey !== undefined && typeof apiKey !== "string") throw FsError.einval("apiKey must be a string");
    this.org = owner(options.org === undefined ? env(NGC_ENV.org) : options.org, "org");
    this.team = owner(options.team === undefined ? env(NGC_ENV.team) : options.team, "team");
    const transport: HTTPFileSystemOptions = { skipInstanceCache: true, useListingsCache: false };
    for (const k of HTTP_TRANSPORT_KEYS) if (options[k] !== undefined) (transport as Record<string, unknown>)[k] = options[k];
    this.http = new HTTPFileSystem(transport);
    this.tokens = apiKey ? new TokenSource(this.client, this.authUrl, apiKey) : undefined;
  }

  protected override get listsRemotely(): boolean {
    return true;
  }

  private get client(): HttpClient {
    return this.http.client;
  }

  /** Close the connections of this instance (do not use it afterwards); it leaves the instance cache. */
  override async close(): Promise<void> {
    await super.close();
    await this.http.close();
  }

  override invalidateCache(path?: string): void {
    super.invalidateCache(path);
    const scope = path === undefined ? undefined : this.normalizePath(path);
    const hit = (key: string) => scope === undefined || isInside(key, scope) || isInside(scope, key);
    for (const key of [...this.unlisted.keys()]) if (hit(key)) this.unlisted.delete(key);
    this.urls.forget(hit);
  }

  // ---------------------------------------------------------------- the registry's API

  /** Org and team a token is asked for, or undefined when requests go out anonymously. */
  private scopeOf(p: NgcPath): { org: string; team: string | undefined } | undefined {
    if (!this.tokens) return undefined;
    const org = p.org ?? this.org;
    if (org === undefined) return undefined;
    return { org, team: p.org !== undefined ? p.team : this.team };
  }

  /** GET a JSON answer of the registry, with a token when there is a key; one retry on a 401. */
  private async apiGet(p: NgcPath, url: string, name: string, what: string, signal?: AbortSignal): Promise<unknown> {
    const scope = this.scopeOf(p);
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: "application/json" };
      const token = scope && (await this.tokens!.get(scope.org, scope.team, name, signal));
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      const res = await this.client.send(url, { headers, signal });
      if (res.status === 200) return readJson(res, name, signal);
      if (res.status === 401 && token !== undefined && attempt === 0) {
        // Expired or revoked before we thought: one more try with a new token.
        discardBody(res.body);
        this.tokens!.drop(scope!.org, scope!.team, token);
        continue;
      }
      const said = statusDescription(await readErrorJson(res, name));
      const base = statusError(res.status, name, res.statusText);
      const hint = base.code !== "EACCES" || scope ? ""
        : this.tokens ? `; a token needs an org: name it in the path or set ${NGC_ENV.org} (or the org option)`
        : `; private models need an API key (${NGC_ENV.apiKey} or the apiKey option)`;
      const failed = base.code !== "ENOENT" ? `NGC ${what} failed`
        : what === "listing" ? "NGC has no such model version, or no listing of it"
        : "NGC has no such model, version or file";
      throw new FsError(base.code, `${failed} (HTTP ${res.status})${said ? `: ${said}` : ""}${hint}`, { path: name, status: res.status });
    }
  }

  /** The presigned download URL of a file: kept, or looked up (one lookup per file at a time). */
  private async fileUrl(p: NgcPath, name: string, signal: AbortSignal | undefined, refused?: string): Promise<{ url: string; kept: boolean }> {
    const kept = this.urls.get(name)?.url;
    if (kept !== undefined && kept !== refused) return { url: kept, kept: true };
    let pending = this.resolving.get(name);
    if (!pending) {
      const url = fileLookupUrl(this.baseUrl, p, p.path, this.scopeOf(p) !== undefined);
      // Shared by every caller, so no one caller's signal may cancel it: each waits with its own.
      pending = this.apiGet(p, url, name, "file lookup").then((json) => parseFileUrls(json, url, name));
      pending.finally(() => this.resolving.delete(name)).catch(() => undefined);
      this.resolving.set(name, pending);
    }
    const resolved = await abortable(pending, signal, name);
    this.urls.set(name, resolved, undefined);
    return { url: resolved, kept: false };
  }

  /**
   * Run `read` on the file's presigned URL. A kept URL that storage refuses (expired) is
   * dropped and the file looked up again, once; errors name the NGC path, not the URL.
   */
  private async withUrl<T>(p: NgcPath, name: string, signal: AbortSignal | undefined, read: (url: string) => Promise<T>): Promise<T> {
    let refused: string | undefined;
    for (let attempt = 0; ; attempt++) {
      const { url, kept } = await this.fileUrl(p, name, signal, refused);
      try {
        return await read(url);
      } catch (err) {
        if (attempt === 0 && kept && refusedUrl(err)) {
          refused = url;
          this.urls.drop(name, url);
          continue;
        }
        throw forName(err, name);
      }
    }
  }

  /** Bytes [start, end) through the HTTP download machinery. */
  private fetchRange(p: NgcPath, name: string, start: number, end: number | undefined, options: DownloadOptions): Promise<Uint8Array> {
    if (end !== undefined && end <= start) return Promise.resolve(new Uint8Array(0));
    return this.withUrl(p, name, options.signal, async (url) => {
      const download = await RangeDownload.open(this.client, url, { start, end }, options);
      const bytes = await download.readAll();
      // Later reads of an opened file must come from the same version.
      if (options.expect && options.expect.etag === undefined && download.etag !== undefined) options.expect.etag = download.etag;
      return bytes;
    });
  }

  /** A file's info from its download (the first byte gives size and ETag); for unlisted packages. */
  private async lookupInfo(p: NgcPath, name: string, signal?: AbortSignal): Promise<FileInfo> {
    if (p.path === "") throw FsError.eisdir(name);
    return this.withUrl(p, name, signal, async (url) => {
      const probe = await RangeDownload.open(this.client, url, { start: 0, end: 1 }, { signal });
      await probe.readAll();
      const info: FileInfo = { name, size: probe.total ?? null, type: "file" };
      if (probe.etag !== undefined) info.etag = probe.etag;
      return info;
    });
  }

  /** Every file of a version (all pages), as directory listings put into the listings cache. */
  private tree(p: NgcPath, signal?: AbortSignal): Promise<PackageTree> {
    const root = packageName(p);
    const known = this.unlisted.get(root);
    if (known) return Promise.reject(known);
    let pending = this.listing.get(root);
    if (!pending) {
      pending = this.fetchTree(p, root);
      pending.finally(() => this.listing.delete(root)).catch(() => undefined);
      this.listing.set(root, pending);
    }
    return abortable(pending, signal, root);
  }

  private async fetchTree(p: NgcPath, root: string): Promise<PackageTree> {
    let tree: PackageTree;
    try {
      const first = parseListing(await this.apiGet(p, listingUrl(this.baseUrl, p), root, "listing"), root);
      const files: ListedFile[] = [...first.files];
      for (let page = 1; page < Math.min(first.pages, MAX_LISTING_PAGES); page++) {
        files.push(...parseListing(await this.apiGet(p, listingUrl(this.baseUrl, p, page), root, "listing"), root).files);
      }
      tree = buildTree(root, files);
    } catch (err) {
      if (this.dircache && listingUnavailable(err)) this.unlisted.set(root, err as FsError);
      throw err;
    }
    for (const [rel, entries] of tree.dirs) this.dircache?.set(rel === "" ? root : `${root}/${rel}`, entries);
    return tree;
  }

  // ---------------------------------------------------------------- primitives

  protected override async _ls(path: string, options: SignalOptions): Promise<FileInfo[]> {
    const p = parseNgcPath(path);
    let tree: PackageTree;
    try {
      tree = await this.tree(p, options.signal);
    } catch (err) {
      if (p.path === "" || !listingUnavailable(err)) throw err;
      return [await this.lookupInfo(p, path, options.signal)];
    }
    const listing = tree.dirs.get(p.path);
    if (listing) return listing;
    const file = tree.files.get(p.path);
    if (file) return [file];
    throw FsError.enoent(path);
  }

  protected override async _info(path: string, options: SignalOptions): Promise<FileInfo> {
    const p = parseNgcPath(path);
    const parent = p.path === "" ? undefined : this.dircache?.get(parentOf(path, ""));
    let found: FileInfo | undefined;
    if (parent) {
      found = parent.find((e) => e.name === path);
      if (!found) throw FsError.enoent(path);
    } else if (p.path === "" && this.dircache?.get(path)) {
      return { name: path, size: 0, type: "directory" };
    } else {
      let tree: PackageTree;
      try {
        tree = await this.tree(p, options.signal);
      } catch (err) {
        if (p.path === "" || !listingUnavailable(err)) throw err;
        return this.lookupInfo(p, path, options.signal);
      }
      if (tree.dirs.has(p.path)) return { name: path, size: 0, type: "directory" };
      found = tree.files.get(p.path);
      if (!found) throw FsError.enoent(path);
    }
    // A listing without sizes: the download says it.
    if (found.type === "file" && found.size === null) return { ...found, ...(await this.lookupInfo(p, path, options.signal)) };
    return found;
  }

  protected override async _catFile(path: string, start: number, end: number | undefined, options: SignalOptions): Promise<Uint8Array> {
    const p = parseNgcPath(path);
    if (p.path === "") throw FsError.eisdir(path);
    try {
      return await this.fetchRange(p, path, start, end, { signal: options.signal });
    } catch (err) {
      // Nothing to download there, but the version's listing may hold a directory of that name.
      if (isFsError(err, "ENOENT") && (await this._info(path, options).then((i) => i.type === "directory", () => false))) throw FsError.eisdir(path);
      throw err;
    }
  }

  protected override async _mkdir(path: string): Promise<void> {
    throw FsError.enotsup("ngc is read-only", path);
  }

  protected override async _rmdir(path: string): Promise<void> {
    throw FsError.enotsup("ngc is read-only", path);
  }

  /** Refused at open rather than at close, so nothing is buffered for nothing. */
  protected override async openForWrite(path: string): Promise<BufferedFile> {
    throw FsError.enotsup("ngc is read-only", path);
  }

  /** What a read can be pinned to: the storage ETag (asked for when the listing has none) and the size. */
  async fileVersion(path: string, options: SignalOptions = {}): Promise<FileVersion> {
    let info = await this.info(path, options);
    if (info.type === "directory") throw FsError.eisdir(info.name);
    if (typeof info.etag !== "string") info = await this.lookupInfo(parseNgcPath(info.name), info.name, options.signal);
    return typeof info.etag === "string" ? { size: info.size, etag: info.etag } : { size: info.size };
  }

  /** Bytes of `options.version` only, checked as an opened file's are (ECHANGED for another ETag or size). */
  async catFilePinned(path: string, start: number, end: number, options: PinnedReadOptions): Promise<Uint8Array> {
    const name = this.normalizePath(path);
    const p = parseNgcPath(name);
    if (p.path === "") throw FsError.eisdir(name);
    const { etag, size } = options.version;
    return this.fetchRange(p, name, start, end, { signal: options.signal, expect: { etag, size } });
  }

  /** A seekable file over ranged reads, pinned to the version (size, then ETag) it was opened on. */
  protected override async openForRead(path: string, options: HttpOpenOptions): Promise<BufferedFile> {
    if (options.streaming === true) return this.openStreamed(path, options);
    const p = parseNgcPath(path);
    const info = await this._info(path, { signal: options.signal });
    if (info.type === "directory") throw FsError.eisdir(path);
    const size = options.size ?? info.size;
    if (size === null) throw FsError.enotsup("cannot open a file of unknown size", path);
    const expect: Validators = { etag: info.etag, size };
    const callback = options.callback;
    callback?.setSize?.(size);
    const progress: ProgressCallback | undefined = callback?.relativeUpdate ? { relativeUpdate: (n) => callback.relativeUpdate!(n) } : undefined;
    const signal = options.signal;
    const fetcher = (start: number, end: number) => this.fetchRange(p, path, start, end, { signal, callback: progress, expect });
    // Each fetch is a buffer of its own (readAll allocates it), so read caches may hand it on.
    return readableFile(path, size, fetcher, options, { ownedFetches: true, details: info });
  }

  /**
   * One GET from byte 0 of the presigned URL (size and ETag from its answer); a large file into a
   * positioned sink hands parts of its tail to parallel ranges of the same URL where that pays,
   * pinned to that ETag.
   * @internal
   */
  protected override async _downloadTo(path: string, sink: ByteSink, options: DownloadToOptions): Promise<FileInfo> {
    const p = parseNgcPath(path);
    if (p.path === "") throw FsError.eisdir(path);
    const signal = options.signal;
    const onBytes = options.onBytes;
    const callback: ProgressCallback | undefined = onBytes ? { relativeUpdate: (n) => onBytes(n) } : undefined;
    const stop = linkedAbort(signal);
    try {
      let partUrl = "";
      let download: RangeDownload;
      try {
        download = await this.withUrl(p, path, stop.signal, async (url) => {
          partUrl = url;
          return RangeDownload.open(this.client, url, { start: 0 }, { signal: stop.signal, callback });
        });
      } catch (err) {
        if (isFsError(err, "ENOENT") && (await this._info(path, { signal }).then((i) => i.type === "directory", () => false))) throw FsError.eisdir(path);
        throw err;
      }
      const listed = this.dircache?.get(parentOf(path, ""))?.find((e) => e.name === path);
      const info: FileInfo = { ...listed, name: path, size: download.total ?? listed?.size ?? null, type: "file" };
      if (download.etag !== undefined) info.etag = download.etag;
      options.onInfo?.(info);
      const expect: Validators = { etag: download.etag, lastModified: download.lastModified, size: download.total };
      await finishFromFirst(download, 0, download.total, sink, this.http.downloads, stop.controller, async (start, end, partSignal) => {
        try {
          return await RangeDownload.open(this.client, partUrl, { start, end }, { signal: partSignal, callback, expect });
        } catch (err) {
          throw forName(err, path);
        }
      });
      await sink.flush();
      return info;
    } finally {
      stop.dispose();
    }
  }

  /**
   * A forward-only file over one GET from byte 0 of the presigned URL (a whole-file download):
   * size and ETag come from the answer, other details from a listing already cached; neither a
   * listing nor a probe is asked for.
   */
  private async openStreamed(path: string, options: HttpOpenOptions): Promise<BufferedFile> {
    const p = parseNgcPath(path);
    if (p.path === "") throw FsError.eisdir(path);
    const signal = options.signal;
    const callback = options.callback;
    const progress: ProgressCallback | undefined = callback?.relativeUpdate ? { relativeUpdate: (n) => callback.relativeUpdate!(n) } : undefined;
    const from = (start: number, expect?: Validators) =>
      this.withUrl(p, path, signal, (url) => RangeDownload.open(this.client, url, { start }, { signal, callback: progress, expect }));
    let download: RangeDownload;
    try {
      download = await from(0);
    } catch (err) {
      // Nothing to download there, but the version's listing may hold a directory of that name.
      if (isFsError(err, "ENOENT") && (await this._info(path, options).then((i) => i.type === "directory", () => false))) throw FsError.eisdir(path);
      throw err;
    }
    const listed = this.dircache?.get(parentOf(path, ""))?.find((e) => e.name === path);
    const details: FileInfo = { ...listed, name: path, size: download.total ?? listed?.size ?? null, type: "file" };
    if (download.etag !== undefined) details.etag = download.etag;
    if (details.size !== null) callback?.setSize?.(details.size);
    return streamedFile(path, download, details, options.blockSize ?? DEFAULT_BLOCK_SIZE, from);
  }

  /** A key that changes with the content: the name (version included) and the ETag, else size and date. */
  override async ukey(path: string, options: SignalOptions = {}): Promise<string> {
    const info = await this.info(path, options);
    const version = info.etag ? [String(info.etag)] : [String(info.size), info.mtime instanceof Date ? info.mtime.toISOString() : ""];
    return createHash("sha256").update([info.name, ...version].join("\n")).digest("hex");
  }

  /** The registry's presigned download URL, freshly looked up (its lifetime is the registry's choice). */
  override async sign(path: string, options: SignOptions = {}): Promise<string> {
    const name = this.checkSign(path, options);
    const p = parseNgcPath(name);
    if (p.path === "") throw FsError.eisdir(name);
    this.urls.drop(name);
    return (await this.fileUrl(p, name, undefined)).url;
  }
}
