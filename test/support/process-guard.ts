/**
 * A process-level guard for tests of code that talks to sockets: an `uncaughtException` or
 * `unhandledRejection` during a test (an unhandled 'error' event is one of those) fails that
 * test, naming what escaped, instead of only being reported somewhere in the run.
 *
 *   guardProcess();   // at the top level of a test file
 */
import { afterEach, beforeEach } from "vitest";

/** Time given to errors scheduled by the test's last step (destroyed streams emit on a later tick). */
const SETTLE_MS = 20;

export function guardProcess(): void {
  const escaped: string[] = [];
  const onException = (err: unknown) => escaped.push(`uncaughtException: ${describe(err)}`);
  const onRejection = (reason: unknown) => escaped.push(`unhandledRejection: ${describe(reason)}`);
  beforeEach(() => {
    escaped.length = 0;
    process.on("uncaughtException", onException);
    process.on("unhandledRejection", onRejection);
  });
  afterEach(async () => {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    process.off("uncaughtException", onException);
    process.off("unhandledRejection", onRejection);
    if (escaped.length > 0) throw new Error(`the test let ${escaped.length} error(s) escape:\n${escaped.join("\n")}`);
  });
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}${(err as { code?: string }).code ? ` ${(err as { code?: string }).code}` : ""}: ${err.message}`;
  return String(err);
}
