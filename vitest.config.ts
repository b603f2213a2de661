import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["spec/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores in CI: a few workers keep the suite fast without starving servers in tests.
    maxWorkers: 4,
    // One moto S3 server for the run (test/s3); tests get its URL with inject("s3Endpoint").
    // nginx, Apache, lighttpd and python's http.server for test/http/real-*.test.ts: inject("realServers").
    // The build in dist/, for the tests of the real binary (test/cli).
    globalSetup: ["test/support/moto-global-setup.ts", "test/support/real-servers-global-setup.ts", "test/support/build-global-setup.ts"],
    // Proxies of the developer's shell would catch the tests' requests to 127.0.0.1: unset (an
    // empty value is unset); test/proxy sets them where it means to.
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      ...Object.fromEntries(["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"].map((k) => [k, ""])),
    },
  },
});
