/** Query, fragment and user-info redaction of URLs in errors and printed text. */
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { FsError, toFsError } from "../../src/index.js";
import { isSecretName, redactText, redactUrl } from "../../src/core/redact.js";

/** Common names of credentials in URLs, each in the case a service might spell it. */
const SECRET_PARAMS = [
  "token",
  "TOKEN",
  "access_token",
  "refresh_token",
  "id_token",
  "client_secret",
  "secret",
  "password",
  "Password",
  "pwd",
  "passwd",
  "auth",
  "credential",
  "credentials",
  "session",
  "sessionToken",
  "api-key",
  "api_key",
  "apikey",
  "apiKey",
  "API_KEY",
  "key",
  "sig",
  "signature",
  "Signature",
  "AWSAccessKeyId",
  "X-Amz-Signature",
  "x-amz-credential",
  "X-Amz-Security-Token",
  "X-Amz-Date",
  "X-Goog-Signature",
  "X-Goog-Credential",
  "x-goog-expires",
  "api%2Dkey",
];
const PLAIN_PARAMS = ["page", "limit", "revision", "author", "keyword", "monkey", "format", "download", "versionId"];

describe("secret names", () => {
  it("covers the common credential names in any case, and leaves ordinary ones", () => {
    expect(SECRET_PARAMS.filter((n) => !isSecretName(decodeURIComponent(n)))).toEqual([]);
    expect(PLAIN_PARAMS.filter((n) => isSecretName(n))).toEqual([]);
    expect(["Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "X-Auth-Token"].filter((h) => !isSecretName(h))).toEqual([]);
  });
});

describe("redactUrl and FsError", () => {
  const url = `https://h/x?${SECRET_PARAMS.map((n, i) => `${n}=S${i}x`).join("&")}&page=2#access_token=F1&token_type=bearer&state=ok`;
  const leaked = (text: string) => [...text.matchAll(/(?:S\d+x|F1)/g)].map((m) => m[0]);

  it("replaces every secret query and fragment value, keeps the rest", () => {
    const shown = redactUrl(url);
    expect(leaked(shown)).toEqual([]);
    expect(shown).toContain("&page=2#access_token=***&token_type=***&state=ok");
    expect(shown).toContain("?token=***&TOKEN=***&access_token=***");
  });

  it("FsError keeps no secret value in message, path, stack or its printed form", () => {
    const err = new FsError("ENOENT", undefined, { path: "https://h/x?client_secret=S1&refresh_token=S2&api-key=S3#access_token=S4" });
    expect(err.path).toBe("https://h/x?client_secret=***&refresh_token=***&api-key=***#access_token=***");
    for (const text of [err.message, err.path!, err.stack!, inspect(err), String(err)]) expect(text).not.toMatch(/S[1-4]/);
    const all = new FsError("EIO", undefined, { path: url });
    for (const text of [all.message, all.path!, all.stack!]) expect(leaked(text)).toEqual([]);
  });

  it("a message naming a URL is redacted too (errors wrapped from lower layers)", () => {
    const err = toFsError(new Error("redirect to https://bob:hunter2@cdn/x?sig=S1 refused"), "https://h/y?token=S2");
    expect(err.message).toBe("EIO: redirect to https://***@cdn/x?sig=*** refused: 'https://h/y?token=***'");
    expect(err.detail).not.toContain("hunter2");
    expect(err.stack).not.toMatch(/hunter2|S1|S2/);
    expect(err.withPath("y?token=***").message).not.toMatch(/hunter2|S1/);
    // console.log(err) prints the cause chain: the wrapped error's own message is redacted there.
    expect(inspect(err)).toContain("[cause]: Error: redirect to https://***@cdn/x?sig=*** refused");
    expect(inspect(new FsError("EIO", "outer", { cause: err }))).not.toMatch(/hunter2|S1|S2/);
  });

  it("user info goes, in chains too, and local names are left as they are", () => {
    expect(redactUrl("simplecache::https://user:p@ss@host/x?Signature=abc")).toBe("simplecache::https://***@host/x?Signature=***");
    expect(redactUrl("/local/with?sig=kept")).toBe("/local/with?sig=kept");
    expect(redactUrl("https://h/a b?token=x y")).toBe("https://h/a b?token=***");
    expect(redactText("GET https://u:p@h/a?key=K1 -> 'https://h/b?sig=K2'")).toBe("GET https://***@h/a?key=*** -> 'https://h/b?sig=***'");
  });
});
