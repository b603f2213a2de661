/**
 * The read-only part of the conformance suite against `hf`, over the local Hub: a model repo
 * at its root (files of 10 bytes or more in LFS, behind the CDN redirect), and a dataset read
 * at a PR ref from a folder inside it.
 */
import { afterAll, beforeAll } from "vitest";
import { describeFileSystem } from "../../spec/index.js";
import { HuggingFaceFileSystem } from "../../src/implementations/hf.js";
import { startHfServer, type TestHfServer } from "../../src/testing/hf-server.js";

let srv: TestHfServer;
let counter = 0;

beforeAll(async () => {
  srv = await startHfServer({ pageSize: 3, lfsThreshold: 10 });
});
afterAll(() => srv.close());

const capabilities = { write: false, emptyDirectories: false, mtime: false, serializable: true, transactions: false };

describeFileSystem(
  "hf (model, main, LFS redirects)",
  async () => {
    const repo = `org/model-${counter++}`;
    srv.createRepo(repo);
    const fs = new HuggingFaceFileSystem({ endpoint: srv.url, token: false, retries: 1, retryDelay: 1, timeout: 5_000 });
    return {
      fs,
      root: `hf://${repo}`,
      seed: async (files) => void srv.commit(repo, files),
      cleanup: () => fs.close(),
    };
  },
  capabilities,
);

describeFileSystem(
  "hf (dataset, refs/pr/1, subfolder)",
  async () => {
    const repo = `datasets/org/data-${counter++}`;
    srv.createRepo(repo);
    srv.commit(repo, { "README.md": "main only" });
    const fs = new HuggingFaceFileSystem({ endpoint: srv.url, token: false, retries: 1, retryDelay: 1, timeout: 5_000 });
    return {
      fs,
      root: `hf://${repo}@refs%2Fpr%2F1/scratch`,
      seed: async (files) => void srv.commit(repo, Object.fromEntries(Object.entries(files).map(([k, v]) => [`scratch/${k}`, v])), "refs/pr/1"),
      cleanup: () => fs.close(),
    };
  },
  capabilities,
);
