#!/usr/bin/env node
/**
 * `fsspec-ts <command>`: the library's filesystems from a shell. Every command takes paths or
 * URLs (chains included) and `-o protocol.key=value` options for the filesystems.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { FsError } from "../core/errors.js";
import { redactText } from "../core/redact.js";
import "../index.js"; // registers every backend
import { registerCacheCommands } from "./commands-cache.js";
import { registerFileCommands } from "./commands-files.js";
import { registerPackageCommands } from "./commands-package.js";
import { registerTransferCommands } from "./commands-transfer.js";
import type { CliIO } from "./io.js";
import { parseStorageOptions } from "./options.js";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Run the CLI; resolves to the exit code (0 ok, 1 failure, 2 usage). */
export async function runCli(argv: readonly string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const program = new Command("fsspec-ts")
    .description("one filesystem interface for memory, local disk, HTTP(S), cache layers and more")
    .option("-o, --option <key=value>", "filesystem option; protocol.key=value for one layer of a chain (repeatable)", collect, [])
    .option("--storage-options <json>", "filesystem options as one JSON object")
    .exitOverride()
    .configureOutput({
      // Usage errors echo arguments ("unknown command 'https://user:pass@...'").
      writeOut: (s) => void io.stdout.write(redactText(s)),
      writeErr: (s) => void io.stderr.write(redactText(s)),
    });
  const fsOptions = () => {
    const opts = program.opts<{ option: string[]; storageOptions?: string }>();
    return parseStorageOptions(opts.option, opts.storageOptions);
  };
  registerFileCommands(program, io, fsOptions);
  registerTransferCommands(program, io, fsOptions);
  registerCacheCommands(program, io);
  registerPackageCommands(program, io, fsOptions);
  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const message = err instanceof FsError ? err.message : (err as Error)?.stack ?? String(err);
    io.stderr.write(`fsspec-ts: ${redactText(message)}\n`);
    return err instanceof FsError && err.code === "EINVAL" ? 2 : 1;
  }
}

// Run when executed directly (node dist/src/cli/main.js, the bin, or tsx src/cli/main.ts).
const invokedAs = process.argv[1] ? realpathSync(process.argv[1]) : "";
if (invokedAs === fileURLToPath(import.meta.url) || invokedAs === fileURLToPath(import.meta.url).replace(/\.js$/, ".ts")) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
