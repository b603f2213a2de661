/**
 * Whole-object downloads on moto: one GetObject streamed to the file, or for a large object
 * parallel GetObject ranges, each pinned with IfMatch to the ETag the HEAD saw (a replaced object
 * is ECHANGED, never spliced). Each test checks the bytes on disk and the requests made.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bucketName, createBucket, makeFs, trace } from "./helpers.js";

const MiB = 2 ** 20;
const SIZE = 24 * MiB;
const bucket = bucketName("downloads");
const DATA = new Uint8Array(SIZE).map((_, i) => (i * 13 + (i >>> 12)) & 0xff);
let dir: string;
let n = 0;
const fresh = () => `s3://${bucket}/d${n++}.bin`;

beforeAll(async () => {
  await createBucket(bucket);
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fsspec-s3-dl-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const gets = (t: ReturnType<typeof trace>) => t.requests.filter((r) => r.command === "GetObjectCommand").map((r) => r.input);

describe("s3 downloads", () => {
  it("below the threshold: one GetObject, pinned to the ETag", async () => {
    const fs = makeFs();
    const path = fresh();
    await fs.pipeFile(path, DATA);
    const etag = (await fs.info(path)).etag;
    const t = trace(fs);
    let counted = 0;
    await fs.getFile(path, join(dir, "o.bin"), { callback: { relativeUpdate: (k) => void (counted += k) } });
    expect(Buffer.compare(await readFile(join(dir, "o.bin")), DATA)).toBe(0);
    expect(gets(t).map((i) => [i.Range, i.IfMatch])).toEqual([[`bytes=0-${SIZE - 1}`, etag]]);
    expect(counted).toBe(SIZE);
    await fs.close();
  });

  it("a large object: parallel GetObject ranges, each with IfMatch", async () => {
    const fs = makeFs({ rangeConcurrency: 2, rangeThreshold: 0 });
    const path = fresh();
    await fs.pipeFile(path, DATA);
    const etag = (await fs.info(path)).etag;
    const t = trace(fs);
    await fs.getFile(path, join(dir, "o.bin"));
    expect(Buffer.compare(await readFile(join(dir, "o.bin")), DATA)).toBe(0);
    expect(gets(t).map((i) => i.Range).sort()).toEqual([`bytes=0-${8 * MiB - 1}`, `bytes=${16 * MiB}-${SIZE - 1}`, `bytes=${8 * MiB}-${16 * MiB - 1}`].sort());
    expect(gets(t).every((i) => i.IfMatch === etag)).toBe(true);
    await fs.close();
  });

  it("an object replaced between parts is ECHANGED and leaves no file", async () => {
    const fs = makeFs({ rangeConcurrency: 2, rangeThreshold: 0 });
    const path = fresh();
    await fs.pipeFile(path, DATA);
    const other = makeFs();
    let replacing: Promise<void> | undefined;
    const replace = () => void (replacing ??= other.pipeFile(path, "replaced"));
    const t = trace(fs);
    // The third part waits for the replacement to land before it is sent.
    const hold = fs.client.middlewareStack;
    hold.add((next) => async (args) => {
      if (gets(t).length >= 3) await replacing;
      return next(args);
    }, { step: "initialize", name: "wait-for-replacement" });
    const err = await fs.getFile(path, join(dir, "o.bin"), { callback: { relativeUpdate: replace } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ECHANGED" });
    expect(await readdir(dir)).toEqual([]);
    await fs.close();
    await other.close();
  });
});
