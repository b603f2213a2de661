/**
 * Durations on the command line, in the units people type (`7d`, `12h`, `90s`), turned into the
 * milliseconds the library takes. A bare number is seconds, as rclone's age flags read it.
 */
import { FsError } from "../core/errors.js";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `"7d"` -> 604800000; `"90"` -> 90000 (seconds); EINVAL naming the flag otherwise. */
export function parseDuration(name: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/i.exec(text);
  if (!m) throw FsError.einval(`${name} must be a duration such as 500ms, 90s, 30m, 12h, 7d or 2w (a bare number is seconds), got '${text}'`);
  return Math.round(Number(m[1]) * UNIT_MS[(m[2] ?? "s").toLowerCase()]!);
}

/** Milliseconds as the largest whole unit that keeps it readable: `45s`, `12m`, `3h`, `9d`. */
export function formatAge(ms: number | undefined): string {
  if (ms === undefined) return "?";
  const seconds = ms / 1000;
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}
