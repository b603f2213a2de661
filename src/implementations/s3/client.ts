/**
 * The S3Client an S3FileSystem talks through, built from the filesystem's options: endpoint,
 * region, path style, static or anonymous credentials, and any S3ClientConfig passed through.
 */
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { FsError } from "../../core/errors.js";

export interface S3ClientSettings {
  /** Service URL for S3-compatible stores (MinIO, moto, R2...), e.g. `http://127.0.0.1:9000`. */
  endpoint?: string;
  /** Region (default: AWS_REGION, AWS_DEFAULT_REGION, then us-east-1). */
  region?: string;
  /** `endpoint/bucket/key` URLs instead of `bucket.endpoint/key` (default: true for localhost and IP endpoints). */
  forcePathStyle?: boolean;
  /** Access key id; with `secret` (and `token` for temporary credentials). Default: the SDK's credential chain. */
  key?: string;
  /** The secret access key that goes with `key`. */
  secret?: string;
  /** The session token of temporary credentials (with `key` and `secret`). */
  token?: string;
  /** Unsigned requests (public buckets); no credentials are looked up. */
  anon?: boolean;
  /** Passed to `new S3Client(...)` as they are; the options above win where both are given. */
  clientOptions?: S3ClientConfig;
}

/** Hosts where buckets cannot be subdomains (moto, MinIO and friends on a bare address). */
function isBareHost(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, "");
    return host === "localhost" || /^[\d.]+$/.test(host) || host.includes(":");
  } catch {
    return false;
  }
}

/** The region: the option, then clientOptions, then AWS_REGION / AWS_DEFAULT_REGION, then us-east-1. */
export function resolveRegion(settings: S3ClientSettings): string | S3ClientConfig["region"] {
  return settings.region ?? settings.clientOptions?.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1";
}

/** `host:port` of the configured endpoint (option or clientOptions), if it is a URL string. */
export function endpointHost(settings: S3ClientSettings): string | undefined {
  const endpoint = settings.endpoint ?? settings.clientOptions?.endpoint;
  if (typeof endpoint !== "string") return undefined;
  try {
    return new URL(endpoint).host || undefined;
  } catch {
    return undefined;
  }
}

export function makeClient(settings: S3ClientSettings): S3Client {
  const config: S3ClientConfig = { ...settings.clientOptions };
  if (settings.endpoint !== undefined) {
    if (typeof settings.endpoint !== "string" || !/^https?:\/\//i.test(settings.endpoint)) {
      throw FsError.einval("endpoint must be an http:// or https:// URL");
    }
    config.endpoint = settings.endpoint;
  }
  config.region = resolveRegion(settings);
  const endpoint = typeof config.endpoint === "string" ? config.endpoint : undefined;
  config.forcePathStyle = settings.forcePathStyle ?? config.forcePathStyle ?? (endpoint !== undefined && isBareHost(endpoint));
  if (settings.anon) {
    // Unsigned requests: no credential lookup, no Authorization header.
    config.credentials = { accessKeyId: "", secretAccessKey: "" };
    config.signer = { sign: async (request) => request };
  } else if (settings.key !== undefined || settings.secret !== undefined) {
    if (!settings.key || !settings.secret) throw FsError.einval("S3 credentials need both key and secret");
    config.credentials = {
      accessKeyId: settings.key,
      secretAccessKey: settings.secret,
      ...(settings.token ? { sessionToken: settings.token } : {}),
    };
  }
  return new S3Client(config);
}
