/**
 * vitest globalSetup: one moto S3 server for the whole run (see src/testing/moto.ts). Tests read
 * its URL with `inject("s3Endpoint")`; each test file uses its own buckets (the server is shared
 * by files running in parallel).
 */
import type { TestProject } from "vitest/node";
import { startMoto } from "../../src/testing/moto.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** `http://127.0.0.1:<port>` of the moto server. */
    s3Endpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { endpoint, stop } = await startMoto();
  project.provide("s3Endpoint", endpoint);
  return stop;
}
