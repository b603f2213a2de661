/**
 * A byte progress bar on stderr for transfers, only when stderr is a terminal (so logs and
 * pipes never get bar noise) or when asked for, and only once bytes actually move. It names the
 * file being moved (the latest one a batch started, from `branch`), counts each byte once, and shows the rate and the time left.
 * cli-progress is imported when a bar is first made, so `import "fsspec-ts"` never loads it.
 */
import type { SingleBar } from "cli-progress";
import type { ProgressCallback } from "../core/types.js";
import { formatBytes } from "../core/format.js";

/** A terminal progress bar that takes a transfer's progress (`callback` option). */
export interface ProgressBar extends ProgressCallback {
  /** Settles once the bar can draw (its renderer is imported on first use); updates before that are kept. */
  readonly ready: Promise<void>;
  /** End the bar (it stays on screen as last drawn). */
  stop(): void;
}

type BarClass = typeof SingleBar;
let loading: Promise<BarClass> | undefined;
/** The renderer once imported: bars made after that draw at once, with no wait for a promise. */
let loaded: BarClass | undefined;
const loadBar = () =>
  (loading ??= import("cli-progress").then((m) => (loaded = m.SingleBar ?? (m as unknown as { default: { SingleBar: BarClass } }).default.SingleBar)));

/** `3m05s`, `42s`; "?" until a rate is known. */
function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * A bar labelled `label` ("Copying"). `enabled` defaults to whether stderr is a terminal; when it
 * is forced on elsewhere (`fsspec-ts --progress 2>log`) the bar is printed as plain lines.
 */
export function progressBar(label: string, enabled = Boolean(process.stderr.isTTY)): ProgressBar | undefined {
  if (!enabled) return undefined;
  let BarImpl: BarClass | undefined = loaded;
  let bar: SingleBar | undefined;
  let stopped = false;
  let total = 0;
  let done = 0;
  let file = "";
  const started = Date.now();
  const values = () => {
    const seconds = Math.max(0.001, (Date.now() - started) / 1000);
    const rate = done / seconds;
    const shownTotal = Math.max(total, done);
    return {
      file: file === "" ? "" : ` ${file}`,
      doneText: formatBytes(done),
      totalText: formatBytes(shownTotal),
      rateText: formatBytes(Math.round(rate)),
      etaText: done === 0 ? "?" : formatEta((shownTotal - done) / rate),
    };
  };
  const draw = () => {
    if (stopped || !BarImpl || done === 0) return;
    if (!bar) {
      bar = new BarImpl({
        format: `${label}{file} {percentage}% {doneText}/{totalText} {rateText}/s ETA {etaText}`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false,
        // Forced on for a pipe or file: plain lines every few seconds instead of redraws.
        noTTYOutput: !process.stderr.isTTY,
      });
      bar.start(Math.max(total, done), done, values());
      return;
    }
    bar.setTotal(Math.max(total, done));
    bar.update(done, values());
  };
  const ready = loadBar().then(
    (cls) => {
      BarImpl = cls;
      draw();
    },
    () => undefined, // no bar is better than a failed transfer
  );
  return {
    ready,
    setSize(size: number) {
      total = size;
      draw();
    },
    relativeUpdate(bytes: number) {
      done += bytes;
      draw();
    },
    branch(src: string) {
      file = src.slice(src.replace(/\/+$/, "").lastIndexOf("/") + 1);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (bar) {
        bar.update(done, values());
        bar.stop();
      }
    },
  };
}

/** One file of a batch: its download's progress, and its end. */
export interface BatchItem {
  /** Told of the file's bytes as they move. */
  callback: ProgressCallback;
  /** The file is ready (downloaded, or found in the cache when no bytes moved); not called for a file that failed. */
  done(): void;
}

/**
 * The progress of a batch of downloads (`batchProgress`): one bar, or one summary line without a
 * terminal.
 */
export interface BatchProgress {
  /** Settles once the bar can draw (its renderer is imported on first use): await it before the batch starts. */
  readonly ready: Promise<void>;
  /** Start reporting one more file of the batch. */
  item(): BatchItem;
  /** The end: a bar is finished; without a terminal the one summary line is written. */
  stop(outcome?: "done" | "failed"): void;
}

/** Where a batch reports: a stream that may be a terminal. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean };

/**
 * One display for a batch of downloads (files ready, bytes, rate, time left): a bar on a
 * terminal, drawn once bytes move; otherwise a single summary line at the end. The total is
 * the sizes of the downloads begun so far plus, for each file not begun yet, their average,
 * so the time left settles as downloads begin.
 */
export function batchProgress(label: string, files: number, stream: ProgressStream = process.stderr): BatchProgress {
  const started = Date.now();
  let BarImpl: BarClass | undefined = loaded;
  let bar: SingleBar | undefined;
  let ready = 0;
  let downloaded = 0;
  let begun = 0; // downloads that announced their size
  let begunBytes = 0;
  let unsized = 0; // files ready without a download of their own (cache hits)
  let bytes = 0;
  const seconds = () => Math.max(0.001, (Date.now() - started) / 1000);
  const values = () => {
    const waiting = Math.max(0, files - begun - unsized);
    const total = Math.max(bytes, begunBytes + (begun > 0 ? (begunBytes / begun) * waiting : 0));
    const rate = bytes / seconds();
    return {
      ready,
      files,
      total,
      doneText: formatBytes(bytes),
      totalText: formatBytes(Math.round(total)),
      rateText: formatBytes(Math.round(rate)),
      etaText: bytes === 0 ? "?" : formatEta((total - bytes) / rate),
    };
  };
  const draw = () => {
    if (!stream.isTTY || bytes === 0 || !BarImpl) return;
    const v = values();
    if (!bar) {
      bar = new BarImpl({
        format: `${label} {ready}/{files} files {percentage}% {doneText}/{totalText} {rateText}/s ETA {etaText}`,
        stream: stream as NodeJS.WriteStream,
        hideCursor: true,
        clearOnComplete: false,
      });
      bar.start(Math.max(1, v.total), bytes, v);
      return;
    }
    bar.setTotal(Math.max(1, v.total));
    bar.update(bytes, v);
  };
  const loadedForTty = stream.isTTY
    ? loadBar().then(
        (cls) => {
          BarImpl = cls;
          draw();
        },
        () => undefined, // no bar is better than a failed prefetch
      )
    : Promise.resolve();
  return {
    ready: loadedForTty,
    item() {
      let moved = 0;
      let sized = false;
      let finished = false;
      return {
        callback: {
          setSize(size: number) {
            if (sized) return; // a retried download announces itself again
            sized = true;
            begun++;
            begunBytes += size;
            draw();
          },
          relativeUpdate(n: number) {
            moved += n;
            bytes += n;
            draw();
          },
        },
        done() {
          if (finished) return;
          finished = true;
          ready++;
          if (moved > 0) downloaded++;
          if (!sized) unsized++;
          draw();
        },
      };
    },
    stop(outcome = "done") {
      if (bar) {
        bar.update(bytes, values());
        bar.stop();
        return;
      }
      if (stream.isTTY && outcome === "done") return; // nothing moved: a cache hit prints nothing
      const cached = ready - downloaded;
      const secs = seconds();
      const moved = downloaded > 0 ? `${downloaded} downloaded (${formatBytes(bytes)} in ${secs.toFixed(1)} s, ${formatBytes(Math.round(bytes / secs))}/s)` : "";
      const hits = cached === 0 ? "" : downloaded > 0 ? `, ${cached} already cached` : `${cached === files ? "all " : ""}${cached} already cached`;
      const head = outcome === "done" ? `${label} ${files} files` : `${label} failed after ${ready} of ${files} files`;
      stream.write(`${head}${moved || hits ? `: ${moved}${hits}` : ""}\n`);
    },
  };
}
