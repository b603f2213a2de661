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
const loadBar = () => (loading ??= import("cli-progress").then((m) => m.SingleBar ?? (m as unknown as { default: { SingleBar: BarClass } }).default.SingleBar));

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
  let BarImpl: BarClass | undefined;
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
