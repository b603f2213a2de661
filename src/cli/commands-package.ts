/**
 * Model packages from a shell: package fetch | ls | verify. A login node fills a cache with
 * `package fetch`; compute nodes without internet read it with FSSPEC_TS_OFFLINE=1.
 */
import type { Command } from "commander";
import { FsError } from "../core/errors.js";
import { Package, type PackageOptions } from "../models/package.js";
import { DEFAULT_MANIFEST } from "../models/pins.js";
import type { CliContext } from "./context.js";
import { formatBytes, parseCount, parseStorageOptions } from "./options.js";
import { jsonOptions, printObjects, wantsJson, type JsonFlags } from "./output.js";

interface PackageFlags {
  cache?: string;
  cacheOption: string[];
  /** A path in the package, or false for --no-manifest; undefined: SHA256SUMS when the package has one. */
  manifest?: string | false;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The flags every package command takes. */
function packageCommand(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .argument("<root>", "the package: a URL (https://, hf://, ngc://, s3://, chains) or a local folder")
    .option("--cache <dir>", `the cache directory (default: ${"$"}FSSPEC_TS_MODEL_CACHE, ${"$"}FSSPEC_TS_CACHE or ~/.cache/fsspec-ts; for hf:// roots the Hugging Face cache, ${"$"}HF_HUB_CACHE); use the one the model's code uses`)
    .option("-C, --cache-option <key=value>", "a cache layer option, as the model's code sets it (sameNames=true, cacheMapper=...); repeatable", collect, [])
    .option("--manifest <path>", `the pins manifest in the package (default: ${DEFAULT_MANIFEST} when the package has one)`)
    .option("--no-manifest", "read no manifest");
}

/** The package the flags describe; the manifest is looked for when not named. */
async function openPackage(root: string, flags: PackageFlags, ctx: CliContext, extra: Partial<PackageOptions> = {}): Promise<Package> {
  const cacheOptions = parseStorageOptions(flags.cacheOption);
  if (flags.cache !== undefined) cacheOptions.cacheStorage = flags.cache;
  const options: PackageOptions = {
    fsOptions: await ctx.optionsFor(root),
    cacheOptions,
    // hf:// roots keep their files in the Hugging Face cache layout: --cache is where it is.
    ...(flags.cache === undefined ? {} : { hfCache: { cacheDir: flags.cache } }),
    progress: ctx.progressAllowed ? undefined : false,
    ...extra,
  };
  if (flags.manifest === false) return new Package(root, options);
  if (flags.manifest !== undefined) return new Package(root, { ...options, manifest: flags.manifest });
  const probe = new Package(root, options);
  return (await probe.exists(DEFAULT_MANIFEST)) ? new Package(root, { ...options, manifest: true }) : probe;
}

export function registerPackageCommands(program: Command, ctx: CliContext): void {
  const pkg = program
    .command("package")
    .description("model packages: fill a cache on a login node, check it, use it offline (FSSPEC_TS_OFFLINE=1)");

  packageCommand(pkg, "fetch", "download package files into the cache in parallel and print their local paths")
    .argument("[paths...]", "files or globs in the package (default: its pinned files, else every file)")
    .option("--concurrency <n>", "downloads at once (default 4)")
    .action(async (root: string, paths: string[], flags: PackageFlags & { concurrency?: string }) => {
      const concurrency = parseCount("--concurrency", flags.concurrency);
      if (concurrency === 0) throw FsError.einval("--concurrency must be at least 1");
      const p = await openPackage(root, flags, ctx, concurrency === undefined ? {} : { concurrency });
      const local = await p.prefetch(paths.length > 0 ? paths : undefined, { progressStream: ctx.io.stderr, signal: ctx.signal });
      for (const path of local) await ctx.out(path);
    });

  jsonOptions(packageCommand(pkg, "ls", "the package's files: size, whether cached, pinned"))
    .action(async (root: string, flags: PackageFlags & JsonFlags) => {
      const json = wantsJson(flags);
      const files = await (await openPackage(root, flags, ctx)).list();
      if (json) return printObjects(ctx, flags, files);
      for (const f of files) {
        const size = f.size === null ? "?" : formatBytes(f.size);
        await ctx.out(`${size.padStart(6)}  ${f.cached ? "cached" : "-     "}  ${f.sha256 ? "pinned" : "-     "}  ${f.path}`);
      }
    });

  jsonOptions(packageCommand(pkg, "verify", "check every pinned file against its sha256 (reads each whole; downloads nothing)"))
    .action(async (root: string, flags: PackageFlags & JsonFlags) => {
      const json = wantsJson(flags);
      const report = await (await openPackage(root, flags, ctx)).verify();
      if (report.length === 0) throw FsError.enoent(root, `the package has no pins: no ${DEFAULT_MANIFEST} (or --manifest) in it`);
      if (json) await printObjects(ctx, flags, report);
      else {
        for (const r of report) {
          const why = r.status === "mismatch" ? `: sha256 ${r.actual}, pinned ${r.expected}` : r.status === "missing" ? " (not cached)" : "";
          await ctx.out(`${r.status.padEnd(8)}  ${r.path}${why}`);
        }
      }
      const bad = report.filter((r) => r.status !== "ok");
      if (bad.length > 0) {
        throw new FsError("EIO", `${bad.length} of ${report.length} pinned files failed verification (${bad.map((r) => `${r.path}: ${r.status}`).join(", ")})`, { path: root });
      }
    });
}
