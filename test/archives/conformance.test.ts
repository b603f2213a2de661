/**
 * The read-only part of the conformance suite on `zip` and `tar` (plain and gzip), each over
 * memory, the local disk and HTTP. Every seed rebuilds the archive with the real tool from
 * all files seeded so far and puts it on the target; the suite's `invalidateCache()` after a
 * seed makes the archive filesystem read the new index.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { describeFileSystem } from "../../spec/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { LocalFileSystem, MemoryFileSystem, TarFileSystem, ZipFileSystem, type AbstractFileSystem } from "../../src/index.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { buildArchive, EXTENSION, scratch, type ArchiveKind } from "./helpers.js";

let srv: TestHttpServer;
let counter = 0;

beforeAll(async () => {
  srv = await startHttpServer();
});
afterAll(() => srv.close());

const capabilities = { write: false, emptyDirectories: false, mtime: true, serializable: true, transactions: false };

type Target = "memory" | "local" | "http";

interface Placed {
  fs: AbstractFileSystem;
  fo: string;
  put: (bytes: Uint8Array) => Promise<void>;
  cleanup: () => Promise<void>;
}

function place(target: Target, name: string): Placed {
  if (target === "memory") {
    const fs = new MemoryFileSystem();
    const fo = `/archive-conformance/${name}`;
    return { fs, fo, put: (bytes) => fs.pipeFile(fo, bytes), cleanup: () => fs.rm(fo).catch(() => undefined) };
  }
  if (target === "local") {
    const { dir, cleanup } = scratch();
    const fo = join(dir, name);
    return { fs: new LocalFileSystem(), fo, put: async (bytes) => writeFileSync(fo, bytes), cleanup: async () => cleanup() };
  }
  const fs = new HTTPFileSystem({ timeout: 5_000, retries: 1, retryDelay: 1 });
  const urlPath = `/archive-conformance/${name}`;
  return {
    fs,
    fo: `${srv.url}${urlPath}`,
    put: async (bytes) => srv.setFile(urlPath, bytes),
    cleanup: async () => {
      srv.deleteFile(urlPath);
      await fs.close();
    },
  };
}

/** Archives already built, by kind and content: the same seed recurs on every target. */
const built = new Map<string, Uint8Array>();
function archiveOf(kind: ArchiveKind, files: Record<string, Uint8Array | string>): Uint8Array {
  const key = JSON.stringify([kind, Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, typeof v === "string" ? v : [...v]])]);
  let bytes = built.get(key);
  if (!bytes) built.set(key, (bytes = buildArchive(kind, files)));
  return bytes;
}

const ROOTS: Record<Target, string> = {
  memory: "/",
  // A protocol-qualified root (zip:// or tar://), and a directory inside the archive.
  local: "",
  http: "top",
};

for (const kind of ["zip", "tar", "tgz"] as ArchiveKind[]) {
  for (const target of ["memory", "local", "http"] as Target[]) {
    describeFileSystem(`${kind === "zip" ? "zip" : `tar (${kind === "tgz" ? "gzip" : "plain"})`} over ${target}`, async () => {
      const placed = place(target, `a${counter++}.${EXTENSION[kind]}`);
      const options = { fo: placed.fo, fs: placed.fs };
      const fs = kind === "zip" ? new ZipFileSystem(options) : new TarFileSystem(options);
      const protocol = kind === "zip" ? "zip" : "tar";
      const inside = ROOTS[target];
      const all: Record<string, Uint8Array | string> = {};
      return {
        fs,
        root: inside === "" ? `${protocol}://` : inside,
        seed: async (files) => {
          for (const [rel, data] of Object.entries(files)) all[inside === "/" || inside === "" ? rel : `${inside}/${rel}`] = data;
          await placed.put(archiveOf(kind, all));
        },
        cleanup: async () => {
          await fs.close();
          await placed.cleanup();
        },
      };
    }, capabilities);
  }
}
