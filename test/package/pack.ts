/**
 * The package as a user gets it: `npm pack` of a copy of the checkout (only what git tracks or
 * would track, so nothing built or left behind sneaks in; its `prepack` builds), installed with
 * `npm install --offline` into a fresh project. The dependencies come from npm's cache: the
 * project gets a lockfile made of the repository's own entries for them (the same pins), so
 * npm needs no registry metadata and nothing is downloaded.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "../..");

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_update_notifier: "false" } });
}

/** Copy the checkout's files (tracked, or untracked but not ignored) to `dest`, with the repo's node_modules linked in for the build. */
export function copyCheckout(dest: string): void {
  const files = run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], REPO).split("\0").filter(Boolean);
  for (const file of files) {
    const from = join(REPO, file);
    if (!existsSync(from) || !statSync(from).isFile()) continue; // deleted in the work tree
    mkdirSync(dirname(join(dest, file)), { recursive: true });
    cpSync(from, join(dest, file));
  }
  symlinkSync(join(REPO, "node_modules"), join(dest, "node_modules"), "dir");
}

/** `npm pack` in `dir` (prepack builds); the tarball's path and its file list. */
export function pack(dir: string, destination: string): { tarball: string; files: string[] } {
  run("npm", ["pack", "--pack-destination", destination, "--silent"], dir);
  const { name, version } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string; version: string };
  const tarball = join(destination, `${name}-${version}.tgz`);
  const files = run("tar", ["-tzf", tarball], destination)
    .split("\n")
    .filter((f) => f && !f.endsWith("/"))
    .map((f) => f.replace(/^package\//, ""));
  return { tarball, files };
}

/**
 * The lockfile entries (keys `node_modules/...`, as in the repository's lockfile) that the
 * packages `roots` need, resolved the way Node does: a nested copy first, then up the tree.
 */
export function lockEntriesFor(roots: readonly string[]): Record<string, LockEntry> {
  const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
  const out: Record<string, LockEntry> = {};
  const resolve = (from: string, name: string): string => {
    for (let base = from; ; ) {
      const key = `${base ? `${base}/` : ""}node_modules/${name}`;
      if (lock.packages[key]) return key;
      if (!base) throw new Error(`the repository's lockfile has no '${name}' (needed by '${from || "the package"}')`);
      const up = base.lastIndexOf("/node_modules/");
      base = up < 0 ? "" : base.slice(0, up);
    }
  };
  const visit = (key: string) => {
    if (out[key]) return;
    const { dev: _d, devOptional: _o, peer: _p, optional: _x, ...entry } = lock.packages[key]!;
    out[key] = entry;
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) visit(resolve(key, dep));
  };
  for (const root of roots) visit(resolve("", root));
  return out;
}

/**
 * A fresh project in `dir` with the tarball installed by `npm install --offline`: its runtime
 * dependencies (from the tarball's package.json) are seeded into the project's lockfile.
 */
export function installTarball(dir: string, tarball: string): void {
  const manifest = JSON.parse(run("tar", ["-xzOf", tarball, "package/package.json"], dir)) as { dependencies?: Record<string, string> };
  const entries = lockEntriesFor(Object.keys(manifest.dependencies ?? {}));
  const project = { name: "consumer", version: "1.0.0", private: true, type: "module" };
  writeFileSync(join(dir, "package.json"), JSON.stringify(project, null, 2));
  const lock = { ...project, lockfileVersion: 3, requires: true, packages: { "": { name: project.name, version: project.version }, ...entries } };
  writeFileSync(join(dir, "package-lock.json"), JSON.stringify(lock, null, 2));
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--omit=dev", tarball], dir);
}

/** Make an optional peer (the AWS SDK, vitest) resolvable in the project: a link to the repository's copy. */
export function linkFromRepo(dir: string, name: string): void {
  const link = join(dir, "node_modules", name);
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(join(REPO, "node_modules", name), link, "dir");
}

/** Bytes the directory takes on disk (what `du -sk` reports, times 1024). */
export function diskUsage(dir: string): number {
  return Number(run("du", ["-sk", dir], dir).split("\t")[0]) * 1024;
}
