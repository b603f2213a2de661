/** Reading and listing: ls, cat, head, tail, info, find, glob, du, mkdir, rm, touch. */
import type { Command } from "commander";
import type { AbstractFileSystem } from "../core/abstract.js";
import { FsError, isFsError } from "../core/errors.js";
import { hasMagic } from "../core/glob.js";
import type { FileInfo } from "../core/types.js";
import type { CliContext } from "./context.js";
import { formatBytes, parseCount } from "./options.js";
import { fullName, jsonOptions, printObjects, relativeName, toJson, wantsJson, type JsonFlags } from "./output.js";

function longLine(info: FileInfo, name: string, human: boolean): string {
  const kind = info.type === "directory" ? "d" : info.type === "file" ? "-" : "?";
  const size = info.size === null ? "?" : human ? formatBytes(info.size) : String(info.size);
  const mtime = info.mtime instanceof Date ? info.mtime.toISOString().replace(/\.\d+Z$/, "Z") : "-".padEnd(20);
  return `${kind} ${size.padStart(human ? 6 : 12)} ${mtime} ${name}`;
}

/** `find` and `du` name a path: a missing one is ENOENT (info's error), not an empty answer. */
async function mustExist(fs: AbstractFileSystem, path: string, signal: AbortSignal): Promise<void> {
  await fs.info(path, { signal });
}

/** The files a `cat` operand names: itself, or what its glob matches (ENOENT when nothing does). */
async function catTargets(fs: AbstractFileSystem, path: string, signal: AbortSignal): Promise<string[]> {
  if (!hasMagic(path) || (await fs.exists(path, { signal }))) return [path];
  const found = (await fs.glob(path, { detail: true, signal })) as Record<string, FileInfo>;
  const files = Object.values(found).filter((i) => i.type !== "directory").map((i) => i.name);
  if (files.length === 0) throw FsError.enoent(path, "no file matches the pattern");
  return files;
}

export async function catOne(ctx: CliContext, fs: AbstractFileSystem, path: string): Promise<void> {
  // Streamed through an opened file so large files never sit whole in memory.
  const f = await fs.open(path, "rb", { cacheType: "none", signal: ctx.signal });
  try {
    for await (const chunk of f) await ctx.bytes(chunk);
  } finally {
    await f.close();
  }
}

async function catStdin(ctx: CliContext): Promise<void> {
  for await (const chunk of ctx.io.stdin ?? process.stdin) await ctx.bytes(chunk as Uint8Array);
}

export function registerFileCommands(program: Command, ctx: CliContext): void {
  jsonOptions(
    program
      .command("ls")
      .description("list a directory (or show a file); names relative to it")
      .argument("<url>", "path or URL, chains allowed (filecache::https://...)")
      .option("-l, --long", "type, size, modification time and name")
      .option("-H, --human", "sizes like 1.5M")
      .option("--full", "full URLs instead of names relative to the directory"),
  ).action(async (url: string, opts: JsonFlags & { long?: boolean; human?: boolean; full?: boolean }) => {
    const json = wantsJson(opts);
    const { fs, path } = await ctx.resolve(url);
    const entries = await fs.ls(path, { signal: ctx.signal });
    if (json) return printObjects(ctx, opts, opts.full ? entries.map((e) => ({ ...e, name: fullName(fs, e) })) : entries);
    for (const e of entries) {
      const name = opts.full ? fullName(fs, e) : relativeName(e.name, fs.normalizePath(path));
      await ctx.out(opts.long ? longLine(e, name, !!opts.human) : name);
    }
  });

  program
    .command("cat")
    .description("write files to stdout (globs expand; '-' is stdin); goes on past a failure, exits non-zero at the end")
    .argument("<urls...>")
    .action(async (urls: string[]) => {
      const named = urls.filter((u) => u !== "-");
      const resolved = new Map((await ctx.resolveAll(named)).map((r, i) => [named[i]!, r]));
      for (const url of urls) {
        try {
          if (url === "-") {
            await catStdin(ctx);
            continue;
          }
          const { fs, path } = resolved.get(url)!;
          for (const file of await catTargets(fs, path, ctx.signal)) {
            try {
              await catOne(ctx, fs, file);
            } catch (err) {
              ctx.fail(err);
            }
          }
        } catch (err) {
          ctx.fail(err);
        }
      }
    });

  for (const [name, fromEnd] of [["head", false], ["tail", true]] as const) {
    program
      .command(name)
      .description(`the ${fromEnd ? "last" : "first"} bytes of a file`)
      .argument("<url>")
      .option("-c, --bytes <n>", "how many bytes", "1024")
      .action(async (url: string, opts: { bytes: string }) => {
        const n = parseCount("--bytes", opts.bytes)!;
        const { fs, path } = await ctx.resolve(url);
        await ctx.bytes(fromEnd ? await fs.tail(path, n) : await fs.head(path, n));
      });
  }

  jsonOptions(
    program
      .command("info")
      .description("metadata of paths: one JSON object each (--json: one array)")
      .argument("<urls...>"),
  ).action(async (urls: string[], opts: JsonFlags) => {
    const json = wantsJson(opts);
    const infos: FileInfo[] = [];
    for (const { fs, path } of await ctx.resolveAll(urls)) {
      try {
        const info = await fs.info(path, { signal: ctx.signal });
        if (json) infos.push(info);
        else await ctx.out(toJson(info));
      } catch (err) {
        ctx.fail(err);
      }
    }
    if (json) await printObjects(ctx, opts, infos);
  });

  jsonOptions(
    program
      .command("find")
      .description("every file below a path")
      .argument("<url>")
      .option("-d, --max-depth <n>", "levels to descend")
      .option("--with-dirs", "list directories too"),
  ).action(async (url: string, opts: JsonFlags & { maxDepth?: string; withDirs?: boolean }) => {
    const json = wantsJson(opts);
    const { fs, path } = await ctx.resolve(url);
    const maxDepth = parseCount("--max-depth", opts.maxDepth);
    const found = (await fs.find(path, { maxDepth, withDirs: opts.withDirs, detail: true, signal: ctx.signal })) as Record<string, FileInfo>;
    if (Object.keys(found).length === 0) await mustExist(fs, path, ctx.signal);
    if (json) return printObjects(ctx, opts, Object.values(found));
    for (const name of Object.keys(found)) await ctx.out(name);
  });

  jsonOptions(
    program
      .command("glob")
      .description("paths matching a pattern (fsspec rules: *, ?, [a-z], ** as a whole segment)")
      .argument("<pattern>")
      .option("-d, --max-depth <n>", "how deep ** goes"),
  ).action(async (pattern: string, opts: JsonFlags & { maxDepth?: string }) => {
    const json = wantsJson(opts);
    const { fs, path } = await ctx.resolve(pattern);
    const maxDepth = parseCount("--max-depth", opts.maxDepth);
    const found = (await fs.glob(path, { maxDepth, detail: true, signal: ctx.signal })) as Record<string, FileInfo>;
    if (json) return printObjects(ctx, opts, Object.values(found));
    for (const name of Object.keys(found)) await ctx.out(name);
  });

  jsonOptions(
    program
      .command("du")
      .description("bytes used below a path")
      .argument("<url>")
      .option("-a, --all", "one line per file instead of the total")
      .option("-H, --human", "sizes like 1.5M"),
  ).action(async (url: string, opts: JsonFlags & { all?: boolean; human?: boolean }) => {
    const json = wantsJson(opts);
    const { fs, path } = await ctx.resolve(url);
    const show = (n: number) => (opts.human ? formatBytes(n) : String(n));
    const sizes = (await fs.du(path, { total: false, signal: ctx.signal })) as Record<string, number>;
    if (Object.keys(sizes).length === 0) await mustExist(fs, path, ctx.signal);
    const target = fs.normalizePath(path);
    const rows = opts.all ? Object.entries(sizes).map(([name, size]) => ({ name, size })) : [{ name: target, size: Object.values(sizes).reduce((a, b) => a + b, 0) }];
    if (json) return printObjects(ctx, opts, rows);
    for (const { name, size } of rows) await ctx.out(`${show(size)}\t${name}`);
  });

  program
    .command("mkdir")
    .description("make directories")
    .argument("<urls...>")
    .option("-p, --parents", "make parents as needed; no error if it exists")
    .action(async (urls: string[], opts: { parents?: boolean }) => {
      for (const { fs, path } of await ctx.resolveAll(urls)) {
        if (opts.parents) await fs.makedirs(path, { existOk: true });
        else await fs.mkdir(path, { createParents: false });
      }
    });

  program
    .command("rm")
    .description("delete files (directories with -r)")
    .argument("<urls...>")
    .option("-r, --recursive", "delete directories and what they hold")
    .action(async (urls: string[], opts: { recursive?: boolean }) => {
      for (const { fs, path } of await ctx.resolveAll(urls)) {
        try {
          await fs.rm(path, { recursive: opts.recursive, signal: ctx.signal });
        } catch (err) {
          // The library's hint names its option; here the flag is what to use.
          if (isFsError(err, "EISDIR") && !opts.recursive) throw new FsError("EISDIR", "is a directory; use rm -r to delete it and what it holds", { path: err.path });
          throw err;
        }
      }
    });

  program
    .command("touch")
    .description("create empty files (or update the modification time with --no-truncate)")
    .argument("<urls...>")
    .option("--no-truncate", "keep the content of an existing file")
    .action(async (urls: string[], opts: { truncate: boolean }) => {
      for (const { fs, path } of await ctx.resolveAll(urls)) await fs.touch(path, { truncate: opts.truncate });
    });
}
