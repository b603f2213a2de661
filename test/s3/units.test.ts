/** The pure parts of the S3 backend: part planning, names, and the error mapping table. */
import { describe, expect, it } from "vitest";
import { S3ServiceException } from "@aws-sdk/client-s3";
import { s3Error, scrub } from "../../src/implementations/s3/errors.js";
import { copySource, joinObject, objectOf, splitPath } from "../../src/implementations/s3/paths.js";
import { MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, minPartSize, planCopyParts, planParts } from "../../src/implementations/s3/upload.js";
import { DEFAULT_PART_SIZE, S3FileSystem } from "../../src/implementations/s3.js";
import { FsError } from "../../src/index.js";

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe("part planning", () => {
  it("the smallest part doubles every 1,000 parts, capped at 5 GiB", () => {
    expect(minPartSize(1, 8 * MiB)).toBe(8 * MiB);
    expect(minPartSize(1000, 8 * MiB)).toBe(8 * MiB);
    expect(minPartSize(1001, 8 * MiB)).toBe(16 * MiB);
    expect(minPartSize(2001, 8 * MiB)).toBe(32 * MiB);
    expect(minPartSize(9001, 8 * MiB)).toBe(4 * GiB);
    expect(minPartSize(9001, 1 * GiB)).toBe(MAX_PART_SIZE);
  });

  it("10,000 growing parts of the default size hold S3's 5 TiB object limit (4.9 TiB from 5 MiB parts)", () => {
    const capacity = (partSize: number) => {
      let total = 0;
      for (let n = 1; n <= MAX_PARTS; n++) total += minPartSize(n, partSize);
      return total;
    };
    expect(capacity(DEFAULT_PART_SIZE)).toBeGreaterThanOrEqual(5 * 2 ** 40);
    expect(capacity(MIN_PART_SIZE)).toBeGreaterThan(4.8 * 2 ** 40);
  });

  it("a chunk is cut into minimum-size parts, the last taking the rest", () => {
    expect(planParts(0, 1, 5 * MiB)).toEqual([]);
    expect(planParts(3 * MiB, 1, 5 * MiB)).toEqual([[0, 3 * MiB]]);
    expect(planParts(9 * MiB, 1, 5 * MiB)).toEqual([[0, 9 * MiB]]);
    expect(planParts(10 * MiB, 1, 5 * MiB)).toEqual([[0, 5 * MiB], [5 * MiB, 10 * MiB]]);
    expect(planParts(17 * MiB, 1, 5 * MiB)).toEqual([[0, 5 * MiB], [5 * MiB, 10 * MiB], [10 * MiB, 17 * MiB]]);
    // Crossing a size step: part 1000 is 5 MiB, part 1001 at least 10 MiB.
    expect(planParts(25 * MiB, 1000, 5 * MiB)).toEqual([[0, 5 * MiB], [5 * MiB, 15 * MiB], [15 * MiB, 25 * MiB]]);
  });

  it("no part exceeds 5 GiB, and none but the last is under the minimum", () => {
    for (const size of [5 * GiB + 1, 9 * GiB, 12 * GiB + 7]) {
      const plan = planParts(size, 9001, 1 * GiB);
      expect(plan.at(-1)![1]).toBe(size);
      for (const [s, e] of plan) expect(e - s).toBeLessThanOrEqual(MAX_PART_SIZE);
      for (const [s, e] of plan.slice(0, -1)) expect(e - s).toBeGreaterThanOrEqual(MIN_PART_SIZE);
    }
  });

  it("copies are split into at most 5 GiB ranges of nearly equal size (inclusive ends)", () => {
    expect(planCopyParts(10)).toEqual([[0, 9]]);
    expect(planCopyParts(MAX_PART_SIZE)).toEqual([[0, MAX_PART_SIZE - 1]]);
    const plan = planCopyParts(MAX_PART_SIZE + 2);
    expect(plan).toEqual([[0, MAX_PART_SIZE / 2], [MAX_PART_SIZE / 2 + 1, MAX_PART_SIZE + 1]]);
  });
});

describe("names", () => {
  it("splits bucket and key; the root and buckets are not objects", () => {
    expect(splitPath("b")).toEqual({ bucket: "b", key: "" });
    expect(splitPath("b/a/c.txt")).toEqual({ bucket: "b", key: "a/c.txt" });
    expect(joinObject("b", "a/")).toBe("b/a");
    expect(joinObject("b", "")).toBe("b");
    expect(() => objectOf("")).toThrow(FsError);
    expect(() => objectOf("bucket")).toThrow(/EISDIR/);
  });

  it("CopySource encodes each key segment", () => {
    expect(copySource("b", "dir/a b+c?.txt")).toBe("b/dir/a%20b%2Bc%3F.txt");
    expect(copySource("b", "k", "v 1")).toBe("b/k?versionId=v%201");
  });

  it("stripProtocol: s3:// and s3a://, trailing and leading slashes; the root is ''", () => {
    expect(S3FileSystem.stripProtocol("s3://bucket/key/")).toBe("bucket/key");
    expect(S3FileSystem.stripProtocol("s3a://bucket")).toBe("bucket");
    expect(S3FileSystem.stripProtocol("s3:///bucket/k")).toBe("bucket/k");
    expect(S3FileSystem.stripProtocol("s3://")).toBe("");
    expect(S3FileSystem.stripProtocol("bucket/k")).toBe("bucket/k");
  });
});

describe("error mapping", () => {
  const sdk = (name: string, status: number, message = "") =>
    new S3ServiceException({ name, $fault: status >= 500 ? "server" : "client", $metadata: { httpStatusCode: status }, message });

  const table: Array<[string, number, string]> = [
    ["NoSuchKey", 404, "ENOENT"],
    ["NotFound", 404, "ENOENT"],
    ["NoSuchBucket", 404, "ENOENT"],
    ["NoSuchUpload", 404, "ENOENT"],
    ["AccessDenied", 403, "EACCES"],
    ["InvalidAccessKeyId", 403, "EACCES"],
    ["SignatureDoesNotMatch", 403, "EACCES"],
    ["ExpiredToken", 400, "EACCES"],
    ["Forbidden", 403, "EACCES"],
    ["PreconditionFailed", 412, "EEXIST"],
    ["BucketAlreadyOwnedByYou", 409, "EEXIST"],
    ["BucketNotEmpty", 409, "ENOTEMPTY"],
    ["RequestTimeout", 400, "ETIMEDOUT"],
    ["InternalError", 500, "EIO"],
    ["SlowDown", 503, "EIO"],
    ["Weird", 400, "EIO"],
  ];
  for (const [name, status, code] of table) {
    it(`${name} (${status}) is ${code} with the status`, () => {
      const err = s3Error(sdk(name, status, "said the server"), "b/k");
      expect(err).toBeInstanceOf(FsError);
      expect(err.code).toBe(code);
      expect(err.status).toBe(status);
      expect(err.path).toBe("b/k");
      expect(err.message).toContain(name);
    });
  }

  it("412 on a read pinned to an ETag is ECHANGED", () => {
    expect(s3Error(sdk("PreconditionFailed", 412), "b/k", { precondition: "ECHANGED" }).code).toBe("ECHANGED");
  });

  it("aborts, timeouts and transport failures", () => {
    const ac = new AbortController();
    ac.abort();
    expect(s3Error(Object.assign(new Error("x"), { name: "AbortError" }), "b/k").code).toBe("EABORT");
    expect(s3Error(new Error("whatever"), "b/k", { signal: ac.signal }).code).toBe("EABORT");
    expect(s3Error(Object.assign(new Error("t"), { name: "TimeoutError" }), "b/k").code).toBe("ETIMEDOUT");
    // Node's own connection errors keep their code, and name the host (the configured one first).
    const refusedError = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED", address: "127.0.0.1", port: 1 });
    const refused = s3Error(refusedError, "b/k");
    expect(refused).toMatchObject({ code: "ECONNREFUSED", host: "127.0.0.1:1", path: "b/k" });
    expect(refused.message).toBe("ECONNREFUSED: connection refused (host 127.0.0.1:1): 'b/k'");
    expect(s3Error(refusedError, "b/k", { host: "minio.local:9000" }).host).toBe("minio.local:9000");
    const unresolved = s3Error(Object.assign(new Error("getaddrinfo ENOTFOUND b.s3.invalid"), { code: "ENOTFOUND", hostname: "b.s3.invalid" }), "b/k");
    expect(unresolved).toMatchObject({ code: "ENOTFOUND", host: "b.s3.invalid" });
    for (const code of ["ECONNRESET", "EPIPE", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT"]) {
      expect(s3Error(Object.assign(new Error(code), { code }), "b/k").code).toBe(code);
    }
  });

  it("configured secrets are scrubbed from whatever the server says", () => {
    const err = s3Error(sdk("InvalidToken", 400, "token abcd-SECRET-1234 is bad"), "b/k", { secrets: ["abcd-SECRET-1234"] });
    expect(err.message).not.toContain("SECRET");
    expect(err.message).toContain("***");
    expect(scrub("x", ["", "ab"])).toBe("x");
  });
});
