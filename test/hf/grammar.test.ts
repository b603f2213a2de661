/** The pure parts of `hf`: the URL grammar, and the Hub API's pagination links, tree entries and errors. */
import { describe, expect, it } from "vitest";
import { FsError } from "../../src/index.js";
import { HuggingFaceFileSystem, formatHfPath, parseHfPath, type HfPath } from "../../src/implementations/hf.js";
import { hubError, nextLink, resolveUrl, revisionUrl, treePage, treeUrl } from "../../src/implementations/hf/api.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";

const GOOD: Array<[input: string, parsed: HfPath, name: string]> = [
  ["hf://org/repo", { repoType: "model", repoId: "org/repo", revision: undefined, path: "" }, "org/repo"],
  ["hf://org/repo/", { repoType: "model", repoId: "org/repo", revision: undefined, path: "" }, "org/repo"],
  ["org/repo/config.json", { repoType: "model", repoId: "org/repo", revision: undefined, path: "config.json" }, "org/repo/config.json"],
  ["hf://org/repo/a//b/c.txt", { repoType: "model", repoId: "org/repo", revision: undefined, path: "a/b/c.txt" }, "org/repo/a/b/c.txt"],
  ["HF://org/repo/x", { repoType: "model", repoId: "org/repo", revision: undefined, path: "x" }, "org/repo/x"],
  ["hf::org/repo/x", { repoType: "model", repoId: "org/repo", revision: undefined, path: "x" }, "org/repo/x"],
  ["hf:///org/repo/x", { repoType: "model", repoId: "org/repo", revision: undefined, path: "x" }, "org/repo/x"],
  ["hf://datasets/org/data/train/part-0.parquet", { repoType: "dataset", repoId: "org/data", revision: undefined, path: "train/part-0.parquet" }, "datasets/org/data/train/part-0.parquet"],
  ["hf://spaces/org/demo/app.py", { repoType: "space", repoId: "org/demo", revision: undefined, path: "app.py" }, "spaces/org/demo/app.py"],
  ["hf://org/repo@dev/w.bin", { repoType: "model", repoId: "org/repo", revision: "dev", path: "w.bin" }, "org/repo@dev/w.bin"],
  ["hf://org/repo@main", { repoType: "model", repoId: "org/repo", revision: "main", path: "" }, "org/repo@main"],
  ["hf://org/repo@v1.0/w.bin", { repoType: "model", repoId: "org/repo", revision: "v1.0", path: "w.bin" }, "org/repo@v1.0/w.bin"],
  [`hf://org/repo@${SHA}/w.bin`, { repoType: "model", repoId: "org/repo", revision: SHA, path: "w.bin" }, `org/repo@${SHA}/w.bin`],
  ["hf://org/repo@refs%2Fpr%2F1/w.bin", { repoType: "model", repoId: "org/repo", revision: "refs/pr/1", path: "w.bin" }, "org/repo@refs%2Fpr%2F1/w.bin"],
  ["hf://org/repo@refs%2fpr%2f1", { repoType: "model", repoId: "org/repo", revision: "refs/pr/1", path: "" }, "org/repo@refs%2Fpr%2F1"],
  ["hf://org/repo@refs/pr/12/w.bin", { repoType: "model", repoId: "org/repo", revision: "refs/pr/12", path: "w.bin" }, "org/repo@refs%2Fpr%2F12/w.bin"],
  ["hf://datasets/org/data@refs/convert/parquet/default/train/0.parquet", { repoType: "dataset", repoId: "org/data", revision: "refs/convert/parquet", path: "default/train/0.parquet" }, "datasets/org/data@refs%2Fconvert%2Fparquet/default/train/0.parquet"],
  ["hf://org/repo@feature%2Fx/a", { repoType: "model", repoId: "org/repo", revision: "feature/x", path: "a" }, "org/repo@feature%2Fx/a"],
  ["hf://Org_1/my-model.v2/with space/a@b.txt", { repoType: "model", repoId: "Org_1/my-model.v2", revision: undefined, path: "with space/a@b.txt" }, "Org_1/my-model.v2/with space/a@b.txt"],
  ["hf://org/repo/data/**/*.csv", { repoType: "model", repoId: "org/repo", revision: undefined, path: "data/**/*.csv" }, "org/repo/data/**/*.csv"],
  // A model whose namespace is "datasets" cannot be named: the prefix wins (as in huggingface_hub).
  ["hf://datasets/org/repo", { repoType: "dataset", repoId: "org/repo", revision: undefined, path: "" }, "datasets/org/repo"],
];

const BAD: Array<[input: string, why: RegExp]> = [
  ["", /missing repository/],
  ["hf://", /missing repository/],
  ["hf://org", /missing repository name/],
  ["hf://org/", /missing repository name/],
  ["hf://datasets", /missing repository/],
  ["hf://datasets/org", /missing repository name/],
  ["hf://spaces/", /missing repository/],
  ["hf://org/repo@", /invalid revision/],
  ["hf://org/repo@/x", /invalid revision/],
  ["hf://org/repo@%zz/x", /malformed URL-encoding/],
  ["hf://org/repo@a..b/x", /invalid revision/],
  ["hf://org/repo@bad%20rev/x", /invalid revision/],
  ["hf://org/repo@ma*n/x", /invalid revision/],
  ["hf://org/re*po/x", /invalid repository name/],
  ["hf://org/-repo/x", /invalid repository name/],
  ["hf://org/repo-/x", /invalid repository name/],
  ["hf://org/re--po/x", /invalid repository name/],
  ["hf://or..g/repo/x", /invalid namespace/],
  ["hf://https:/example.org/x", /invalid namespace/],
  [`hf://org/${"r".repeat(97)}/x`, /invalid repository name/],
  ["hf://org/repo/../other/x", /'\.\.' is not allowed/],
  ["hf://org/repo/./x", /'\.' is not allowed/],
];

describe("the hf:// grammar", () => {
  for (const [input, parsed, name] of GOOD) {
    it(`parses '${input}'`, () => {
      expect(parseHfPath(input)).toEqual(parsed);
      expect(formatHfPath(parsed)).toBe(name);
      // Canonical names parse back to themselves, with or without the protocol.
      expect(parseHfPath(name)).toEqual(parsed);
      expect(formatHfPath(parseHfPath(`hf://${name}`))).toBe(name);
    });
  }

  for (const [input, why] of BAD) {
    it(`refuses '${input.slice(0, 40)}' with EINVAL`, () => {
      let err: unknown;
      try {
        parseHfPath(input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FsError);
      expect((err as FsError).code).toBe("EINVAL");
      expect((err as FsError).message).toMatch(why);
      expect((err as FsError).message).toContain("hf://[datasets/|spaces/]<namespace>/<repo>[@<revision>]/<path>");
    });
  }

  it("normalizePath and unstripProtocol round-trip every canonical name", () => {
    const fs = new HuggingFaceFileSystem({ endpoint: "http://127.0.0.1:9", token: false });
    for (const [input, , name] of GOOD) {
      expect(fs.normalizePath(input)).toBe(name);
      expect(fs.unstripProtocol(name)).toBe(`hf://${name}`);
      expect(fs.normalizePath(fs.unstripProtocol(name))).toBe(name);
    }
    expect(() => fs.normalizePath("hf://org")).toThrow(FsError);
  });
});

describe("Hub API shapes", () => {
  const model = parseHfPath("org/repo@refs%2Fpr%2F1/dir/with space");
  const dataset = parseHfPath("datasets/org/data/x.csv");

  it("builds the revision, tree and resolve URLs", () => {
    expect(revisionUrl("https://hub", model)).toBe("https://hub/api/models/org/repo/revision/refs%2Fpr%2F1");
    expect(revisionUrl("https://hub", dataset)).toBe("https://hub/api/datasets/org/data/revision/main");
    expect(treeUrl("https://hub", model, SHA)).toBe(`https://hub/api/models/org/repo/tree/${SHA}/dir/with%20space`);
    expect(treeUrl("https://hub", { ...dataset, path: "" }, SHA)).toBe(`https://hub/api/datasets/org/data/tree/${SHA}`);
    expect(resolveUrl("https://hub", model, SHA)).toBe(`https://hub/org/repo/resolve/${SHA}/dir/with%20space`);
    expect(resolveUrl("https://hub", dataset, SHA)).toBe(`https://hub/datasets/org/data/resolve/${SHA}/x.csv`);
    expect(resolveUrl("https://hub", parseHfPath("spaces/o/s/app.py"), SHA)).toBe(`https://hub/spaces/o/s/resolve/${SHA}/app.py`);
  });

  const LINKS: Array<[string | undefined, string | undefined]> = [
    [undefined, undefined],
    ["", undefined],
    ['<https://hub/api/models/o/r/tree/main?cursor=abc>; rel="next"', "https://hub/api/models/o/r/tree/main?cursor=abc"],
    ["<https://hub/p2>; rel=next", "https://hub/p2"],
    ['<https://hub/p1>; rel="prev", <https://hub/p3>; rel="next"', "https://hub/p3"],
    ['<https://hub/a,b>; rel="last next"', "https://hub/a,b"],
    ['<https://hub/p1>; rel="prev"', undefined],
    ['<https://hub/nextpage>; rel="nextish"', undefined],
  ];
  for (const [header, want] of LINKS) {
    it(`nextLink(${JSON.stringify(header)})`, () => expect(nextLink(header)).toBe(want));
  }

  it("tree entries become infos named like the listed directory", () => {
    const dir = parseHfPath("org/repo@dev/sub");
    const lfsOid = "a".repeat(64);
    const infos = treePage([
      { type: "directory", oid: "d1", size: 0, path: "sub/deeper" },
      { type: "file", oid: "b1", size: 3, path: "sub/a.txt" },
      { type: "file", oid: "b2", size: 134, path: "sub/w.bin", lfs: { oid: lfsOid, size: 5000, pointerSize: 134 } },
      { type: "file", oid: "b3", size: 1, path: "elsewhere.txt" },
    ], dir);
    expect(infos).toEqual([
      { name: "org/repo@dev/sub/deeper", size: 0, type: "directory", oid: "d1" },
      { name: "org/repo@dev/sub/a.txt", size: 3, type: "file", oid: "b1" },
      { name: "org/repo@dev/sub/w.bin", size: 5000, type: "file", oid: "b2", lfs: { oid: lfsOid, size: 5000 }, sha256: lfsOid },
    ]);
    expect(() => treePage({ error: "x" }, dir)).toThrow(/not a JSON array/);
    expect(() => treePage([{ type: "link", path: "sub/x" }], dir)).toThrow(/malformed entry/);
  });

  it("maps statuses and X-Error-Codes to codes and messages that say what is missing", () => {
    const p = parseHfPath("org/repo@dev/a/b.txt");
    const cases: Array<[number, string | undefined, boolean, string, RegExp]> = [
      [404, "RepoNotFound", false, "ENOENT", /repository not found: model 'org\/repo'/],
      [404, "RevisionNotFound", false, "ENOENT", /revision 'dev' not found in model 'org\/repo'/],
      [404, "EntryNotFound", false, "ENOENT", /no file or directory 'a\/b.txt' in model 'org\/repo' at revision 'dev'/],
      [404, undefined, false, "ENOENT", /no file or directory 'a\/b.txt'/],
      [401, "GatedRepo", false, "EACCES", /is gated: accept its conditions.*HF_TOKEN.*no token was sent/],
      [401, "RepoNotFound", false, "EACCES", /not found, or is private or gated.*no token was sent: set HF_TOKEN/],
      [403, undefined, true, "EACCES", /access to model 'org\/repo' denied.*token sent was refused/],
      [500, undefined, false, "EIO", /HTTP 500/],
    ];
    for (const [status, code, hasToken, fsCode, message] of cases) {
      const err = hubError(status, code, p, hasToken);
      expect(err.code).toBe(fsCode);
      expect(err.message).toMatch(message);
      expect(err.path).toBe("org/repo@dev/a/b.txt");
      expect(err.status).toBe(status);
    }
  });
});
