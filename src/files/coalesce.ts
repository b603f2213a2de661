/**
 * Range coalescing for catRanges: sort the ranges of one file, merge those whose gap is at
 * most `maxGap` (never beyond `maxBlock` bytes per request), and remember where each
 * caller's range sits inside its merged request.
 */

/** Bytes [start, end) of a file. */
export interface ByteRange {
  /** The first byte's offset. */
  start: number;
  /** The offset just past the last byte. */
  end: number;
}

/** One request of a `coalesceRanges` plan: the bytes to fetch and the input ranges they serve. */
export interface MergedRange extends ByteRange {
  /** Indexes (into the input) of the ranges this request serves. */
  members: number[];
}

export const DEFAULT_MAX_GAP = 2 ** 20;
export const DEFAULT_MAX_BLOCK = 256 * 2 ** 20;

/**
 * Merge `ranges` (end exclusive, start <= end): a range joins the previous request when the
 * gap between them is at most `maxGap` (overlaps count as no gap) and the merged request stays
 * within `maxBlock` bytes (or the range lies inside it already). `maxGap <= 0` turns
 * coalescing off: one request per range.
 */
export function coalesceRanges(
  ranges: readonly ByteRange[],
  maxGap = DEFAULT_MAX_GAP,
  maxBlock = DEFAULT_MAX_BLOCK,
): MergedRange[] {
  const order = ranges.map((_, i) => i).sort((a, b) => ranges[a]!.start - ranges[b]!.start || ranges[a]!.end - ranges[b]!.end);
  const out: MergedRange[] = [];
  for (const i of order) {
    const r = ranges[i]!;
    const last = out[out.length - 1];
    if (
      last &&
      maxGap > 0 &&
      r.start - last.end <= maxGap &&
      // A range inside the request so far costs nothing, even when that request is already
      // over maxBlock (a single large range).
      (r.end <= last.end || r.end - last.start <= maxBlock)
    ) {
      last.end = Math.max(last.end, r.end);
      last.members.push(i);
    } else {
      out.push({ start: r.start, end: r.end, members: [i] });
    }
  }
  return out;
}

/**
 * Cut the bytes fetched for `merged` (`data`, which may be short if the file ended early) back
 * into its members' ranges, returned in `merged.members` order. A result is a view into `data`,
 * never a copy, unless that would pin a buffer that is mostly gap bytes (useful bytes under
 * half of it: then every result is copied so the buffer can be freed) or make two results
 * share bytes (overlapping ranges: the later one is copied).
 */
export function sliceMerged(merged: MergedRange, ranges: readonly ByteRange[], data: Uint8Array): Uint8Array[] {
  let useful = 0;
  let coveredTo = merged.start;
  for (const m of merged.members) {
    const r = ranges[m]!;
    useful += Math.max(0, r.end - Math.max(r.start, coveredTo));
    coveredTo = Math.max(coveredTo, r.end);
  }
  const copyAll = useful * 2 < data.byteLength;
  coveredTo = merged.start;
  return merged.members.map((m) => {
    const r = ranges[m]!;
    const view = data.subarray(r.start - merged.start, r.end - merged.start);
    const shared = r.start < coveredTo && r.end > r.start;
    coveredTo = Math.max(coveredTo, r.end);
    if (!copyAll && !shared) return view;
    const copy = new Uint8Array(view.byteLength);
    copy.set(view);
    return copy;
  });
}
