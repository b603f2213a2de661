/**
 * The transfer progress bar: drawn on stderr only when enabled, once bytes move (cli-progress
 * is imported when a bar is made, not at import).
 */
import { afterEach, describe, expect, it } from "vitest";
import { progressBar } from "../../src/models/progress.js";

const stderr = process.stderr as NodeJS.WriteStream & { isTTY: boolean };
const realWrite = stderr.write;
const realTTY = stderr.isTTY;

/** What the bar writes to stderr while `fn` runs, stderr posing as a terminal. */
async function drawnBy(fn: () => Promise<void>): Promise<string> {
  let out = "";
  stderr.isTTY = true;
  stderr.write = ((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  }) as typeof stderr.write;
  try {
    await fn();
  } finally {
    stderr.write = realWrite;
    stderr.isTTY = realTTY;
  }
  return out;
}

afterEach(() => {
  stderr.write = realWrite;
  stderr.isTTY = realTTY;
});

describe("progressBar", () => {
  it("draws the label, percentage and bytes once bytes move", async () => {
    const text = await drawnBy(async () => {
      const bar = progressBar("Copying", true)!;
      await bar.ready;
      bar.setSize?.(2048);
      bar.relativeUpdate?.(1024);
      bar.stop();
    });
    expect(text).toContain("Copying");
    expect(text).toMatch(/50%/);
    expect(text).toContain("1.0K/2.0K");
  });

  it("is off when disabled, and draws nothing before the first bytes", async () => {
    expect(progressBar("Copying", false)).toBeUndefined();
    const text = await drawnBy(async () => {
      const bar = progressBar("Copying", true)!;
      await bar.ready;
      bar.setSize?.(10);
      bar.stop();
    });
    expect(text).toBe("");
  });
});
