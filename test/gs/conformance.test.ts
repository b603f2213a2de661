/**
 * The conformance suite against the local GCS server. Object-store semantics, so no empty
 * directories. Each fixture gets a fresh bucket; seeding goes through an instance that skips
 * the directory check (the backend's own writes are what the suite tests).
 */
import { afterAll, beforeAll } from "vitest";
import { describeFileSystem } from "../../spec/index.js";
import { startGcsServer, type TestGcsServer } from "../support/gcs-server.js";
import { hermeticEnv, makeFs, TOKEN } from "./helpers.js";

let srv: TestGcsServer;
let restore: () => void;
let fixtures = 0;

beforeAll(async () => {
  restore = hermeticEnv();
  srv = await startGcsServer();
  srv.addAccessToken(TOKEN);
});
afterAll(async () => {
  await srv.close();
  restore();
});

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
