/**
 * A printed filesystem shows its secret options as `***`: util.inspect / console.log,
 * String() and template strings, for every backend, every cache layer (with the nested
 * target), dir, and the HTTP client underneath. toJSON keeps them (it rebuilds the instance).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { format, inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AbstractFileSystem,
  CachingFileSystem,
  DirFileSystem,
  filesystem,
  LocalFileSystem,
  MemoryFileSystem,
  open,
  SimpleCacheFileSystem,
  WholeFileCacheFileSystem,
} from "../../src/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { HuggingFaceFileSystem } from "../../src/implementations/hf.js";
import { NGCFileSystem } from "../../src/implementations/ngc.js";
import { S3FileSystem } from "../../src/implementations/s3.js";
import { startHttpServer } from "../../src/testing/http-server.js";

/** Every secret below is spelled SECRET<n>; none may appear in printed text. */
const LEAK = /SECRET\d+/g;

const HEADERS = {
  Authorization: "Bearer SECRET1",
  Cookie: "sid=SECRET2",
  "X-Api-Key": "SECRET3",
  "Proxy-Authorization": "Basic SECRET4",
  "X-Trace": "visible-header",
};

/** Every way a program prints a value. */
function printed(value: unknown): string[] {
  return [
    inspect(value),
    inspect(value, { depth: Infinity }),
    format("%o", value),
    format(value),
    format("%s", value),
    inspect({ nested: [value] }, { depth: Infinity }),
    String(value),
    `${value}`,
  ];
}

function leaks(value: unknown): string[] {
  return printed(value).flatMap((text) => text.match(LEAK) ?? []);
}

let tmp: string;
const closable: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "fsspec-print-"));
});
afterAll(async () => {
  await Promise.all(closable.map((c) => c.close()));
  await rm(tmp, { recursive: true, force: true });
});

function http(auth: { bearer: string } | { username: string; password: string }): HTTPFileSystem {
  const fs = new HTTPFileSystem({ auth, headers: HEADERS, skipInstanceCache: true });
  closable.push(fs);
  return fs;
}

describe("printed filesystems show secrets as ***", () => {
  it("http: bearer and basic auth, credential headers; other headers and options stay readable", () => {
    for (const fs of [http({ bearer: "SECRET5" }), http({ username: "alice", password: "SECRET6" })]) {
      expect(leaks(fs)).toEqual([]);
      expect(leaks(fs.client)).toEqual([]);
      expect(inspect(fs)).toMatch(/^HTTPFileSystem \{/);
      expect(inspect(fs)).toContain("visible-header");
      expect(inspect(fs)).toContain("auth: '***'");
      expect(String(fs)).toContain("Authorization: '***'");
    }
  });

  it("hf token and ngc apiKey", () => {
    const hf = new HuggingFaceFileSystem({ endpoint: "http://127.0.0.1:9", token: "hf_SECRET7", headers: HEADERS, skipInstanceCache: true });
    const ngc = new NGCFileSystem({ baseUrl: "http://127.0.0.1:9", authUrl: "http://127.0.0.1:9", apiKey: "nvapi-SECRET8", headers: HEADERS, skipInstanceCache: true });
    closable.push(hf, ngc);
    for (const fs of [hf, ngc]) {
      expect(leaks(fs)).toEqual([]);
      expect(String(fs)).toContain("'***'");
    }
    expect(String(hf)).toContain("token: '***'");
    expect(String(ngc)).toContain("apiKey: '***'");
  });

  it("s3 key, secret, token, clientOptions and an endpoint with user info", () => {
    const s3 = new S3FileSystem({
      key: "AKIASECRET9",
      secret: "SECRET10",
      token: "SECRET11",
      endpoint: "http://minio:SECRET12@127.0.0.1:9",
      clientOptions: { credentials: { accessKeyId: "SECRET13", secretAccessKey: "SECRET14" } },
      region: "us-east-1",
      skipInstanceCache: true,
    });
    closable.push(s3);
    expect(leaks(s3)).toEqual([]);
    expect(String(s3)).toContain("region: 'us-east-1'");
  });

  it("dir and every cache layer, with the nested target and option objects", async () => {
    const target = http({ bearer: "SECRET15" });
    const layers: AbstractFileSystem[] = [
      new DirFileSystem({ fs: target, path: "http://127.0.0.1:9/root" }),
      new CachingFileSystem({ fs: target, cacheStorage: join(tmp, "b"), skipInstanceCache: true }),
      new WholeFileCacheFileSystem({ fs: target, cacheStorage: join(tmp, "f"), skipInstanceCache: true }),
      new SimpleCacheFileSystem({ fs: target, cacheStorage: join(tmp, "s"), skipInstanceCache: true }),
      new SimpleCacheFileSystem({
        fs: new CachingFileSystem({ fs: target, cacheStorage: join(tmp, "b2"), skipInstanceCache: true }),
        cacheStorage: join(tmp, "s2"),
        targetOptions: { auth: { bearer: "SECRET16" }, headers: { authorization: "SECRET17" }, password: "SECRET18" },
        skipInstanceCache: true,
      } as never),
      await filesystem("blockcache", {
        targetProtocol: "http",
        targetOptions: { auth: { username: "u", password: "SECRET19" }, headers: HEADERS, skipInstanceCache: true },
        cacheStorage: join(tmp, "b3"),
        skipInstanceCache: true,
      }),
      await filesystem("dir", { targetProtocol: "https", targetOptions: { auth: { bearer: "SECRET20" }, skipInstanceCache: true }, path: "https://127.0.0.1:9/r", skipInstanceCache: true }),
    ];
    for (const fs of layers) {
      expect([fs.protocol, leaks(fs)]).toEqual([fs.protocol, []]);
      expect(inspect(fs, { depth: Infinity })).toContain("HTTPFileSystem {");
    }
  });

  it("backends without secrets print their options", () => {
    expect(String(new MemoryFileSystem({ store: "private" }))).toBe("MemoryFileSystem { store: 'private' }");
    expect(inspect(new LocalFileSystem({ autoMkdir: false }))).toBe("LocalFileSystem { autoMkdir: false }");
  });

  it("opened files and OpenFile print their URL without user info or signatures", async () => {
    const server = await startHttpServer();
    server.setFile("/a.txt", "abc");
    const fs = http({ bearer: "SECRET22" });
    const url = `${server.url.replace("http://", "http://u:SECRET23@")}/a.txt?X-Amz-Signature=SECRET24&part=1`;
    const binary = await fs.open(url, "rb");
    const text = await fs.open(url, "r");
    const lazy = await open(`${server.url}/a.txt?sig=SECRET25`, "rb", { skipInstanceCache: true } as never);
    for (const value of [binary, text, lazy]) {
      expect(leaks(value)).toEqual([]);
      expect(inspect(value)).toContain("a.txt?");
    }
    expect(inspect(binary)).toContain("X-Amz-Signature=***&part=1");
    expect(Buffer.from(await binary.read()).toString()).toBe("abc");
    await binary.close();
    await text.close();
    await server.close();
  });

  it("toJSON keeps the secrets: it is how an instance is rebuilt", () => {
    const fs = http({ bearer: "SECRET21" });
    expect(JSON.stringify(fs)).toContain("SECRET21");
    expect(JSON.stringify(fs)).toContain("Bearer SECRET1");
  });
});
