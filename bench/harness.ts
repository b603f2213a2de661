/**
 * A tiny benchmark harness: each case measures a few variants side by side in one process and
 * reports medians and ratios against its baseline. Goals are printed, never asserted: these
 * machines are noisy, so read medians and ratios, not single runs.
 */

export interface Sample {
  /** What was measured ("catFile", "fs.readFile"...). */
  label: string;
  /** Median wall time in milliseconds. */
  medianMs: number;
  /** All runs, milliseconds. */
  runsMs: number[];
  /** Anything else worth printing (fetch counts, bytes...). */
  extra?: Record<string, string | number>;
}

export interface Ratio {
  /** e.g. "catFile speed-up over fs.readFile" */
  label: string;
  /** Higher is better: baseline time / candidate time (or a count ratio), unless `atMost`. */
  value: number;
  /** The goal for this ratio, if any. */
  goal?: number;
  /** The goal is a ceiling (e.g. milliseconds of start-up): met when value <= goal. */
  atMost?: boolean;
  /** Printed after the value; "x" unless given. */
  unit?: string;
}

export interface CaseResult {
  samples: Sample[];
  ratios: Ratio[];
  notes?: string[];
}

export interface BenchCase {
  name: string;
  run(): Promise<CaseResult>;
}

export interface MeasureOptions {
  runs?: number;
  warmup?: number;
  /** Called before each run (not timed), e.g. to reset state. */
  before?: () => Promise<void> | void;
  /**
   * Force a full GC before each timed run (default true). Allocation-heavy micro cases turn it
   * off: right after a full collection the young generation is small, and the run pays for
   * regrowing it rather than for its own work.
   */
  gcBetweenRuns?: boolean;
}

/** Collect garbage between timed runs when node runs with --expose-gc (npm run bench does). */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Time `fn` `runs` times after `warmup` untimed runs. */
export async function measure(label: string, fn: () => Promise<unknown>, options: MeasureOptions = {}): Promise<Sample> {
  const runs = options.runs ?? 7;
  for (let i = 0; i < (options.warmup ?? 1); i++) {
    await options.before?.();
    await fn();
  }
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    await options.before?.();
    if (options.gcBetweenRuns ?? true) collectGarbage();
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { label, medianMs: median(times), runsMs: times };
}

/**
 * One variant of an interleaved measurement: `fn` is timed here; a `timed` variant runs
 * elsewhere (another process: a Python peer) and returns its own milliseconds, so the
 * hand-over costs it nothing.
 */
export type Variant = { label: string; before?: () => Promise<void> | void } & (
  | {
      fn: () => Promise<unknown>;
      /** `fn` resolves with its own milliseconds (a peer that times itself): recorded instead of the wall time. */
      selfTimed?: boolean;
      timed?: never;
    }
  | { timed: () => Promise<number>; fn?: never; selfTimed?: never }
);

async function timeVariant(v: Variant): Promise<number> {
  if (v.timed) return v.timed();
  const t0 = process.hrtime.bigint();
  const result = await v.fn();
  return v.selfTimed ? (result as number) : Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * Measure several variants interleaved, each round starting one variant later (A B C, B C A,
 * C A B, ...), so drift in machine load hits all of them alike and none always pays for what the
 * one before it left behind (freed memory the VM takes back, a busy disk journal); returns one
 * Sample per variant.
 */
export async function measureInterleaved(
  variants: Variant[],
  options: { runs?: number; warmup?: number; gcBetweenRuns?: boolean } = {},
): Promise<Sample[]> {
  const runs = options.runs ?? 7;
  for (let w = 0; w < (options.warmup ?? 1); w++) {
    for (const v of variants) {
      await v.before?.();
      await timeVariant(v);
    }
  }
  const times = variants.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (let j = 0; j < variants.length; j++) {
      const k = (i + j) % variants.length;
      const v = variants[k]!;
      await v.before?.();
      if (options.gcBetweenRuns ?? true) collectGarbage();
      times[k]!.push(await timeVariant(v));
    }
  }
  return variants.map((v, k) => ({ label: v.label, medianMs: median(times[k]!), runsMs: times[k]! }));
}

/** baseline time / candidate time: above 1 means the candidate is faster. */
export function speedup(label: string, baseline: Sample, candidate: Sample, goal?: number): Ratio {
  return { label, value: baseline.medianMs / candidate.medianMs, goal };
}

export function formatResult(name: string, result: CaseResult): string {
  const lines = [`## ${name}`];
  const width = Math.max(...result.samples.map((s) => s.label.length), 10);
  for (const s of result.samples) {
    const extra = s.extra ? "  " + Object.entries(s.extra).map(([k, v]) => `${k}=${v}`).join(" ") : "";
    lines.push(`  ${s.label.padEnd(width)}  median ${s.medianMs.toFixed(2).padStart(9)} ms  (${s.runsMs.length} runs)${extra}`);
  }
  for (const r of result.ratios) {
    const met = r.goal === undefined ? undefined : r.atMost ? r.value <= r.goal : r.value >= r.goal;
    const goal = r.goal === undefined ? "" : `  goal ${r.atMost ? "<=" : ">="} ${r.goal}  ${met ? "MET" : "NOT MET"}`;
    const unit = r.unit === undefined ? "x" : ` ${r.unit}`;
    lines.push(`  ${r.unit === undefined ? "ratio" : "figure"}: ${r.label} = ${r.value.toFixed(2)}${unit}${goal}`);
  }
  for (const n of result.notes ?? []) lines.push(`  note: ${n}`);
  return lines.join("\n");
}
