import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BasenameMapper, HashMapper, makeMapper } from "../../src/index.js";
import { errorOf } from "../support/errors.js";

describe("cache mappers", () => {
  it("HashMapper is the sha256 of the path, hex", () => {
    const path = "bucket/dir/file.bin";
    expect(new HashMapper().map(path)).toBe(createHash("sha256").update(path).digest("hex"));
    expect(new HashMapper().map("a")).not.toBe(new HashMapper().map("b"));
  });

  const rows: Array<[number, string, string]> = [
    [0, "/a/b/c.txt", "c.txt"],
    [1, "/a/b/c.txt", "b_@_c.txt"],
    [2, "/a/b/c.txt", "a_@_b_@_c.txt"],
    [5, "/a/b/c.txt", "a_@_b_@_c.txt"],
    [1, "bucket/key", "bucket_@_key"],
    [0, "http://host:80/models/x/metadata.json", "metadata.json"],
    [1, "http://host:80/models/x/metadata.json", "x_@_metadata.json"],
    [0, "single", "single"],
  ];
  for (const [levels, path, want] of rows) {
    it(`BasenameMapper(${levels}) maps ${path} to ${want}`, () => {
      expect(new BasenameMapper(levels).map(path)).toBe(want);
    });
  }

  it("keeping a parent directory separates same-named files", () => {
    expect(new BasenameMapper(0).map("/m/a/metadata.json")).toBe(new BasenameMapper(0).map("/m/b/metadata.json"));
    expect(new BasenameMapper(1).map("/m/a/metadata.json")).not.toBe(new BasenameMapper(1).map("/m/b/metadata.json"));
  });

  it("refuses names the cache keeps for itself, and bad levels", async () => {
    expect((await errorOf(Promise.resolve().then(() => new BasenameMapper().map("/x/cache")))).code).toBe("EINVAL");
    expect((await errorOf(Promise.resolve().then(() => new BasenameMapper().map("/x/.fsspec-lock-1")))).code).toBe("EINVAL");
    expect((await errorOf(Promise.resolve().then(() => new BasenameMapper().map("/")))).code).toBe("EINVAL");
    expect((await errorOf(Promise.resolve().then(() => new BasenameMapper(-1)))).code).toBe("EINVAL");
    expect(new BasenameMapper(1).map("/x/cache")).toBe("x_@_cache");
    expect(new BasenameMapper().map("/x/.gitattributes")).toBe(".gitattributes");
  });

  it("makeMapper takes instances, specs and sameNames; toJSON round-trips", () => {
    expect(makeMapper(undefined)).toBeInstanceOf(HashMapper);
    expect(makeMapper(undefined, true)).toBeInstanceOf(BasenameMapper);
    const custom = new BasenameMapper(3);
    expect(makeMapper(custom)).toBe(custom);
    for (const spec of ["hash", "basename", { type: "basename", directoryLevels: 2 }, { type: "hash" }] as const) {
      const m = makeMapper(spec);
      expect(makeMapper(m.toJSON()).map("/p/q/r/s")).toBe(m.map("/p/q/r/s"));
    }
    expect(() => makeMapper("nope" as "hash")).toThrow(/unknown cache mapper/);
  });
});
