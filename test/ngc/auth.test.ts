/** API keys and bearer tokens: one token for many reads, a new one after a 401, expiry, scopes, and no secret in any error. */
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { NGCFileSystem } from "../../src/implementations/ngc.js";
import { startNgcServer, type TestNgcServer } from "../../src/testing/ngc-server.js";
import { errorOf } from "../support/errors.js";
import { API_KEY, ngcFs } from "./helpers.js";

const PRIVATE = "models/acme/research/secret@3.1";
const ORG_ONLY = "models/acme/tool@1";
const PUBLIC = "models/nvidia/modulus/fcn@1.0";
const FILES = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`part${i}.bin`, `part ${i}`]));

let srv: TestNgcServer;
const opened: NGCFileSystem[] = [];

beforeAll(async () => {
  srv = await startNgcServer({ apiKeys: [API_KEY] });
  srv.addFiles(PRIVATE, FILES, { private: true });
  srv.addFiles(ORG_ONLY, { "w.bin": "tool weights" }, { private: true });
  srv.addFiles("models/orgless@2", { "f.txt": "orgless" }, { private: true });
  srv.addFiles(PUBLIC, { "fcn.mdlus": "public weights" });
});
afterAll(async () => {
  await Promise.all(opened.map((fs) => fs.close()));
  await srv.close();
});
afterEach(() => {
  srv.setTokenLifetimeMs(3_600_000);
  srv.resetCounts();
});

function keyed(more: ConstructorParameters<typeof NGCFileSystem>[0] = {}): NGCFileSystem {
  const fs = ngcFs(srv, { apiKey: API_KEY, ...more });
  opened.push(fs);
  return fs;
}

const tokenRequests = () => srv.requests.filter((r) => r.kind === "token");
const bearerOf = (r: { headers: Record<string, unknown> }) => String(r.headers.authorization ?? "");

describe("tokens", () => {
  it("one token request serves many reads, concurrent and sequential; lookups use the authenticated endpoint", async () => {
    const fs = keyed();
    const names = Object.keys(FILES);
    const got = await Promise.all(names.map((n) => fs.readText(`ngc://${PRIVATE}/${n}`)));
    expect(got).toEqual(Object.values(FILES));
    expect(await fs.readText(`ngc://${PRIVATE}/part0.bin`)).toBe("part 0");
    expect(await fs.ls(`ngc://${PRIVATE}`, { detail: false })).toHaveLength(8);
    expect(tokenRequests()).toHaveLength(1);
    const [token] = tokenRequests();
    expect(bearerOf(token!)).toBe(`Basic ${Buffer.from(`$oauthtoken:${API_KEY}`).toString("base64")}`);
    const scopes = new URL(token!.url, srv.url).searchParams;
    expect(scopes.get("service")).toBe("ngc");
    expect(scopes.getAll("scope")).toEqual(["group/ngc:acme", "group/ngc:acme/research"]);
    const lookups = srv.requests.filter((r) => r.kind === "lookup");
    expect(lookups).toHaveLength(8);
    expect(lookups.every((r) => r.endpoint === "authenticated" && /^Bearer tok-/.test(bearerOf(r)))).toBe(true);
    expect(lookups[0]!.path).toBe(`/v2/org/acme/team/research/models/secret/3.1/files`);
    expect(srv.requests.find((r) => r.kind === "listing")?.headers.authorization).toMatch(/^Bearer tok-/);
  });

  it("the token never goes to storage with the presigned download", async () => {
    const fs = keyed();
    await fs.readText(`ngc://${PRIVATE}/part1.bin`);
    const downloads = srv.requests.filter((r) => r.kind === "download");
    expect(downloads).toHaveLength(1);
    expect(downloads[0]!.headers.authorization).toBeUndefined();
  });

  it("a token the registry refuses (401) is replaced once, and the read succeeds", async () => {
    const fs = keyed();
    expect(await fs.readText(`ngc://${PRIVATE}/part2.bin`)).toBe("part 2");
    srv.revokeTokens();
    expect(await fs.readText(`ngc://${PRIVATE}/part3.bin`)).toBe("part 3");
    expect(tokenRequests()).toHaveLength(2);
    const lookups = srv.requests.filter((r) => r.kind === "lookup").map(bearerOf);
    expect(lookups).toHaveLength(3);
    expect(lookups[1]).toBe(lookups[0]);
    expect(lookups[2]).not.toBe(lookups[1]);
    // Later reads keep the new token.
    expect(await fs.readText(`ngc://${PRIVATE}/part4.bin`)).toBe("part 4");
    expect(tokenRequests()).toHaveLength(2);
  });

  it("a second 401 with a fresh token is EACCES, not a loop", async () => {
    const fs = keyed();
    srv.failNext("lookup", 401, 2);
    const err = await errorOf(fs.catFile(`ngc://${PRIVATE}/part5.bin`));
    expect(err.code).toBe("EACCES");
    expect(err.status).toBe(401);
    expect(err.path).toBe(`${PRIVATE}/part5.bin`);
    expect(tokenRequests()).toHaveLength(2);
    expect(srv.count("lookup")).toBe(2);
  });

  it("a token that has expired (expires_in) is not used again: a new one is fetched first", async () => {
    srv.setTokenLifetimeMs(0);
    const fs = keyed();
    for (const n of ["part0.bin", "part1.bin", "part2.bin"]) await fs.readText(`ngc://${PRIVATE}/${n}`);
    // Each lookup after a token request of its own: never a request with a token known to be stale.
    expect(srv.requests.map((r) => r.kind)).toEqual(Array(3).fill(["token", "lookup", "download"]).flat());
    expect(new Set(srv.requests.filter((r) => r.kind === "lookup").map(bearerOf)).size).toBe(3);
    expect(srv.count("lookup")).toBe(3);
  });

  it("the org (and team) of the options scope tokens for paths that name no org", async () => {
    const fs = keyed({ org: "acme", team: "research" });
    expect(await fs.readText("ngc://models/orgless@2/f.txt")).toBe("orgless");
    expect(new URL(tokenRequests()[0]!.url, srv.url).searchParams.getAll("scope")).toEqual(["group/ngc:acme", "group/ngc:acme/research"]);
    expect(srv.requests.find((r) => r.kind === "lookup")!.path).toBe("/v2/models/orgless/2/files");
    // A path with an org but no team asks for the org alone, whatever the options' team.
    expect(await fs.readText(`ngc://${ORG_ONLY}/w.bin`)).toBe("tool weights");
    expect(new URL(tokenRequests()[1]!.url, srv.url).searchParams.getAll("scope")).toEqual(["group/ngc:acme"]);
  });

  it("the key, org and team come from NGC_CLI_API_KEY, NGC_CLI_ORG, NGC_CLI_TEAM when not given", async () => {
    const saved = { ...process.env };
    process.env.NGC_CLI_API_KEY = API_KEY;
    process.env.NGC_CLI_ORG = "acme";
    process.env.NGC_CLI_TEAM = "research";
    process.env.NGC_CLI_SEARCH_SERVICE_URL = srv.url;
    try {
      const fs = new NGCFileSystem({ authUrl: srv.authUrl, skipInstanceCache: true });
      opened.push(fs);
      expect(fs.baseUrl).toBe(srv.url);
      expect(await fs.readText("ngc://models/orgless@2/f.txt")).toBe("orgless");
      expect(new URL(tokenRequests()[0]!.url, srv.url).searchParams.getAll("scope")).toEqual(["group/ngc:acme", "group/ngc:acme/research"]);
    } finally {
      for (const k of ["NGC_CLI_API_KEY", "NGC_CLI_ORG", "NGC_CLI_TEAM", "NGC_CLI_SEARCH_SERVICE_URL"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});

describe("without a key", () => {
  it("public models are read anonymously from the public endpoint", async () => {
    const fs = ngcFs(srv);
    opened.push(fs);
    expect(await fs.readText(`ngc://${PUBLIC}/fcn.mdlus`)).toBe("public weights");
    expect(tokenRequests()).toHaveLength(0);
    const lookup = srv.requests.find((r) => r.kind === "lookup")!;
    expect(lookup.endpoint).toBe("public");
    expect(lookup.path).toBe("/v2/models/org/nvidia/team/modulus/fcn/1.0/files");
    expect(lookup.headers.authorization).toBeUndefined();
  });

  it("a private model is EACCES, and the message says a key is needed", async () => {
    const fs = ngcFs(srv);
    opened.push(fs);
    const url = `ngc://${PRIVATE}/part0.bin`;
    for (const call of [() => fs.info(url), () => fs.catFile(url), () => fs.open(url)]) {
      const err = await errorOf(call());
      expect(err.code).toBe("EACCES");
      expect(err.message).toContain("NGC_CLI_API_KEY");
    }
    expect(tokenRequests()).toHaveLength(0);
  });
});

describe("a key without an org", () => {
  it("paths without an org go out anonymously, and a refusal says an org is needed", async () => {
    const fs = keyed();
    const err = await errorOf(fs.catFile("ngc://models/orgless@2/f.txt"));
    expect(err.code).toBe("EACCES");
    expect(err.message).toContain("NGC_CLI_ORG");
    expect(tokenRequests()).toHaveLength(0);
    expect(srv.requests.find((r) => r.kind === "lookup")!.headers.authorization).toBeUndefined();
  });
});

describe("secrets stay out of errors", () => {
  const WRONG = "nvapi-WRONG-secret-key-do-not-print";

  it("a refused API key is EACCES without the key in message, path or causes", async () => {
    const fs = keyed({ apiKey: WRONG });
    const err = await errorOf(fs.readText(`ngc://${PRIVATE}/part0.bin`));
    expect(err.code).toBe("EACCES");
    expect(err.message).toMatch(/API key was refused/);
    const shown = inspect(err, { depth: null }) + JSON.stringify(err);
    expect(shown).not.toContain(WRONG);
    expect(shown).not.toContain(Buffer.from(`$oauthtoken:${WRONG}`).toString("base64"));
  });

  it("failures after a token was issued never show the token or a URL signature", async () => {
    const fs = keyed({ retries: 0 });
    await fs.readText(`ngc://${PRIVATE}/part6.bin`);
    const token = bearerOf(srv.requests.find((r) => r.kind === "lookup")!).replace("Bearer ", "");
    const signature = new URL(srv.requests.find((r) => r.kind === "download")!.url, srv.url).searchParams.get("X-Amz-Signature")!;
    expect(token).toMatch(/^tok-/);
    srv.failNext("lookup", 500);
    const lookupErr = await errorOf(fs.catFile(`ngc://${PRIVATE}/part7.bin`));
    expect(lookupErr.code).toBe("EIO");
    expect(lookupErr.status).toBe(500);
    // The kept URL of part6 now points at bytes that are gone from storage.
    srv.storage.deleteFile(srv.blobPath(PRIVATE, "part6.bin"));
    const downloadErr = await errorOf(fs.catFile(`ngc://${PRIVATE}/part6.bin`));
    expect(downloadErr.code).toBe("ENOENT");
    expect(downloadErr.path).toBe(`${PRIVATE}/part6.bin`);
    for (const err of [lookupErr, downloadErr]) {
      const shown = inspect(err, { depth: null }) + JSON.stringify(err);
      expect(shown).not.toContain(token);
      expect(shown).not.toContain(signature);
      expect(shown).not.toContain(API_KEY);
    }
    srv.addFiles(PRIVATE, { "part6.bin": FILES["part6.bin"]! });
  });
});
