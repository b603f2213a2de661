/** The read-only part of the conformance suite against `http`, over the local test server. */
import { afterAll, beforeAll } from "vitest";
import { describeFileSystem } from "../../spec/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { guardProcess } from "../support/process-guard.js";

guardProcess();

let srv: TestHttpServer;
let counter = 0;

beforeAll(async () => {
  srv = await startHttpServer();
});
afterAll(() => srv.close());

describeFileSystem(
  "http",
  async () => {
    const prefix = `/conformance/t${counter++}`;
    const fs = new HTTPFileSystem({ timeout: 5_000, retries: 1, retryDelay: 1 });
    return {
      fs,
      root: `${srv.url}${prefix}`,
      seed: async (files) => {
        for (const [rel, data] of Object.entries(files)) srv.setFile(`${prefix}/${rel}`, data);
      },
      cleanup: async () => {
        for (const key of [...srv.files.keys()]) if (key.startsWith(`${prefix}/`)) srv.deleteFile(key);
        await fs.close();
      },
    };
  },
  { write: false, emptyDirectories: false, mtime: true, serializable: true, transactions: false, plainNames: false },
);
