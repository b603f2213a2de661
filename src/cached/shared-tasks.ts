/**
 * Work shared by every caller asking for the same key at the same time (one download per file
 * in a process). Each caller may abort its own wait; the work itself stops only when every
 * caller waiting for it has aborted.
 */
import { FsError, throwIfAborted } from "../core/errors.js";

interface Task<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiters: number;
}

export class SharedTasks<T> {
  private readonly tasks = new Map<string, Task<T>>();

  /** Join the task under `key`, or start it with `start(signal)`. */
  run(key: string, signal: AbortSignal | undefined, start: (signal: AbortSignal) => Promise<T>): Promise<T> {
    throwIfAborted(signal);
    let task = this.tasks.get(key);
    if (!task) {
      const controller = new AbortController();
      const created: Task<T> = { promise: Promise.resolve() as Promise<T>, controller, waiters: 0 };
      created.promise = start(controller.signal).finally(() => {
        if (this.tasks.get(key) === created) this.tasks.delete(key);
      });
      created.promise.catch(() => undefined);
      this.tasks.set(key, created);
      task = created;
    }
    const joined = task;
    joined.waiters++;
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const leave = (): boolean => {
        if (done) return false;
        done = true;
        joined.waiters--;
        signal?.removeEventListener("abort", onAbort);
        return true;
      };
      const onAbort = () => {
        if (!leave()) return;
        const aborted = new FsError("EABORT", undefined, { cause: signal?.reason });
        if (joined.waiters > 0) return reject(aborted);
        // Nobody wants the result any more: stop the work, let the next caller start afresh, and
        // answer once the work has wound down (its temporaries and locks are gone by then).
        if (this.tasks.get(key) === joined) this.tasks.delete(key);
        joined.controller.abort(signal?.reason);
        joined.promise.then(() => reject(aborted), () => reject(aborted));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      joined.promise.then(
        (value) => leave() && resolve(value),
        (err: unknown) => leave() && reject(err),
      );
    });
  }

  /** Keys with work in progress. */
  get size(): number {
    return this.tasks.size;
  }
}
