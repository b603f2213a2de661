/**
 * The read-only part of the conformance suite against each real web server (see
 * test/support/real-servers.ts): files are seeded on the disk the servers serve, below a
 * directory of the test's own.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { inject } from "vitest";
import { describeFileSystem } from "../../spec/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { REAL_SERVER_NAMES } from "../support/real-servers.js";
import { writeServed } from "../support/served-tree.js";
import { guardProcess } from "../support/process-guard.js";

guardProcess();

const ctx = inject("realServers");
let counter = 0;

for (const name of REAL_SERVER_NAMES) {
  const server = ctx.servers.find((s) => s.name === name);
  // A server not installed (a developer's machine) has no suite here; the global setup printed
  // its name and why. In CI (CI=true) the global setup fails the run instead.
  if (!server) continue;
  describeFileSystem(
    `http on ${name}`,
    async () => {
      const dir = `${name}-${counter++}`;
      const fs = new HTTPFileSystem({ timeout: 10_000, retries: 1, retryDelay: 1 });
      return {
        fs,
        root: `${server.url}/scratch/${dir}`,
        seed: (files) => writeServed(join(ctx.scratch, dir), files),
        cleanup: async () => {
          await fs.close();
          await rm(join(ctx.scratch, dir), { recursive: true, force: true });
        },
      };
    },
    { write: false, emptyDirectories: false, mtime: true, serializable: true, transactions: false, plainNames: false },
  );
}
