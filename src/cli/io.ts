/** Where the CLI reads and writes: real streams in the binary, buffers in tests. */
import { once } from "node:events";
import type { Readable, Writable } from "node:stream";
import { FsError } from "../core/errors.js";
import { redactText } from "../core/redact.js";

export interface CliIO {
  stdout: Writable;
  stderr: Writable;
  /** What `-` reads (cat -, cp - dst) and where confirmations are answered; default process.stdin. */
  stdin?: Readable & { isTTY?: boolean };
  /** Show progress bars (default: when stderr is a terminal; --progress / --no-progress decide otherwise). */
  progress?: boolean;
  /** Ends the run early (the binary aborts it on SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

/**
 * Write and wait for the stream to take it (back-pressure for large `cat`s). A stream that
 * fails meanwhile (EPIPE: the reader of a pipe went away) or an aborted run end the wait.
 */
export async function write(stream: Writable, data: string | Uint8Array, signal?: AbortSignal): Promise<void> {
  if (stream.destroyed || stream.errored) throw stream.errored ?? new FsError("EIO", "output closed");
  if (!stream.write(data)) await once(stream, "drain", { signal });
}

/** One line of text; URLs in it lose their credentials (user info, tokens in queries). File bytes go through `write`. */
export async function println(stream: Writable, line = "", signal?: AbortSignal): Promise<void> {
  await write(stream, `${redactText(line)}\n`, signal);
}

/**
 * Ask a yes/no question on stderr and read the answer from stdin: true only for "y" or "yes".
 * Without a terminal to ask (stdin not a TTY) nothing is asked: EINVAL telling to pass --yes.
 */
export async function confirm(io: CliIO, question: string, signal?: AbortSignal): Promise<boolean> {
  const stdin = io.stdin ?? process.stdin;
  if (!stdin.isTTY) throw FsError.einval(`${question.replace(/\?$/, "")}: refusing without confirmation (stdin is not a terminal); pass --yes`);
  io.stderr.write(`${redactText(question)} [y/N] `);
  const answer = await readLine(stdin, signal);
  return /^\s*y(es)?\s*$/i.test(answer);
}

function readLine(stream: Readable, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const done = (error?: unknown) => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      signal?.removeEventListener("abort", onAbort);
      stream.pause();
      if (error !== undefined) reject(error);
      else resolve(text.split(/\r?\n|\r/)[0]!);
    };
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      if (/[\r\n]/.test(text)) done();
    };
    const onEnd = () => done();
    const onAbort = () => done(signal!.reason);
    if (signal?.aborted) return done(signal.reason);
    signal?.addEventListener("abort", onAbort);
    stream.on("data", onData);
    stream.on("end", onEnd);
  });
}
