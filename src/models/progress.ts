/**
 * A byte progress bar on stderr for transfers, only when stderr is a terminal (so logs and
 * pipes never get bar noise) and only once bytes actually move.
 */
import { SingleBar } from "cli-progress";
import type { ProgressCallback } from "../core/types.js";
import { formatBytes } from "../core/format.js";

export interface ProgressBar extends ProgressCallback {
  stop(): void;
}

export function progressBar(label: string, enabled = Boolean(process.stderr.isTTY)): ProgressBar | undefined {
  if (!enabled) return undefined;
  let bar: SingleBar | undefined;
  let total = 0;
  let done = 0;
  const started = Date.now();
  const rate = () => formatBytes(Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)));
  return {
    setSize(size: number) {
      total = size;
      bar?.setTotal(size);
    },
    relativeUpdate(bytes: number) {
      done += bytes;
      if (!bar) {
        bar = new SingleBar({
          format: `${label} {percentage}% {doneText}/{totalText} {rateText}/s`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: false,
        });
        bar.start(Math.max(total, done), 0, { doneText: "0B", totalText: formatBytes(total), rateText: "0B" });
      }
      bar.update(done, { doneText: formatBytes(done), totalText: formatBytes(Math.max(total, done)), rateText: rate() });
    },
    stop() {
      bar?.stop();
    },
  };
}

/** `3m05s`, `42s`; "?" while no rate is known. */
function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** One file of a batch: its download's progress, and its end. */
export interface BatchItem {
  callback: ProgressCallback;
  /** The file is ready (downloaded, or found in the cache when no bytes moved); not called for a file that failed. */
  done(): void;
}

export interface BatchProgress {
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
    if (!stream.isTTY || bytes === 0) return;
    const v = values();
    if (!bar) {
      bar = new SingleBar({
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
  return {
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
