/** NGC failures as FsErrors: missing model, version or file is ENOENT (as on every backend), other statuses EIO. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isFsError, MemoryFileSystem } from "../../src/index.js";
import { type NGCFileSystem } from "../../src/implementations/ngc.js";
import { startNgcServer, type TestNgcServer } from "../../src/testing/ngc-server.js";
import { errorOf } from "../support/errors.js";
import { ngcFs } from "./helpers.js";

const LISTED = "models/nvidia/modulus/fcn@1.0";
const UNLISTED = "models/nvidia/modulus/sfno@2.0";

let srv: TestNgcServer;
let fs: NGCFileSystem;

beforeAll(async () => {
  srv = await startNgcServer();
  srv.addFiles(LISTED, { "fcn.mdlus": "weights", "sub/a": "a" });
  srv.addFiles(UNLISTED, { "sfno.mdlus": "weights" }, { listing: false });
  fs = ngcFs(srv, { retries: 1 });
});
afterAll(async () => {
  await fs.close();
  await srv.close();
});
afterEach(() => {
  fs.invalidateCache();
  srv.resetCounts();
});

const MISSING: Array<[string, string]> = [
  ["a missing model", "ngc://models/nvidia/modulus/nope@1.0/fcn.mdlus"],
  ["a missing version", "ngc://models/nvidia/modulus/fcn@9.9/fcn.mdlus"],
  ["a missing org", "ngc://models/nobody/modulus/fcn@1.0/fcn.mdlus"],
  ["a missing file of a listed version", `ngc://${LISTED}/nope.bin`],
  ["a missing file below a directory", `ngc://${LISTED}/sub/nope`],
  ["a missing file of an unlisted version", `ngc://${UNLISTED}/nope.bin`],
];

describe("ENOENT, the same code as every other backend", () => {
  for (const [what, url] of MISSING) {
    it(`${what}: info, catFile, open, ls and cat fail with ENOENT naming the path; exists is false`, async () => {
      const name = fs.normalizePath(url);
      const calls = [() => fs.info(url), () => fs.catFile(url), () => fs.open(url), () => fs.ls(url), () => fs.cat(url), () => fs.catFile(url, -3)];
      for (const call of calls) {
        const err = await errorOf(call());
        expect(err.code).toBe("ENOENT");
        expect(isFsError(err, "ENOENT")).toBe(true);
        expect(err.path).toBe(name);
      }
      expect(await fs.exists(url)).toBe(false);
      expect(await fs.isFile(url)).toBe(false);
      expect(await fs.find(url)).toEqual([]);
    });
  }

  it("a missing version's root: ls and info are ENOENT, the message says what NGC lacks", async () => {
    const err = await errorOf(fs.ls("ngc://models/nvidia/modulus/fcn@9.9"));
    expect(err.code).toBe("ENOENT");
    expect(err.message).toMatch(/NGC has no such model version, or no listing of it \(HTTP 404\)/);
    expect((await errorOf(fs.catFile("ngc://models/nvidia/modulus/fcn@9.9/f"))).message).toMatch(/NGC has no such model, version or file \(HTTP 404\)/);
    expect((await errorOf(fs.info("ngc://models/nvidia/modulus/fcn@9.9"))).code).toBe("ENOENT");
  });

  it("the code matches the memory backend's for the same situation", async () => {
    const mem = new MemoryFileSystem({ store: "private" });
    const memErr = await errorOf(mem.catFile("/nope"));
    const ngcErr = await errorOf(fs.catFile(`ngc://${LISTED}/nope`));
    expect(ngcErr.code).toBe(memErr.code);
    expect(ngcErr.constructor).toBe(memErr.constructor);
  });

  it("a directory is EISDIR to open, ENOENT to cat (no such file)", async () => {
    expect((await errorOf(fs.open(`ngc://${LISTED}/sub`))).code).toBe("EISDIR");
    expect((await errorOf(fs.catFile(`ngc://${LISTED}`))).code).toBe("EISDIR");
    expect(["EISDIR", "ENOENT"]).toContain((await errorOf(fs.catFile(`ngc://${LISTED}/sub`))).code);
  });
});

describe("other failures", () => {
  it("a server error that outlasts the retries is EIO with the status", async () => {
    srv.failNext("lookup", 500, 2);
    const err = await errorOf(fs.catFile(`ngc://${LISTED}/fcn.mdlus`));
    expect(err.code).toBe("EIO");
    expect(err.status).toBe(500);
    expect(err.path).toBe(`${LISTED}/fcn.mdlus`);
    expect(srv.count("lookup")).toBe(2);
  });

  it("a listing that fails with a server error is reported, not papered over", async () => {
    srv.failNext("listing", 503, 2);
    const err = await errorOf(fs.info(`ngc://${LISTED}/fcn.mdlus`));
    expect(err.code).toBe("EIO");
    expect(err.status).toBe(503);
    expect(await fs.info(`ngc://${LISTED}/fcn.mdlus`)).toMatchObject({ size: 7 });
  });

  it("a listing refused with another 4xx falls back to the file lookup", async () => {
    srv.failNext("listing", 400);
    expect(await fs.info(`ngc://${LISTED}/fcn.mdlus`)).toMatchObject({ size: 7, type: "file" });
    expect(srv.requests.map((r) => r.kind)).toEqual(["listing", "lookup", "download"]);
  });

  it("an aborted signal is EABORT, with or without a kept download URL", async () => {
    const ac = new AbortController();
    ac.abort();
    const url = `ngc://${LISTED}/fcn.mdlus`;
    expect((await errorOf(fs.catFile(url, 0, 3, { signal: ac.signal }))).code).toBe("EABORT");
    expect(await fs.readText(url)).toBe("weights");
    expect((await errorOf(fs.catFile(url, 0, 3, { signal: ac.signal }))).code).toBe("EABORT");
    expect((await errorOf(fs.ls(`ngc://${LISTED}`, { signal: ac.signal }))).code).toBe("EABORT");
  });

  it("bad options are EINVAL", () => {
    for (const bad of [{ baseUrl: "not a url" }, { baseUrl: "ftp://x/" }, { authUrl: "::" }, { org: "a/b" }, { team: "t t" }, { apiKey: 42 as unknown as string }]) {
      expect(() => ngcFs(srv, bad)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    }
  });

  it("malformed paths are EINVAL before any request", async () => {
    for (const bad of ["ngc://models/o/t/n", "ngc://models/o/t/n@1.0-rc/f", "ngc://models/a/b/c/n@1/f", "ngc://models/o/n@1/../../x"]) {
      expect((await errorOf(fs.info(bad))).code).toBe("EINVAL");
      expect((await errorOf(fs.catFile(bad))).code).toBe("EINVAL");
    }
    expect(srv.count()).toBe(0);
  });
});
