/**
 * The ramp of finishFromFirst over fake streams whose timing the test sets: where more
 * connections bring nothing (one stream takes all there is), a stall of the first stream during
 * its measured tick must not pass for a per-connection cap.
 */
import { describe, expect, it } from "vitest";
import { finishFromFirst, type FirstStream, type PartReader } from "../../src/files/parallel-ranges.js";
import type { ByteSink } from "../../src/files/byte-sink.js";

const MiB = 2 ** 20;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Bytes [from, to) at `perChunkMs` a MiB, all streams together sharing one pipe (so N streams
 * are no faster than one), with no bytes during `stall` (ms after `t0`).
 */
function pipe(t0: number, stall: [number, number] | undefined) {
  let busyUntil = 0;
  return async (from: number, to: () => number, write: (chunk: Uint8Array, offset: number) => void | Promise<void>) => {
    for (let pos = from; pos < to(); ) {
      const now = performance.now() - t0;
      if (stall && now >= stall[0] && now < stall[1]) {
        await pause(stall[1] - now);
        continue;
      }
      // The shared pipe: one MiB every 4 ms, whoever asks.
      busyUntil = Math.max(busyUntil, now) + 4;
      await pause(busyUntil - now);
      const n = Math.min(MiB, to() - pos);
      await write(new Uint8Array(n), pos);
      pos += n;
    }
  };
}

async function run(stall: [number, number] | undefined): Promise<{ peakParts: number; bytes: number }> {
  const size = 320 * MiB;
  const t0 = performance.now();
  const flow = pipe(t0, stall);
  let limit = size;
  let parts = 0;
  let peakParts = 0;
  let bytes = 0;
  const first: FirstStream = {
    partial: true,
    limitTo: (end) => (limit = Math.max(Math.min(limit, end), 0)),
    cancel: () => undefined,
    pipeTo: (write) => flow(0, () => limit, write),
  };
  const sink: ByteSink = { positioned: true, write: (chunk) => void (bytes += chunk.byteLength), flush: async () => undefined };
  await finishFromFirst(first, 0, size, sink, { concurrency: 4, threshold: 0 }, new AbortController(), async (s, e) => {
    const part: PartReader = {
      cancel: () => undefined,
      pipeTo: async (write) => {
        peakParts = Math.max(peakParts, ++parts);
        try {
          await flow(s, () => e, write);
        } finally {
          parts--;
        }
      },
    };
    return part;
  });
  return { peakParts, bytes };
}

describe("finishFromFirst's ramp", () => {
  it("where streams share one pipe it tries a second and steps back, even when the first stalled in its measured tick", async () => {
    const steady = await run(undefined);
    expect(steady.bytes).toBe(320 * MiB);
    expect(steady.peakParts).toBeLessThanOrEqual(1);
    // The measured tick is 200-400 ms after the start (the first is warm-up): stalled for most of it.
    const stalled = await run([220, 380]);
    expect(stalled.bytes).toBe(320 * MiB);
    expect(stalled.peakParts).toBeLessThanOrEqual(1);
  }, 20_000);
});
