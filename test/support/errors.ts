import { FsError } from "../../src/index.js";

/** The FsError a promise rejects with; fails the test if it resolves or rejects with something else. */
export async function errorOf(promise: Promise<unknown>): Promise<FsError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof FsError) return err;
    throw new Error(`expected an FsError, got ${String(err)}`);
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** The error code a promise rejects with, or undefined when it resolves. */
export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}
