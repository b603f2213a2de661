/**
 * The arithmetic of catRanges as pure functions: broadcasting scalar arguments, resolving
 * slice offsets against a size, and planning the merged requests of one file.
 */
import { FsError } from "./errors.js";
import { coalesceRanges, type ByteRange, type MergedRange } from "../files/coalesce.js";

export type Offset = number | null | undefined;

/** Lists of equal length from lists and scalars (a scalar applies to every range). */
export function broadcastRanges(
  paths: string | readonly string[],
  starts: Offset | readonly Offset[],
  ends: Offset | readonly Offset[],
): { paths: string[]; starts: Offset[]; ends: Offset[] } {
  const n = Array.isArray(paths) ? paths.length : Array.isArray(starts) ? starts.length : Array.isArray(ends) ? ends.length : 1;
  const listOf = <T,>(v: T | readonly T[], name: string): T[] => {
    if (!Array.isArray(v)) return Array.from({ length: n }, () => v as T);
    if (v.length !== n) throw FsError.einval(`${name} has ${v.length} entries but there are ${n} ranges`);
    return [...v];
  };
  return { paths: listOf(paths, "paths"), starts: listOf(starts, "starts"), ends: listOf(ends, "ends") };
}

/** Whether resolving these offsets needs the file's size (from the end, or to the end). */
export function needsSize(start: Offset, end: Offset): boolean {
  return (start ?? 0) < 0 || end === null || end === undefined || end < 0;
}

/**
 * Slice semantics: negative offsets count from the end, a missing end means the end, both are
 * clipped to the size when it is known; never start > end. `size` undefined: offsets are taken
 * as given (no negative ones then).
 */
export function resolveRange(start: Offset, end: Offset, size: number | null | undefined): ByteRange {
  const known = size ?? undefined;
  let s = start ?? 0;
  let e = end ?? known ?? Number.MAX_SAFE_INTEGER;
  if (s < 0) s = Math.max(0, (known ?? 0) + s);
  if (e < 0) e = Math.max(0, (known ?? 0) + e);
  if (known !== undefined) {
    s = Math.min(s, known);
    e = Math.min(e, known);
  }
  return { start: s, end: Math.max(s, e) };
}

export interface RangeJob {
  path: string;
  merged: MergedRange;
  /** The resolved ranges of this file, indexed like `merged.members`. */
  ranges: ByteRange[];
  /** Result slots (indexes into the caller's list) of the members, in `merged.members` order. */
  slots: number[];
}

/** The merged requests for the ranges `slots` of one file (already resolved). */
export function planRangeJobs(path: string, slots: readonly number[], ranges: ByteRange[], maxGap: number, maxBlock: number): RangeJob[] {
  return coalesceRanges(ranges, maxGap, maxBlock).map((merged) => ({
    path,
    merged,
    ranges,
    slots: merged.members.map((m) => slots[m]!),
  }));
}
