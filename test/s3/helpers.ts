/**
 * Shared pieces of the S3 tests: the moto endpoint from globalSetup, filesystems and raw
 * clients pointed at it, a bucket per test file, and a request trace read off the client's
 * own middleware stack (real requests to moto; nothing is mocked).
 */
import { inject } from "vitest";
import { CreateBucketCommand, ListMultipartUploadsCommand, S3Client } from "@aws-sdk/client-s3";
import { S3FileSystem, type S3FileSystemOptions } from "../../src/implementations/s3.js";

export const endpoint = (): string => inject("s3Endpoint");

export const CREDENTIALS = { key: "testing-key", secret: "testing-secret-value", token: "testing-session-token" };

let counter = 0;
/** A bucket name of its own for one test file (S3: 3-63 lowercase letters, digits and dashes). */
export function bucketName(tag: string): string {
  return `${tag}-${process.pid}-${Date.now().toString(36)}-${counter++}`.toLowerCase().slice(0, 63);
}

export function makeFs(options: S3FileSystemOptions = {}): S3FileSystem {
  return new S3FileSystem({ endpoint: endpoint(), region: "us-east-1", ...CREDENTIALS, ...options });
}

export function rawClient(): S3Client {
  return new S3Client({
    endpoint: endpoint(),
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: CREDENTIALS.key, secretAccessKey: CREDENTIALS.secret },
  });
}

export async function createBucket(name: string): Promise<void> {
  const client = rawClient();
  await client.send(new CreateBucketCommand({ Bucket: name }));
  client.destroy();
}

export async function openUploads(bucket: string): Promise<number> {
  const client = rawClient();
  const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  client.destroy();
  return out.Uploads?.length ?? 0;
}

export interface TracedRequest {
  command: string;
  input: Record<string, unknown>;
  /** Bytes of the body for uploads. */
  bodySize?: number;
}

/** Record every command the filesystem's client sends (and how many are in flight at most). */
export function trace(fs: S3FileSystem): { requests: TracedRequest[]; maxInFlight: () => number; names: () => string[] } {
  const requests: TracedRequest[] = [];
  let inFlight = 0;
  let most = 0;
  fs.client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = (args.input ?? {}) as Record<string, unknown>;
      const body = input.Body;
      requests.push({
        command: String(context.commandName),
        input,
        bodySize: body instanceof Uint8Array ? body.byteLength : undefined,
      });
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        return await next(args);
      } finally {
        inFlight--;
      }
    },
    { step: "initialize", name: `trace-${counter++}` },
  );
  return { requests, maxInFlight: () => most, names: () => requests.map((r) => r.command) };
}
