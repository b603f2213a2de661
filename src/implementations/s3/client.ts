/**
 * The S3Client an S3FileSystem talks through, built from the filesystem's options: endpoint,
 * region, path style, static or anonymous credentials, proxies, and any S3ClientConfig passed
 * through.
 */
import { Agent as HttpAgent } from "node:http";
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { FsError } from "../../core/errors.js";
import { ProxyingHttpAgent, ProxyingHttpsAgent } from "../http/node-proxy-agent.js";
import { ProxyPlan, type ProxyOptions } from "../http/proxy.js";

export interface S3ClientSettings extends ProxyOptions {
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
  /**
   * Passed to `new S3Client(...)` as they are; the options above win where both are given. A
   * `requestHandler` instance of yours is your transport: proxies are then yours to set up.
   */
  clientOptions?: S3ClientConfig;
}

/** The SDK's defaults for the agents of its NodeHttpHandler. */
const AGENT_DEFAULTS = { keepAlive: true, maxSockets: 50 };

/**
 * The request handler options with agents that go through the plan's proxies: the caller's
 * handler instance is left alone, agent instances of the caller's too, agent options are kept.
 */
function proxiedHandler(plan: ProxyPlan, given: S3ClientConfig["requestHandler"]): S3ClientConfig["requestHandler"] {
  if (typeof (given as { handle?: unknown } | undefined)?.handle === "function") return given;
  const options = { ...(given as Record<string, unknown> | undefined) };
  const agent = (value: unknown, make: (o: object) => HttpAgent) => (value instanceof HttpAgent ? value : make({ ...AGENT_DEFAULTS, ...(value as object) }));
  options.httpAgent = agent(options.httpAgent, (o) => new ProxyingHttpAgent(plan, o));
  options.httpsAgent = agent(options.httpsAgent, (o) => new ProxyingHttpsAgent(plan, o));
  return options as S3ClientConfig["requestHandler"];
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
  const plan = ProxyPlan.of(settings.proxy);
  if (!plan.direct) config.requestHandler = proxiedHandler(plan, config.requestHandler);
  return new S3Client(config);
}
