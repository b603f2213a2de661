/**
 * A map bounded by entry count that forgets the least recently used entry first, with an
 * optional age limit. Every cache of the library needs only this much; it replaces the
 * lru-cache package, which put 3.4 MB in every install for it.
 */

export interface LruMapOptions {
  /** Most entries kept (at least 1). */
  max: number;
  /** Milliseconds an entry stays valid after it was set; undefined or 0: until evicted. */
  ttlMs?: number | undefined;
  /** The clock (tests pass their own). */
  now?: () => number;
}

interface Slot<V> {
  value: V;
  /** When the entry stops being valid (Infinity: never). */
  until: number;
}

/**
 * A Map keeps insertion order, so the first key is the least recently used one once every
 * read re-inserts what it hits.
 */
export class LruMap<K, V> {
  private readonly slots = new Map<K, Slot<V>>();
  private readonly max: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: LruMapOptions) {
    this.max = Math.max(1, Math.floor(options.max));
    this.ttlMs = options.ttlMs && options.ttlMs > 0 ? options.ttlMs : 0;
    this.now = options.now ?? Date.now;
  }

  /** The value for `key` (now the most recently used), unless missing or expired. */
  get(key: K): V | undefined {
    const slot = this.live(key);
    if (slot === undefined) return undefined;
    this.slots.delete(key);
    this.slots.set(key, slot);
    return slot.value;
  }

  /** Whether `key` holds a value that has not expired (its recency unchanged). */
  has(key: K): boolean {
    return this.live(key) !== undefined;
  }

  /** Keep `value` for `key` as the most recently used entry, evicting the least recent beyond `max`. */
  set(key: K, value: V): this {
    this.slots.delete(key);
    this.slots.set(key, { value, until: this.ttlMs ? this.now() + this.ttlMs : Infinity });
    while (this.slots.size > this.max) this.slots.delete(this.slots.keys().next().value as K);
    return this;
  }

  delete(key: K): boolean {
    return this.slots.delete(key);
  }

  clear(): void {
    this.slots.clear();
  }

  /** Entries kept, expired ones not yet dropped included. */
  get size(): number {
    return this.slots.size;
  }

  /** Keys from the least to the most recently used (expired ones included). */
  keys(): IterableIterator<K> {
    return this.slots.keys();
  }

  private live(key: K): Slot<V> | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.until <= this.now()) {
      this.slots.delete(key);
      return undefined;
    }
    return slot;
  }
}
