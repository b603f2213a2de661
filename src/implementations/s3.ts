/**
 * Amazon S3 (and S3-compatible stores) as a filesystem (`s3`, `s3a`) on @aws-sdk/client-s3.
 * Paths are `bucket/key`; the root ("") lists the buckets. Directories are implied by key
 * prefixes (ListObjectsV2 with a delimiter); `find` is one listing without one. Reads are
 * ranged GetObjects, small writes one PutObject, large ones a multipart upload streamed while
 * the file is written (see s3/upload.ts).
 * @module fsspec-ts/s3
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCopyCommand,
  type BucketLocationConstraint,
  type CompletedPart,
  type ListObjectsV2CommandOutput,
  type S3Client,
  type _Object,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { FsError, isFsError } from "../core/errors.js";
import { mapBounded } from "../core/limiter.js";
import type { FileInfo, FileSystemOptions, PipeMode, SignalOptions, SignOptions } from "../core/types.js";
import { anyValue, isBoolean, isRecord, optionSpec } from "../core/validate.js";
import type { FileVersion, PinnedReadOptions, PinnedReads } from "../core/versions.js";
import { readableFile, type BufferedFile, type FileOpenOptions } from "../files/buffered-file.js";
import type { SinkOptions, UploadSink } from "../files/upload-sink.js";
import type { ByteSink, DownloadToOptions } from "../files/byte-sink.js";
import { downloadTuning, type DownloadTuning, type ParallelDownloadOptions } from "../files/parallel-ranges.js";
import { pipeObject, type ObjectStream } from "./s3/download.js";
import { endpointHost, makeClient, type S3ClientSettings } from "./s3/client.js";
import { isNotFound, s3CodeOf, s3Error, statusOf, type PreconditionMeaning } from "./s3/errors.js";
import { copySource, joinObject, objectOf, splitPath } from "./s3/paths.js";
import { directory, directoryMarkers, ObjectStoreFileSystem, removalPlan, type PageLister } from "./object-store.js";
import { MAX_PART_SIZE, MIN_PART_SIZE, S3UploadSink, planCopyParts } from "./s3/upload.js";

export interface S3FileSystemOptions extends FileSystemOptions, S3ClientSettings, ParallelDownloadOptions {
  /** Bytes per part of a multipart upload, and the size up to which a written file is one PutObject (default 8 MiB, at least 5 MiB). */
  partSize?: number;
  /** Parts of one opened writer uploaded at once (default 4). */
  partConcurrency?: number;
  /** Keys per ListObjectsV2 page (default 1000, S3's maximum). */
  maxKeys?: number;
  /** Keys per DeleteObjects request of `rm` (default 1000, S3's maximum; some compatible stores take fewer). */
  deleteBatchSize?: number;
  /** Refuse writes over a directory (EISDIR), at one LIST per write (default true). */
  checkDirectories?: boolean;
  /**
   * Extra parameters for PutObject, CreateMultipartUpload and CopyObject (ContentType,
   * ServerSideEncryption, StorageClass...); default none.
   */
  uploadParams?: Record<string, unknown>;
}

/** The default `partSize` of multipart uploads: 8 MiB. */
export const DEFAULT_PART_SIZE = 8 * 2 ** 20;
/** The longest validity S3 gives a presigned URL (SigV4: 7 days). */
const MAX_PRESIGN_MS = 7 * 24 * 3600 * 1000;
const DEFAULT_PART_CONCURRENCY = 4;

function positiveInt(options: S3FileSystemOptions, name: keyof S3FileSystemOptions, fallback: number, min: number, max = Infinity): number {
  const v = options[name] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw FsError.einval(`${String(name)} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
  return v;
}

/**
 * Amazon S3 and S3-compatible stores as a filesystem (`s3`, `s3a`): paths are `bucket/key`,
 * directories are implied by key prefixes. See docs/backends/s3.md.
 */
export class S3FileSystem extends ObjectStoreFileSystem implements PinnedReads {
  static override protocols = ["s3", "s3a"] as const;
  static override secretOptions = ["key", "secret", "token", "clientOptions", "proxy"];
  static override ownOptions = optionSpec<S3FileSystemOptions, FileSystemOptions>({
    // Sizes and counts are checked by the constructor with their bounds, the client settings by makeClient.
    partSize: anyValue,
    partConcurrency: anyValue,
    maxKeys: anyValue,
    deleteBatchSize: anyValue,
    checkDirectories: isBoolean,
    uploadParams: isRecord,
    endpoint: anyValue,
    region: anyValue,
    forcePathStyle: isBoolean,
    key: anyValue,
    secret: anyValue,
    token: anyValue,
    anon: isBoolean,
    clientOptions: isRecord,
    // Checked by the proxy plan.
    proxy: anyValue,
    // Checked by downloadTuning, with their bounds.
    rangeConcurrency: anyValue,
    rangeThreshold: anyValue,
  });

  declare readonly options: Readonly<S3FileSystemOptions>;
  /** The AWS SDK client every request of this instance goes through. */
  readonly client: S3Client;
  /** Bytes per multipart upload part (`partSize` option; default 8 MiB). */
  readonly partSize: number;
  /** Parts of one writer uploaded at once (`partConcurrency` option; default 4). */
  readonly partConcurrency: number;
  private readonly maxKeys: number;
  private readonly deleteBatchSize: number;
  protected readonly checkDirectories: boolean;
  protected override readonly versionField = "etag";
  private readonly uploadParams: Record<string, unknown> | undefined;
  /** Values never shown in an error. */
  private readonly secrets: string[];
  /** How large downloads go: parallel GetObject ranges from `threshold` bytes on. */
  private readonly downloads: DownloadTuning;
  /** The configured endpoint's host, named by network failures. */
  private readonly endpointHost: string | undefined;
  constructor(options: S3FileSystemOptions = {}) {
    super(options);
    this.partSize = positiveInt(options, "partSize", DEFAULT_PART_SIZE, MIN_PART_SIZE, MAX_PART_SIZE);
    this.partConcurrency = positiveInt(options, "partConcurrency", DEFAULT_PART_CONCURRENCY, 1);
    this.maxKeys = positiveInt(options, "maxKeys", 1000, 1, 1000);
    this.deleteBatchSize = positiveInt(options, "deleteBatchSize", 1000, 1, 1000);
    this.checkDirectories = options.checkDirectories ?? true;
    this.uploadParams = options.uploadParams;
    this.secrets = [options.secret, options.token].filter((s): s is string => typeof s === "string" && s !== "");
    this.client = makeClient(options);
    this.endpointHost = endpointHost(options);
    this.downloads = downloadTuning(options);
  }

  /** Close the client's connections (do not use the instance afterwards); it leaves the instance cache. */
  override async close(): Promise<void> {
    await super.close();
    this.client.destroy();
  }

  // ---------------------------------------------------------------- requests

  private error(err: unknown, path: string, precondition?: PreconditionMeaning, signal?: AbortSignal): FsError {
    return s3Error(err, path, { precondition, signal, secrets: this.secrets, host: this.endpointHost });
  }

  /** One SDK call; every failure becomes an FsError naming `path`. */
  private async send<T>(command: unknown, path: string, options: SignalOptions & { precondition?: PreconditionMeaning } = {}): Promise<T> {
    try {
      return (await this.client.send(command as never, { abortSignal: options.signal })) as T;
    } catch (err) {
      throw this.error(err, path, options.precondition, options.signal);
    }
  }

  /** Pages of ListObjectsV2 under `prefix` (with `delimiter`, or the whole subtree without). */
  private async *listPages(bucket: string, prefix: string, delimiter: string | undefined, path: string, signal?: AbortSignal, maxKeys = this.maxKeys): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      const page = await this.send<ListObjectsV2CommandOutput>(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix === "" ? undefined : prefix,
          Delimiter: delimiter,
          MaxKeys: maxKeys,
          ContinuationToken: token,
        }),
        path,
        { signal },
      );
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * The listing as the shared object-store logic reads it (see object-store.ts), for `path`'s errors.
   * @internal
   */
  protected pages(path: string, signal?: AbortSignal): PageLister {
    const lister = this;
    return async function* (bucket, prefix, delimiter, maxKeys) {
      for await (const page of lister.listPages(bucket, prefix, delimiter, path, signal, maxKeys)) {
        yield {
          objects: (page.Contents ?? []).filter((o) => o.Key !== undefined).map((o) => ({ key: o.Key!, info: lister.objectInfo(bucket, o) })),
          prefixes: (page.CommonPrefixes ?? []).flatMap((cp) => (cp.Prefix === undefined ? [] : [cp.Prefix])),
        };
      }
    };
  }

  private objectInfo(bucket: string, obj: _Object): FileInfo {
    const info: FileInfo = { name: joinObject(bucket, obj.Key ?? ""), size: obj.Size ?? 0, type: "file" };
    if (obj.LastModified) info.mtime = obj.LastModified;
    if (obj.ETag) info.etag = obj.ETag;
    if (obj.StorageClass) info.storageClass = obj.StorageClass;
    return info;
  }

  protected async headObject(bucket: string, key: string, path: string, signal?: AbortSignal): Promise<FileInfo> {
    const out = await this.send<{
      ContentLength?: number;
      LastModified?: Date;
      ETag?: string;
      ContentType?: string;
      VersionId?: string;
      StorageClass?: string;
    }>(new HeadObjectCommand({ Bucket: bucket, Key: key }), path, { signal });
    const info: FileInfo = { name: path, size: out.ContentLength ?? 0, type: "file" };
    if (out.LastModified) info.mtime = out.LastModified;
    if (out.ETag) info.etag = out.ETag;
    if (out.ContentType) info.contentType = out.ContentType;
    if (out.VersionId) info.versionId = out.VersionId;
    if (out.StorageClass) info.storageClass = out.StorageClass;
    return info;
  }

  // ---------------------------------------------------------------- listing and metadata

  protected async listBuckets(signal?: AbortSignal): Promise<FileInfo[]> {
    const out: FileInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.send<{ Buckets?: Array<{ Name?: string; CreationDate?: Date }>; ContinuationToken?: string }>(
        new ListBucketsCommand({ ContinuationToken: token }),
        "",
        { signal },
      );
      for (const b of page.Buckets ?? []) {
        if (!b.Name) continue;
        const info = directory(b.Name);
        if (b.CreationDate) info.created = b.CreationDate;
        out.push(info);
      }
      token = page.ContinuationToken;
    } while (token);
    return out;
  }

  protected override async _info(path: string, options: SignalOptions): Promise<FileInfo> {
    if (path === "") return directory("");
    const { bucket, key } = splitPath(path);
    const listed = this.dircache?.get(this.parent(path))?.find((e) => e.name === path);
    if (listed) return listed;
    if (key === "") {
      try {
        await this.send(new HeadBucketCommand({ Bucket: bucket }), path, options);
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
      // Not an object: maybe a prefix. (403 too: without s3:ListBucket, S3 answers HEAD of a missing key so.)
      if (!isFsError(err, "ENOENT") && !isFsError(err, "EACCES")) throw err;
      failure = err;
    }
    if (await this.hasChildren(bucket, key, path, options.signal)) return directory(path);
    throw failure;
  }

  /**
   * A presigned GetObject URL valid for `expirationMs` (default one hour; S3 counts whole
   * seconds, so it is rounded up, at most 7 days); anonymous instances get the plain URL.
   */
  override async sign(path: string, options: SignOptions = {}): Promise<string> {
    const p = this.checkSign(path, options);
    const { bucket, key } = objectOf(p);
    const ms = options.expirationMs ?? 3_600_000;
    if (ms > MAX_PRESIGN_MS) throw FsError.einval(`expirationMs must be at most ${MAX_PRESIGN_MS} (7 days), got ${ms}`, p);
    const expiresIn = Math.ceil(ms / 1000);
    let url: string;
    try {
      url = await getSignedUrl(this.client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn });
    } catch (err) {
      throw this.error(err, p);
    }
    return this.options.anon ? url.split("?")[0]! : url;
  }

  // ---------------------------------------------------------------- reading

  protected override _catFile(path: string, start: number, end: number | undefined, options: SignalOptions): Promise<Uint8Array> {
    return this.getRange(path, start, end, options);
  }

  private async getRange(path: string, start: number, end: number | undefined, options: SignalOptions & { ifMatch?: string; sawETag?: (etag: string) => void }): Promise<Uint8Array> {
    const { bucket, key } = objectOf(path);
    if (end !== undefined && end <= start) return new Uint8Array(0);
    const range = start === 0 && end === undefined ? undefined : `bytes=${start}-${end === undefined ? "" : end - 1}`;
    return this.getObject(bucket, key, path, range, options, (whole) => whole.subarray(start, end));
  }

  /**
   * One GetObject; a range starting past the end (416) is empty bytes. A store that ignores
   * the Range (a 200 without Content-Range) has `cut` take the asked part from the whole body.
   */
  private async getObject(
    bucket: string,
    key: string,
    path: string,
    range: string | undefined,
    options: SignalOptions & { ifMatch?: string; sawETag?: (etag: string) => void },
    cut: (whole: Uint8Array) => Uint8Array,
  ): Promise<Uint8Array> {
    let out: { Body?: { transformToByteArray(): Promise<Uint8Array> }; ContentLength?: number; ContentRange?: string; ETag?: string };
    try {
      out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range, IfMatch: options.ifMatch }), {
        abortSignal: options.signal,
      });
    } catch (err) {
      if (s3CodeOf(err) === "InvalidRange" || statusOf(err) === 416) return new Uint8Array(0);
      const mapped = this.error(err, path, "ECHANGED", options.signal);
      // No such key, but keys below it: a directory.
      if (isFsError(mapped, "ENOENT") && key !== "" && (await this.hasChildren(bucket, key, path, options.signal))) throw FsError.eisdir(path);
      throw mapped;
    }
    if (out.ETag) options.sawETag?.(out.ETag);
    let bytes: Uint8Array;
    try {
      bytes = out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
    } catch (err) {
      throw this.error(err, path, "ECHANGED", options.signal);
    }
    if (out.ContentLength !== undefined && bytes.byteLength !== out.ContentLength) {
      throw new FsError("EPROTO", `body of ${bytes.byteLength} bytes, Content-Length said ${out.ContentLength}`, { path });
    }
    return range !== undefined && out.ContentRange === undefined ? cut(bytes) : bytes;
  }

  /**
   * One GetObject streamed to the sink, or for a large object into a positioned sink, parallel
   * GetObject ranges; each pinned with IfMatch to the ETag the HEAD saw (ECHANGED otherwise).
   * @internal
   */
  protected override _downloadTo(path: string, sink: ByteSink, options: DownloadToOptions): Promise<FileInfo> {
    const { bucket, key } = objectOf(path);
    return this.downloadObject(path, sink, options, this.downloads, (info, ifMatch) => {
      const source = (signal: AbortSignal | undefined): ObjectStream => ({
        path,
        retries: 3,
        get: async (range) => {
          try {
            return await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range, IfMatch: ifMatch }), { abortSignal: signal });
          } catch (err) {
            throw this.error(err, path, "ECHANGED", signal);
          }
        },
        error: (err) => this.error(err, path, "ECHANGED", signal),
      });
      return {
        whole: (write) => pipeObject(source(options.signal), 0, info.size ?? undefined, options.signal, write, options.onBytes),
        part: (start, end, signal, write) => pipeObject(source(signal), start, end, signal, write, options.onBytes),
      };
    });
  }

  /** The last `length` bytes in one GetObject (`bytes=-N`). @internal */
  protected override readSuffix(path: string, length: number, options: SignalOptions): Promise<Uint8Array> {
    const { bucket, key } = objectOf(path);
    return this.getObject(bucket, key, path, `bytes=-${length}`, options, (whole) => whole.subarray(Math.max(0, whole.byteLength - length)));
  }

  /** What a read can be pinned to: the object's ETag and size. */
  async fileVersion(path: string, options: SignalOptions = {}): Promise<FileVersion> {
    const info = await this.info(path, options);
    if (info.type === "directory") throw FsError.eisdir(info.name);
    return typeof info.etag === "string" ? { size: info.size, etag: info.etag } : { size: info.size };
  }

  /** A GetObject with IfMatch on the version's ETag: a replaced object fails with ECHANGED. */
  async catFilePinned(path: string, start: number, end: number, options: PinnedReadOptions): Promise<Uint8Array> {
    return this.getRange(this.normalizePath(path), start, end, { signal: options.signal, ifMatch: options.version.etag });
  }

  /** Blocks are GetObjects pinned to the ETag seen at open: a replaced object fails with ECHANGED. */
  protected override async openForRead(path: string, options: FileOpenOptions): Promise<BufferedFile> {
    const info = options.size === undefined ? await this._info(path, options) : undefined;
    if (info?.type === "directory") throw FsError.eisdir(path);
    const size = options.size ?? info?.size ?? 0;
    // Opened with a size and no HEAD (a transfer): the blocks after the first are pinned to its ETag.
    let ifMatch = typeof info?.etag === "string" ? info.etag : undefined;
    const sawETag = (etag: string) => void (ifMatch ??= etag);
    return readableFile(path, size, (start, end) => this.getRange(path, start, end, { signal: options.signal, ifMatch, sawETag }), options, {
      details: info ?? {},
      ownedFetches: true,
    });
  }

  // ---------------------------------------------------------------- writing

  protected override async _pipeFile(path: string, data: Uint8Array, mode: PipeMode, options: SignalOptions): Promise<void> {
    const { bucket, key } = objectOf(path);
    await this.refuseDirectory(bucket, key, path, options.signal);
    await this.send(
      new PutObjectCommand({
        ...this.uploadParams,
        Bucket: bucket,
        Key: key,
        Body: data,
        ContentLength: data.byteLength,
        IfNoneMatch: mode === "create" ? "*" : undefined,
      }),
      path,
      { signal: options.signal, precondition: "EEXIST" },
    );
  }

  /** Whether the client sends checksums by default (then parts carry CRC32s the upload must declare). */
  private async sendsChecksums(): Promise<boolean> {
    const setting = this.client.config.requestChecksumCalculation;
    const value = typeof setting === "function" ? await setting() : setting;
    return value !== "WHEN_REQUIRED";
  }

  /**
   * The checksum a server-side copy asks the store to compute. A multipart source carries a
   * composite CRC32 (of its parts) that stores copy as if it covered the whole object, so a
   * full read of the copy would fail validation; asking for CRC32 makes them compute a fresh one.
   */
  private async copyChecksum(): Promise<"CRC32" | undefined> {
    return (await this.sendsChecksums()) ? "CRC32" : undefined;
  }

  private async makeSink(path: string, mode: "w" | "a" | "x", signal: AbortSignal | undefined, existing: FileInfo | undefined): Promise<UploadSink> {
    const { bucket, key } = objectOf(path);
    return S3UploadSink.open({
      client: this.client,
      bucket,
      key,
      path,
      mode,
      partSize: this.partSize,
      partConcurrency: this.partConcurrency,
      checksums: await this.sendsChecksums(),
      signal,
      existing,
      uploadParams: this.uploadParams,
      toError: (err, precondition, sig) => this.error(err, path, precondition, sig),
    });
  }

  protected override async _openWriter(path: string, options: SinkOptions): Promise<UploadSink> {
    const existing = options.mode === "a" ? await this.existingFile(path, options) : undefined;
    return this.makeSink(path, options.mode, options.signal, existing);
  }

  private async existingFile(path: string, options: SignalOptions): Promise<FileInfo | undefined> {
    try {
      return await this._info(path, options);
    } catch (err) {
      if (isFsError(err, "ENOENT")) return undefined;
      throw err;
    }
  }

  /** Writers default to `partSize` blocks, so each block is one part. */
  protected override async openForWrite(path: string, kind: "w" | "a" | "x", options: FileOpenOptions): Promise<BufferedFile> {
    objectOf(path);
    return super.openForWrite(path, kind, { ...options, blockSize: options.blockSize ?? this.partSize });
  }

  /** Touch without truncating: copy the object onto itself (S3 has no other way to renew its date). */
  protected override async _touchExisting(path: string): Promise<void> {
    const { bucket, key } = objectOf(path);
    const head = await this.send<{ ContentType?: string; Metadata?: Record<string, string> }>(
      new HeadObjectCommand({ Bucket: bucket, Key: key }),
      path,
    );
    await this.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: key,
        CopySource: copySource(bucket, key),
        MetadataDirective: "REPLACE",
        ContentType: head.ContentType,
        Metadata: head.Metadata,
        ChecksumAlgorithm: await this.copyChecksum(),
      }),
      path,
    );
  }

  protected override async _rmFile(path: string, options: SignalOptions): Promise<void> {
    const { bucket, key } = objectOf(path);
    // S3 deletes missing keys without complaint; the filesystem contract wants ENOENT (or EISDIR).
    try {
      await this.headObject(bucket, key, path, options.signal);
    } catch (err) {
      if (isFsError(err, "ENOENT") && (await this.hasChildren(bucket, key, path, options.signal))) throw FsError.eisdir(path);
      throw err;
    }
    await this.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), path, options);
  }

  /**
   * Files go in DeleteObjects batches of 1000 keys (`deleteBatchSize`; `concurrency` batches at
   * once), with the marker objects (`dir/`) of directories; implied directories vanish with
   * their keys. A bucket removed recursively is deleted too (as in s3fs); the root never is.
   * A directory's marker goes whether or not keys remain below it (they keep it implied); a
   * bucket that still holds keys is ENOTEMPTY, or kept with `keepNonEmpty` (a move).
   */
  override async removeEntries(files: readonly string[], dirs: readonly string[], options: SignalOptions & { keepNonEmpty?: boolean }): Promise<void> {
    const { keys: byBucket, buckets } = removalPlan(files, dirs, this.markerKeys);
    const batches: Array<{ bucket: string; keys: string[] }> = [];
    for (const [bucket, keys] of byBucket) {
      for (let i = 0; i < keys.length; i += this.deleteBatchSize) batches.push({ bucket, keys: keys.slice(i, i + this.deleteBatchSize) });
    }
    try {
      await mapBounded(batches, (b) => this.deleteBatch(b.bucket, b.keys, options.signal), { concurrency: this.concurrency, signal: options.signal });
      for (const bucket of buckets) {
        this.knownBuckets.delete(bucket);
        try {
          await this.send(new DeleteBucketCommand({ Bucket: bucket }), bucket, options);
        } catch (err) {
          if (!isFsError(err, "ENOENT") && !(options.keepNonEmpty && isFsError(err, "ENOTEMPTY"))) throw err;
        }
      }
    } finally {
      for (const p of [...files, ...dirs]) this.invalidateNormalized(p);
    }
  }

  private async deleteBatch(bucket: string, keys: string[], signal?: AbortSignal): Promise<void> {
    const out = await this.send<{ Errors?: Array<{ Key?: string; Code?: string; Message?: string }> }>(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
      bucket,
      { signal },
    );
    const failed = (out.Errors ?? []).filter((e) => !isNotFound({ Code: e.Code }));
    if (failed.length > 0) {
      const first = failed[0]!;
      const err = Object.assign(new Error(first.Message ?? first.Code ?? "DeleteObjects failed"), { Code: first.Code });
      const mapped = this.error(err, joinObject(bucket, first.Key ?? ""));
      throw failed.length === 1 ? mapped : new FsError(mapped.code, `${mapped.detail}; ${failed.length - 1} more keys failed too`, { path: mapped.path, cause: err });
    }
  }

  /** A bucket is made with CreateBucket; a prefix needs nothing (only its bucket, made when `createParents`). */
  protected override async _mkdir(path: string, createParents: boolean, options: SignalOptions): Promise<void> {
    if (path === "") throw FsError.eexist("s3://", "the root exists");
    const { bucket, key } = splitPath(path);
    if (key === "") {
      // Asked first: us-east-1 answers a CreateBucket of a bucket you own with 200, not an error.
      if (await this.bucketExists(bucket, options)) throw FsError.eexist(bucket, "the bucket already exists");
      return this.createBucket(bucket, options);
    }
    if (this.knownBuckets.has(bucket) || (await this.bucketExists(bucket, options))) return;
    if (!createParents) throw FsError.enoent(bucket, "no such bucket");
    await this.createBucket(bucket, options);
  }

  private async createBucket(bucket: string, options: SignalOptions): Promise<void> {
    const region = await this.client.config.region();
    const location = region && region !== "us-east-1" ? { LocationConstraint: region as BucketLocationConstraint } : undefined;
    await this.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: location }), bucket, options);
    this.rememberBucket(bucket);
  }

  /** A bucket: DeleteBucket (ENOTEMPTY unless empty). A prefix: ENOTEMPTY when keys remain below it; its marker is removed. */
  protected override async _rmdir(path: string, options: SignalOptions): Promise<void> {
    if (path === "") throw FsError.eacces("s3://", "the root cannot be removed");
    const { bucket, key } = splitPath(path);
    if (key === "") {
      this.knownBuckets.delete(bucket);
      await this.send(new DeleteBucketCommand({ Bucket: bucket }), path, options);
      return;
    }
    // Its markers: `key/`, and `key//`... (empty segments are no level of their own).
    const markers = await directoryMarkers(this.pages(path, options.signal), path);
    for (const marker of markers) await this.send(new DeleteObjectCommand({ Bucket: bucket, Key: marker }), path, options);
  }

  /**
   * Server-side CopyObject; sources over 5 GiB are copied as a multipart upload of
   * UploadPartCopy parts. No directory check on the destination (copy planning already puts
   * files inside existing directories; a check would double the requests of a large copy).
   */
  protected override async _cpFile(src: string, dst: string, options: SignalOptions): Promise<void> {
    const from = objectOf(src);
    const to = objectOf(dst);
    try {
      await this.client.send(
        new CopyObjectCommand({
          ...this.uploadParams,
          Bucket: to.bucket,
          Key: to.key,
          CopySource: copySource(from.bucket, from.key),
          ChecksumAlgorithm: await this.copyChecksum(),
        }),
        { abortSignal: options.signal },
      );
    } catch (err) {
      const code = s3CodeOf(err);
      if (code === "NoSuchBucket") throw this.error(err, dst);
      if (code !== "InvalidRequest" && code !== "EntityTooLarge") throw this.error(err, src, undefined, options.signal);
      // Too large for one CopyObject: copy it part by part.
      const info = await this.headObject(from.bucket, from.key, src, options.signal);
      if ((info.size ?? 0) <= MAX_PART_SIZE) throw this.error(err, src, undefined, options.signal);
      await this.copyMultipart(from.bucket, from.key, to.bucket, to.key, info, dst, options);
    }
  }

  private async copyMultipart(
    srcBucket: string,
    srcKey: string,
    bucket: string,
    key: string,
    info: FileInfo,
    path: string,
    options: SignalOptions,
  ): Promise<void> {
    const created = await this.send<{ UploadId?: string }>(
      new CreateMultipartUploadCommand({ ...this.uploadParams, Bucket: bucket, Key: key, ChecksumAlgorithm: await this.copyChecksum() }),
      path,
      options,
    );
    const uploadId = created.UploadId!;
    try {
      const ranges = planCopyParts(info.size ?? 0);
      const parts = await mapBounded(ranges, async ([first, last], i) => {
        const out = await this.send<{ CopyPartResult?: { ETag?: string; ChecksumCRC32?: string } }>(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: i + 1,
            CopySource: copySource(srcBucket, srcKey),
            CopySourceRange: `bytes=${first}-${last}`,
            CopySourceIfMatch: typeof info.etag === "string" ? info.etag : undefined,
          }),
          path,
          { signal: options.signal, precondition: "ECHANGED" },
        );
        const r = out.CopyPartResult ?? {};
        return r.ChecksumCRC32 ? { PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 } : { PartNumber: i + 1, ETag: r.ETag };
      }, { concurrency: this.partConcurrency, signal: options.signal });
      await this.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts as CompletedPart[] } }),
        path,
        options,
      );
    } catch (err) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw err;
    }
  }
}
