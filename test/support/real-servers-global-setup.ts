/**
 * vitest globalSetup: the real web servers of test/support/real-servers.ts for the whole run,
 * shared by test files through `inject("realServers")` and stopped (by PID) at its end. In CI
 * (CI=true) a server that cannot start fails the run with a line naming it; elsewhere it is
 * skipped with the reason printed.
 */
import type { TestProject } from "vitest/node";
import { startRealServers, type RealServers } from "./real-servers.js";

declare module "vitest" {
  export interface ProvidedContext {
    realServers: RealServers;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { context, stop } = await startRealServers({ required: process.env.CI === "true" });
  for (const s of context.skipped) console.warn(`[real servers] ${s.name} skipped (tests against it will not run): ${s.reason}`);
  project.provide("realServers", context);
  return stop;
}
