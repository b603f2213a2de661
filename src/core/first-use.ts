/**
 * A module loaded when it is first needed rather than when the module naming it is imported:
 * what a program may never use (undici, node:tls, node:net, node:crypto) should not lengthen
 * every cold start. Types come from `import type`, which costs nothing at run time.
 */
import { createRequire } from "node:module";

// Made on the first load too: reading import.meta at import costs a start-up that loads nothing.
let loader: NodeJS.Require | undefined;

/** A getter that loads `specifier` on its first call and hands back the same module after. */
export function loadedOnFirstUse<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= (loader ??= createRequire(import.meta.url))(specifier) as T);
}

/** node:crypto, for digests that only some calls make (`checksum`, `ukey`). */
export const nodeCrypto = loadedOnFirstUse<typeof import("node:crypto")>("node:crypto");
