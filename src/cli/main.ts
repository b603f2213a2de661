#!/usr/bin/env node
/**
 * `fsspec-ts <command>`: the library's filesystems from a shell. Every command takes paths or
 * URLs (chains included) and `-o protocol.key=value` options for the filesystems. Exit codes
 * are in exit-codes.ts (and docs/cli.md).
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { isFsError } from "../core/errors.js";
import { redactText } from "../core/redact.js";
import { registerCacheCommands } from "./commands-cache.js";
import { registerFileCommands } from "./commands-files.js";
import { registerPackageCommands } from "./commands-package.js";
import { registerTransferCommands } from "./commands-transfer.js";
import { CliContext, describeError, type GlobalFlags } from "./context.js";
import { EXIT, exitCodeOf } from "./exit-codes.js";
import type { CliIO } from "./io.js";
import { packageVersion } from "./version.js";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Run the CLI; resolves to the exit code (see exit-codes.ts). */
export async function runCli(argv: readonly string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const program = new Command("fsspec-ts")
    .description("one filesystem interface for memory, local disk, HTTP(S), S3, the Hugging Face Hub, NGC and cache layers")
    .version(packageVersion(), "-V, --version", "print the version")
    .option("-o, --option <key=value>", "filesystem option; protocol.key=value for one layer of a chain (repeatable)", collect, [])
    .option("--storage-options <json>", "filesystem options as one JSON object")
    .option("-q, --quiet", "no progress bars and no notes on stderr (errors still are)")
    .option("--progress", "show progress bars even when stderr is not a terminal")
    .option("--no-progress", "never show progress bars")
    .exitOverride()
    .configureOutput({
      // Usage errors echo arguments ("unknown command 'https://user:pass@...'").
      writeOut: (s) => void io.stdout.write(redactText(s)),
      writeErr: (s) => void io.stderr.write(redactText(s)),
    });
  const ctx = new CliContext(io, () => program.opts<GlobalFlags>());
  registerFileCommands(program, ctx);
  registerTransferCommands(program, ctx);
  registerCacheCommands(program, ctx);
  registerPackageCommands(program, ctx);
  // A reader that leaves early (`fsspec-ts cat big | head`) fails the next write with EPIPE.
  const onOutputError = (err: unknown) => ctx.outputFailed(err);
  io.stdout.on("error", onOutputError);
  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (ctx.outputClosed) return ctx.exitCode; // quietly: the reader had what it wanted
    if (ctx.signal.aborted && io.signal?.aborted) return ctx.exitCode; // interrupted: the caller picks the code
    io.stderr.write(`fsspec-ts: ${describeError(err)}\n`);
    return exitCodeOf(err);
  } finally {
    io.stdout.off("error", onOutputError);
    ctx.stopProgress();
  }
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
/** How long an interrupted run may take to clean up (temporary files, the terminal) before it is ended anyway. */
const CLEANUP_MS = 5_000;

/**
 * The binary: SIGINT/SIGTERM abort the run, which removes its temporary files and restores the
 * terminal on the way out, then exits 130/143. A second signal, or a clean-up slower than
 * CLEANUP_MS, exits at once.
 */
async function main(): Promise<void> {
  const interrupt = new AbortController();
  let signalCode: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalCode !== undefined) process.exit(signalCode);
    signalCode = SIGNAL_EXIT[signal]!;
    interrupt.abort(Object.assign(new Error(`interrupted by ${signal}`), { name: "AbortError", code: "ABORT_ERR" }));
    setTimeout(() => process.exit(signalCode), CLEANUP_MS).unref();
  };
  for (const signal of Object.keys(SIGNAL_EXIT)) process.on(signal, onSignal);
  // After the run, a late EPIPE (the reader left while the last bytes were flushed) ends nothing badly.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") process.stderr.write(`fsspec-ts: stdout: ${err.message}\n`);
  });
  const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, signal: interrupt.signal });
  if (signalCode !== undefined) process.exit(signalCode);
  process.exitCode = code;
  // Nothing left to do: open keep-alive sockets or a paused stdin must not hold the process.
  if (!process.stdout.writableNeedDrain) setImmediate(() => process.exit(code)).unref();
}

// Run when executed directly (node dist/src/cli/main.js, the bin, or tsx src/cli/main.ts).
const invokedAs = process.argv[1] ? realpathSync(process.argv[1]) : "";
if (invokedAs === fileURLToPath(import.meta.url) || invokedAs === fileURLToPath(import.meta.url).replace(/\.js$/, ".ts")) {
  main().catch((err) => {
    process.stderr.write(`fsspec-ts: ${isFsError(err) ? err.message : String((err as Error)?.stack ?? err)}\n`);
    process.exit(EXIT.failed);
  });
}
