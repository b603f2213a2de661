/** Where the CLI writes: real streams in the binary, buffers in tests. */
import type { Writable } from "node:stream";
import { redactText } from "../core/redact.js";

export interface CliIO {
  stdout: Writable;
  stderr: Writable;
  /** Show progress bars (default: when stderr is a terminal). */
  progress?: boolean;
}

/** Write and wait for the stream to take it (back-pressure for large `cat`s). */
export async function write(stream: Writable, data: string | Uint8Array): Promise<void> {
  if (!stream.write(data)) await new Promise<void>((resolve) => stream.once("drain", resolve));
}

/** One line of text; URLs in it lose their credentials (user info, tokens in queries). File bytes go through `write`. */
export async function println(stream: Writable, line = ""): Promise<void> {
  await write(stream, `${redactText(line)}\n`);
}
