/**
 * undici, loaded when the first HTTP client is made rather than when the HTTP backend is
 * imported: its import costs more than the rest of the backend together (see
 * docs/benchmarks.md), which a program that never makes a request should not pay. Types come
 * from `import type`, which costs nothing at run time.
 */
import type * as Undici from "undici";
import { loadedOnFirstUse } from "../../core/first-use.js";

export const undici = loadedOnFirstUse<typeof Undici>("undici");
