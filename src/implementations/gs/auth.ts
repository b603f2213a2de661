/**
 * Credentials for Google Cloud Storage, looked up in the order Google's own tools use:
 *
 * 1. `token: "anon"`: anonymous requests (public buckets); nothing is looked up;
 * 2. `accessToken`: a bearer token, used as given (never refreshed);
 * 3. `token`: a path to a JSON credentials file or its parsed contents (a service-account key
 *    or an authorized-user file), or "cloud" for the metadata server only;
 * 4. otherwise (`token` unset or "google_default"): the file `GOOGLE_APPLICATION_CREDENTIALS`
 *    names, then gcloud's application-default credentials
 *    (`$CLOUDSDK_CONFIG/application_default_credentials.json`, by default under
 *    ~/.config/gcloud), then the GCE metadata server, then anonymous requests.
 *
 * A service-account key is exchanged for a token with a JWT signed RS256 by node:crypto at the
 * key's `token_uri`; an authorized-user file with its refresh token. Tokens are kept until
 * shortly before they expire, shared by concurrent callers, and dropped when refused (401).
 * Neither tokens, private keys, client secrets nor refresh tokens ever go into an error.
 */
import { createPrivateKey, sign, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { homedir, platform } from "node:os";
import { join } from "node:path";
import { FsError, isFsError } from "../../core/errors.js";
import { discardBody, type HttpClient } from "../http/client.js";
import { abortable, readErrorJson, readJson } from "../ngc/json.js";

export const DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token";
const DEFAULT_METADATA_HOST = "169.254.169.254";
const JWT_LIFETIME_S = 3600;

/** OAuth scopes by the `access` option. */
export const SCOPES = {
  read_only: "https://www.googleapis.com/auth/devstorage.read_only",
  read_write: "https://www.googleapis.com/auth/devstorage.read_write",
  full_control: "https://www.googleapis.com/auth/devstorage.full_control",
} as const;
/** The `access` option of gs: the OAuth scope asked for (read_only, read_write or full_control). */
export type GcsAccess = keyof typeof SCOPES;

/** What the `token` option takes. */
export type GcsToken = "anon" | "google_default" | "cloud" | string | Record<string, unknown>;

export interface CredentialOptions {
  token?: GcsToken;
  accessToken?: string;
  access: GcsAccess;
  /** Milliseconds to wait for the metadata server before taking it to be absent. */
  metadataTimeout: number;
  /** Where the DMI product name is read (Linux: a GCE machine says "Google" there). */
  productNameFile?: string;
}

/** Where the bearer tokens of requests come from. */
export interface TokenSource {
  /** A token for the next request, or undefined for an anonymous request. */
  token(signal?: AbortSignal): Promise<string | undefined>;
  /** The server refused `token` (401): forget it. True when a new try may get another one. */
  refused(token: string): boolean;
  /** The project the credentials belong to, when they name one. */
  project(signal?: AbortSignal): Promise<string | undefined>;
  /** What these credentials are, for error hints ("anonymous", "service account a@b"...). */
  describe(): Promise<string>;
  /** Whether requests go out without credentials. */
  anonymous(): Promise<boolean>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const env = (name: string): string | undefined => process.env[name] || undefined;

// ---------------------------------------------------------------- the sources

class Anonymous implements TokenSource {
  constructor(private readonly why = "anonymous") {}
  async token(): Promise<undefined> {
    return undefined;
  }
  refused(): boolean {
    return false;
  }
  async project(): Promise<undefined> {
    return undefined;
  }
  async describe(): Promise<string> {
    return this.why;
  }
  async anonymous(): Promise<boolean> {
    return true;
  }
}

class StaticToken implements TokenSource {
  constructor(private readonly bearer: string) {}
  async token(): Promise<string> {
    return this.bearer;
  }
  refused(): boolean {
    return false;
  }
  async project(): Promise<undefined> {
    return undefined;
  }
  async describe(): Promise<string> {
    return "the accessToken option";
  }
  async anonymous(): Promise<boolean> {
    return false;
  }
}

interface Grant {
  token: string;
  /** Date.now() after which the token is not used any more. */
  until: number;
}

/** Stop using a token this long before it expires: a tenth of its life, at most five minutes. */
function margin(lifeMs: number): number {
  return Math.min(300_000, lifeMs / 10);
}

/** A token fetched on demand, kept until shortly before it expires. */
class RefreshingToken implements TokenSource {
  private held: Grant | undefined;
  private pending: Promise<Grant> | undefined;

  constructor(
    private readonly fetch: () => Promise<{ token: string; expiresIn: number }>,
    private readonly what: string,
    private readonly projectId: (signal?: AbortSignal) => Promise<string | undefined>,
    /** A token already in hand (the metadata server's answer to the lookup's probe). */
    first?: { token: string; expiresIn: number; at: number },
  ) {
    if (first) this.held = RefreshingToken.grant(first.token, first.expiresIn, first.at);
  }

  private static grant(token: string, expiresIn: number, started: number): Grant {
    const life = expiresIn * 1000;
    return { token, until: life === Infinity ? Infinity : started + life - margin(life) };
  }

  async token(signal?: AbortSignal): Promise<string> {
    const held = this.held;
    if (held && Date.now() < held.until) return held.token;
    if (!this.pending) {
      const started = Date.now();
      // Shared by every caller, so no one caller's signal may cancel it: each waits with its own.
      const pending = this.fetch().then(({ token, expiresIn }) => (this.held = RefreshingToken.grant(token, expiresIn, started)));
      this.pending = pending;
      pending.finally(() => {
        if (this.pending === pending) this.pending = undefined;
      }).catch(() => undefined);
    }
    return (await abortable(this.pending, signal, "gs://")).token;
  }

  refused(token: string): boolean {
    if (this.held?.token === token) this.held = undefined;
    return true;
  }

  project(signal?: AbortSignal): Promise<string | undefined> {
    return this.projectId(signal);
  }

  async describe(): Promise<string> {
    return this.what;
  }

  async anonymous(): Promise<boolean> {
    return false;
  }
}

/** A source chosen on first use (the default lookup), then kept. */
class LazySource implements TokenSource {
  private chosen: Promise<TokenSource> | undefined;
  private resolved: TokenSource | undefined;
  constructor(private readonly choose: () => Promise<TokenSource>) {}

  private source(signal?: AbortSignal): Promise<TokenSource> {
    if (!this.chosen) {
      const chosen = this.choose().then((s) => (this.resolved = s));
      this.chosen = chosen;
      // A lookup that failed (an unreadable file) is tried again by the next request.
      chosen.catch(() => {
        if (this.chosen === chosen) this.chosen = undefined;
      });
    }
    return abortable(this.chosen, signal, "gs://");
  }

  async token(signal?: AbortSignal): Promise<string | undefined> {
    return (await this.source(signal)).token(signal);
  }
  refused(token: string): boolean {
    return this.resolved?.refused(token) ?? false;
  }
  async project(signal?: AbortSignal): Promise<string | undefined> {
    return (await this.source(signal)).project(signal);
  }
  async describe(): Promise<string> {
    return (await this.source()).describe();
  }
  async anonymous(): Promise<boolean> {
    return (await this.source()).anonymous();
  }
}

// ---------------------------------------------------------------- token endpoints

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

/** A JWT asserting the service account, signed RS256 with its private key. */
export function serviceAccountAssertion(key: { clientEmail: string; privateKey: KeyObject; keyId?: string }, scope: string, audience: string, now = Date.now()): string {
  const iat = Math.floor(now / 1000);
  const header = { alg: "RS256", typ: "JWT", ...(key.keyId ? { kid: key.keyId } : {}) };
  const claims = { iss: key.clientEmail, scope, aud: audience, iat, exp: iat + JWT_LIFETIME_S };
  const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return `${unsigned}.${base64url(sign("RSA-SHA256", Buffer.from(unsigned), key.privateKey))}`;
}

/** `{access_token, expires_in}` of a token endpoint or the metadata server. */
function parseGrant(json: unknown, what: string): { token: string; expiresIn: number } {
  if (!isRecord(json) || typeof json.access_token !== "string" || json.access_token === "") {
    throw new FsError("EPROTO", `${what} answered without an access_token`, { path: "gs://" });
  }
  const e = Number(json.expires_in);
  // No lifetime stated: use it until it is refused (a 401 fetches a new one).
  return { token: json.access_token, expiresIn: Number.isFinite(e) && e >= 0 ? e : Infinity };
}

/** An OAuth error answer in words: `invalid_grant: Invalid JWT Signature.` (never a credential). */
function oauthReason(json: unknown): string {
  if (!isRecord(json)) return "";
  const code = typeof json.error === "string" ? json.error : isRecord(json.error) && typeof json.error.message === "string" ? json.error.message : "";
  const text = typeof json.error_description === "string" ? json.error_description : "";
  return [code, text].filter(Boolean).join(": ").slice(0, 200);
}

/** POST a form to an OAuth token endpoint; the answer's token and lifetime. */
async function tokenRequest(client: HttpClient, uri: string, form: Record<string, string>, what: string): Promise<{ token: string; expiresIn: number }> {
  const res = await client.send(uri, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: Buffer.from(new URLSearchParams(form).toString()),
    // Asking for a token twice is harmless.
    idempotent: true,
  });
  if (res.status !== 200) {
    const reason = oauthReason(await readErrorJson(res, "gs://", "GCS"));
    const code = res.status >= 400 && res.status < 500 ? "EACCES" : "EIO";
    throw new FsError(code, `${what} was refused by the token endpoint (HTTP ${res.status}${reason ? `, ${reason}` : ""})`, { path: "gs://", status: res.status });
  }
  return parseGrant(await readJson(res, "gs://", undefined, "GCS"), what);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

function metadataHost(): string {
  return env("GCE_METADATA_HOST") ?? env("GCE_METADATA_IP") ?? DEFAULT_METADATA_HOST;
}

/** GET from the metadata server; undefined when it is not there (or does not answer in time). */
async function metadataGet(client: HttpClient, path: string, timeoutMs: number, signal?: AbortSignal): Promise<{ status: number; body: Buffer } | undefined> {
  const limit = AbortSignal.timeout(timeoutMs);
  const both = signal ? AbortSignal.any([signal, limit]) : limit;
  try {
    const res = await client.send(`http://${metadataHost()}/computeMetadata/v1/${path}`, {
      headers: { "metadata-flavor": "Google" },
      signal: both,
      retries: 0,
    });
    if (res.headers["metadata-flavor"] !== "Google") {
      discardBody(res.body);
      return undefined;
    }
    return { status: res.status, body: Buffer.from(await res.body.arrayBuffer()) };
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined;
  }
}

/** Whether this machine may be on GCE: the variables say so, or (Linux) its DMI product name does. */
async function mayHaveMetadataServer(productNameFile: string): Promise<boolean> {
  const detection = env("METADATA_SERVER_DETECTION");
  if (detection === "none" || /^(1|true|yes)$/i.test(env("NO_GCE_CHECK") ?? "")) return false;
  if (detection === "assume-present" || env("GCE_METADATA_HOST") || env("GCE_METADATA_IP")) return true;
  if (platform() !== "linux") return true;
  const name = await readFile(productNameFile, "utf8").catch(() => "");
  return /google/i.test(name);
}

function metadataSource(client: HttpClient, timeoutMs: number, first?: { token: string; expiresIn: number; at: number }): TokenSource {
  let project: Promise<string | undefined> | undefined;
  return new RefreshingToken(
    async () => {
      const got = await metadataGet(client, "instance/service-accounts/default/token", Math.max(timeoutMs, 10_000));
      if (!got || got.status !== 200) {
        throw new FsError("EACCES", `the GCE metadata server gave no token${got ? ` (HTTP ${got.status})` : ""}`, { path: "gs://", status: got?.status });
      }
      return parseGrant(parseJson(got.body), "the metadata server");
    },
    "the GCE metadata server's default service account",
    (signal) =>
      (project ??= metadataGet(client, "project/project-id", timeoutMs, signal).then((got) =>
        got?.status === 200 && got.body.byteLength > 0 ? got.body.toString("utf8").trim() : undefined,
      )),
    first,
  );
}

// ---------------------------------------------------------------- credential files

/** A source for a parsed credentials file (service account or authorized user). */
export function fromCredentialsJson(json: unknown, client: HttpClient, scope: string, origin: string): TokenSource {
  if (!isRecord(json)) throw FsError.einval(`${origin} is not a JSON object`);
  const type = json.type;
  const field = (name: string): string => {
    const v = json[name];
    if (typeof v !== "string" || v === "") throw FsError.einval(`${origin} has no '${name}'`);
    return v;
  };
  const optional = (name: string): string | undefined => (typeof json[name] === "string" && json[name] !== "" ? (json[name] as string) : undefined);
  if (type === "service_account") {
    const clientEmail = field("client_email");
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(field("private_key"));
    } catch {
      throw FsError.einval(`${origin}: private_key is not a PEM private key`);
    }
    const tokenUri = optional("token_uri") ?? DEFAULT_TOKEN_URI;
    const keyId = optional("private_key_id");
    const projectId = optional("project_id");
    return new RefreshingToken(
      () => tokenRequest(client, tokenUri, { grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: serviceAccountAssertion({ clientEmail, privateKey, keyId }, scope, tokenUri) }, `the service account key of ${clientEmail}`),
      `service account ${clientEmail} (${origin})`,
      async () => projectId,
    );
  }
  if (type === "authorized_user") {
    const form = { grant_type: "refresh_token", client_id: field("client_id"), client_secret: field("client_secret"), refresh_token: field("refresh_token") };
    const tokenUri = optional("token_uri") ?? DEFAULT_TOKEN_URI;
    const projectId = optional("quota_project_id");
    return new RefreshingToken(() => tokenRequest(client, tokenUri, form, `the refresh token of ${origin}`), `authorized user (${origin})`, async () => projectId);
  }
  const kind = typeof type === "string" ? `'${type}'` : "no type";
  throw FsError.enotsup(`${origin} holds credentials of ${kind}; gs reads service_account and authorized_user files (for others pass accessToken)`);
}

async function fromFile(file: string, client: HttpClient, scope: string, origin: string): Promise<TokenSource> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === "ENOENT" ? "ENOENT" : "EACCES";
    throw new FsError(code, `cannot read the credentials file ${origin}`, { path: file, cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw FsError.einval(`the credentials file ${origin} is not JSON`, file);
  }
  return fromCredentialsJson(json, client, scope, origin);
}

/** gcloud's application-default credentials file. */
export function gcloudCredentialsFile(): string {
  const config = env("CLOUDSDK_CONFIG") ?? (platform() === "win32" && env("APPDATA") ? join(env("APPDATA")!, "gcloud") : join(homedir(), ".config", "gcloud"));
  return join(config, "application_default_credentials.json");
}

async function exists(file: string): Promise<boolean> {
  return readFile(file).then(
    () => true,
    () => false,
  );
}

/** The default lookup: GOOGLE_APPLICATION_CREDENTIALS, gcloud's file, the metadata server, else anonymous. */
async function defaultSource(client: HttpClient, options: CredentialOptions, scope: string): Promise<TokenSource> {
  const named = env("GOOGLE_APPLICATION_CREDENTIALS");
  if (named) return fromFile(named, client, scope, `GOOGLE_APPLICATION_CREDENTIALS (${named})`);
  const gcloud = gcloudCredentialsFile();
  if (await exists(gcloud)) return fromFile(gcloud, client, scope, `gcloud's application-default credentials (${gcloud})`);
  if (await mayHaveMetadataServer(options.productNameFile ?? "/sys/class/dmi/id/product_name")) {
    const at = Date.now();
    const probe = await metadataGet(client, "instance/service-accounts/default/token", options.metadataTimeout);
    // The probe asked for a token: it is the first one used.
    if (probe?.status === 200) return metadataSource(client, options.metadataTimeout, { ...parseGrant(parseJson(probe.body), "the metadata server"), at });
  }
  return new Anonymous("anonymous: no credentials were found (GOOGLE_APPLICATION_CREDENTIALS, gcloud's application-default credentials, the GCE metadata server)");
}

/** The token source the options ask for (nothing is read or fetched until the first request). */
export function makeTokenSource(options: CredentialOptions, client: HttpClient): TokenSource {
  const scope = SCOPES[options.access];
  const { token, accessToken } = options;
  if (token === "anon") return new Anonymous("anonymous (token: 'anon')");
  if (accessToken !== undefined) {
    if (typeof accessToken !== "string" || accessToken === "") throw FsError.einval("accessToken must be a non-empty string");
    return new StaticToken(accessToken);
  }
  if (token === undefined || token === null || token === "google_default") return new LazySource(() => defaultSource(client, options, scope));
  if (token === "cloud") return metadataSource(client, options.metadataTimeout);
  if (isRecord(token)) return fromCredentialsJson(token, client, scope, "the token option");
  if (typeof token === "string") return new LazySource(() => fromFile(token, client, scope, "the credentials file the token option names").catch((err: unknown) => {
    // Not a file: say what token takes, without echoing the value (it may be a bearer token).
    if (isFsError(err, "ENOENT")) {
      throw FsError.einval("the token option names no file: it takes 'anon', 'google_default', 'cloud', a path to a JSON credentials file or its parsed contents (a bearer token goes in accessToken)");
    }
    throw err;
  }));
  throw FsError.einval("token must be 'anon', 'google_default', 'cloud', a path to a JSON credentials file or its parsed contents");
}
