/**
 * Storage that runs out of space: a fault injector for the cache layers' ENOSPC handling, which
 * a real disk cannot be made to show on demand. Both keep a byte budget for everything stored;
 * a write that would go over it fails the way a full local disk does through LocalFileSystem
 * (an EIO whose message and cause say ENOSPC), and space comes back when files are removed.
 *
 * - `QuotaMemoryFileSystem`: a MemoryFileSystem (the storage's generic path: whole-file writes).
 * - `quotaVolume`: a memfs volume for LocalFileSystem (positioned writes through file handles).
 */
import { createFsFromVolume, Volume } from "memfs";
import { MemoryFileSystem, toFsError, type NodeFsLike } from "../../src/index.js";
import { CollectingSink, type SinkOptions, type UploadSink } from "../../src/files/upload-sink.js";
import type { PipeMode } from "../../src/core/types.js";

function noSpace(path: string): Error {
  return Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: "ENOSPC", path });
}

export class QuotaMemoryFileSystem extends MemoryFileSystem {
  /** Writes refused so far. */
  refused = 0;

  constructor(readonly quota: number) {
    super({ store: "private" });
  }

  /** Bytes held by every file of the store. */
  used(): number {
    let n = 0;
    for (const entry of this.store.files.values()) n += entry.data.byteLength;
    return n;
  }

  private charge(path: string, size: number): void {
    const replaced = this.store.files.get(path)?.data.byteLength ?? 0;
    if (this.used() - replaced + size > this.quota) {
      this.refused++;
      throw toFsError(noSpace(path), path);
    }
  }

  protected override async _pipeFile(path: string, data: Uint8Array, mode: PipeMode): Promise<void> {
    this.charge(path, data.byteLength);
    return super._pipeFile(path, data, mode);
  }

  protected override async _openWriter(path: string, options: SinkOptions): Promise<UploadSink> {
    return new CollectingSink(
      async (data, mode) => this._pipeFile(path, data, mode),
      options,
      async () => this.store.files.get(path)?.data,
    );
  }
}

type Promises = NodeFsLike["promises"];
type Handle = Awaited<ReturnType<Promises["open"]>>;

/** A memfs volume whose files may hold `quota` bytes in all; `fs` is for LocalFileSystem's `fs` option. */
export function quotaVolume(quota: number): { fs: NodeFsLike; vol: InstanceType<typeof Volume>; used(): number; refused(): number } {
  const vol = new Volume();
  const base = createFsFromVolume(vol) as unknown as NodeFsLike;
  let refused = 0;
  // toJSON lists the files; their sizes come from stat (toJSON decodes content as text).
  const usedBytes = () => {
    let n = 0;
    for (const file of Object.keys(vol.toJSON())) n += Number(vol.statSync(file).size);
    return n;
  };
  const wrapHandle = (fh: Handle, path: string): Handle =>
    new Proxy(fh, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== "write" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value;
        return async (data: Uint8Array, offset = 0, length = data.byteLength - offset, position?: number | null) => {
          const size = Number((await target.stat()).size);
          const grows = Math.max(0, (position ?? size) + length - size);
          if (usedBytes() + grows > quota) {
            refused++;
            throw noSpace(path);
          }
          return (value as (...args: unknown[]) => Promise<unknown>).call(target, data, offset, length, position);
        };
      },
    });
  const promises = new Proxy(base.promises, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== "open") return typeof value === "function" ? value.bind(target) : value;
      return async (path: string, ...rest: unknown[]) => wrapHandle(await (value as (...a: unknown[]) => Promise<Handle>).call(target, path, ...rest), path);
    },
  });
  return { fs: { promises } as NodeFsLike, vol, used: usedBytes, refused: () => refused };
}
