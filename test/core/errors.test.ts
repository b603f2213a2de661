import { describe, expect, it } from "vitest";
import { FsError, isFsError, isNetworkError, MemoryFileSystem, toFsError } from "../../src/index.js";
import { networkError } from "../../src/core/errors.js";
import { errorOf } from "../support/errors.js";

describe("FsError", () => {
  it("carries code, path, cause and a readable message", () => {
    const cause = new Error("low level");
    const err = new FsError("ENOENT", undefined, { path: "/a/b", cause });
    expect(err.message).toBe("ENOENT: no such file or directory: '/a/b'");
    expect(err.code).toBe("ENOENT");
    expect(err.path).toBe("/a/b");
    expect(err.cause).toBe(cause);
    expect(err).toBeInstanceOf(Error);
    expect(isFsError(err, "ENOENT")).toBe(true);
    expect(isFsError(err, "EEXIST")).toBe(false);
    expect(err.withPath("b").message).toBe("ENOENT: no such file or directory: 'b'");
  });

  it("never prints credentials of URL paths, whichever layer raised the error", async () => {
    const err = new FsError("ENOENT", undefined, { path: "https://user:p@ss@host/x?sig=abc&X-Amz-Signature=def&page=2" });
    expect(err.message).not.toMatch(/p@ss|abc|def/);
    expect(err.path).toBe("https://***@host/x?sig=***&X-Amz-Signature=***&page=2");
    expect(new FsError("EIO", undefined, { path: "/local/with?sig=kept" }).path).toBe("/local/with?sig=kept");
    const fs = new MemoryFileSystem({ store: "private" });
    const raised = await errorOf(fs.expandPath("memory://nothing-here*"));
    expect(raised.code).toBe("ENOENT");
  });

  it("toFsError maps node and abort errors onto codes", () => {
    const nodeErr = Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" });
    expect(toFsError(nodeErr, "/p")).toMatchObject({ code: "ENOENT", path: "/p", cause: nodeErr });
    expect(toFsError(Object.assign(new Error("x"), { code: "EPERM" }), "/p").code).toBe("EACCES");
    expect(toFsError(Object.assign(new Error("x"), { code: "ELOOP" }), "/p").code).toBe("EINVAL");
    expect(toFsError(Object.assign(new Error("aborted"), { name: "AbortError" })).code).toBe("EABORT");
    expect(toFsError(Object.assign(new Error("t"), { name: "TimeoutError" })).code).toBe("ETIMEDOUT");
    expect(toFsError("weird").code).toBe("EIO");
    const same = new FsError("EEXIST");
    expect(toFsError(same)).toBe(same);
  });

  it("toFsError keeps Node's network codes and the host they name", () => {
    const refused = toFsError(Object.assign(new Error("connect ECONNREFUSED ::1:9"), { code: "ECONNREFUSED", address: "::1", port: 9 }), "/p");
    expect(refused).toMatchObject({ code: "ECONNREFUSED", host: "[::1]:9", path: "/p" });
    expect(refused.message).toBe("ECONNREFUSED: connection refused (host [::1]:9): '/p'");
    expect(toFsError(Object.assign(new Error("getaddrinfo"), { code: "ENOTFOUND", hostname: "x.invalid" }))).toMatchObject({ code: "ENOTFOUND", host: "x.invalid" });
    expect(toFsError(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }))).toMatchObject({ code: "ECONNRESET", host: undefined });
    expect(isNetworkError(toFsError(Object.assign(new Error("x"), { code: "EPIPE" })))).toBe(true);
    expect(isNetworkError(new FsError("EIO"))).toBe(false);
  });

  it("a network error's host carries no credentials, and withPath keeps it", () => {
    const err = networkError("ECONNRESET", "user:pw@example.org:8443", { path: "https://user:pw@example.org:8443/f" });
    expect(err.host).toBe("example.org:8443");
    expect(err.message).not.toContain("pw");
    expect(err.withPath("f")).toMatchObject({ code: "ECONNRESET", host: "example.org:8443", path: "f" });
  });
});
