/**
 * Credentials against the local GCS server's OAuth and metadata endpoints: the lookup order,
 * each kind of credential, refresh before expiry and once on a 401, the emulator variable, and
 * that no credential is ever printed.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { filesystem, clearInstanceCache } from "../../src/index.js";
import { GCSFileSystem, type GCSFileSystemOptions } from "../../src/implementations/gs.js";
import { startGcsServer, type TestGcsServer } from "../support/gcs-server.js";
import { errorOf } from "../support/errors.js";
import { hermeticEnv, TOKEN } from "./helpers.js";

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PRIVATE_PEM = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const PUBLIC_PEM = publicKey.export({ type: "spki", format: "pem" }).toString();
const EMAIL = "loader@test-project.iam.gserviceaccount.com";
const CLIENT_SECRET = "client-secret-never-printed";
const REFRESH_TOKEN = "1//refresh-token-never-printed";

let srv: TestGcsServer;
let restore: () => void;
let dir: string;
const open: GCSFileSystem[] = [];

function serviceAccountJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: "service_account", project_id: "key-project", private_key_id: "kid1", private_key: PRIVATE_PEM, client_email: EMAIL, token_uri: srv.tokenUri, ...overrides };
}

function authorizedUserJson(): Record<string, unknown> {
  return { type: "authorized_user", client_id: "client-id.apps", client_secret: CLIENT_SECRET, refresh_token: REFRESH_TOKEN, token_uri: srv.tokenUri, quota_project_id: "user-project" };
}

function writeJson(name: string, json: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(json));
  return file;
}

function gs(options: GCSFileSystemOptions = {}): GCSFileSystem {
  const fs = new GCSFileSystem({ endpoint: srv.url, retryDelay: 1, skipInstanceCache: true, ...options });
  open.push(fs);
  return fs;
}

const auths = (kind = "get") => srv.requests.filter((r) => r.kind === kind).map((r) => r.headers.authorization);

beforeAll(async () => {
  srv = await startGcsServer();
  srv.addServiceAccount(EMAIL, PUBLIC_PEM);
  srv.addAuthorizedUser("client-id.apps", CLIENT_SECRET, REFRESH_TOKEN);
  srv.addAccessToken(TOKEN);
  srv.createBucket("private-bucket");
  srv.createBucket("public-bucket", { public: true });
  srv.putObject("private-bucket", "f.txt", "private");
  srv.putObject("public-bucket", "f.txt", "public");
});
afterAll(async () => {
  await srv.close();
});
beforeEach(() => {
  restore = hermeticEnv();
  dir = mkdtempSync(join(tmpdir(), "fsspec-ts-gs-auth-"));
  srv.resetCounts();
  srv.setTokenLifetimeMs(3_600_000);
  // A test may have revoked every token.
  srv.addAccessToken(TOKEN);
});
afterEach(async () => {
  for (const fs of open.splice(0)) await fs.close();
  restore();
  rmSync(dir, { recursive: true, force: true });
});

describe("credentials", () => {
  it('token: "anon" reads public buckets with no Authorization and looks nothing up; private ones are EACCES with a hint', async () => {
    process.env.GOOGLE_APPLICATION_CREDENTIALS = join(dir, "never-read.json");
    const fs = gs({ token: "anon" });
    expect(await fs.readText("gs://public-bucket/f.txt")).toBe("public");
    expect(srv.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(srv.count("token")).toBe(0);
    const err = await errorOf(fs.readText("gs://private-bucket/f.txt"));
    expect(err).toMatchObject({ code: "EACCES", status: 401 });
    expect(err.message).toMatch(/no credentials/);
    expect(err.message).toMatch(/GOOGLE_APPLICATION_CREDENTIALS/);
  });

  it("accessToken is sent as a bearer token as given", async () => {
    const fs = gs({ accessToken: TOKEN });
    expect(await fs.readText("gs://private-bucket/f.txt")).toBe("private");
    expect(srv.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    const bad = gs({ accessToken: "ya29.wrong" });
    const err = await errorOf(bad.info("gs://private-bucket/f.txt"));
    expect(err).toMatchObject({ code: "EACCES", status: 401 });
    expect(err.message).toMatch(/the accessToken option/);
    expect(err.message).not.toContain("ya29.wrong");
  });

  it("a service-account key (token option: parsed JSON or a path) is exchanged with an RS256 JWT at its token_uri", async () => {
    const fs = gs({ token: serviceAccountJson() });
    expect(await fs.readText("gs://private-bucket/f.txt")).toBe("private");
    expect(srv.count("token")).toBe(1);
    expect(auths("media")).toEqual([`Bearer ${srv.issuedTokens.at(-1)}`]);
    // Later requests reuse the token.
    await fs.info("gs://private-bucket/f.txt");
    expect(srv.count("token")).toBe(1);
    const byPath = gs({ token: writeJson("sa.json", serviceAccountJson()) });
    expect(await byPath.readText("gs://private-bucket/f.txt")).toBe("private");
    expect(srv.count("token")).toBe(2);
    // Its project serves bucket calls when no other is named.
    await byPath.ls("gs://").catch(() => undefined);
    expect(srv.requests.filter((r) => r.kind === "bucket").map((r) => r.query.get("project"))).toEqual(["key-project"]);
  });

  it("a key the token endpoint refuses is EACCES naming the account, never the key", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const fs = gs({ token: serviceAccountJson({ private_key: other }) });
    const err = await errorOf(fs.info("gs://private-bucket/f.txt"));
    expect(err.code).toBe("EACCES");
    expect(err.message).toContain(EMAIL);
    expect(err.message).toMatch(/invalid_grant/);
    expect(err.message).not.toContain("PRIVATE KEY");
    expect(inspect(err)).not.toContain("PRIVATE KEY");
  });

  it("the default lookup: GOOGLE_APPLICATION_CREDENTIALS first, then gcloud's application-default file", async () => {
    const config = process.env.CLOUDSDK_CONFIG!;
    mkdirSync(config, { recursive: true });
    writeFileSync(join(config, "application_default_credentials.json"), JSON.stringify(authorizedUserJson()));
    process.env.GOOGLE_APPLICATION_CREDENTIALS = writeJson("sa.json", serviceAccountJson());
    const fs = gs();
    expect(await fs.readText("gs://private-bucket/f.txt")).toBe("private");
    const grants = srv.requests.filter((r) => r.kind === "token");
    expect(grants).toHaveLength(1);
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    srv.resetCounts();
    const adc = gs();
    expect(await adc.readText("gs://private-bucket/f.txt")).toBe("private");
    expect(srv.count("token")).toBe(1);
    // The refresh grant's form carries the secrets; the server saw them, no message does.
    const err = await errorOf(adc.readText("gs://private-bucket/missing"));
    expect(err.code).toBe("ENOENT");
    expect(`${err.message} ${inspect(adc)} ${String(adc)}`).not.toMatch(/never-printed/);
  });

  it("GOOGLE_APPLICATION_CREDENTIALS naming a missing file is an error, not a silent fallback", async () => {
    process.env.GOOGLE_APPLICATION_CREDENTIALS = join(dir, "missing.json");
    const err = await errorOf(gs().info("gs://public-bucket/f.txt"));
    expect(err.code).toBe("ENOENT");
    expect(err.message).toMatch(/GOOGLE_APPLICATION_CREDENTIALS/);
    process.env.GOOGLE_APPLICATION_CREDENTIALS = writeJson("odd.json", { type: "external_account", audience: "x" });
    expect((await errorOf(gs().info("gs://public-bucket/f.txt"))).code).toBe("ENOTSUP");
    process.env.GOOGLE_APPLICATION_CREDENTIALS = writeJson("bad.json", "not an object");
    expect((await errorOf(gs().info("gs://public-bucket/f.txt"))).code).toBe("EINVAL");
  });

  it("then the metadata server (GCE_METADATA_HOST, Metadata-Flavor: Google), with its project", async () => {
    delete process.env.METADATA_SERVER_DETECTION;
    process.env.GCE_METADATA_HOST = srv.metadataHost;
    const fs = gs();
    expect(await fs.readText("gs://private-bucket/f.txt")).toBe("private");
    const md = srv.requests.filter((r) => r.kind === "metadata");
    // The lookup's probe is the token request.
    expect(md.map((r) => r.path)).toEqual(["/computeMetadata/v1/instance/service-accounts/default/token"]);
    expect(md.every((r) => r.headers["metadata-flavor"] === "Google")).toBe(true);
    expect(auths("media")).toEqual([`Bearer ${srv.issuedTokens.at(-1)}`]);
    await fs.ls("gs://").catch(() => undefined);
    expect(srv.requests.filter((r) => r.kind === "bucket").map((r) => r.query.get("project"))).toEqual(["metadata-project"]);
    const cloud = gs({ token: "cloud" });
    expect(await cloud.readText("gs://private-bucket/f.txt")).toBe("private");
  });

  it("no credentials anywhere (no metadata server answers in time): anonymous, and public buckets still read", async () => {
    delete process.env.METADATA_SERVER_DETECTION;
    // A port nothing listens on: the lookup gives up quickly and goes on anonymously.
    process.env.GCE_METADATA_HOST = "127.0.0.1:9";
    const fs = gs({ metadataTimeout: 200 });
    const started = Date.now();
    expect(await fs.readText("gs://public-bucket/f.txt")).toBe("public");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(srv.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
    const err = await errorOf(fs.readText("gs://private-bucket/f.txt"));
    expect(err.message).toMatch(/no credentials were found/);
  });

  it("a token is fetched again shortly before it expires", async () => {
    srv.setTokenLifetimeMs(1000);
    const fs = gs({ token: serviceAccountJson() });
    await fs.info("gs://private-bucket/f.txt");
    fs.invalidateCache();
    await fs.info("gs://private-bucket/f.txt");
    expect(srv.count("token")).toBe(1);
    // Past nine tenths of its life (the server would still take it for a tenth more).
    await new Promise((r) => setTimeout(r, 950));
    fs.invalidateCache();
    await fs.info("gs://private-bucket/f.txt");
    expect(srv.count("token")).toBe(2);
    expect(auths().at(-1)).toBe(`Bearer ${srv.issuedTokens.at(-1)}`);
  });

  it("a token refused with 401 is dropped and the call tried once more with a fresh one", async () => {
    const fs = gs({ token: serviceAccountJson() });
    await fs.info("gs://private-bucket/f.txt");
    srv.revokeTokens();
    fs.invalidateCache();
    expect(await fs.readText("gs://private-bucket/f.txt")).toBe("private");
    expect(srv.count("token")).toBe(2);
    expect(srv.requests.filter((r) => r.kind === "media").map((r) => r.headers.authorization)).toEqual([`Bearer ${srv.issuedTokens.at(-2)}`, `Bearer ${srv.issuedTokens.at(-1)}`]);
  });

  it("STORAGE_EMULATOR_HOST (host:port or a URL) points the backend at an emulator, anonymously unless told otherwise", async () => {
    process.env.STORAGE_EMULATOR_HOST = srv.metadataHost;
    clearInstanceCache();
    const fs = (await filesystem("gs", { skipInstanceCache: true })) as GCSFileSystem;
    open.push(fs);
    expect(fs.endpoint).toBe(srv.url);
    expect(await fs.readText("gs://public-bucket/f.txt")).toBe("public");
    expect(srv.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
    process.env.STORAGE_EMULATOR_HOST = `${srv.url}/storage/v1/`;
    const withToken = new GCSFileSystem({ accessToken: TOKEN, skipInstanceCache: true });
    open.push(withToken);
    expect(withToken.endpoint).toBe(srv.url);
    expect(await withToken.readText("gs://private-bucket/f.txt")).toBe("private");
  });

  it("credentials are printed as *** (toString, inspect, JSON stays usable)", async () => {
    const fs = gs({ token: serviceAccountJson(), accessToken: undefined });
    const bearer = gs({ accessToken: "ya29.secret-bearer" });
    for (const text of [String(fs), inspect(fs, { depth: 5 }), String(bearer), inspect(bearer, { depth: 5 })]) {
      expect(text).not.toContain("PRIVATE KEY");
      expect(text).not.toContain("ya29.secret-bearer");
      expect(text).toContain("***");
    }
    expect(bearer.toJSON().options.accessToken).toBe("ya29.secret-bearer");
  });

  it("a token option that names no file says what it takes without echoing it", async () => {
    const err = await errorOf(gs({ token: "ya29.looks-like-a-bearer" }).info("gs://public-bucket/f.txt"));
    expect(err.code).toBe("EINVAL");
    expect(err.message).toMatch(/accessToken/);
    expect(err.message).not.toContain("ya29.looks-like-a-bearer");
  });
});
