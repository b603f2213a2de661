/**
 * Bearer tokens for NGC: one token per scope (org, team), fetched with the API key, kept until
 * shortly before it expires, shared by concurrent callers, and dropped when the registry
 * refuses it. Neither the key nor a token ever goes into an error message.
 */
import { FsError } from "../../core/errors.js";
import { discardBody, type HttpClient } from "../http/client.js";
import { statusError } from "../http/errors.js";
import { parseToken, tokenUrl } from "./api.js";
import { abortable, readJson } from "./json.js";

interface Held {
  token: string;
  /** Date.now() after which the token is not used any more. */
  until: number;
}

/** Stop using a token this long before it expires: a tenth of its life, at most a minute. */
function margin(expiresInMs: number): number {
  return Math.min(60_000, expiresInMs / 10);
}

export class TokenSource {
  private readonly held = new Map<string, Held>();
  private readonly pending = new Map<string, Promise<Held>>();

  constructor(
    private readonly client: HttpClient,
    private readonly authUrl: string,
    private readonly apiKey: string,
  ) {}

  /** A valid token for the scope, from the cache or a token request (shared while in flight). */
  async get(org: string, team: string | undefined, path: string, signal?: AbortSignal): Promise<string> {
    const key = `${org}/${team ?? ""}`;
    const held = this.held.get(key);
    if (held && Date.now() < held.until) return held.token;
    let pending = this.pending.get(key);
    if (!pending) {
      // Shared by every caller, so no one caller's signal may cancel it: each waits with its own.
      pending = this.request(org, team, path).then((fresh) => {
        this.held.set(key, fresh);
        return fresh;
      });
      pending.finally(() => this.pending.delete(key)).catch(() => undefined);
      this.pending.set(key, pending);
    }
    return (await abortable(pending, signal, path)).token;
  }

  /** Forget `token` (the registry refused it); a newer token of the scope is kept. */
  drop(org: string, team: string | undefined, token: string): void {
    const key = `${org}/${team ?? ""}`;
    if (this.held.get(key)?.token === token) this.held.delete(key);
  }

  private async request(org: string, team: string | undefined, path: string): Promise<Held> {
    const url = tokenUrl(this.authUrl, org, team);
    const basic = Buffer.from(`$oauthtoken:${this.apiKey}`).toString("base64");
    const started = Date.now();
    const res = await this.client.send(url, { headers: { authorization: `Basic ${basic}`, accept: "application/json" } });
    if (res.status !== 200) {
      discardBody(res.body);
      const base = statusError(res.status, path, res.statusText);
      const why = base.code === "EACCES" ? "the API key was refused" : "the token service failed";
      throw new FsError(base.code, `NGC token request for org '${org}' failed: ${why} (HTTP ${res.status})`, { path, status: res.status });
    }
    const json = await readJson(res, path);
    const { token, expiresIn } = parseToken(json, path);
    const life = expiresIn * 1000;
    return { token, until: life === Infinity ? Infinity : started + life - margin(life) };
  }
}
