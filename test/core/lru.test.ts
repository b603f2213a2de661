import { describe, expect, it } from "vitest";
import { LruMap } from "../../src/core/lru.js";

describe("LruMap", () => {
  it("evicts the least recently used entry beyond max; a read makes an entry recent", () => {
    const m = new LruMap<string, number>({ max: 3 });
    m.set("a", 1).set("b", 2).set("c", 3);
    expect(m.get("a")).toBe(1); // a is now the most recent: b goes first
    m.set("d", 4);
    expect([...m.keys()]).toEqual(["c", "a", "d"]);
    expect(m.get("b")).toBeUndefined();
    m.set("c", 30); // setting an existing key refreshes it too
    m.set("e", 5);
    expect([...m.keys()]).toEqual(["d", "c", "e"]);
    expect(m.get("c")).toBe(30);
    expect(m.size).toBe(3);
  });

  it("has() neither refreshes recency nor returns expired entries", () => {
    let now = 1_000;
    const m = new LruMap<string, string>({ max: 2, ttlMs: 100, now: () => now });
    m.set("x", "X").set("y", "Y");
    expect(m.has("x")).toBe(true);
    m.set("z", "Z"); // x was not refreshed by has(): it is evicted
    expect(m.has("x")).toBe(false);
    now += 99;
    expect(m.get("y")).toBe("Y");
    now += 1;
    expect(m.get("y")).toBeUndefined();
    expect(m.has("z")).toBe(false);
    expect(m.size).toBe(0);
  });

  it("without ttlMs (or 0) entries never expire; delete and clear forget", () => {
    let now = 0;
    const m = new LruMap<number, number>({ max: 10, ttlMs: 0, now: () => now });
    m.set(1, 1).set(2, 2);
    now = Number.MAX_SAFE_INTEGER;
    expect(m.get(1)).toBe(1);
    expect(m.delete(1)).toBe(true);
    expect(m.delete(1)).toBe(false);
    m.clear();
    expect(m.size).toBe(0);
    expect(new LruMap({ max: 0 }).set("k", 1).size).toBe(1); // at least one entry is kept
  });
});
