import { describe, expect, it } from "vitest";
import { SharedTasks } from "../../src/cached/shared-tasks.js";
import { errorOf } from "../support/errors.js";

/** Work that finishes when told to, and reports the signal it was given. */
function controllable() {
  let finish!: (v: string) => void;
  let seen: AbortSignal | undefined;
  let starts = 0;
  const start = (signal: AbortSignal) => {
    starts++;
    seen = signal;
    return new Promise<string>((resolve, reject) => {
      finish = resolve;
      signal.addEventListener("abort", () => reject(new Error("work aborted")), { once: true });
    });
  };
  return { start, finish: (v: string) => finish(v), signal: () => seen!, starts: () => starts };
}

describe("SharedTasks", () => {
  it("callers of one key share one run", async () => {
    const tasks = new SharedTasks<string>();
    const work = controllable();
    const a = tasks.run("k", undefined, work.start);
    const b = tasks.run("k", undefined, work.start);
    work.finish("done");
    expect(await Promise.all([a, b])).toEqual(["done", "done"]);
    expect(work.starts()).toBe(1);
    expect(tasks.size).toBe(0);
  });

  it("one caller aborting leaves the work running for the others", async () => {
    const tasks = new SharedTasks<string>();
    const work = controllable();
    const quitter = new AbortController();
    const a = tasks.run("k", quitter.signal, work.start);
    const b = tasks.run("k", undefined, work.start);
    quitter.abort();
    expect((await errorOf(a)).code).toBe("EABORT");
    expect(work.signal().aborted).toBe(false);
    work.finish("still done");
    expect(await b).toBe("still done");
  });

  it("when every caller aborted the work is stopped, and a new caller starts afresh", async () => {
    const tasks = new SharedTasks<string>();
    const work = controllable();
    const c1 = new AbortController();
    const c2 = new AbortController();
    const a = tasks.run("k", c1.signal, work.start);
    const b = tasks.run("k", c2.signal, work.start);
    c1.abort();
    c2.abort();
    expect((await errorOf(a)).code).toBe("EABORT");
    expect((await errorOf(b)).code).toBe("EABORT");
    expect(work.signal().aborted).toBe(true);
    const again = controllable();
    const c = tasks.run("k", undefined, again.start);
    again.finish("fresh");
    expect(await c).toBe("fresh");
    expect(again.starts()).toBe(1);
  });
});
