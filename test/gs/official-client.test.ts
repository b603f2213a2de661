/**
 * The local GCS server checked against Google's own client (@google-cloud/storage, a
 * devDependency used only here): what the official client sends and expects must work
 * against the fake, so the fake's API shapes are the real ones. The client gets a fixed
 * bearer token and the fake's address for the metadata server, so nothing leaves 127.0.0.1.
 */
import { createHash } from "node:crypto";
import { Storage } from "@google-cloud/storage";
import { OAuth2Client } from "google-auth-library";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGcsServer, type TestGcsServer } from "../support/gcs-server.js";

const TOKEN = "ya29.official-client-token";
let srv: TestGcsServer;
let storage: Storage;
const saved: Record<string, string | undefined> = {};
const ENV = ["GCE_METADATA_HOST", "GCE_METADATA_IP", "METADATA_SERVER_DETECTION", "STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS"];

function pattern(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

beforeAll(async () => {
  srv = await startGcsServer({ rewriteBytesPerCall: 1024 * 1024 });
  srv.createBucket("official");
  srv.addAccessToken(TOKEN);
  for (const k of ENV) saved[k] = process.env[k];
  for (const k of ENV) delete process.env[k];
  // Should the client ever look for a metadata server, it finds the fake's.
  process.env.GCE_METADATA_HOST = srv.metadataHost;
  process.env.METADATA_SERVER_DETECTION = "none";
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: TOKEN, expiry_date: Date.now() + 3_600_000 });
  storage = new Storage({
    apiEndpoint: srv.url,
    projectId: "test-project",
    useAuthWithCustomEndpoint: true,
    authClient,
    retryOptions: { autoRetry: true, maxRetries: 3, retryDelayMultiplier: 1.1, totalTimeout: 20 },
  });
});

afterAll(async () => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  await srv.close();
});

describe("the local GCS server speaks the API the official client expects", () => {
  it("uploads (simple), downloads whole and by range, reads metadata", async () => {
    const file = storage.bucket("official").file("dir/simple.bin");
    const data = pattern(100_000);
    await file.save(data, { resumable: false, contentType: "application/x-test" });
    expect(srv.requests.some((r) => r.kind === "upload" && r.query.get("uploadType") === "multipart")).toBe(true);
    const [whole] = await file.download();
    expect(Buffer.compare(whole, data)).toBe(0);
    const [part] = await file.download({ start: 1000, end: 1999 });
    expect(Buffer.compare(part, data.subarray(1000, 2000))).toBe(0);
    const [meta] = await file.getMetadata();
    expect(meta.size).toBe("100000");
    expect(meta.contentType).toBe("application/x-test");
    expect(meta.md5Hash).toBe(createHash("md5").update(data).digest("base64"));
    expect(srv.getObject("official", "dir/simple.bin")!.generation).toBe(String(meta.generation));
  });

  it("a resumable upload in 256 KiB chunks arrives whole", async () => {
    const data = pattern(3 * 256 * 1024 + 12_345, 2);
    const file = storage.bucket("official").file("big/resumable.bin");
    srv.resetCounts();
    // The client's own save() would start the session without credentials on a custom
    // endpoint (it drops useAuthWithCustomEndpoint there); the session URL needs none.
    const [uri] = await file.createResumableUpload();
    expect(srv.count("upload")).toBe(1);
    await file.save(data, { uri, resumable: true, chunkSize: 256 * 1024, validation: "crc32c" });
    expect(srv.count("chunk")).toBeGreaterThanOrEqual(4);
    expect(Buffer.compare(Buffer.from(srv.getObject("official", "big/resumable.bin")!.data), data)).toBe(0);
    expect(srv.openSessions()).toBe(0);
  });

  it("lists with a delimiter and pages past maxResults", async () => {
    const bucket = storage.bucket("official");
    for (let i = 0; i < 7; i++) srv.putObject("official", `list/f${i}.txt`, `file ${i}`);
    srv.putObject("official", "list/sub/deep.txt", "deep");
    const [files, , response] = await bucket.getFiles({ prefix: "list/", delimiter: "/", autoPaginate: false, maxResults: 3 });
    expect(files.map((f) => f.name)).toEqual(["list/f0.txt", "list/f1.txt", "list/f2.txt"]);
    expect((response as { nextPageToken?: string }).nextPageToken).toBeTruthy();
    const names: string[] = [];
    const prefixes: string[] = [];
    let query: object | null = { prefix: "list/", delimiter: "/", autoPaginate: false, maxResults: 3 };
    while (query) {
      const [page, next, raw] = await bucket.getFiles(query);
      names.push(...page.map((f) => f.name));
      prefixes.push(...((raw as { prefixes?: string[] }).prefixes ?? []));
      query = next as object | null;
    }
    expect(names).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `list/f${i}.txt`));
    expect(prefixes).toEqual(["list/sub/"]);
    const [flat] = await bucket.getFiles({ prefix: "list/" });
    expect(flat).toHaveLength(8);
  });

  it("copies (rewrite, looping on its token) and deletes", async () => {
    const data = pattern(3 * 1024 * 1024 + 5, 3);
    srv.putObject("official", "copy/src.bin", data);
    srv.resetCounts();
    await storage.bucket("official").file("copy/src.bin").copy(storage.bucket("official").file("copy/dst.bin"));
    expect(srv.count("rewrite")).toBe(4);
    expect(Buffer.compare(Buffer.from(srv.getObject("official", "copy/dst.bin")!.data), data)).toBe(0);
    await storage.bucket("official").file("copy/src.bin").delete();
    expect(srv.getObject("official", "copy/src.bin")).toBeUndefined();
    const [exists] = await storage.bucket("official").file("copy/src.bin").exists();
    expect(exists).toBe(false);
    await expect(storage.bucket("official").file("copy/src.bin").download()).rejects.toMatchObject({ code: 404 });
  });

  it("a precondition (ifGenerationMatch: 0) refuses to overwrite", async () => {
    srv.putObject("official", "pre/there.txt", "x");
    await expect(
      storage.bucket("official").file("pre/there.txt").save("y", { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }),
    ).rejects.toMatchObject({ code: 412 });
    expect(Buffer.from(srv.getObject("official", "pre/there.txt")!.data).toString()).toBe("x");
  });

  it("lists and creates buckets of a project", async () => {
    await storage.createBucket("made-by-client");
    const [buckets] = await storage.getBuckets();
    expect(buckets.map((b) => b.name).sort()).toEqual(["made-by-client", "official"]);
    await expect(storage.createBucket("made-by-client")).rejects.toMatchObject({ code: 409 });
  });
});
