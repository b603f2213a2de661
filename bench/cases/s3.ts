/**
 * S3 against moto on 127.0.0.1 (started here, as the tests do): what the backend costs over
 * raw SDK calls, and what its parallelism and single-listing find gain. moto is slow (a few ms
 * per request, one Python process), so the absolute figures say more about moto than about
 * S3; the ratios and request counts are the point.
 *   - catFile of 32 MiB vs a raw GetObject (goal >= 0.9)
 *   - an opened writer of 48 MiB (8 MiB parts, 4 in flight) vs a raw multipart upload sending
 *     one part after another (moto takes parts one at a time, so parallel parts gain nothing here)
 *   - cat of 300 x 4 KiB vs raw GetObjects one after another, and vs as many raw requests in
 *     parallel (goal >= 0.9: moto answers on one core, so that is the ceiling here)
 *   - find over 500 keys in 25 directories: one listing vs a walk per directory (requests)
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { mapBounded } from "../../src/index.js";
import { S3FileSystem } from "../../src/implementations/s3.js";
import { startMoto } from "../../src/testing/moto.js";
import { measureInterleaved, speedup, type BenchCase, type CaseResult } from "../harness.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const MiB = 2 ** 20;
const BIG = 32 * MiB;
const WRITE = 48 * MiB;
const SMALL = 4096;
const COUNT = 300;
const TREE_DIRS = 25;
const TREE_FILES = 20;

function pattern(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (i * 131 + seed) & 255;
  return out;
}

function countRequests(fs: S3FileSystem): { count: () => number; reset: () => void } {
  let n = 0;
  fs.client.middlewareStack.add((next) => (args) => {
    n++;
    return next(args);
  }, { step: "initialize", name: "count" });
  return { count: () => n, reset: () => (n = 0) };
}

const bench: BenchCase = {
  name: "s3 (moto): catFile vs raw GetObject; multipart writer vs sequential parts; cat of many; find as one listing",
  async run(): Promise<CaseResult> {
    const moto = await startMoto();
    const credentials = { accessKeyId: "bench", secretAccessKey: "bench-secret" };
    const raw = new S3Client({ endpoint: moto.endpoint, region: "us-east-1", forcePathStyle: true, credentials });
    const fs = new S3FileSystem({ endpoint: moto.endpoint, region: "us-east-1", key: "bench", secret: "bench-secret" });
    const bucket = `bench-${process.pid}`;
    try {
      await raw.send(new CreateBucketCommand({ Bucket: bucket }));
      const big = pattern(BIG, 1);
      await fs.pipe(`${bucket}/big.bin`, big);
      if (Buffer.compare(await fs.catFile(`${bucket}/big.bin`), big) !== 0) throw new Error("catFile: wrong bytes");
      const [mine, rawGet] = await measureInterleaved(
        [
          { label: "S3FileSystem.catFile 32 MiB", fn: () => fs.catFile(`${bucket}/big.bin`) },
          {
            label: "raw GetObject + transformToByteArray 32 MiB",
            fn: async () => (await raw.send(new GetObjectCommand({ Bucket: bucket, Key: "big.bin" }))).Body!.transformToByteArray(),
          },
        ],
        { runs: 5, warmup: 1 },
      );

      const payload = pattern(WRITE, 2);
      const [writer, sequential] = await measureInterleaved(
        [
          {
            label: `opened writer 48 MiB (${fs.partSize / MiB} MiB parts, ${fs.partConcurrency} in flight)`,
            fn: async () => {
              const f = await fs.open(`${bucket}/written.bin`, "wb");
              for (let off = 0; off < WRITE; off += MiB) await f.write(payload.subarray(off, off + MiB));
              await f.close();
            },
          },
          {
            label: "raw multipart 48 MiB, one part after another",
            fn: async () => {
              const { UploadId } = await raw.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "raw.bin", ChecksumAlgorithm: "CRC32" }));
              const parts = [];
              for (let n = 1, off = 0; off < WRITE; n++, off += fs.partSize) {
                const out = await raw.send(
                  new UploadPartCommand({ Bucket: bucket, Key: "raw.bin", UploadId, PartNumber: n, Body: payload.subarray(off, off + fs.partSize), ChecksumAlgorithm: "CRC32" }),
                );
                parts.push({ PartNumber: n, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32 });
              }
              await raw.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "raw.bin", UploadId, MultipartUpload: { Parts: parts } }));
            },
          },
        ],
        { runs: 3, warmup: 1 },
      );
      if (Buffer.compare(await fs.catFile(`${bucket}/written.bin`), payload) !== 0) throw new Error("writer: wrong bytes");

      const small = Object.fromEntries(Array.from({ length: COUNT }, (_, i) => [`${bucket}/small/f${i}`, pattern(SMALL, i)]));
      const unchecked = new S3FileSystem({ endpoint: moto.endpoint, region: "us-east-1", key: "bench", secret: "bench-secret", checkDirectories: false });
      await unchecked.pipe(small);
      const paths = Object.keys(small);
      const rawGetSmall = async (p: string) =>
        (await raw.send(new GetObjectCommand({ Bucket: bucket, Key: p.slice(bucket.length + 1) }))).Body!.transformToByteArray();
      const [many, oneByOne, rawParallel] = await measureInterleaved(
        [
          { label: `S3FileSystem.cat of ${COUNT} x 4 KiB (concurrency ${fs.concurrency})`, fn: () => fs.cat(paths) },
          {
            label: `${COUNT} raw GetObjects, one after another`,
            fn: async () => {
              for (const p of paths) await rawGetSmall(p);
            },
          },
          // The ceiling here: the same requests, raw, as parallel as ours (moto serves them on one core).
          { label: `${COUNT} raw GetObjects, ${fs.concurrency} at a time`, fn: () => mapBounded(paths, rawGetSmall, { concurrency: fs.concurrency }) },
        ],
        { runs: 3, warmup: 1 },
      );

      const tree: Record<string, string> = {};
      for (let d = 0; d < TREE_DIRS; d++) for (let f = 0; f < TREE_FILES; f++) tree[`${bucket}/tree/d${d}/f${f}`] = "x";
      await unchecked.pipe(tree);
      await unchecked.close();
      const counter = countRequests(fs);
      let oneListing = 0;
      let walked = 0;
      const [single, walk] = await measureInterleaved(
        [
          {
            label: `find over ${TREE_DIRS * TREE_FILES} keys: one recursive listing`,
            before: () => counter.reset(),
            fn: async () => {
              const found = await fs.find(`${bucket}/tree`);
              if (found.length !== TREE_DIRS * TREE_FILES) throw new Error("find: wrong count");
              oneListing = counter.count();
            },
          },
          {
            label: `find over ${TREE_DIRS * TREE_FILES} keys: a listing per directory (maxDepth)`,
            before: () => {
              fs.invalidateCache();
              counter.reset();
            },
            fn: async () => {
              const found = await fs.find(`${bucket}/tree`, { maxDepth: 10 });
              if (found.length !== TREE_DIRS * TREE_FILES) throw new Error("find (walk): wrong count");
              walked = counter.count();
            },
          },
        ],
        { runs: 5, warmup: 1 },
      );
      single!.extra = { requests: oneListing };
      walk!.extra = { requests: walked };

      return {
        samples: [mine!, rawGet!, writer!, sequential!, many!, oneByOne!, rawParallel!, single!, walk!],
        ratios: [
          speedup("catFile 32 MiB vs raw GetObject (raw time / ours)", rawGet!, mine!, 0.9),
          speedup("opened writer vs sequential raw multipart", sequential!, writer!),
          speedup(`cat of ${COUNT} files vs raw GetObjects one after another`, oneByOne!, many!),
          speedup(`cat of ${COUNT} files vs raw GetObjects as parallel (raw time / ours)`, rawParallel!, many!, 0.9),
          speedup("find: one listing vs a listing per directory", walk!, single!),
        ],
        notes: [
          "server: moto 5.2.1 (src/testing/moto.ts) on 127.0.0.1, one Python process: parallel requests gain less than on S3",
        ],
      };
    } finally {
      await fs.close();
      raw.destroy();
      await moto.stop();
    }
  },
};

export default bench;
