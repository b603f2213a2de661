/**
 * Files opened for writing on S3: an UploadSink that sends a small file as one PutObject at
 * commit, and a larger one as a multipart upload whose parts go out while the file is being
 * written (a few at a time), completed on commit and aborted on discard or failure.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from "@aws-sdk/client-s3";
import { FsError } from "../../core/errors.js";
import type { FileInfo } from "../../core/types.js";
import { concatBytes, type UploadSink } from "../../files/upload-sink.js";
import { isNotFound, type PreconditionMeaning } from "./errors.js";
import { copySource } from "./paths.js";

/** S3's smallest part (all but the last), largest part, and most parts per upload. */
export const MIN_PART_SIZE = 5 * 2 ** 20;
export const MAX_PART_SIZE = 5 * 2 ** 30;
export const MAX_PARTS = 10_000;
/** Parts per size step: the smallest part doubles every this many parts. */
export const PARTS_PER_STEP = 1_000;

/**
 * The smallest part this writer sends as part `partNumber` (1-based): `partSize`, doubled
 * every 1,000 parts (capped at 5 GiB), so a file of unknown length can grow to S3's 5 TiB
 * limit within 10,000 parts although it starts with small parts (8 MiB parts reach 7.8 TiB,
 * 5 MiB parts 4.9 TiB).
 */
export function minPartSize(partNumber: number, partSize: number): number {
  const step = Math.floor((partNumber - 1) / PARTS_PER_STEP);
  return Math.min(MAX_PART_SIZE, partSize * 2 ** step);
}

/**
 * Cut a chunk of `size` bytes into parts starting at part `firstPart`: pieces of the current
 * minimum, the last piece taking the rest (so it is between one and two minimums, or split in
 * two when that would pass 5 GiB). Returns `[start, end)` pairs; none for an empty chunk.
 */
export function planParts(size: number, firstPart: number, partSize: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let offset = 0;
  let part = firstPart;
  while (offset < size) {
    const min = minPartSize(part, partSize);
    const rest = size - offset;
    const take = rest >= 2 * min ? min : rest <= MAX_PART_SIZE ? rest : Math.ceil(rest / 2);
    out.push([offset, offset + take]);
    offset += take;
    part++;
  }
  return out;
}

/** Byte ranges (inclusive ends, as CopySourceRange wants) to copy an object of `size` bytes as parts. */
export function planCopyParts(size: number): Array<[number, number]> {
  const count = Math.max(1, Math.ceil(size / MAX_PART_SIZE));
  const piece = Math.ceil(size / count);
  const out: Array<[number, number]> = [];
  for (let start = 0; start < size; start += piece) out.push([start, Math.min(size, start + piece) - 1]);
  return out;
}

export interface S3UploadTarget {
  client: S3Client;
  bucket: string;
  key: string;
  /** The path errors name. */
  path: string;
  mode: "w" | "a" | "x";
  partSize: number;
  partConcurrency: number;
  /** Send CRC32 checksums with parts (the SDK's default); off for stores that refuse them. */
  checksums: boolean;
  signal?: AbortSignal;
  /** What is at the path now (append mode starts from it). */
  existing?: FileInfo;
  /** Extra parameters for PutObject and CreateMultipartUpload (ContentType, ServerSideEncryption...). */
  uploadParams?: Record<string, unknown>;
  /** The backend's error mapping. */
  toError: (err: unknown, precondition?: PreconditionMeaning, signal?: AbortSignal) => FsError;
}

type State = "open" | "committed" | "discarded";

export class S3UploadSink implements UploadSink {
  /** Bytes of the existing object to write first (append to a small object). */
  private prefix: Uint8Array | undefined;
  /** The whole file when it ends up small: one PutObject at commit. */
  private held: Uint8Array | undefined;
  private uploadId: string | undefined;
  private creating: Promise<string> | undefined;
  private nextPart = 1;
  private readonly parts: CompletedPart[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private failure: FsError | undefined;
  private aborting: Promise<void> | undefined;
  private state: State = "open";

  private constructor(private readonly t: S3UploadTarget) {}

  /** A sink for `t`; in append mode the existing object is read (small) or copied as the first parts. */
  static async open(t: S3UploadTarget): Promise<S3UploadSink> {
    const sink = new S3UploadSink(t);
    const existing = t.existing;
    if (t.mode === "a" && existing?.type === "file" && (existing.size ?? 0) > 0) {
      try {
        await sink.startFrom(existing);
      } catch (err) {
        await sink.discard().catch(() => undefined);
        throw err;
      }
    }
    return sink;
  }

  /** Parts uploaded and recorded so far (tests and diagnostics). */
  get partCount(): number {
    return this.parts.filter(Boolean).length;
  }

  get multipartUploadId(): string | undefined {
    return this.uploadId;
  }

  private async startFrom(existing: FileInfo): Promise<void> {
    const size = existing.size ?? 0;
    const etag = typeof existing.etag === "string" ? existing.etag : undefined;
    if (size < MIN_PART_SIZE) {
      const out = await this.send<{ Body?: { transformToByteArray(): Promise<Uint8Array> } }>(
        new GetObjectCommand({ Bucket: this.t.bucket, Key: this.t.key, IfMatch: etag }),
        "ECHANGED",
      );
      this.prefix = out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
      return;
    }
    // Large: S3 copies the existing bytes into the upload itself (UploadPartCopy), pinned to its ETag.
    await this.ensureUpload();
    for (const [first, last] of planCopyParts(size)) {
      await this.slot();
      const partNumber = this.nextPart++;
      this.track(async () => {
        const out = await this.t.client.send(
          new UploadPartCopyCommand({
            Bucket: this.t.bucket,
            Key: this.t.key,
            UploadId: this.uploadId,
            PartNumber: partNumber,
            CopySource: copySource(this.t.bucket, this.t.key),
            CopySourceRange: `bytes=${first}-${last}`,
            CopySourceIfMatch: etag,
          }),
          { abortSignal: this.t.signal },
        );
        const r = out.CopyPartResult ?? {};
        this.parts[partNumber - 1] = { PartNumber: partNumber, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 };
      }, "ECHANGED");
    }
    await this.drain();
    this.check();
  }

  async uploadChunk(data: Uint8Array, final: boolean): Promise<boolean> {
    this.check();
    const total = (this.prefix?.byteLength ?? 0) + data.byteLength;
    // Too small for a part (S3 refuses parts under 5 MiB but the last): the file keeps it and offers more.
    if (!final && total < minPartSize(this.nextPart, this.t.partSize)) return false;
    const bytes = this.prefix ? concatBytes([this.prefix, data], total) : data;
    this.prefix = undefined;
    if (final && this.uploadId === undefined && bytes.byteLength <= this.t.partSize) {
      this.held = bytes;
      return true;
    }
    await this.ensureUpload();
    await this.sendParts(bytes);
    if (final) {
      if (this.nextPart === 1) await this.sendParts(bytes, true);
      // Report every part's failure at close, not only at commit.
      await this.drain();
      this.check();
    }
    return true;
  }

  async commit(): Promise<void> {
    this.check();
    const ifNoneMatch = this.t.mode === "x" ? "*" : undefined;
    if (this.uploadId === undefined) {
      const body = this.held ?? this.prefix ?? new Uint8Array(0);
      await this.send(
        new PutObjectCommand({
          ...this.t.uploadParams,
          Bucket: this.t.bucket,
          Key: this.t.key,
          Body: body,
          ContentLength: body.byteLength,
          IfNoneMatch: ifNoneMatch,
        }),
        "EEXIST",
      );
    } else {
      await this.drain();
      this.check();
      const parts = this.parts.map((p) => (p.ChecksumCRC32 ? p : { PartNumber: p.PartNumber, ETag: p.ETag }));
      await this.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.t.bucket,
          Key: this.t.key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: parts },
          IfNoneMatch: ifNoneMatch,
        }),
        "EEXIST",
      );
    }
    this.state = "committed";
    this.held = undefined;
  }

  async discard(): Promise<void> {
    if (this.state === "discarded") return this.aborting;
    this.state = "discarded";
    this.held = undefined;
    this.prefix = undefined;
    await this.abortUpload();
  }

  // ---------------------------------------------------------------- internals

  private check(): void {
    if (this.failure) throw this.failure;
    if (this.state === "committed") throw FsError.einval("the upload was already committed", this.t.path);
    if (this.state === "discarded") throw FsError.einval("the upload was discarded", this.t.path);
  }

  private async send<T>(command: { input: unknown }, precondition: PreconditionMeaning): Promise<T> {
    try {
      return (await this.t.client.send(command as never, { abortSignal: this.t.signal })) as T;
    } catch (err) {
      throw this.t.toError(err, precondition, this.t.signal);
    }
  }

  private ensureUpload(): Promise<string> {
    this.creating ??= (async () => {
      const out = await this.send<{ UploadId?: string }>(
        new CreateMultipartUploadCommand({
          ...this.t.uploadParams,
          Bucket: this.t.bucket,
          Key: this.t.key,
          ChecksumAlgorithm: this.t.checksums ? "CRC32" : undefined,
        }),
        "EEXIST",
      );
      if (!out.UploadId) throw new FsError("EPROTO", "CreateMultipartUpload returned no UploadId", { path: this.t.path });
      this.uploadId = out.UploadId;
      return out.UploadId;
    })().catch((err: unknown) => {
      this.failure ??= err as FsError;
      throw err;
    });
    return this.creating;
  }

  /** Start uploading `bytes` as parts, waiting only for a free slot (at most `partConcurrency` in flight). */
  private async sendParts(bytes: Uint8Array, emptyPart = false): Promise<void> {
    const plan = emptyPart ? [[0, 0] as [number, number]] : planParts(bytes.byteLength, this.nextPart, this.t.partSize);
    for (const [start, end] of plan) {
      await this.slot();
      this.check();
      const partNumber = this.nextPart++;
      if (partNumber > MAX_PARTS) {
        this.fail(new FsError("EIO", `more than ${MAX_PARTS} parts; open the file with a larger blockSize or partSize`, { path: this.t.path }));
        this.check();
      }
      const body = bytes.subarray(start, end);
      this.track(async () => {
        const out = await this.t.client.send(
          new UploadPartCommand({
            Bucket: this.t.bucket,
            Key: this.t.key,
            UploadId: this.uploadId,
            PartNumber: partNumber,
            Body: body,
            ContentLength: body.byteLength,
            ChecksumAlgorithm: this.t.checksums ? "CRC32" : undefined,
          }),
          { abortSignal: this.t.signal },
        );
        this.parts[partNumber - 1] = { PartNumber: partNumber, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32 };
      }, "EEXIST");
    }
  }

  /** Run one part request in the background; its failure fails the whole upload (and aborts it). */
  private track(run: () => Promise<void>, precondition: PreconditionMeaning): void {
    const p: Promise<void> = run().then(
      () => undefined,
      (err: unknown) => this.fail(this.t.toError(err, precondition, this.t.signal)),
    );
    this.inflight.add(p);
    void p.then(() => this.inflight.delete(p));
  }

  private fail(err: FsError): void {
    if (this.failure) return;
    this.failure = err;
    // Leave no parts behind (they are billed): abort once the parts in flight have settled.
    void this.abortUpload().catch(() => undefined);
  }

  private async slot(): Promise<void> {
    while (this.inflight.size >= this.t.partConcurrency) await Promise.race(this.inflight);
  }

  private async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  private abortUpload(): Promise<void> {
    this.aborting ??= (async () => {
      await this.drain();
      if (this.creating) await this.creating.catch(() => undefined);
      const uploadId = this.uploadId;
      if (uploadId === undefined) return;
      try {
        // No signal: the cleanup must run even when the caller's signal ended the upload.
        await this.t.client.send(new AbortMultipartUploadCommand({ Bucket: this.t.bucket, Key: this.t.key, UploadId: uploadId }));
      } catch (err) {
        if (!isNotFound(err)) throw this.t.toError(err);
      }
    })();
    return this.aborting;
  }
}
