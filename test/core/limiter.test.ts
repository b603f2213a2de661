import { codeOf, errorOf } from "../support/errors.js";
import { describe, expect, it } from "vitest";
import { FsError, mapBounded, Semaphore, settleBounded } from "../../src/index.js";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("mapBounded", () => {
  it("keeps input order and never exceeds the concurrency", async () => {
    let active = 0;
    let peak = 0;
    const out = await mapBounded(
      Array.from({ length: 20 }, (_, i) => i),
      async (i) => {
        active++;
        peak = Math.max(peak, active);
        await tick((20 - i) % 5);
        active--;
        return i * 2;
      },
      { concurrency: 3 },
    );
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(peak).toBe(3);
  });

  it("stops starting work after the first error and signals in-flight work", async () => {
    const started: number[] = [];
    let abortedSeen = 0;
    const err = await errorOf(mapBounded(
      Array.from({ length: 50 }, (_, i) => i),
      async (i, _idx, signal) => {
        started.push(i);
        if (i === 2) throw new FsError("EIO", "boom");
        await tick(5);
        if (signal.aborted) abortedSeen++;
        return i;
      },
      { concurrency: 4 },
    ));
    expect(err.code).toBe("EIO");
    expect(started.length).toBeLessThanOrEqual(4);
    expect(abortedSeen).toBeGreaterThan(0);
  });

  it("onError return and omit", async () => {
    const fn = async (i: number) => {
      if (i % 2) throw new Error(`odd ${i}`);
      return i;
    };
    const returned = await mapBounded([0, 1, 2, 3], fn, { onError: "return" });
    expect(returned[0]).toBe(0);
    expect(returned[1]).toBeInstanceOf(Error);
    expect(await mapBounded([0, 1, 2, 3], fn, { onError: "omit" })).toEqual([0, 2]);
    const settled = await settleBounded([0, 1], fn, { onError: "return" });
    expect(settled.map((s) => s.ok)).toEqual([true, false]);
  });

  it("an aborted outer signal rejects", async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await errorOf(mapBounded([1], async (x) => x, { signal: ac.signal }));
    expect(err.code).toBe("EABORT");
  });
});

describe("Semaphore", () => {
  it("admits at most `limit` holders, handing slots over in order", async () => {
    const sem = new Semaphore(2);
    const order: string[] = [];
    let active = 0;
    let peak = 0;
    await Promise.all(
      ["a", "b", "c", "d", "e"].map((name) =>
        sem.run(async () => {
          active++;
          peak = Math.max(peak, active);
          order.push(name);
          await tick(3);
          active--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("an abort while waiting fails at once with EABORT and gives up the place in the queue", async () => {
    const sem = new Semaphore(1);
    const first = await sem.acquire();
    const ac = new AbortController();
    const waiting = sem.acquire(ac.signal, "/the/path");
    const behind = sem.acquire();
    ac.abort();
    const err = await errorOf(waiting);
    expect([err.code, err.path]).toEqual(["EABORT", "/the/path"]);
    first();
    const second = await behind; // the aborted waiter took no slot
    let third = false;
    void sem.acquire().then(() => (third = true));
    await tick(2);
    expect(third).toBe(false); // limit 1 still holds
    second();
    await tick(2);
    expect(third).toBe(true);
    expect(await codeOf(sem.acquire(AbortSignal.abort()))).toBe("EABORT");
  });

  it("tryAcquire takes a free slot at once, takes none when all are held, and never jumps the queue", async () => {
    const sem = new Semaphore(2);
    const a = sem.tryAcquire();
    const b = sem.tryAcquire();
    expect(a && b).toBeTypeOf("function");
    expect(sem.tryAcquire()).toBeUndefined();
    let queued = false;
    const waiting = sem.acquire().then((release) => ((queued = true), release));
    a!();
    a!(); // a second release of the same slot frees nothing more
    const c = await waiting;
    expect(queued).toBe(true);
    expect(sem.tryAcquire()).toBeUndefined(); // the slot went to the waiter, not to a newcomer
    b!();
    const d = sem.tryAcquire();
    expect(d).toBeTypeOf("function");
    expect(sem.tryAcquire()).toBeUndefined();
    c();
    d!();
    expect(sem.tryAcquire()).toBeTypeOf("function");
  });
});
