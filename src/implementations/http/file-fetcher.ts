/**
 * The ranged fetch of an opened HTTP file. Each fetch is a ranged GET; a server that ignores
 * Range (python's http.server) answers with the whole file, and that body is then held after
 * the bytes asked for, so the next fetch, when it starts where this one ended (a sequential
 * read, a download), reads on instead of fetching the file's beginning again. A fetch
 * elsewhere drops the held body. At most one body is held; closing the file drops it.
 */
import type { RangeDownload } from "./download.js";

export class OpenedFileFetcher {
  private held: RangeDownload | undefined;

  /** `open(start, end)` sends a ranged GET with keepRest set. */
  constructor(private readonly open: (start: number, end: number) => Promise<RangeDownload>) {}

  async fetch(start: number, end: number): Promise<Uint8Array> {
    const held = this.held;
    this.held = undefined;
    let download: RangeDownload;
    let bytes: Uint8Array;
    if (held?.continuesAt(start)) {
      download = held;
      bytes = await held.continueTo(end);
    } else {
      held?.cancel();
      download = await this.open(start, end);
      bytes = await download.readAll();
    }
    // A fetch that ran meanwhile may have parked its own body: keep one, drop the other.
    if (this.held === undefined && download.continuesAt(start + bytes.byteLength)) this.held = download;
    else download.cancel();
    return bytes;
  }

  close(): void {
    this.held?.cancel();
    this.held = undefined;
  }
}
