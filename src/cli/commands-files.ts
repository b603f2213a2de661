/** Reading and listing: ls, cat, head, tail, info, find, glob, du, mkdir, rm, touch. */
import type { Command } from "commander";
import type { AbstractFileSystem } from "../core/abstract.js";
import { urlToFs } from "../core/url-chain.js";
import type { FileInfo } from "../core/types.js";
import { formatBytes, parseCount } from "./options.js";
import { println, write, type CliIO } from "./io.js";

export type OptionsFor = () => Record<string, unknown>;

function longLine(info: FileInfo, human: boolean): string {
  const kind = info.type === "directory" ? "d" : info.type === "file" ? "-" : "?";
  const size = info.size === null ? "?" : human ? formatBytes(info.size) : String(info.size);
  const mtime = info.mtime instanceof Date ? info.mtime.toISOString().replace(/\.\d+Z$/, "Z") : "-".padEnd(20);
  return `${kind} ${size.padStart(human ? 6 : 12)} ${mtime} ${info.name}`;
}

/** `find` and `du` name a path: a missing one is ENOENT (info's error), not an empty answer. */
async function mustExist(fs: AbstractFileSystem, path: string): Promise<void> {
  await fs.info(path);
}

function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v instanceof Date ? v.toISOString() : v), 2);
}

export function registerFileCommands(program: Command, io: CliIO, fsOptions: OptionsFor): void {
  program
    .command("ls")
    .description("list a directory (or show a file)")
    .argument("<url>", "path or URL, chains allowed (filecache::https://...)")
    .option("-l, --long", "type, size, modification time and name")
    .option("-H, --human", "sizes like 1.5M")
    .option("--json", "infos as JSON")
    .action(async (url: string, opts: { long?: boolean; human?: boolean; json?: boolean }) => {
      const { fs, path } = await urlToFs(url, fsOptions());
      const entries = await fs.ls(path);
      if (opts.json) return println(io.stdout, toJson(entries));
      for (const e of entries) await println(io.stdout, opts.long ? longLine(e, !!opts.human) : e.name);
    });

  program
    .command("cat")
    .description("write files to stdout")
    .argument("<urls...>")
    .action(async (urls: string[]) => {
      for (const url of urls) {
        const { fs, path } = await urlToFs(url, fsOptions());
        // Streamed through an opened file so large files never sit whole in memory.
        const f = await fs.open(path, "rb", { cacheType: "none" });
        try {
          for await (const chunk of f) await write(io.stdout, chunk);
        } finally {
          await f.close();
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
        const { fs, path } = await urlToFs(url, fsOptions());
        await write(io.stdout, fromEnd ? await fs.tail(path, n) : await fs.head(path, n));
      });
  }

  program
    .command("info")
    .description("metadata of one path, as JSON")
    .argument("<url>")
    .action(async (url: string) => {
      const { fs, path } = await urlToFs(url, fsOptions());
      await println(io.stdout, toJson(await fs.info(path)));
    });

  program
    .command("find")
    .description("every file below a path")
    .argument("<url>")
    .option("-d, --max-depth <n>", "levels to descend")
    .option("--with-dirs", "list directories too")
    .option("--json", "infos as JSON")
    .action(async (url: string, opts: { maxDepth?: string; withDirs?: boolean; json?: boolean }) => {
      const { fs, path } = await urlToFs(url, fsOptions());
      const maxDepth = parseCount("--max-depth", opts.maxDepth);
      const found = await fs.find(path, { maxDepth, withDirs: opts.withDirs, detail: true });
      if (Object.keys(found).length === 0) await mustExist(fs, path);
      if (opts.json) return println(io.stdout, toJson(found));
      for (const name of Object.keys(found)) await println(io.stdout, name);
    });

  program
    .command("glob")
    .description("paths matching a pattern (fsspec rules: *, ?, [a-z], ** as a whole segment)")
    .argument("<pattern>")
    .option("-d, --max-depth <n>", "how deep ** goes")
    .action(async (pattern: string, opts: { maxDepth?: string }) => {
      const { fs, path } = await urlToFs(pattern, fsOptions());
      const maxDepth = parseCount("--max-depth", opts.maxDepth);
      for (const name of await fs.glob(pattern.endsWith("/") ? `${path}/` : path, { maxDepth })) await println(io.stdout, name);
    });

  program
    .command("du")
    .description("bytes used below a path")
    .argument("<url>")
    .option("-a, --all", "one line per file instead of the total")
    .option("-H, --human", "sizes like 1.5M")
    .action(async (url: string, opts: { all?: boolean; human?: boolean }) => {
      const { fs, path } = await urlToFs(url, fsOptions());
      const show = (n: number) => (opts.human ? formatBytes(n) : String(n));
      const sizes = (await fs.du(path, { total: false })) as Record<string, number>;
      if (Object.keys(sizes).length === 0) await mustExist(fs, path);
      if (!opts.all) return println(io.stdout, `${show(Object.values(sizes).reduce((a, b) => a + b, 0))}\t${path}`);
      for (const [name, size] of Object.entries(sizes)) await println(io.stdout, `${show(size)}\t${name}`);
    });

  program
    .command("mkdir")
    .description("make a directory")
    .argument("<url>")
    .option("-p, --parents", "make parents as needed; no error if it exists")
    .action(async (url: string, opts: { parents?: boolean }) => {
      const { fs, path } = await urlToFs(url, fsOptions());
      if (opts.parents) await fs.makedirs(path, { existOk: true });
      else await fs.mkdir(path, { createParents: false });
    });

  program
    .command("rm")
    .description("delete files (directories with -r)")
    .argument("<urls...>")
    .option("-r, --recursive", "delete directories and what they hold")
    .action(async (urls: string[], opts: { recursive?: boolean }) => {
      for (const url of urls) {
        const { fs, path } = await urlToFs(url, fsOptions());
        await fs.rm(path, { recursive: opts.recursive });
      }
    });

  program
    .command("touch")
    .description("create an empty file (or update the modification time with --no-truncate)")
    .argument("<url>")
    .option("--no-truncate", "keep the content of an existing file")
    .action(async (url: string, opts: { truncate: boolean }) => {
      const { fs, path } = await urlToFs(url, fsOptions());
      await fs.touch(path, { truncate: opts.truncate });
    });
}
