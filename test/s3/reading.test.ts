/**
 * Reading from S3 (moto): ranged GetObjects (suffix ranges without a HEAD, 416 -> empty),
 * catRanges merged into one request, readers pinned to the ETag, presigned URLs, anonymous
 * requests, errors without secrets, and the registry / URL chains (filecache::s3://).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbstractFileSystem, FsError, clearInstanceCache, filesystem, urlToFs, type WholeFileCacheFileSystem } from "../../src/index.js";
import { S3FileSystem } from "../../src/implementations/s3.js";
import { CREDENTIALS, bucketName, createBucket, endpoint, makeFs, trace } from "./helpers.js";
import { errorOf } from "../support/errors.js";

const bucket = bucketName("reading");
const DATA = "0123456789abcdefghij";
let fs: S3FileSystem;

beforeAll(async () => {
  await createBucket(bucket);
  fs = makeFs();
  await fs.pipe({ [`${bucket}/data`]: DATA, [`${bucket}/empty`]: "", [`${bucket}/dir/f`]: "f" });
});

afterAll(async () => {
  await fs.close();
});

const text = (b: Uint8Array) => Buffer.from(b).toString();

async function expectCode(promise: Promise<unknown>, code: string): Promise<FsError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(FsError);
  expect((err as FsError).code).toBe(code);
  return err as FsError;
}

describe("ranged reads", () => {
  it("each catFile is one GetObject with the right Range; the whole file has none", async () => {
    const t = trace(fs);
    expect(text(await fs.catFile(`s3://${bucket}/data`, 2, 5))).toBe("234");
    expect(text(await fs.catFile(`s3://${bucket}/data`, 15))).toBe("fghij");
    expect(text(await fs.catFile(`s3://${bucket}/data`))).toBe(DATA);
    expect(t.requests.map((r) => [r.command, r.input.Range])).toEqual([
      ["GetObjectCommand", "bytes=2-4"],
      ["GetObjectCommand", "bytes=15-"],
      ["GetObjectCommand", undefined],
    ]);
  });

  it("a negative start without an end is a suffix range, with no HEAD", async () => {
    const t = trace(fs);
    expect(text(await fs.catFile(`s3://${bucket}/data`, -3))).toBe("hij");
    expect(text(await fs.tail(`s3://${bucket}/data`, 100))).toBe(DATA);
    expect(t.requests.map((r) => [r.command, r.input.Range])).toEqual([
      ["GetObjectCommand", "bytes=-3"],
      ["GetObjectCommand", "bytes=-100"],
    ]);
    expect((await fs.catFile(`s3://${bucket}/empty`, -5)).byteLength).toBe(0);
  });

  it("a start past the end (416) is empty bytes; a missing key is ENOENT", async () => {
    expect((await fs.catFile(`s3://${bucket}/data`, 100, 200)).byteLength).toBe(0);
    expect((await fs.catFile(`s3://${bucket}/empty`, 0, 10)).byteLength).toBe(0);
    expect((await fs.catFile(`s3://${bucket}/empty`)).byteLength).toBe(0);
    const err = await expectCode(fs.catFile(`s3://${bucket}/missing`, 0, 4), "ENOENT");
    expect(err.status).toBe(404);
    await expectCode(fs.catFile(`s3://${bucket}`), "EISDIR");
  });

  it("catRanges merges nearby ranges of a file into one GetObject", async () => {
    const t = trace(fs);
    const out = await fs.catRanges(`s3://${bucket}/data`, [0, 4, 10], [2, 6, 12]);
    expect(out.map((b) => text(b as Uint8Array))).toEqual(["01", "45", "ab"]);
    expect(t.requests.map((r) => r.input.Range)).toEqual(["bytes=0-11"]);
  });

  it("an opened reader is pinned to the ETag it opened: a replaced object is ECHANGED", async () => {
    const path = `s3://${bucket}/pinned`;
    await fs.pipe(path, "A".repeat(100));
    const f = await fs.open(path, "rb", { blockSize: 10, cacheType: "none" });
    expect(text(await f.read(10))).toBe("A".repeat(10));
    await fs.pipe(path, "B".repeat(100));
    await expectCode(f.read(10), "ECHANGED");
    await f.close();
    await using g = await fs.open(path, "rb");
    expect(text(await g.read(3))).toBe("BBB");
    await expectCode(fs.open(`s3://${bucket}/dir`, "rb"), "EISDIR");
  });

  it("a reader opened with a size (no HEAD, as transfers open) pins its later blocks to the first one's ETag", async () => {
    const path = `s3://${bucket}/sized`;
    await fs.pipe(path, "A".repeat(100));
    const t = trace(fs);
    const f = await fs.open(path, "rb", { size: 100, blockSize: 10, cacheType: "none" });
    expect(text(await f.read(10))).toBe("A".repeat(10));
    await fs.pipe(path, "B".repeat(100));
    await expectCode(f.read(10), "ECHANGED");
    await f.close();
    expect(t.names().filter((n) => n === "HeadObjectCommand")).toEqual([]);
  });
});

describe("signals", () => {
  it("an aborted signal is EABORT for reads and listings", async () => {
    const ac = new AbortController();
    ac.abort();
    await expectCode(fs.catFile(`s3://${bucket}/data`, 0, 4, { signal: ac.signal }), "EABORT");
    await expectCode(fs.ls(`s3://${bucket}/dir`, { signal: ac.signal, refresh: true }), "EABORT");
    await expectCode(fs.find(`s3://${bucket}`, { signal: ac.signal }), "EABORT");
    await expectCode(fs.pipeFile(`s3://${bucket}/never`, "x", { signal: ac.signal }), "EABORT");
    expect(await fs.exists(`s3://${bucket}/never`)).toBe(false);
  });
});

describe("sign", () => {
  it("a presigned GetObject URL fetches the object; expirationMs is checked (rounded up to whole seconds)", async () => {
    const url = await fs.sign(`s3://${bucket}/data`, { expirationMs: 60_000 });
    expect(url).toContain("X-Amz-Signature=");
    expect(url).toContain("X-Amz-Expires=60");
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(DATA);
    // S3 signs whole seconds: a part of one rounds up, never down to a shorter life.
    expect(await fs.sign(`s3://${bucket}/data`, { expirationMs: 1500 })).toContain("X-Amz-Expires=2&");
    expect(await fs.sign(`s3://${bucket}/data`, { expirationMs: 7 * 24 * 3600 * 1000 })).toContain("X-Amz-Expires=604800&");
    await expectCode(fs.sign(`s3://${bucket}/data`, { expirationMs: 0 }), "EINVAL");
    await expectCode(fs.sign(`s3://${bucket}/data`, { expirationMs: 7 * 24 * 3600 * 1000 + 1 }), "EINVAL");
    // The option once took seconds under another name: refused, never read as milliseconds.
    expect((await errorOf(fs.sign(`s3://${bucket}/data`, { expiration: 60 } as never))).message).toContain("expirationMs");
    await expectCode(fs.sign(`s3://${bucket}`), "EISDIR");
  });

  it("an anonymous instance sends no Authorization header and signs nothing; private objects are EACCES", async () => {
    const publisher = makeFs({ uploadParams: { ACL: "public-read" } });
    await publisher.pipe(`${bucket}/public`, DATA);
    await publisher.close();
    const anon = new S3FileSystem({ endpoint: endpoint(), anon: true });
    const headers: string[][] = [];
    anon.client.middlewareStack.add(
      (next) => async (args) => {
        headers.push(Object.keys((args.request as { headers: Record<string, string> }).headers).map((h) => h.toLowerCase()));
        return next(args);
      },
      { step: "deserialize", name: "headers" },
    );
    expect(text(await anon.catFile(`s3://${bucket}/public`, 0, 3))).toBe("012");
    expect(headers.length).toBe(1);
    expect(headers[0]).not.toContain("authorization");
    const denied = await expectCode(anon.catFile(`s3://${bucket}/data`), "EACCES");
    expect(denied.status).toBe(403);
    expect(await anon.sign(`s3://${bucket}/public`)).toBe(`${endpoint()}/${bucket}/public`);
    await anon.close();
  });
});

describe("errors never show credentials", () => {
  it("messages, paths, inspect and String() carry no secret or token", async () => {
    const secretFs = makeFs();
    const errors = [
      await secretFs.catFile(`s3://${bucket}/nope`).catch((e: unknown) => e),
      await secretFs.ls(`s3://${bucket}-none`).catch((e: unknown) => e),
      await secretFs.pipeFile(`s3://${bucket}-none/k`, "x").catch((e: unknown) => e),
    ];
    const shown = [...errors.map((e) => `${String(e)} ${(e as FsError).path} ${inspect(e)}`), inspect(secretFs), String(secretFs)].join("\n");
    for (const e of errors) expect(e).toBeInstanceOf(FsError);
    expect(shown).not.toContain(CREDENTIALS.secret);
    expect(shown).not.toContain(CREDENTIALS.token);
    expect(inspect(secretFs)).toContain("***");
    await secretFs.close();
  });

  it("an unreachable endpoint is ECONNREFUSED naming the host, quickly (no retries with maxAttempts 1)", async () => {
    const down = new S3FileSystem({ endpoint: "http://127.0.0.1:1", ...CREDENTIALS, clientOptions: { maxAttempts: 1 } });
    const err = await expectCode(down.info(`s3://${bucket}/data`), "ECONNREFUSED");
    expect(err.message).toContain("connection refused (host 127.0.0.1:1)");
    expect(err.host).toBe("127.0.0.1:1");
    expect(err.message).not.toContain(CREDENTIALS.secret);
    await down.close();
  });

  it("bad options are EINVAL", () => {
    expect(() => new S3FileSystem({ partSize: 1024 })).toThrow(/partSize/);
    expect(() => new S3FileSystem({ key: "only-key" })).toThrow(/key and secret/);
    expect(() => new S3FileSystem({ endpoint: "127.0.0.1:9000" })).toThrow(/endpoint/);
    expect(() => new S3FileSystem({ maxKeys: 5000 })).toThrow(/maxKeys/);
  });
});

describe("registry and URL chains", () => {
  const options = () => ({ endpoint: endpoint(), region: "us-east-1", ...CREDENTIALS });

  it("s3 and s3a resolve to S3FileSystem; instances are cached by options", async () => {
    clearInstanceCache();
    const a = await filesystem("s3", options());
    const b = await filesystem("s3", options());
    expect(a).toBeInstanceOf(S3FileSystem);
    expect(a).toBe(b);
    expect(await filesystem("s3a", options())).toBeInstanceOf(S3FileSystem);
    const rebuilt = await AbstractFileSystem.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    expect(await rebuilt.readText(`s3://${bucket}/data`)).toBe(DATA);
    clearInstanceCache();
  });

  it("filecache::s3://bucket/key downloads once, then serves the cached copy", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fsspec-ts-s3-cache-"));
    try {
      const { fs: layer, path } = await urlToFs(`filecache::s3://${bucket}/data`, {
        s3: { ...options(), skipInstanceCache: true },
        filecache: { cacheStorage: dir },
      });
      const target = (layer as WholeFileCacheFileSystem).target as S3FileSystem;
      expect(target).toBeInstanceOf(S3FileSystem);
      const t = trace(target);
      expect(text(await layer.catFile(path))).toBe(DATA);
      const gets = () => t.requests.filter((r) => r.command === "GetObjectCommand").length;
      expect(gets()).toBe(1);
      expect(text(await layer.catFile(path, 2, 4))).toBe("23");
      expect(gets()).toBe(1);
      const local = await (layer as WholeFileCacheFileSystem).localPath(path);
      expect(local.startsWith(dir)).toBe(true);
      await target.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
