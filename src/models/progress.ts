/**
 * A byte progress bar on stderr for transfers, only when stderr is a terminal (so logs and
 * pipes never get bar noise) and only once bytes actually move. cli-progress is loaded then
 * too, so a program that never draws a bar never pays for its import.
 */
import { createRequire } from "node:module";
import type { SingleBar } from "cli-progress";
import type { ProgressCallback } from "../core/types.js";
import { formatBytes } from "../core/format.js";

function cliProgress(): typeof import("cli-progress") {
  return createRequire(import.meta.url)("cli-progress") as typeof import("cli-progress");
}

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
        bar = new (cliProgress().SingleBar)({
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
