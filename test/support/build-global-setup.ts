/**
 * vitest globalSetup: the built package in dist/ (`npm run build`), for the tests that run the
 * real binary (test/cli). Built once per run, and only when a source is newer than the last
 * build (a deleted file changes its folder's time, so it counts too).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const STAMP = join(ROOT, "dist", ".build-stamp");

function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -Infinity;
  }
}

export default function setup(): void {
  const inputs = ["src", "spec", "package.json", "tsconfig.json", "tsconfig.build.json"].map((p) => newest(join(ROOT, p)));
  if (Math.max(...inputs) < mtime(STAMP)) return;
  execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}
