/** The fsspec-ts command run in this process, its output captured. */
import { PassThrough } from "node:stream";
import { runCli } from "../../src/cli/main.js";

export interface CliRun {
  code: number;
  /** stdout as bytes, and as text. */
  bytes: Buffer;
  out: string;
  err: string;
}

export async function cli(...args: string[]): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (c: Buffer) => out.push(c));
  stderr.on("data", (c: Buffer) => err.push(c));
  const code = await runCli(args, { stdout, stderr, progress: false });
  const bytes = Buffer.concat(out);
  return { code, bytes, out: bytes.toString(), err: Buffer.concat(err).toString() };
}
