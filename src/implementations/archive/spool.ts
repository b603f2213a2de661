/**
 * Where a gzip tar's decompressed stream is kept once it has been inflated for the index, so a
 * member is then read by range without inflating from the start again: in memory up to a
 * limit, beyond it in a temporary file that is unlinked as soon as it is open (POSIX), so
 * nothing is left behind even if the process dies. Where unlinking an open file fails
 * (Windows), the file is removed by `release()` or when the process exits.
 */
import { rmSync } from "node:fs";
import { mkdtemp, open, rm, rmdir, unlink, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FsError } from "../../core/errors.js";
import { concatBytes } from "../../files/upload-sink.js";

export const DEFAULT_SPOOL_MEMORY = 32 * 2 ** 20;

const leftovers = new Set<string>();
let exitHookInstalled = false;

function removeAtExit(dir: string): void {
  leftovers.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const d of leftovers) rmSync(d, { recursive: true, force: true });
  });
}

export class Spool {
  private chunks: Uint8Array[] = [];
  private memory: Uint8Array | undefined;
  private file: FileHandle | undefined;
  private fileDir: string | undefined;
  private length = 0;
  private released = false;

  constructor(
    private readonly memoryLimit = DEFAULT_SPOOL_MEMORY,
    private readonly dir: string = tmpdir(),
  ) {}

  /** Bytes held. */
  get size(): number {
    return this.length;
  }

  /** Whether the bytes went to a temporary file. */
  get onDisk(): boolean {
    return this.file !== undefined;
  }

  async append(chunk: Uint8Array): Promise<void> {
    if (this.released) throw new FsError("EIO", "the spool was released");
    if (!this.file && this.length + chunk.byteLength > this.memoryLimit) await this.moveToDisk();
    if (this.file) await this.writeAll(chunk, this.length);
    else this.chunks.push(chunk);
    this.length += chunk.byteLength;
  }

  /** No more appends: memory chunks become one buffer for slicing. */
  finish(): void {
    if (!this.file) {
      this.memory = concatBytes(this.chunks, this.length);
      this.chunks = [];
    }
  }

  /** Bytes [start, end), clipped to what is held. */
  async read(start: number, end: number): Promise<Uint8Array> {
    if (this.released) throw new FsError("EIO", "the spool was released");
    const s = Math.min(start, this.length);
    const e = Math.min(end, this.length);
    if (e <= s) return new Uint8Array(0);
    if (!this.file) {
      if (!this.memory) this.finish();
      return this.memory!.slice(s, e);
    }
    const out = new Uint8Array(e - s);
    for (let got = 0; got < out.byteLength; ) {
      const { bytesRead } = await this.file.read(out, got, out.byteLength - got, s + got);
      if (bytesRead === 0) throw new FsError("EIO", "the spool file is shorter than what was written to it");
      got += bytesRead;
    }
    return out;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.chunks = [];
    this.memory = undefined;
    const file = this.file;
    this.file = undefined;
    await file?.close().catch(() => undefined);
    if (this.fileDir) {
      await rm(this.fileDir, { recursive: true, force: true }).catch(() => undefined);
      leftovers.delete(this.fileDir);
    }
  }

  private async moveToDisk(): Promise<void> {
    const dir = await mkdtemp(join(this.dir, "fsspec-ts-tar-"));
    const path = join(dir, "stream");
    this.file = await open(path, "w+");
    try {
      await unlink(path);
      await rmdir(dir);
    } catch {
      this.fileDir = dir;
      removeAtExit(dir);
    }
    let at = 0;
    for (const chunk of this.chunks) {
      await this.writeAll(chunk, at);
      at += chunk.byteLength;
    }
    this.chunks = [];
  }

  private async writeAll(chunk: Uint8Array, position: number): Promise<void> {
    for (let done = 0; done < chunk.byteLength; ) {
      const { bytesWritten } = await this.file!.write(chunk, done, chunk.byteLength - done, position + done);
      done += bytesWritten;
    }
  }
}
