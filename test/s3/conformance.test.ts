/**
 * The conformance suite against S3 (moto). Object-store semantics, so no empty directories.
 * Every fixture gets a bucket of its own (moto lists a bucket by scanning all of its keys),
 * and seeds through a second instance that skips the directory check (half the requests).
 */
import { describeFileSystem } from "../../spec/index.js";
import { bucketName, createBucket, makeFs } from "./helpers.js";

describeFileSystem("s3 (moto)", async () => {
  const bucket = bucketName("conf");
  await createBucket(bucket);
  const fs = makeFs();
  const seeder = makeFs({ checkDirectories: false });
  const root = `s3://${bucket}/root`;
  return {
    fs,
    root,
    seed: (files) => seeder.pipe(Object.fromEntries(Object.entries(files).map(([k, v]) => [`${root}/${k}`, v]))),
    cleanup: async () => {
      await fs.close();
      await seeder.close();
    },
  };
}, { emptyDirectories: false });
