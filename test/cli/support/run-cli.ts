/** Run the CLI in this process with buffers for stdout and stderr. */
import { PassThrough } from "node:stream";
import { runCli } from "../../../src/cli/main.js";
import type { CliIO } from "../../../src/cli/io.js";

export async function cliRun(args: readonly string[], io: Omit<CliIO, "stdout" | "stderr"> = {}): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (c: Buffer) => (out += c.toString()));
  stderr.on("data", (c: Buffer) => (err += c.toString()));
  const code = await runCli(args, { stdout, stderr, ...io });
  return { code, out, err };
}
