import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FsError } from "../../src/index.js";
import {
  commonPathPrefix,
  isInside,
  joinPath,
  normalizePosix,
  parentOf,
  protocolOf,
  relativeTo,
  resolveInside,
  splitChain,
  splitProtocol,
} from "../../src/core/paths.js";

const segment = fc.stringMatching(/^[a-zA-Z0-9_.-]{1,6}$/);
const messySegment = fc.oneof(segment, fc.constantFrom(".", "..", "", "%2e%2e", "..\\x", "%252e%252e"));

describe("splitProtocol / splitChain / protocolOf", () => {
  it.each([
    ["s3://bucket/key", ["s3", "bucket/key"]],
    ["memory:///a", ["memory", "/a"]],
    ["HTTP://x/y", ["http", "x/y"]],
    ["/plain/path", [undefined, "/plain/path"]],
    ["C:\\win\\path", [undefined, "C:\\win\\path"]],
    ["relative/x.txt", [undefined, "relative/x.txt"]],
  ])("splitProtocol(%s)", (url, want) => {
    expect(splitProtocol(url)).toEqual(want);
  });

  it.each([
    ["filecache::s3://b/k", ["filecache", "s3://b/k"]],
    ["a::b::c://d", ["a", "b", "c://d"]],
    ["http://[::1]:8080/x", ["http://[::1]:8080/x"]],
    ["simplecache::http://[::1]:80/f", ["simplecache", "http://[::1]:80/f"]],
  ])("splitChain(%s)", (url, want) => {
    expect(splitChain(url)).toEqual(want);
  });

  it("protocolOf names the outermost layer", () => {
    expect(protocolOf("filecache::s3://b/k")).toBe("filecache");
    expect(protocolOf("memory://x")).toBe("memory");
    expect(protocolOf("/tmp/x")).toBeUndefined();
  });

  it("property: joining chain parts with :: and splitting again is the identity", () => {
    const part = fc.stringMatching(/^[a-z][a-z0-9]{0,5}(:\/\/[a-z0-9/]{0,8})?$/);
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 4 }), (parts) => {
        expect(splitChain(parts.join("::"))).toEqual(parts);
      }),
    );
  });
});

describe("normalizePosix", () => {
  it.each([
    ["/a//b/./c/", "/a/b/c"],
    ["/a/b/../c", "/a/c"],
    ["/../..", "/"],
    ["a/../../b", "../b"],
    ["", ""],
  ])("normalizePosix(%s) = %s", (input, want) => {
    expect(normalizePosix(input)).toBe(want);
  });

  it("property: idempotent, no empty/dot segments, absolute stays absolute", () => {
    fc.assert(
      fc.property(fc.array(messySegment, { maxLength: 8 }), fc.boolean(), (segs, abs) => {
        const input = (abs ? "/" : "") + segs.join("/");
        const once = normalizePosix(input, abs);
        expect(normalizePosix(once, abs)).toBe(once);
        if (abs) {
          expect(once.startsWith("/")).toBe(true);
          expect(once.split("/").slice(1)).not.toContain("..");
        }
        const parts = once.split("/").filter((_, i) => !(abs && i === 0));
        if (once !== "/" && once !== "") {
          expect(parts).not.toContain("");
          expect(parts).not.toContain(".");
        }
      }),
    );
  });
});

describe("parentOf, joinPath, isInside, relativeTo, commonPathPrefix", () => {
  it("parentOf keeps the root marker", () => {
    expect(parentOf("/a/b")).toBe("/a");
    expect(parentOf("/a")).toBe("/");
    expect(parentOf("bucket/key", "")).toBe("bucket");
    expect(parentOf("bucket", "")).toBe("");
  });

  it("joinPath puts one slash between parts", () => {
    expect(joinPath("/a/", "/b", "c")).toBe("/a/b/c");
    expect(joinPath("", "x")).toBe("x");
    expect(joinPath("/", "x")).toBe("/x");
  });

  it("isInside compares whole components", () => {
    expect(isInside("/a/b", "/a")).toBe(true);
    expect(isInside("/a", "/a")).toBe(true);
    expect(isInside("/ab", "/a")).toBe(false);
    expect(isInside("/a/subdir.txt", "/a/subdir")).toBe(false);
  });

  it("relativeTo strips a root", () => {
    expect(relativeTo("/root", "/root/a/b")).toBe("a/b");
    expect(relativeTo("/root", "/root")).toBe("");
    expect(relativeTo("/", "/x")).toBe("x");
  });

  it("commonPathPrefix is component-wise", () => {
    expect(commonPathPrefix(["/s/subdir/a", "/s/subdir.txt"])).toBe("/s");
    expect(commonPathPrefix(["/s/sub/g1", "/s/sub/n/h"])).toBe("/s/sub");
    expect(commonPathPrefix(["/s/f1"])).toBe("/s/f1");
    expect(commonPathPrefix(["/a", "/b"])).toBe("");
  });

  it("property: the common prefix is a component prefix of every path", () => {
    fc.assert(
      fc.property(fc.array(fc.array(segment, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 }), (lists) => {
        const paths = lists.map((l) => "/" + l.join("/"));
        const prefix = commonPathPrefix(paths);
        for (const p of paths) expect(prefix === "" || p === prefix || p.startsWith(prefix + "/")).toBe(true);
      }),
    );
  });
});

describe("resolveInside (containment of rooted views)", () => {
  it.each([
    ["a/b", "/root/a/b"],
    ["/a/b", "/root/a/b"],
    ["/", "/root"],
    ["a/../b", "/root/b"],
    ["./a/./b/", "/root/a/b"],
  ])("%s stays inside", (rel, want) => {
    expect(resolveInside("/root", rel)).toBe(want);
  });

  it.each(["..", "../x", "a/../../x", "/../x", "%2e%2e/x", "%2E%2E%2Fx", "a/%2e%2e/%2e%2e/x", "..\\x", "a\\..\\..\\x", "%252e%252e/x", "..%5cx"])(
    "%s is refused with EACCES",
    (rel) => {
      let err: unknown;
      try {
        resolveInside("/root", rel);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FsError);
      expect((err as FsError).code).toBe("EACCES");
    },
  );

  it("property: whatever the input, the result never leaves the root", () => {
    fc.assert(
      fc.property(fc.array(messySegment, { maxLength: 8 }), (segs) => {
        const rel = segs.join(fc.sample(fc.constantFrom("/", "\\"), 1)[0]!);
        try {
          const out = resolveInside("/root", rel);
          expect(isInside(out, "/root")).toBe(true);
          expect(normalizePosix(out)).toBe(out);
        } catch (err) {
          expect((err as FsError).code).toBe("EACCES");
        }
      }),
    );
  });
});
