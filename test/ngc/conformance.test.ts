/** The read-only part of the conformance suite against `ngc`, over the local NGC test server. */
import { afterAll, beforeAll } from "vitest";
import { describeFileSystem } from "../../spec/index.js";
import { startNgcServer, type TestNgcServer } from "../../src/testing/ngc-server.js";
import { ngcFs } from "./helpers.js";

let srv: TestNgcServer;
let counter = 0;

beforeAll(async () => {
  srv = await startNgcServer();
});
afterAll(() => srv.close());

describeFileSystem(
  "ngc",
  async () => {
    // Each test gets a version of its own: the version is the fresh, empty directory.
    const root = `models/conformance/suite/pkg@1.${counter++}`;
    srv.addFiles(root, {});
    const fs = ngcFs(srv);
    return {
      fs,
      root: `ngc://${root}`,
      seed: async (files) => srv.addFiles(root, files),
      cleanup: () => fs.close(),
    };
  },
  { write: false, emptyDirectories: false, mtime: false, serializable: true, transactions: false },
);
