/**
 * undici, loaded when the first HTTP client is made rather than when the HTTP backend is
 * imported: its import costs more than the rest of the backend together (see
 * docs/benchmarks.md), which a program that never makes a request should not pay. Types come
 * from `import type`, which costs nothing at run time.
 */
import { createRequire } from "node:module";
import type * as Undici from "undici";

let loaded: typeof Undici | undefined;

export function undici(): typeof Undici {
  return (loaded ??= createRequire(import.meta.url)("undici") as typeof Undici);
}
