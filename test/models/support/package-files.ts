/** Package test helpers: deterministic file bytes, sha256, and streams that record what a package prints. */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { PassThrough } from "node:stream";

export function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** `n` bytes that differ with `seed`. */
export function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff);
}

export async function sha256OfFile(path: string): Promise<string> {
  return sha256(await readFile(path));
}

/** A stream collecting what is written to it; `tty` makes it look like a terminal. */
export function captureStream(tty = false): PassThrough & { isTTY?: boolean; text(): string } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number; text(): string };
  let out = "";
  stream.on("data", (chunk: Buffer) => (out += chunk.toString()));
  if (tty) {
    stream.isTTY = true;
    stream.columns = 200;
  }
  stream.text = () => out;
  return stream;
}
