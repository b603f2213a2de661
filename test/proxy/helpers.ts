/** Shared bits of the proxy tests: the proxy variables set only while a filesystem is built. */

export const PROXY_VARIABLES = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"] as const;

/**
 * `build()` run with exactly `vars` as the proxy variables (the others unset), then the
 * environment as it was: backends read it once, when they are built.
 */
export function withProxyEnv<T>(vars: Partial<Record<(typeof PROXY_VARIABLES)[number], string>>, build: () => T): T {
  const saved = PROXY_VARIABLES.map((k) => [k, process.env[k]] as const);
  for (const k of PROXY_VARIABLES) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return build();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
