/**
 * The conformance suite against S3 (moto). Object-store semantics, so no empty directories.
 * Fixtures take turns in a few buckets (moto lists a bucket by scanning all of its keys, so
 * buckets are kept small), and seed through an instance that skips the directory check
 * (half the requests; the backend's own writes are what the suite tests).
 */
import { afterAll } from "vitest";
import { describeFileSystem } from "../../spec/index.js";
import { bucketName, createBucket, makeFs } from "./helpers.js";

const FIXTURES_PER_BUCKET = 16;
const seeder = makeFs({ checkDirectories: false });
let fixtures = 0;
let bucket = "";

afterAll(async () => {
  await seeder.close();
});

describeFileSystem("s3 (moto)", async () => {
  if (fixtures++ % FIXTURES_PER_BUCKET === 0) {
    bucket = bucketName("conf");
    await createBucket(bucket);
  }
  const fs = makeFs();
  const root = `s3://${bucket}/root-${fixtures}`;
  return {
    fs,
    root,
    seed: (files) => seeder.pipe(Object.fromEntries(Object.entries(files).map(([k, v]) => [`${root}/${k}`, v]))),
    cleanup: () => fs.close(),
  };
}, { emptyDirectories: false });
