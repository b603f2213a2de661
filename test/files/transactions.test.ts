/**
 * Transactions over memory and local disk: files written inside are published together on
 * success, reads inside see the committed state, and a failure publishes nothing.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalFileSystem, MemoryFileSystem, type AbstractFileSystem } from "../../src/index.js";
import { errorOf } from "../support/errors.js";

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

interface Setup {
  fs: AbstractFileSystem;
  /** Another instance over the same files, outside fs's transaction. */
  other: AbstractFileSystem;
  root: string;
  cleanup: () => Promise<void>;
}

const backends: Array<{ name: string; make: () => Promise<Setup> }> = [
  {
    name: "memory",
    make: async () => {
      const fs = new MemoryFileSystem({ store: "private" });
      return { fs, other: new MemoryFileSystem({ store: fs.store }), root: "/tx", cleanup: async () => {} };
    },
  },
  {
    name: "file",
    make: async () => {
      const dir = await mkdtemp(join(tmpdir(), "fsspec-tx-"));
      return { fs: new LocalFileSystem(), other: new LocalFileSystem(), root: dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
];

for (const backend of backends) {
  describe(`transactions on ${backend.name}`, () => {
    let fs: AbstractFileSystem;
    let other: AbstractFileSystem;
    let root: string;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ fs, other, root, cleanup } = await backend.make());
      await fs.pipeFile(`${root}/existing`, "committed");
    });
    afterEach(async () => {
      await cleanup();
    });

    /** Every file below root (temp files included), for "nothing left behind" checks. */
    const names = async () => (await fs.find(root)).map((p) => p.slice(root.length + 1)).sort();

    it("files written inside appear together on success; reads inside see the committed state", async () => {
      const result = await fs.transaction(async () => {
        expect(fs.inTransaction).toBe(true);
        const a = await fs.open(`${root}/a`, "wb");
        await a.write("A");
        await a.close();
        await fs.pipeFile(`${root}/existing`, "replaced");
        const b = await fs.open(`${root}/b`, "wb", { blockSize: 2 });
        await b.write("BBBBB"); // uploads chunks, still unpublished
        await b.close();
        // Nothing is visible yet.
        expect(await fs.exists(`${root}/a`)).toBe(false);
        expect(await fs.exists(`${root}/b`)).toBe(false);
        expect(text(await fs.catFile(`${root}/existing`))).toBe("committed");
        return 42;
      });
      expect(result).toBe(42);
      expect(fs.inTransaction).toBe(false);
      expect(text(await fs.catFile(`${root}/a`))).toBe("A");
      expect(text(await fs.catFile(`${root}/b`))).toBe("BBBBB");
      expect(text(await fs.catFile(`${root}/existing`))).toBe("replaced");
      expect(await names()).toEqual(["a", "b", "existing"]);
    });

    it("a file left open inside the transaction is closed and published at the end", async () => {
      await fs.transaction(async () => {
        const f = await fs.open(`${root}/open`, "wb");
        await f.write("never closed by the caller");
      });
      expect(text(await fs.catFile(`${root}/open`))).toBe("never closed by the caller");
    });

    it("a throwing callback publishes nothing, leaves nothing behind and rethrows", async () => {
      const err = await fs
        .transaction(async () => {
          const a = await fs.open(`${root}/a`, "wb", { blockSize: 1 });
          await a.write("AAAA");
          await a.close();
          await fs.pipeFile(`${root}/existing`, "replaced");
          const open = await fs.open(`${root}/c`, "wb");
          await open.write("C");
          throw new Error("callback failed");
        })
        .catch((e: Error) => e);
      expect((err as Error).message).toBe("callback failed");
      expect(fs.inTransaction).toBe(false);
      expect(await names()).toEqual(["existing"]);
      expect(text(await fs.catFile(`${root}/existing`))).toBe("committed");
    });

    it("startTransaction / endTransaction(false) rolls back; endTransaction(true) commits", async () => {
      fs.startTransaction();
      await fs.pipeFile(`${root}/x`, "x");
      await fs.endTransaction(false);
      expect(await fs.exists(`${root}/x`)).toBe(false);
      fs.startTransaction();
      await fs.pipeFile(`${root}/y`, "y");
      await fs.endTransaction(true);
      expect(text(await fs.catFile(`${root}/y`))).toBe("y");
      expect(await names()).toEqual(["existing", "y"]);
    });

    it("no nesting; ending without a transaction is EINVAL", async () => {
      fs.startTransaction();
      expect(() => fs.startTransaction()).toThrow(/already in progress/);
      await fs.endTransaction(false);
      expect((await errorOf(fs.endTransaction())).code).toBe("EINVAL");
    });

    it("a file discarded inside is skipped at commit; the others are published", async () => {
      await fs.transaction(async () => {
        const keep = await fs.open(`${root}/keep`, "wb");
        await keep.write("k");
        const drop = await fs.open(`${root}/drop`, "wb");
        await drop.write("d");
        await drop.discard();
      });
      expect(await names()).toEqual(["existing", "keep"]);
    });

    it("a commit that fails drops the files not yet published and reports the error", async () => {
      const err = await errorOf(
        fs.transaction(async () => {
          const first = await fs.open(`${root}/first`, "wb");
          await first.write("1");
          const clash = await fs.open(`${root}/clash`, "xb");
          await clash.write("mine");
          const last = await fs.open(`${root}/last`, "wb");
          await last.write("3");
          // Someone else creates the xb target before the transaction commits.
          await other.pipeFile(`${root}/clash`, "theirs");
        }),
      );
      expect(err.code).toBe("EEXIST");
      expect(fs.inTransaction).toBe(false);
      // Files commit in the order they were opened: the first was published, the last dropped.
      expect(await names()).toEqual(["clash", "existing", "first"]);
      expect(text(await fs.catFile(`${root}/clash`))).toBe("theirs");
    });

    it("another instance sees nothing of an open transaction", async () => {
      fs.startTransaction();
      await fs.pipeFile(`${root}/pending`, "p");
      expect(await other.exists(`${root}/pending`)).toBe(false);
      await fs.endTransaction(true);
      expect(await other.exists(`${root}/pending`)).toBe(true);
    });
  });
}
