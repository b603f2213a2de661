/**
 * readBlock with fsspec's delimiter rule. The expected blocks were produced by Python fsspec's
 * `fsspec.utils.read_block` on the same bytes (fsspec 2026.9.0).
 */
import { describe, expect, it } from "vitest";
import { MemoryFileSystem } from "../../src/index.js";
import { errorOf } from "../support/errors.js";

const text = (b: Uint8Array) => Buffer.from(b).toString("latin1");

async function fsWith(files: Record<string, string>): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem({ store: "private" });
  for (const [p, d] of Object.entries(files)) await fs.pipeFile(p, d);
  return fs;
}

describe("readBlock", () => {
  it.each([
    [1, 2, ""], // no record starts in [1, 3)
    [0, 0, ""],
    [5, 5, "cccc"], // the record at 5 belongs to the block holding the delimiter before it
    [0, 5, "aaaa\nbbbb\n"],
    [4, 1, "bbbb\n"],
    [3, 3, "bbbb\n"],
    [10, 4, ""],
    [0, 20, "aaaa\nbbbb\ncccc"],
    [9, 1, "cccc"],
    [5, 0, ""],
    [6, 0, ""],
    [14, 3, ""],
    [13, 1, ""],
  ])("'aaaa\\nbbbb\\ncccc' offset %i length %i -> %j", async (offset, length, expected) => {
    const fs = await fsWith({ "/d": "aaaa\nbbbb\ncccc" });
    expect(text(await fs.readBlock("/d", offset, length, "\n"))).toBe(expected);
  });

  it("multi-byte delimiters, found across a split, and length null (to the end)", async () => {
    const fs = await fsWith({ "/e": "ab\r\ncd\r\nef" });
    expect(text(await fs.readBlock("/e", 3, 0, "\r\n"))).toBe("");
    expect(text(await fs.readBlock("/e", 2, 1, "\r\n"))).toBe("cd\r\n");
    expect(text(await fs.readBlock("/e", 3, null, "\r\n"))).toBe("ef");
    expect(text(await fs.readBlock("/e", 0, 1, new Uint8Array([13, 10])))).toBe("ab\r\n");
  });

  it("consecutive blocks hand out every record exactly once", async () => {
    const records = Array.from({ length: 500 }, (_, i) => `record-${i}-${"x".repeat(i % 37)}\n`);
    const fs = await fsWith({ "/r": records.join("") });
    const size = (await fs.size("/r"))!;
    for (const length of [1, 7, 64, 1000, 70_000]) {
      const parts: string[] = [];
      for (let offset = 0; offset < size; offset += length) parts.push(text(await fs.readBlock("/r", offset, length, "\n")));
      expect(parts.join(""), `length ${length}`).toBe(records.join(""));
      expect(parts.flatMap((p) => p.split("\n").filter(Boolean))).toHaveLength(records.length);
    }
  });

  it("without a delimiter it is a plain range; bad offsets and lengths are EINVAL", async () => {
    const fs = await fsWith({ "/d": "0123456789" });
    expect(text(await fs.readBlock("/d", 3, 4))).toBe("3456");
    expect(text(await fs.readBlock("/d", 8, null))).toBe("89");
    expect(text(await fs.readBlock("/d", 3, 4, ""))).toBe("3456");
    expect((await errorOf(fs.readBlock("/d", -1, 4))).code).toBe("EINVAL");
    expect((await errorOf(fs.readBlock("/d", 0, -4))).code).toBe("EINVAL");
    expect((await errorOf(fs.readBlock("/d", 0.5, 4))).code).toBe("EINVAL");
  });
});
