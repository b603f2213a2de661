/**
 * Google Cloud Storage as a filesystem (`gs`, `gcs`) on the JSON API, over the HTTP backend's
 * machinery (one undici client: retries with backoff, resumed downloads, ECHANGED, progress,
 * signals). Paths are `bucket/key`; the root ("") lists a project's buckets. Directories are
 * implied by name prefixes (objects.list with a delimiter); `find` is one flat listing. Reads
 * are ranged `alt=media` GETs; an opened file, and a pinned read, name the generation they
 * read (`ifGenerationMatch`), so a replaced object fails with ECHANGED instead of splicing two
 * versions. Small writes are one multipart upload, large ones a resumable session (see
 * gs/upload.ts); `rm` deletes in batches of 100; copies are server-side rewrites.
 * @module fsspec-ts/gs
 */
import { createHash, randomBytes } from "node:crypto";
import { FsError, isFsError } from "../core/errors.js";
import { mapBounded } from "../core/limiter.js";
import type { FileInfo, FileSystemOptions, PipeMode, ProgressCallback, SignalOptions } from "../core/types.js";
import { anyValue, isBoolean, isRecord, mergeSpecs, optionSpec, pickSpec } from "../core/validate.js";
import type { FileVersion, PinnedReadOptions, PinnedReads } from "../core/versions.js";
import { readableFile, type BinaryMode, type BufferedFile, type FileOpenOptions, type OpenMode, type TextMode } from "../files/buffered-file.js";
import type { TextFile } from "../files/text-file.js";
import type { SinkOptions, UploadSink } from "../files/upload-sink.js";
import { HTTP_TRANSPORT_KEYS, HTTPFileSystem, PROGRESS_CALL_OPTIONS, type HTTPFileSystemOptions, type HttpTransportOptions, type ProgressOpenOptions } from "./http.js";
import { discardBody, header, type HttpClient, type HttpResponse, type SendOptions } from "./http/client.js";
import { RangeDownload, type ChunkWriter, type RangeSpec } from "./http/download.js";
import type { ByteSink, DownloadToOptions } from "../files/byte-sink.js";
import { backoffMs, isRetryableStatus, sleep } from "./http/retry.js";
import { readErrorJson, readJson } from "./ngc/json.js";
import { joinObject, splitPath, type ObjectPath } from "./s3/paths.js";
import { directory, directoryMarkers, ObjectStoreFileSystem, removalPlan, type PageLister, type StorePage } from "./object-store.js";
import { GcsUrls, errorMessage, objectInfo, parseBucketPage, parseListPage, parseRewrite, resolveEndpoint, statusError, type ListPage, type StatusMeaning } from "./gs/api.js";
import { makeTokenSource, SCOPES, type GcsAccess, type GcsToken, type TokenSource } from "./gs/auth.js";
import { batchRequest, MAX_BATCH, parseBatchResponse } from "./gs/batch.js";
import { CHUNK_UNIT, GcsUploadSink } from "./gs/upload.js";

export type { GcsAccess, GcsToken } from "./gs/auth.js";

export interface GCSFileSystemOptions extends FileSystemOptions, HttpTransportOptions {
  /**
   * Credentials: "anon" (no credentials, public buckets), "google_default" (the default lookup,
   * also when unset), "cloud" (the GCE metadata server), a path to a JSON credentials file, or
   * its parsed contents (a service-account key or an authorized-user file).
   */
  token?: GcsToken;
  /** A bearer token sent as is (never refreshed); wins over the lookup. Default none. */
  accessToken?: string;
  /** OAuth scope asked for: read_only, read_write or full_control (default). */
  access?: GcsAccess;
  /** Project for listing and creating buckets (default GOOGLE_CLOUD_PROJECT, else the credentials'). */
  project?: string;
  /** Project billed for requester-pays buckets (`userProject` on every call); default none. */
  userProject?: string;
  /** The service's URL (default STORAGE_EMULATOR_HOST, else https://storage.googleapis.com). */
  endpoint?: string;
  /** Bytes per resumable chunk, and the most one simple upload sends (default 8 MiB, a multiple of 256 KiB). */
  chunkSize?: number;
  /** Entries per objects.list page (default 1000, the service's maximum). */
  maxResults?: number;
  /** Deletes per batch request of `rm` (default 100, the service's maximum). */
  deleteBatchSize?: number;
  /** Bytes a rewrite (copy) call copies at most (maxBytesRewrittenPerCall, a multiple of 1 MiB; default: the service decides). */
  rewriteBytesPerCall?: number;
  /** Refuse writes over a directory (EISDIR), at one listing per write (default true). */
  checkDirectories?: boolean;
  /** Milliseconds to wait for the GCE metadata server in the default lookup (default 1,000). */
  metadataTimeout?: number;
  /** Object resource fields for uploads (contentType, cacheControl, metadata...); default none. */
  uploadMetadata?: Record<string, unknown>;
}

/** The default `chunkSize` of uploads: 8 MiB. */
export const DEFAULT_CHUNK_SIZE = 8 * 2 ** 20;

function positiveInt(options: GCSFileSystemOptions, name: keyof GCSFileSystemOptions, fallback: number, min: number, max = Infinity): number {
  const v = options[name] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw FsError.einval(`${String(name)} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
  return v;
}

/** A path that names an object (bucket and key), or EISDIR/EINVAL for the root and buckets. */
function objectOf(path: string): ObjectPath {
  if (path === "") throw FsError.eisdir("gs://", "the root of gs is the list of buckets");
  const parts = splitPath(path);
  if (parts.bucket === "") throw FsError.einval("a gs path starts with a bucket name", path);
  if (parts.key === "") throw FsError.eisdir(path, "a bucket is a directory");
  return parts;
}

/** The ETag the first read of an opened file saw (and its size): later reads must match it. */
interface ETagPin {
  etag: string | undefined;
  size: number;
}

/** What a 412 means by write mode: "x" found an object, "a" found another generation. */
function writeMeaning(mode: "w" | "a" | "x"): StatusMeaning {
  return { precondition: mode === "x" ? "EEXIST" : "ECHANGED" };
}

/** `open` takes ProgressOpenOptions here (types only: the base's open does the work). */
export interface GCSFileSystem {
  /** Open a file as `AbstractFileSystem.open` does; `callback` reports the bytes downloaded. */
  open(path: string, mode: TextMode, options?: ProgressOpenOptions): Promise<TextFile>;
  /** A binary mode (default "rb"): a `BufferedFile`. */
  open(path: string, mode?: BinaryMode, options?: ProgressOpenOptions): Promise<BufferedFile>;
  /** Any mode. */
  open(path: string, mode?: OpenMode, options?: ProgressOpenOptions): Promise<BufferedFile | TextFile>;
}

/**
 * Google Cloud Storage as a filesystem (`gs`, `gcs`) on the JSON API: paths are `bucket/key`,
 * directories are implied by name prefixes; reads are ranged GETs pinned to one generation, writes one
 * upload or a resumable session. See docs/backends/gs.md.
 */
export class GCSFileSystem extends ObjectStoreFileSystem implements PinnedReads {
  static override protocols = ["gs", "gcs"] as const;
  static override secretOptions = ["token", "accessToken", "proxy", "dispatcher"];
  static override ownOptions = mergeSpecs(
    // Checked by the constructor; the transport ones are checked by the HTTP backend they go to.
    optionSpec<GCSFileSystemOptions, FileSystemOptions & HttpTransportOptions>({
      token: anyValue,
      accessToken: anyValue,
      access: anyValue,
      project: anyValue,
      userProject: anyValue,
      endpoint: anyValue,
      chunkSize: anyValue,
      maxResults: anyValue,
      deleteBatchSize: anyValue,
      rewriteBytesPerCall: anyValue,
      checkDirectories: isBoolean,
      metadataTimeout: anyValue,
      uploadMetadata: isRecord,
    }),
    pickSpec(HTTPFileSystem.ownOptions, HTTP_TRANSPORT_KEYS),
  );
  /**
   * `open` also takes `callback` (download progress).
   * @internal
   */
  static override callOptions = { open: PROGRESS_CALL_OPTIONS };

  declare readonly options: Readonly<GCSFileSystemOptions>;

  /**
   * The service's base URL in use (`endpoint` option, else `STORAGE_EMULATOR_HOST`, else
   * https://storage.googleapis.com).
   */
  readonly endpoint: string;
  /** Bytes per resumable upload chunk (`chunkSize` option; default 8 MiB). */
  readonly chunkSize: number;
  private readonly http: HTTPFileSystem;
  private readonly urls: GcsUrls;
  private readonly tokens: TokenSource;
  private readonly projectOption: string | undefined;
  private readonly maxResults: number;
  private readonly deleteBatchSize: number;
  private readonly rewriteBytesPerCall: number | undefined;
  protected readonly checkDirectories: boolean;
  protected override readonly versionField = "generation";
  private readonly uploadMetadata: Record<string, unknown>;
  constructor(options: GCSFileSystemOptions = {}) {
    super(options);
    const { endpoint, emulator } = resolveEndpoint(options.endpoint);
    this.endpoint = endpoint;
    this.chunkSize = positiveInt(options, "chunkSize", DEFAULT_CHUNK_SIZE, CHUNK_UNIT);
    if (this.chunkSize % CHUNK_UNIT !== 0) throw FsError.einval(`chunkSize must be a multiple of 256 KiB (262144), got ${this.chunkSize}`);
    this.maxResults = positiveInt(options, "maxResults", 1000, 1, 1000);
    this.deleteBatchSize = positiveInt(options, "deleteBatchSize", MAX_BATCH, 1, MAX_BATCH);
    this.rewriteBytesPerCall = options.rewriteBytesPerCall === undefined ? undefined : positiveInt(options, "rewriteBytesPerCall", 0, 2 ** 20);
    if (this.rewriteBytesPerCall !== undefined && this.rewriteBytesPerCall % 2 ** 20 !== 0) throw FsError.einval("rewriteBytesPerCall must be a multiple of 1 MiB");
    this.checkDirectories = options.checkDirectories ?? true;
    this.uploadMetadata = { ...options.uploadMetadata };
    const access = options.access ?? "full_control";
    if (!(access in SCOPES)) throw FsError.einval(`access must be read_only, read_write or full_control, got ${String(access)}`);
    const metadataTimeout = positiveInt(options, "metadataTimeout", 1000, 1);
    if (options.project !== undefined && (typeof options.project !== "string" || options.project === "")) throw FsError.einval("project must be a non-empty string");
    this.projectOption = options.project;
    if (options.userProject !== undefined && (typeof options.userProject !== "string" || options.userProject === "")) throw FsError.einval("userProject must be a non-empty string");
    this.urls = new GcsUrls(endpoint, options.userProject);
    // The one place this backend gets its HTTP client: transport options pass through to it.
    const transport: HTTPFileSystemOptions = { skipInstanceCache: true, useListingsCache: false };
    for (const k of HTTP_TRANSPORT_KEYS) if (options[k] !== undefined) (transport as Record<string, unknown>)[k] = options[k];
    this.http = new HTTPFileSystem(transport);
    // An emulator (STORAGE_EMULATOR_HOST) takes no credentials unless some are given, as with Google's clients.
    const token = options.token ?? (emulator && options.accessToken === undefined ? "anon" : undefined);
    this.tokens = makeTokenSource({ token, accessToken: options.accessToken, access, metadataTimeout }, this.client);
  }

  private get client(): HttpClient {
    return this.http.client;
  }

  /** Close the connections of this instance (do not use it afterwards); it leaves the instance cache. */
  override async close(): Promise<void> {
    await super.close();
    await this.http.close();
  }

  // ---------------------------------------------------------------- requests

  /** Words for an EACCES: what the credentials were and what to try instead. */
  private async accessHint(): Promise<string> {
    const what = await this.tokens.describe().catch(() => "unknown credentials");
    if (await this.tokens.anonymous().catch(() => false)) {
      return `the request carried no credentials (${what}); private buckets need a service-account key (GOOGLE_APPLICATION_CREDENTIALS), gcloud auth application-default login, or the token or accessToken option`;
    }
    return `the credentials (${what}) lack the permission; a public bucket can be read with token: "anon"`;
  }

  /** The FsError for a final answer that is no success (its JSON body read for the service's words). */
  private async failure(res: HttpResponse, path: string, meaning: StatusMeaning = {}): Promise<FsError> {
    const said = errorMessage(await readErrorJson(res, path, "GCS"));
    const accessHint = res.status === 401 || res.status === 403 ? await this.accessHint() : undefined;
    return statusError(res.status, path, said, { ...meaning, accessHint });
  }

  /** Authorization for the next request ({} when anonymous). */
  private async authHeaders(signal?: AbortSignal): Promise<{ headers: Record<string, string>; token: string | undefined }> {
    const token = await this.tokens.token(signal);
    return { headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, token };
  }

  /**
   * One call with credentials; a 401 drops the token and tries once more with a fresh one.
   * Resolves with a success (2xx, or a status in `accept`); anything else is an FsError naming `path`.
   */
  private async send(url: string, path: string, options: SendOptions & { meaning?: StatusMeaning; accept?: readonly number[] } = {}): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      const auth = await this.authHeaders(options.signal);
      let res: HttpResponse;
      try {
        res = await this.client.send(url, { ...options, headers: { ...options.headers, ...auth.headers } });
      } catch (err) {
        throw isFsError(err) ? err.withPath(path) : err;
      }
      if (res.status === 401 && auth.token !== undefined && attempt === 0 && this.tokens.refused(auth.token)) {
        discardBody(res.body);
        continue;
      }
      if ((res.status >= 200 && res.status < 300) || options.accept?.includes(res.status)) return res;
      throw await this.failure(res, path, options.meaning);
    }
  }

  /** A call whose answer is JSON. */
  private async json(url: string, path: string, options: SendOptions & { meaning?: StatusMeaning } = {}): Promise<unknown> {
    const res = await this.send(url, path, options);
    return readJson(res, path, options.signal, "GCS");
  }

  /** Pages of objects.list under `prefix` (with `delimiter`, or the whole subtree without). */
  private async *listPages(bucket: string, prefix: string, delimiter: string | undefined, path: string, signal?: AbortSignal, maxResults = this.maxResults): AsyncGenerator<ListPage> {
    let pageToken: string | undefined;
    do {
      const url = this.urls.objects(bucket, { prefix: prefix === "" ? undefined : prefix, delimiter, maxResults, pageToken });
      const page = parseListPage(bucket, await this.json(url, path, { signal }), path);
      yield page;
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  /**
   * The listing as the shared object-store logic reads it (see object-store.ts), for `path`'s errors.
   * @internal
   */
  protected pages(path: string, signal?: AbortSignal): PageLister {
    return (bucket, prefix, delimiter, maxResults) => this.storePages(bucket, prefix, delimiter, path, signal, maxResults);
  }

  private async *storePages(bucket: string, prefix: string, delimiter: string | undefined, path: string, signal?: AbortSignal, maxResults?: number): AsyncGenerator<StorePage> {
    for await (const page of this.listPages(bucket, prefix, delimiter, path, signal, maxResults)) {
      yield { objects: page.items.map((info, i) => ({ key: page.keys[i]!, info })), prefixes: page.prefixes };
    }
  }

  protected async headObject(bucket: string, key: string, path: string, signal?: AbortSignal): Promise<FileInfo> {
    const info = objectInfo(bucket, await this.json(this.urls.object(bucket, key), path, { signal }), path);
    info.name = path;
    return info;
  }

  /** The project for bucket calls: the option, the environment, else the credentials'. */
  private async project(signal?: AbortSignal): Promise<string> {
    const env = (n: string) => process.env[n] || undefined;
    const project = this.projectOption ?? env("GOOGLE_CLOUD_PROJECT") ?? env("GCLOUD_PROJECT") ?? env("CLOUDSDK_CORE_PROJECT") ?? (await this.tokens.project(signal));
    if (project === undefined) throw FsError.einval("listing and creating buckets needs a project: pass the project option or set GOOGLE_CLOUD_PROJECT", "gs://");
    return project;
  }

  // ---------------------------------------------------------------- listing and metadata

  protected async listBuckets(signal?: AbortSignal): Promise<FileInfo[]> {
    const project = await this.project(signal);
    const out: FileInfo[] = [];
    let pageToken: string | undefined;
    do {
      const page = parseBucketPage(await this.json(this.urls.buckets({ project, pageToken }), "gs://", { signal }));
      out.push(...page.buckets);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return out;
  }

  protected override async _info(path: string, options: SignalOptions): Promise<FileInfo> {
    if (path === "") return directory("");
    const { bucket, key } = splitPath(path);
    const listed = this.dircache?.get(this.parent(path))?.find((e) => e.name === path);
    if (listed) return listed;
    if (key === "") {
      // A one-entry listing: public buckets allow it where the bucket's own metadata is private.
      try {
        for await (const _ of this.listPages(bucket, "", "/", path, options.signal, 1)) break;
      } catch (err) {
        this.knownBuckets.delete(bucket);
        if (isFsError(err, "ENOENT")) throw FsError.enoent(path, "no such bucket", err);
        throw err;
      }
      this.rememberBucket(bucket);
      return directory(bucket);
    }
    let failure: FsError;
    try {
      return await this.headObject(bucket, key, path, options.signal);
    } catch (err) {
      if (!isFsError(err, "ENOENT")) throw err;
      failure = err;
    }
    if (await this.hasChildren(bucket, key, path, options.signal)) return directory(path);
    throw failure;
  }

  // ---------------------------------------------------------------- reading

  protected override _catFile(path: string, start: number, end: number | undefined, options: SignalOptions): Promise<Uint8Array> {
    if (end !== undefined && end <= start) return Promise.resolve(new Uint8Array(0));
    // Only the signal: a transfer's options reach here too, and it counts the bytes itself.
    return this.download(path, { start, end }, { signal: options.signal });
  }

  /**
   * One ranged `alt=media` read through the HTTP machinery (checked, resumed within the same
   * version, with progress); with `generation`, only that generation's bytes (a 412 is ECHANGED).
   */
  private download(path: string, range: RangeSpec, options: SignalOptions & { generation?: string; callback?: ProgressCallback; pin?: ETagPin }): Promise<Uint8Array> {
    return this.withDownload(path, range, options, (d) => d.readAll());
  }

  /** One ranged read (see download) whose bytes `use` takes as they come; its failures in this backend's words. */
  private async withDownload<T>(
    path: string,
    range: RangeSpec,
    options: SignalOptions & { generation?: string; callback?: ProgressCallback; pin?: ETagPin },
    use: (download: RangeDownload) => Promise<T>,
  ): Promise<T> {
    const { bucket, key } = objectOf(path);
    const url = this.urls.object(bucket, key, { alt: "media", ifGenerationMatch: options.generation });
    for (let attempt = 0; ; attempt++) {
      const auth = await this.authHeaders(options.signal);
      try {
        const expect = options.pin?.etag === undefined ? undefined : { etag: options.pin.etag, size: options.pin.size };
        const d = await RangeDownload.open(this.client, url, range, { signal: options.signal, callback: options.callback, headers: auth.headers, expect });
        if (options.pin && options.pin.etag === undefined) options.pin.etag = d.etag;
        return await use(d);
      } catch (err) {
        if (!isFsError(err)) throw err;
        if (err.status === 401 && auth.token !== undefined && attempt === 0 && this.tokens.refused(auth.token)) continue;
        throw await this.readError(err, bucket, key, path, options.signal);
      }
    }
  }

  /**
   * One `alt=media` GET streamed to the sink, or for a large object into a positioned sink,
   * parallel ranges each pinned to the generation the lookup saw (ifGenerationMatch: a replaced
   * object is ECHANGED).
   * @internal
   */
  protected override _downloadTo(path: string, sink: ByteSink, options: DownloadToOptions): Promise<FileInfo> {
    const onBytes = options.onBytes;
    const callback: ProgressCallback | undefined = onBytes ? { relativeUpdate: (n) => onBytes(n) } : undefined;
    return this.downloadObject(path, sink, options, this.http.downloads, (info, generation) => {
      // Without a generation to pin to, the one stream is tied to its first answer's ETag.
      const pin: ETagPin | undefined = generation === undefined ? { etag: undefined, size: info.size ?? 0 } : undefined;
      const pipe = (range: RangeSpec, signal: AbortSignal | undefined, write: ChunkWriter) =>
        this.withDownload(path, range, { signal, generation, callback, pin }, (d) => d.pipeTo(write));
      return {
        whole: (write) => pipe({ start: 0 }, options.signal, write),
        part: (start, end, signal, write) => pipe({ start, end }, signal, write),
      };
    });
  }

  /** A failed read in the words of this backend: the gs path, the access hint, EISDIR for a prefix. */
  private async readError(err: FsError, bucket: string, key: string, path: string, signal?: AbortSignal): Promise<FsError> {
    const status = err.status;
    if (status === 404 && (await this.hasChildren(bucket, key, path, signal))) return FsError.eisdir(path);
    if (status === 412) return new FsError("ECHANGED", "the object changed: the generation this read is pinned to is no longer live (HTTP 412)", { path, status, cause: err });
    if (status !== undefined && status >= 400 && !isRetryableStatus(status)) {
      const accessHint = status === 401 || status === 403 ? await this.accessHint() : undefined;
      return statusError(status, path, undefined, { accessHint });
    }
    return err.withPath(path);
  }

  /** The last `length` bytes in one `alt=media` request (`bytes=-N`). @internal */
  protected override readSuffix(path: string, length: number, options: SignalOptions): Promise<Uint8Array> {
    return this.download(path, { suffix: length }, { signal: options.signal });
  }

  /** What a read can be pinned to: the object's generation and size. */
  async fileVersion(path: string, options: SignalOptions = {}): Promise<FileVersion> {
    const info = await this.info(path, options);
    if (info.type === "directory") throw FsError.eisdir(info.name);
    return typeof info.generation === "string" ? { size: info.size, key: info.generation } : { size: info.size };
  }

  /** A read with ifGenerationMatch on the version's generation: a replaced object fails with ECHANGED. */
  async catFilePinned(path: string, start: number, end: number, options: PinnedReadOptions): Promise<Uint8Array> {
    const p = this.normalizePath(path);
    if (end <= start) return new Uint8Array(0);
    return this.download(p, { start, end }, { signal: options.signal, generation: options.version.key });
  }

  /** Blocks are reads pinned to the generation seen at open: a replaced object fails with ECHANGED. */
  protected override async openForRead(path: string, options: ProgressOpenOptions): Promise<BufferedFile> {
    const info = options.size === undefined ? await this._info(path, options) : undefined;
    if (info?.type === "directory") throw FsError.eisdir(path);
    objectOf(path);
    const size = options.size ?? info?.size ?? 0;
    const generation = typeof info?.generation === "string" ? info.generation : undefined;
    const callback = options.callback;
    callback?.setSize?.(size);
    const progress: ProgressCallback | undefined = callback?.relativeUpdate ? { relativeUpdate: (n) => callback.relativeUpdate!(n) } : undefined;
    // Opened with a size and no lookup (a transfer): the blocks after the first are tied to its ETag.
    const pin: ETagPin | undefined = generation === undefined ? { etag: undefined, size } : undefined;
    const fetch = (start: number, end: number) => this.download(path, { start, end }, { signal: options.signal, generation, callback: progress, pin });
    return readableFile(path, size, (start, end) => (end <= start ? Promise.resolve(new Uint8Array(0)) : fetch(start, end)), options, {
      details: info ?? {},
      ownedFetches: true,
    });
  }

  // ---------------------------------------------------------------- writing

  /** Upload metadata of an object: the configured fields and its name. */
  private metadataFor(key: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { ...this.uploadMetadata, ...extra, name: key };
  }

  /** One multipart upload (metadata with the MD5, which the service checks, and the bytes). */
  private async simpleUpload(path: string, data: Uint8Array, ifGenerationMatch: string | undefined, meaning: StatusMeaning, signal?: AbortSignal): Promise<void> {
    const { bucket, key } = objectOf(path);
    const boundary = `gs_${randomBytes(12).toString("hex")}`;
    const md5Hash = createHash("md5").update(data).digest("base64");
    const contentType = typeof this.uploadMetadata.contentType === "string" ? this.uploadMetadata.contentType : "application/octet-stream";
    const head = Buffer.from(
      `--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify(this.metadataFor(key, { md5Hash }))}\r\n--${boundary}\r\nContent-Type: ${contentType}\r\n\r\n`,
    );
    const body = Buffer.concat([head, data, Buffer.from(`\r\n--${boundary}--\r\n`)]);
    const res = await this.send(this.urls.upload(bucket, { uploadType: "multipart", ifGenerationMatch }), path, {
      method: "POST",
      headers: { "content-type": `multipart/related; boundary=${boundary}` },
      body,
      // The same bytes sent again leave the same object (and a create stays conditional).
      idempotent: true,
      signal,
      meaning,
    });
    discardBody(res.body);
  }

  /** Start a resumable session; its URL (the service's Location). */
  private async startSession(path: string, ifGenerationMatch: string | undefined, meaning: StatusMeaning, signal?: AbortSignal): Promise<string> {
    const { bucket, key } = objectOf(path);
    const res = await this.send(this.urls.upload(bucket, { uploadType: "resumable", ifGenerationMatch }), path, {
      method: "POST",
      headers: { "content-type": "application/json; charset=UTF-8" },
      body: Buffer.from(JSON.stringify(this.metadataFor(key))),
      // A second session is harmless: only the one completed publishes.
      idempotent: true,
      signal,
      meaning,
    });
    discardBody(res.body);
    const location = header(res.headers, "location");
    if (!location) throw new FsError("EPROTO", "GCS started a resumable upload without a session URL", { path });
    return new URL(location, this.endpoint).href;
  }

  private makeSink(path: string, mode: "w" | "a" | "x", ifGenerationMatch: string | undefined, signal?: AbortSignal): GcsUploadSink {
    const meaning = writeMeaning(mode);
    return new GcsUploadSink({
      client: this.client,
      path,
      chunkSize: this.chunkSize,
      signal,
      start: () => this.startSession(path, ifGenerationMatch, meaning, signal),
      simple: (data) => this.simpleUpload(path, data, ifGenerationMatch, meaning, signal),
      fail: (res) => this.failure(res, path, meaning),
    });
  }

  protected override async _pipeFile(path: string, data: Uint8Array, mode: PipeMode, options: SignalOptions): Promise<void> {
    const { bucket, key } = objectOf(path);
    await this.refuseDirectory(bucket, key, path, options.signal);
    const kind = mode === "create" ? "x" : "w";
    const ifGenerationMatch = kind === "x" ? "0" : undefined;
    if (data.byteLength <= this.chunkSize) return this.simpleUpload(path, data, ifGenerationMatch, writeMeaning(kind), options.signal);
    const sink = this.makeSink(path, kind, ifGenerationMatch, options.signal);
    try {
      await sink.uploadChunk(data, true);
      await sink.commit();
    } catch (err) {
      await sink.discard();
      throw err;
    }
  }

  /**
   * "x" creates only where nothing is (ifGenerationMatch=0); "a" rewrites the object with the
   * new bytes after the old (GCS objects cannot grow), only if it is still the generation read.
   */
  protected override async _openWriter(path: string, options: SinkOptions): Promise<UploadSink> {
    if (options.mode !== "a") return this.makeSink(path, options.mode, options.mode === "x" ? "0" : undefined, options.signal);
    const existing = await this._info(path, options).catch((err: unknown) => {
      if (isFsError(err, "ENOENT")) return undefined;
      throw err;
    });
    const generation = typeof existing?.generation === "string" ? existing.generation : "0";
    const sink = this.makeSink(path, "a", generation, options.signal);
    if (existing && existing.size) await sink.uploadChunk(await this.download(path, { start: 0 }, { signal: options.signal, generation }), false);
    return sink;
  }

  /** Writers default to `chunkSize` blocks, so each block is one chunk. */
  protected override async openForWrite(path: string, kind: "w" | "a" | "x", options: FileOpenOptions): Promise<BufferedFile> {
    objectOf(path);
    return super.openForWrite(path, kind, { ...options, blockSize: options.blockSize ?? this.chunkSize });
  }

  protected override async _rmFile(path: string, options: SignalOptions): Promise<void> {
    const { bucket, key } = objectOf(path);
    try {
      const res = await this.send(this.urls.object(bucket, key), path, { method: "DELETE", signal: options.signal });
      discardBody(res.body);
    } catch (err) {
      if (isFsError(err, "ENOENT") && (await this.hasChildren(bucket, key, path, options.signal))) throw FsError.eisdir(path);
      throw err;
    }
  }

  /**
   * Files go in batch requests of 100 deletes (`deleteBatchSize`; `concurrency` batches at
   * once), with the marker objects (`dir/`) of directories; implied directories vanish with
   * their objects. A bucket removed recursively is deleted too; the root never is.
   */
  override async removeEntries(files: readonly string[], dirs: readonly string[], options: SignalOptions & { keepNonEmpty?: boolean }): Promise<void> {
    const plan = removalPlan(files, dirs, this.markerKeys);
    const objects = [...plan.keys].flatMap(([bucket, keys]) => keys.map((key) => ({ bucket, key })));
    const batches: ObjectPath[][] = [];
    for (let i = 0; i < objects.length; i += this.deleteBatchSize) batches.push(objects.slice(i, i + this.deleteBatchSize));
    try {
      await mapBounded(batches, (b) => this.deleteBatch(b, options.signal), { concurrency: this.concurrency, signal: options.signal });
      for (const bucket of plan.buckets) {
        this.knownBuckets.delete(bucket);
        try {
          discardBody((await this.send(this.urls.bucket(bucket), bucket, { method: "DELETE", signal: options.signal, meaning: { conflict: "ENOTEMPTY" } })).body);
        } catch (err) {
          if (!isFsError(err, "ENOENT") && !(options.keepNonEmpty && isFsError(err, "ENOTEMPTY"))) throw err;
        }
      }
    } finally {
      for (const p of [...files, ...dirs]) this.invalidateNormalized(p);
    }
  }

  /**
   * Delete `objects` with one batch request; a missing object is already gone. Calls the batch
   * answers with a retryable status (429, 5xx) go again, in a batch of their own, with backoff.
   */
  private async deleteBatch(objects: readonly ObjectPath[], signal?: AbortSignal): Promise<void> {
    let pending = [...objects];
    for (let attempt = 0; pending.length > 0; attempt++) {
      const auth = await this.authHeaders(signal);
      const { body, contentType } = batchRequest(pending.map((o) => ({ method: "DELETE", path: this.urls.objectPath(o.bucket, o.key) })), auth.headers.authorization);
      const path = joinObject(pending[0]!.bucket, pending[0]!.key);
      const res = await this.send(this.urls.batch(), path, { method: "POST", headers: { "content-type": contentType }, body, idempotent: true, signal });
      const text = Buffer.from(await res.body.arrayBuffer()).toString("utf8");
      const answers = parseBatchResponse(text, header(res.headers, "content-type") ?? "");
      const again: ObjectPath[] = [];
      const failed: FsError[] = [];
      for (const [i, o] of pending.entries()) {
        const a = answers.get(i);
        const status = a?.status ?? 500;
        if ((status >= 200 && status < 300) || status === 404) continue;
        if (isRetryableStatus(status) && attempt < this.client.options.retries) again.push(o);
        else {
          let said: string | undefined;
          try {
            said = a ? errorMessage(JSON.parse(a.body)) : "no answer for this call in the batch";
          } catch {
            said = undefined;
          }
          failed.push(statusError(status, joinObject(o.bucket, o.key), said, { accessHint: status === 401 || status === 403 ? await this.accessHint() : undefined }));
        }
      }
      if (failed.length > 0) {
        const first = failed[0]!;
        throw failed.length === 1 ? first : new FsError(first.code, `${first.detail}; ${failed.length - 1} more objects failed too`, { path: first.path, status: first.status, cause: first });
      }
      if (again.length > 0) await sleep(backoffMs(this.client.options, attempt), signal, path);
      pending = again;
    }
  }

  /** A bucket is made with buckets.insert in the project; a prefix needs nothing (only its bucket, made when `createParents`). */
  protected override async _mkdir(path: string, createParents: boolean, options: SignalOptions): Promise<void> {
    if (path === "") throw FsError.eexist("gs://", "the root exists");
    const { bucket, key } = splitPath(path);
    if (key === "") return this.createBucket(bucket, options);
    if (this.knownBuckets.has(bucket) || (await this.bucketExists(bucket, options))) return;
    if (!createParents) throw FsError.enoent(bucket, "no such bucket");
    await this.createBucket(bucket, options);
  }

  private async createBucket(bucket: string, options: SignalOptions): Promise<void> {
    const project = await this.project(options.signal);
    const res = await this.send(this.urls.buckets({ project }), bucket, {
      method: "POST",
      headers: { "content-type": "application/json; charset=UTF-8" },
      body: Buffer.from(JSON.stringify({ name: bucket })),
      signal: options.signal,
      meaning: { conflict: "EEXIST" },
    });
    discardBody(res.body);
    this.rememberBucket(bucket);
  }

  /** A bucket: deleted (ENOTEMPTY unless empty). A prefix: ENOTEMPTY when objects remain below it; its marker is removed. */
  protected override async _rmdir(path: string, options: SignalOptions): Promise<void> {
    if (path === "") throw FsError.eacces("gs://", "the root cannot be removed");
    const { bucket, key } = splitPath(path);
    if (key === "") {
      this.knownBuckets.delete(bucket);
      discardBody((await this.send(this.urls.bucket(bucket), path, { method: "DELETE", signal: options.signal, meaning: { conflict: "ENOTEMPTY" } })).body);
      return;
    }
    // Its markers: `key/`, and `key//`... (empty segments are no level of their own).
    const markers = await directoryMarkers(this.pages(path, options.signal), path);
    for (const marker of markers) discardBody((await this.send(this.urls.object(bucket, marker), path, { method: "DELETE", signal: options.signal })).body);
  }

  /**
   * A server-side rewrite, called again with its rewriteToken until done (large objects, or
   * ones that change location or storage class, take several calls). No directory check on the
   * destination (copy planning already puts files inside existing directories).
   */
  protected override async _cpFile(src: string, dst: string, options: SignalOptions): Promise<void> {
    const from = objectOf(src);
    const to = objectOf(dst);
    let rewriteToken: string | undefined;
    do {
      const url = this.urls.rewrite(from, to, { rewriteToken, maxBytesRewrittenPerCall: this.rewriteBytesPerCall });
      let json: unknown;
      try {
        // A body replaces the copy's metadata: sent only when there is metadata to set.
        const metadata = Object.keys(this.uploadMetadata).length > 0 ? Buffer.from(JSON.stringify(this.uploadMetadata)) : undefined;
        json = await this.json(url, src, {
          method: "POST",
          headers: metadata ? { "content-type": "application/json; charset=UTF-8" } : {},
          body: metadata,
          idempotent: true,
          signal: options.signal,
        });
      } catch (err) {
        // The destination bucket missing is a 404 too: name it.
        if (isFsError(err, "ENOENT") && !(await this.bucketExists(to.bucket, options))) throw FsError.enoent(dst, "no such bucket");
        throw err;
      }
      const step = parseRewrite(json, src);
      rewriteToken = step.done ? undefined : step.rewriteToken;
    } while (rewriteToken !== undefined);
  }
}
