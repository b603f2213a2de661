/**
 * A byte progress bar on stderr for transfers, only when stderr is a terminal (so logs and
 * pipes never get bar noise) and only once bytes actually move.
 */
import { SingleBar } from "cli-progress";
import type { ProgressCallback } from "../core/types.js";
import { formatBytes } from "../core/format.js";

/** A terminal progress bar that takes a transfer's progress (`callback` option). */
export interface ProgressBar extends ProgressCallback {
  /** End the bar (it stays on screen as last drawn). */
  stop(): void;
}

/**
 * A byte progress bar on stderr named `label` (`Downloading x 45% 130M/287M 41M/s`), drawn once bytes
 * move; undefined unless `enabled` (default: stderr is a terminal), so logs and pipes get no bar noise.
 */
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
