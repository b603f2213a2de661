/**
 * Keys with empty segments on S3 (moto): `a//b`, `/leading`, `x///y`. One rule everywhere: a
 * run of slashes is one separator, names keep the key's own spelling. Every key must be
 * reachable through every listing; the raw client's flat listing is the authority.
 */
import { mkdtemp, readFile, rm as rmLocal } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import "../../src/index.js"; // registers the local filesystem `get` writes to
import type { S3FileSystem } from "../../src/implementations/s3.js";
import { bucketName, createBucket, makeFs, rawClient, trace } from "./helpers.js";

const KEYS = ["double//slash.txt", "a//b//c.txt", "/leading.txt", "x///y.txt", "plain/p.txt", "top.txt"];
const body = (key: string) => `content of ${key}`;

async function putRaw(bucket: string, key: string, data = body(key)): Promise<void> {
  const client = rawClient();
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(data) }));
  client.destroy();
}

/** Every key of the bucket, from one flat listing of the raw client. */
async function rawKeys(bucket: string): Promise<string[]> {
  const client = rawClient();
  const out = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  client.destroy();
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

async function rawExists(bucket: string, key: string): Promise<boolean> {
  const client = rawClient();
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

async function seeded(tag: string): Promise<string> {
  const bucket = bucketName(tag);
  await createBucket(bucket);
  for (const key of KEYS) await putRaw(bucket, key);
  return bucket;
}

describe("S3 keys with empty segments", () => {
  let bucket: string;
  let fs: S3FileSystem;
  let paths: string[];
  beforeAll(async () => {
    bucket = await seeded("empty-seg");
    fs = makeFs({ useListingsCache: false });
    paths = (await rawKeys(bucket)).map((k) => `${bucket}/${k}`);
    expect(paths).toHaveLength(KEYS.length);
  });

  it("ls: an empty segment is no level of its own; names are the keys as spelled", async () => {
    const top = await fs.ls(bucket);
    expect(top.map((e) => [e.name, e.type]).sort()).toEqual([
      [`${bucket}//leading.txt`, "file"],
      [`${bucket}/a`, "directory"],
      [`${bucket}/double`, "directory"],
      [`${bucket}/plain`, "directory"],
      [`${bucket}/top.txt`, "file"],
      [`${bucket}/x`, "directory"],
    ]);
    expect(await fs.ls(`${bucket}/double`, { detail: false })).toEqual([`${bucket}/double//slash.txt`]);
    expect(await fs.ls(`${bucket}/a`, { detail: false })).toEqual([`${bucket}/a//b`]);
    expect(await fs.ls(`${bucket}/a//b`, { detail: false })).toEqual([`${bucket}/a//b//c.txt`]);
    expect(await fs.ls(`s3://${bucket}/x/`, { detail: false })).toEqual([`${bucket}/x///y.txt`]);
    // Every listed name is a path that names the same thing again.
    for (const e of top) expect(fs.normalizePath(e.name)).toBe(e.name);
  });

  it("info of an empty-segment directory and of its files", async () => {
    expect(await fs.info(`${bucket}/a//b`)).toMatchObject({ name: `${bucket}/a//b`, type: "directory" });
    expect(await fs.info(`${bucket}/double//slash.txt`)).toMatchObject({ type: "file", size: body("double//slash.txt").length });
    expect(await fs.info(`s3://${bucket}//leading.txt`)).toMatchObject({ name: `${bucket}//leading.txt`, type: "file" });
  });

  it("with the listings cache, info of a listed entry is answered from its parent's listing", async () => {
    const cached = makeFs();
    const t = trace(cached);
    await cached.ls(bucket);
    await cached.ls(`${bucket}/double`);
    const before = t.requests.length;
    expect(await cached.info(`${bucket}//leading.txt`)).toMatchObject({ type: "file", size: body("/leading.txt").length });
    expect(await cached.info(`${bucket}/double//slash.txt`)).toMatchObject({ type: "file" });
    expect(t.requests.length).toBe(before);
  });

  it("find lists every key, with maxDepth or without, and no directory named with a trailing slash", async () => {
    expect(await fs.find(bucket)).toEqual(paths);
    expect(await fs.find(bucket, { maxDepth: 4 })).toEqual(paths);
    expect(await fs.find(bucket, { maxDepth: 1 })).toEqual([`${bucket}//leading.txt`, `${bucket}/top.txt`]);
    expect(await fs.find(bucket, { maxDepth: 2 })).toEqual(
      [`${bucket}//leading.txt`, `${bucket}/double//slash.txt`, `${bucket}/plain/p.txt`, `${bucket}/top.txt`, `${bucket}/x///y.txt`].sort(),
    );
    const dirs = [`${bucket}`, `${bucket}/a`, `${bucket}/a//b`, `${bucket}/double`, `${bucket}/plain`, `${bucket}/x`];
    const flat = await fs.find(bucket, { withDirs: true });
    expect(flat).toEqual([...paths, ...dirs].sort());
    expect(await fs.find(bucket, { withDirs: true, maxDepth: 10 })).toEqual(flat);
    expect(await fs.find(`${bucket}/a`)).toEqual([`${bucket}/a//b//c.txt`]);
  });

  it("walk reaches every key, and root + '/' + name is its path", async () => {
    const seen: string[] = [];
    const roots: string[] = [];
    for await (const [root, dirs, files] of fs.walk(bucket)) {
      roots.push(root);
      for (const f of files) seen.push(`${root}/${f}`);
      for (const d of dirs) expect(await fs.isDir(`${root}/${d}`)).toBe(true);
    }
    expect(seen.sort()).toEqual(paths);
    expect(roots.sort()).toEqual([bucket, `${bucket}/a`, `${bucket}/a//b`, `${bucket}/double`, `${bucket}/plain`, `${bucket}/x`]);
    const shallow: string[] = [];
    for await (const [root, , files] of fs.walk(bucket, { maxDepth: 3 })) for (const f of files) shallow.push(`${root}/${f}`);
    expect(shallow.sort()).toEqual(paths);
  });

  it("du counts every key, with maxDepth or without", async () => {
    const total = KEYS.reduce((n, k) => n + body(k).length, 0);
    expect(await fs.du(bucket)).toBe(total);
    expect(await fs.du(bucket, { maxDepth: 3 })).toBe(total);
    expect(Object.keys(await fs.du(bucket, { maxDepth: 3, total: false })).sort()).toEqual(paths);
  });

  it("glob: `**` reaches every key; a pattern with the key's own `//` matches it", async () => {
    expect(await fs.glob(`${bucket}/**`)).toEqual(
      [...paths, bucket, `${bucket}/a`, `${bucket}/a//b`, `${bucket}/double`, `${bucket}/plain`, `${bucket}/x`].sort(),
    );
    expect(await fs.glob(`${bucket}/double//*`)).toEqual([`${bucket}/double//slash.txt`]);
    expect(await fs.glob(`${bucket}/a//b//*.txt`)).toEqual([`${bucket}/a//b//c.txt`]);
    expect(await fs.glob(`${bucket}//*.txt`)).toEqual([`${bucket}//leading.txt`]);
    // Patterns match names as spelled: `*` never matches a slash, an empty segment's either.
    expect(await fs.glob(`${bucket}/*/*`)).toEqual([`${bucket}/plain/p.txt`]);
  });

  it("cat and get of every key", async () => {
    for (const key of KEYS) {
      expect(new TextDecoder().decode(await fs.catFile(`s3://${bucket}/${key}`))).toBe(body(key));
    }
    const local = await mkdtemp(join(tmpdir(), "fsspec-s3-empty-"));
    try {
      await fs.get(`${bucket}/`, `${local}/`, { recursive: true });
      expect(await readFile(join(local, "double/slash.txt"), "utf8")).toBe(body("double//slash.txt"));
      expect(await readFile(join(local, "a/b/c.txt"), "utf8")).toBe(body("a//b//c.txt"));
      expect(await readFile(join(local, "leading.txt"), "utf8")).toBe(body("/leading.txt"));
      expect(await readFile(join(local, "x/y.txt"), "utf8")).toBe(body("x///y.txt"));
    } finally {
      await rmLocal(local, { recursive: true, force: true });
    }
  });
});

describe("S3 removal of keys with empty segments", () => {
  it("rm of a file and of directories removes exactly those keys", async () => {
    const bucket = await seeded("empty-seg-rm");
    const fs = makeFs();
    await fs.rm(`${bucket}/double//slash.txt`);
    expect(await rawExists(bucket, "double//slash.txt")).toBe(false);
    await fs.rm(`${bucket}//leading.txt`);
    expect(await rawExists(bucket, "/leading.txt")).toBe(false);
    await fs.rm(`${bucket}/a`, { recursive: true });
    await fs.rm(`${bucket}/x`, { recursive: true });
    expect(await rawKeys(bucket)).toEqual(["plain/p.txt", "top.txt"]);
    expect(await fs.ls(bucket, { detail: false, refresh: true })).toEqual([`${bucket}/plain`, `${bucket}/top.txt`]);
  });

  it("rm -r also removes marker objects below empty segments (`d//`)", async () => {
    const bucket = bucketName("empty-seg-mk");
    await createBucket(bucket);
    await putRaw(bucket, "d//", "");
    await putRaw(bucket, "d//f.txt");
    await putRaw(bucket, "keep.txt");
    const fs = makeFs();
    expect(await fs.ls(`${bucket}/d`, { detail: false })).toEqual([`${bucket}/d//f.txt`]);
    await fs.rm(`${bucket}/d`, { recursive: true });
    expect(await rawKeys(bucket)).toEqual(["keep.txt"]);
  });
});
