import { describe, expect, it } from "vitest";
import { FsError, globToRegExp, hasMagic } from "../../src/index.js";

describe("globToRegExp", () => {
  const cases: Array<[string, string[], string[]]> = [
    ["a/*", ["a/x", "a/xyz"], ["a/", "a/x/y", "b/x"]],
    ["a/*x*", ["a/x", "a/axb"], ["a/b", "a/x/y"]],
    ["a/**", ["a/", "a/x", "a/x/y/z"], ["b/x"]],
    ["a/**/b", ["a/b", "a/x/b", "a/x/y/b"], ["a/xb", "a/x/bc"]],
    ["**/x", ["x", "a/x", "a/b/x"], ["ax", "a/xy"]],
    ["fil?1", ["file1", "fil_1"], ["fil1", "fille1", "fil/1"]],
    ["file[1-2]", ["file1", "file2"], ["file3", "file12"]],
    ["file[!1]", ["file2", "filex"], ["file1", "file/"]],
    ["[]]x", ["]x"], ["x"]],
    ["a.b+c(d)", ["a.b+c(d)"], ["aXb+c(d)"]],
    ["a/[", ["a/["], ["a/b"]],
    ["a/[b/c]", ["a/[b/c]"], ["a/b"]],
    ["{a,b}", ["{a,b}"], ["a", "b"]],
    ["a/[z-a]", [], ["a/z", "a/a", "a/[z-a]"]],
  ];
  for (const [pattern, yes, no] of cases) {
    it(`'${pattern}'`, () => {
      const re = globToRegExp(pattern);
      for (const y of yes) expect(re.test(y), `${pattern} should match ${y}`).toBe(true);
      for (const n of no) expect(re.test(n), `${pattern} should not match ${n}`).toBe(false);
    });
  }

  it("'**' inside a segment is EINVAL", () => {
    for (const bad of ["a/x**", "**x", "a/b**c/d"]) {
      expect(() => globToRegExp(bad)).toThrow(FsError);
      try {
        globToRegExp(bad);
      } catch (e) {
        expect((e as FsError).code).toBe("EINVAL");
      }
    }
  });

  it("hasMagic", () => {
    expect(hasMagic("a/*")).toBe(true);
    expect(hasMagic("a/b?")).toBe(true);
    expect(hasMagic("a/[bc]")).toBe(true);
    expect(hasMagic("a/{b,c}")).toBe(false);
    expect(hasMagic("a/b")).toBe(false);
  });
});
