/**
 * A child script of a test bundled once into one ES module, so that each spawn is a plain `node`
 * start: loading every source file through tsx costs a child about twice the CPU, which adds up
 * when a test starts ten children one after another on a loaded two-core machine. Packages stay
 * external: the bundle is written under the project's node_modules, where node resolves them.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface BundledChild {
  /** The bundle: run it with `node <file> ...args`. */
  file: string;
  remove(): Promise<void>;
}

const CACHE = fileURLToPath(new URL("../../node_modules/.cache/fsspec-ts-test-children/", import.meta.url));

/** esbuild as tsx (a dev dependency) has it. */
function esbuild(): typeof import("esbuild") {
  return createRequire(import.meta.resolve("tsx"))("esbuild") as typeof import("esbuild");
}

export async function bundleChild(entry: string): Promise<BundledChild> {
  mkdirSync(CACHE, { recursive: true });
  const dir = await mkdtemp(CACHE);
  const file = join(dir, basename(entry).replace(/\.ts$/, ".mjs"));
  await esbuild().build({ entryPoints: [entry], outfile: file, bundle: true, platform: "node", format: "esm", target: "node20", packages: "external", logLevel: "error" });
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}
