/**
 * Damaged archives never crash or hang: for many truncations and flipped bytes of real zip, tar
 * and tar.gz archives, listing and reading every member either succeed or fail with an FsError
 * (EIO for damage), whatever was hit; where the format has checksums, a whole read that
 * succeeds gives the original bytes.
 */
import { describe, expect, it } from "vitest";
import { FsError, TarFileSystem, ZipFileSystem, type AbstractFileSystem } from "../../src/index.js";
import { buildArchive, flipped, inMemory, sampleBytes, type ArchiveKind } from "./helpers.js";

const FILES = {
  "a.txt": "small",
  "d/text.txt": "some text to deflate\n".repeat(300),
  "d/bin.dat": sampleBytes(9000, 4),
  "d/e/empty": "",
};

const original = (name: string): Uint8Array | undefined => {
  const v = (FILES as Record<string, string | Uint8Array>)[name];
  return typeof v === "string" ? new TextEncoder().encode(v) : v;
};

/**
 * Everything a reader does with an archive; returns the error codes seen. With `checked`
 * (formats with checksums: zip's CRC-32, gzip's), a whole read that succeeds must give the
 * original bytes.
 */
async function exercise(fs: AbstractFileSystem, checked: boolean): Promise<string[]> {
  const codes: string[] = [];
  const note = (err: unknown) => {
    if (!(err instanceof FsError)) throw err; // anything else is a crash
    codes.push(err.code);
  };
  let found: Record<string, { type: string }> = {};
  try {
    found = await fs.find("/", { withDirs: true, detail: true });
  } catch (err) {
    note(err);
    return codes;
  }
  for (const [name, listed] of Object.entries(found)) {
    await fs.info(name).catch(note);
    if (listed.type === "directory") continue;
    const whole = await fs.catFile(name).catch((err) => void note(err));
    const want = original(name);
    if (checked && whole && want) expect(Buffer.compare(Buffer.from(whole), Buffer.from(want)), name).toBe(0);
    await fs.catFile(name, 5, 50).catch(note);
    const f = await fs.open(name).catch((err) => void note(err));
    if (f) {
      await f.read().catch(note);
      await f.close();
    }
  }
  return codes;
}

const make = { zip: ZipFileSystem, tar: TarFileSystem, tgz: TarFileSystem };

for (const kind of ["zip", "tar", "tgz"] as ArchiveKind[]) {
  describe(`${kind}: damage is an FsError, never a crash or a hang`, () => {
    const good = buildArchive(kind, FILES);
    const step = Math.max(1, Math.floor(good.byteLength / 40));
    const damaged: Array<[string, Uint8Array]> = [];
    for (let at = 0; at < good.byteLength; at += step) {
      damaged.push([`cut at ${at}`, good.subarray(0, at)]);
      damaged.push([`byte ${at} flipped`, flipped(good, at)]);
    }

    it(`${damaged.length} damaged copies`, async () => {
      const seen = new Set<string>();
      for (const [, bytes] of damaged) {
        const fs = new make[kind](await inMemory(bytes));
        for (const code of await exercise(fs, kind !== "tar")) seen.add(code);
      }
      // Damage is reported as EIO (ENOENT/EISDIR only for names a damaged index no longer has).
      expect([...seen].filter((c) => !["EIO", "ENOENT", "EISDIR", "ENOTSUP", "EACCES"].includes(c))).toEqual([]);
      expect(seen.has("EIO")).toBe(true);
    });

    it("the undamaged archive reads without errors", async () => {
      expect(await exercise(new make[kind](await inMemory(good)), true)).toEqual([]);
    });
  });
}
