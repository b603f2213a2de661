/** Kept download URLs: the expiry their signatures state, the margin before it, refusal and scope. */
import { describe, expect, it } from "vitest";
import { FsError } from "../../src/index.js";
import { refusedUrl, ResolvedUrls, signedUrlExpiry } from "../../src/implementations/http/resolved-urls.js";

const at = (iso: string) => Date.parse(iso);

describe("signedUrlExpiry", () => {
  it.each([
    ["https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Date=20250102T030405Z&X-Amz-Expires=3600&X-Amz-Signature=ab", at("2025-01-02T04:04:05Z")],
    ["https://storage.googleapis.com/b/o?X-Goog-Date=20250102T030405Z&X-Goog-Expires=600&X-Goog-Signature=ab", at("2025-01-02T03:14:05Z")],
    ["https://cdn-lfs.example.co/repos/ab/cd?Expires=1735787045&Signature=x&Key-Pair-Id=K", 1735787045 * 1000],
    ["https://acct.blob.core.windows.net/c/b?sv=2022&se=2025-01-02T03%3A04%3A05Z&sig=x", at("2025-01-02T03:04:05Z")],
    ["https://b.s3.amazonaws.com/k?x-amz-date=20250102T030405Z&x-amz-expires=60", at("2025-01-02T03:05:05Z")],
  ])("%s", (url, expected) => {
    expect(signedUrlExpiry(url)).toBe(expected);
  });

  it.each(["https://cdn.example/file?sig=abc", "https://x/?X-Amz-Expires=3600", "https://x/?Expires=soon", "not a url"])("says nothing for %s", (url) => {
    expect(signedUrlExpiry(url)).toBeUndefined();
  });
});

describe("ResolvedUrls", () => {
  it("keeps a URL until 30 s before its signature expires, one without expiry until dropped", () => {
    let now = at("2025-01-02T03:00:00Z");
    const urls = new ResolvedUrls<{ size: number }>(() => now);
    const signed = "https://s3/k?X-Amz-Date=20250102T030000Z&X-Amz-Expires=120";
    urls.set("a", signed, { size: 7 });
    urls.set("b", "https://cdn/k?sig=1", { size: 8 });
    expect(urls.get("a")).toEqual({ url: signed, until: at("2025-01-02T03:01:30Z"), about: { size: 7 } });
    now = at("2025-01-02T03:01:29Z");
    expect(urls.get("a")?.url).toBe(signed);
    now = at("2025-01-02T03:01:30Z");
    expect(urls.get("a")).toBeUndefined();
    now += 365 * 24 * 3600 * 1000;
    expect(urls.get("b")?.about).toEqual({ size: 8 });
  });

  it("does not keep a URL that expires within the margin, and forgets the one it replaces", () => {
    const now = at("2025-01-02T03:00:00Z");
    const urls = new ResolvedUrls(() => now);
    urls.set("a", "https://cdn/k?sig=old", undefined);
    urls.set("a", "https://s3/k?X-Amz-Date=20250102T030000Z&X-Amz-Expires=20", undefined);
    expect(urls.get("a")).toBeUndefined();
  });

  it("drops a refused URL only if it is still the one kept; forgets by scope", () => {
    const urls = new ResolvedUrls();
    urls.set("m/a", "https://cdn/1", undefined);
    urls.drop("m/a", "https://cdn/0");
    expect(urls.get("m/a")?.url).toBe("https://cdn/1");
    urls.drop("m/a", "https://cdn/1");
    expect(urls.get("m/a")).toBeUndefined();
    urls.set("m/a", "https://cdn/2", undefined);
    urls.set("n/b", "https://cdn/3", undefined);
    urls.forget((k) => k.startsWith("m/"));
    expect([urls.get("m/a"), urls.get("n/b")?.url]).toEqual([undefined, "https://cdn/3"]);
  });

  it("takes 400, 401, 403 and 410 from storage for a refused URL, nothing else", () => {
    for (const status of [400, 401, 403, 410]) expect(refusedUrl(new FsError("EACCES", "x", { status }))).toBe(true);
    for (const status of [404, 412, 500]) expect(refusedUrl(new FsError("EIO", "x", { status }))).toBe(false);
    expect(refusedUrl(new Error("x"))).toBe(false);
  });
});
