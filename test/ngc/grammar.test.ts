/** The ngc:// grammar as a table: what parses to what, what is EINVAL, and the name round trip. */
import { describe, expect, it } from "vitest";
import { FsError } from "../../src/index.js";
import { NGCFileSystem } from "../../src/implementations/ngc.js";
import { formatNgcPath, parseNgcPath, type NgcPath } from "../../src/implementations/ngc.js";
import { fileLookupUrl, listingUrl, tokenUrl } from "../../src/implementations/ngc/api.js";

const PARSES: Array<[string, NgcPath, string]> = [
  ["ngc://models/nvidia/modulus/fcn@1.0/fcn.mdlus", { org: "nvidia", team: "modulus", name: "fcn", version: "1.0", path: "fcn.mdlus" }, "models/nvidia/modulus/fcn@1.0/fcn.mdlus"],
  ["ngc://models/nvidia/fcn@1.0/a/b.bin", { org: "nvidia", name: "fcn", version: "1.0", path: "a/b.bin" }, "models/nvidia/fcn@1.0/a/b.bin"],
  ["ngc://models/fcn@v2/x", { name: "fcn", version: "v2", path: "x" }, "models/fcn@v2/x"],
  ["ngc://models/org/team/name@1.0", { org: "org", team: "team", name: "name", version: "1.0", path: "" }, "models/org/team/name@1.0"],
  ["ngc://models/org/team/name@1.0/", { org: "org", team: "team", name: "name", version: "1.0", path: "" }, "models/org/team/name@1.0"],
  ["NGC://models/o/n@1/f", { org: "o", name: "n", version: "1", path: "f" }, "models/o/n@1/f"],
  ["ngc::models/o/n@1/f", { org: "o", name: "n", version: "1", path: "f" }, "models/o/n@1/f"],
  ["models/o/t/n@1.2.3/f", { org: "o", team: "t", name: "n", version: "1.2.3", path: "f" }, "models/o/t/n@1.2.3/f"],
  ["ngc://models/my-org/my_team/fourcastnet-v2_small@1.0RC1/w.pt", { org: "my-org", team: "my_team", name: "fourcastnet-v2_small", version: "1.0RC1", path: "w.pt" }, "models/my-org/my_team/fourcastnet-v2_small@1.0RC1/w.pt"],
  ["ngc://models/o/t/n@1//a///b/", { org: "o", team: "t", name: "n", version: "1", path: "a/b" }, "models/o/t/n@1/a/b"],
  ["ngc://models/o/t/n@1/./a/../b", { org: "o", team: "t", name: "n", version: "1", path: "b" }, "models/o/t/n@1/b"],
  ["ngc://models/o/t/n@1/dir/x@y z.txt", { org: "o", team: "t", name: "n", version: "1", path: "dir/x@y z.txt" }, "models/o/t/n@1/dir/x@y z.txt"],
];

const INVALID: string[] = [
  "ngc://",
  "ngc://models",
  "ngc://models/",
  "ngc://models/o/t/n",
  "ngc://datasets/o/t/n@1/f",
  "ngc:///models/o/n@1/f",
  "ngc://models/a/b/c/n@1/f",
  "ngc://models/o/t/n@/f",
  "ngc://models/o/t/@1/f",
  "ngc://models/o/t/n@1-beta/f",
  "ngc://models/o/t/n@1_0/f",
  "ngc://models/o/t/n@1@2/f",
  "ngc://models/o.x/t/n@1/f",
  "ngc://models/o/t t/n@1/f",
  "ngc://models/o/t/n!@1/f",
  "ngc://models/o/t/n@1/..",
  "ngc://models/o/t/n@1/a/../../b",
  "ngc://models/o//n@1/f",
  "s3://models/o/t/n@1/f",
];

describe("ngc grammar", () => {
  for (const [input, parsed, name] of PARSES) {
    it(`parses ${input}`, () => {
      expect(parseNgcPath(input)).toEqual(parsed);
      expect(formatNgcPath(parsed)).toBe(name);
      expect(NGCFileSystem.stripProtocol(input)).toBe(name);
    });
  }

  for (const input of INVALID) {
    it(`refuses ${input} with EINVAL`, () => {
      let err: unknown;
      try {
        parseNgcPath(input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FsError);
      expect((err as FsError).code).toBe("EINVAL");
    });
  }

  it("names round-trip through unstripProtocol and normalizePath", async () => {
    const fs = new NGCFileSystem({ baseUrl: "http://127.0.0.1:9/", apiKey: null, skipInstanceCache: true });
    try {
      for (const [input, , name] of PARSES) {
        expect(fs.normalizePath(input)).toBe(name);
        expect(fs.unstripProtocol(name)).toBe(`ngc://${name}`);
        expect(fs.normalizePath(fs.unstripProtocol(name))).toBe(name);
      }
      for (const input of ["", "ngc://", "ngc://models/o/t/n"]) {
        await expect(fs.info(input)).rejects.toMatchObject({ code: "EINVAL" });
      }
    } finally {
      await fs.close();
    }
  });
});

describe("ngc endpoints", () => {
  const base = "https://api.example/";
  const full = { org: "o", team: "t", name: "n", version: "1.0" };
  const rows: Array<[string, string, string]> = [
    ["public, org and team", fileLookupUrl(base, full, "a/b c", false), "https://api.example/v2/models/org/o/team/t/n/1.0/files?path=a%2Fb%20c"],
    ["public, org only", fileLookupUrl(base, { org: "o", name: "n", version: "1.0" }, "f", false), "https://api.example/v2/models/org/o/n/1.0/files?path=f"],
    ["public, no org", fileLookupUrl(base, { name: "n", version: "1.0" }, "f", false), "https://api.example/v2/models/n/1.0/files?path=f"],
    ["authenticated, org and team", fileLookupUrl(base, full, "f", true), "https://api.example/v2/org/o/team/t/models/n/1.0/files?path=f"],
    ["authenticated, org only", fileLookupUrl(base, { org: "o", name: "n", version: "1.0" }, "f", true), "https://api.example/v2/org/o/models/n/1.0/files?path=f"],
    ["listing", listingUrl(base, full), "https://api.example/v2/models/o/t/n/versions/1.0/files/"],
    ["listing, page 2, no team", listingUrl(base, { org: "o", name: "n", version: "1.0" }, 2), "https://api.example/v2/models/o/n/versions/1.0/files/?page-number=2"],
    ["token, org", tokenUrl("https://auth.example/", "o", undefined), "https://auth.example/token?service=ngc&scope=group%2Fngc%3Ao"],
    ["token, org and team", tokenUrl("https://auth.example/", "o", "t"), "https://auth.example/token?service=ngc&scope=group%2Fngc%3Ao&scope=group%2Fngc%3Ao%2Ft"],
  ];
  for (const [title, got, want] of rows) {
    it(title, () => expect(got).toBe(want));
  }
});
