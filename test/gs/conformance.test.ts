/**
 * The conformance suite against the local GCS server. Object-store semantics, so no empty
 * directories. Each fixture gets a fresh bucket; seeding goes through an instance that skips
 * the directory check (the backend's own writes are what the suite tests).
 */
import { describeFileSystem } from "../../spec/index.js";
import type { TestGcsServer } from "../support/gcs-server.js";
import { makeFs, useGcsServer } from "./helpers.js";

let srv: TestGcsServer;
let fixtures = 0;

useGcsServer((s) => void (srv = s));

describeFileSystem("gs (local GCS server)", async () => {
  const bucket = `conf-${fixtures++}`;
  srv.createBucket(bucket);
  const fs = makeFs(srv);
  const seeder = makeFs(srv, { checkDirectories: false });
  const root = `gs://${bucket}/root`;
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
