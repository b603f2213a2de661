/**
 * The ranged fetch of an opened HTTP file. Each fetch is a ranged GET; a server that ignores
 * Range (python's http.server) answers with the whole file, and that body is then held after
 * the bytes asked for, so the next fetch, when it starts where this one ended (a sequential
 * read, a download), reads on instead of fetching the file's beginning again. A fetch
 * elsewhere drops the held body. At most one body is held, and for at most `holdMs` between
 * reads (it holds a connection: a file left open and unread must not keep it); closing the file
 * drops it.
 */
import type { RangeDownload } from "./download.js";

export class OpenedFileFetcher {
  private held: RangeDownload | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** `open(start, end)` sends a ranged GET with keepRest set. */
  constructor(
    private readonly open: (start: number, end: number) => Promise<RangeDownload>,
    private readonly holdMs: number,
  ) {}

  async fetch(start: number, end: number): Promise<Uint8Array> {
    const held = this.held;
    this.held = undefined;
    clearTimeout(this.timer);
    let download: RangeDownload;
    if (held?.continuesAt(start)) {
      download = held;
    } else {
      held?.cancel();
      download = await this.open(start, end);
    }
    let bytes: Uint8Array;
    try {
      bytes = download === held ? await held.continueTo(end) : await download.readAll();
    } catch (err) {
      download.cancel();
      throw err;
    }
    // A fetch that ran meanwhile may have parked its own body: keep one, drop the other.
    if (this.held === undefined && download.continuesAt(start + bytes.byteLength)) {
      this.held = download;
      this.timer = setTimeout(() => this.close(), this.holdMs).unref();
    } else {
      download.cancel();
    }
    return bytes;
  }

  close(): void {
    clearTimeout(this.timer);
    this.held?.cancel();
    this.held = undefined;
  }
}
