/**
 * Download URLs a service handed out for a file (the Hub's `/resolve` redirect to its CDN, NGC's
 * presigned `urls[0]`), kept per file and version so later reads of it go straight there: until
 * the URL's own expiry (read from its signature's query), or until storage refuses it (see
 * REFUSED_URL_STATUSES), whichever comes first. Bounded: the least recently used go first.
 */
import { LruMap } from "../../core/lru.js";
import { isFsError } from "../../core/errors.js";

/** Statuses with which storage refuses a stale or expired signed URL (S3 and CloudFront: 403, GCS: 400, some CDNs: 401 or 410). */
export const REFUSED_URL_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 410]);

/** Stop using a URL this long before its stated expiry: a read that starts then may outlive it. */
const EXPIRY_MARGIN_MS = 30_000;
const MAX_KEPT = 10_000;

/** Whether `err` is storage refusing a signed URL (then it is resolved once more). */
export function refusedUrl(err: unknown): boolean {
  return isFsError(err) && err.status !== undefined && REFUSED_URL_STATUSES.has(err.status);
}

/** `20240102T030405Z` (SigV4's X-Amz-Date, GCS V4's X-Goog-Date) in ms. */
function basicIsoDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : undefined;
}

/**
 * When a signed URL stops working (ms since the epoch), from its query: SigV4 and GCS V4
 * (`X-Amz-Date` + `X-Amz-Expires`, `X-Goog-Date` + `X-Goog-Expires`, seconds), CloudFront and S3
 * V2 (`Expires`, seconds since the epoch), Azure SAS (`se`, an ISO date). Undefined when it says
 * nothing of the kind.
 */
export function signedUrlExpiry(url: string): number | undefined {
  let q: URLSearchParams;
  try {
    q = new URL(url).searchParams;
  } catch {
    return undefined;
  }
  const get = (name: string) => {
    for (const [k, v] of q) if (k.toLowerCase() === name.toLowerCase()) return v;
    return undefined;
  };
  for (const vendor of ["Amz", "Goog"]) {
    const start = basicIsoDate(get(`X-${vendor}-Date`) ?? "");
    const life = Number(get(`X-${vendor}-Expires`));
    if (start !== undefined && Number.isFinite(life) && life >= 0) return start + life * 1000;
  }
  const epoch = Number(get("Expires"));
  if (get("Expires") !== undefined && Number.isFinite(epoch) && epoch > 0) return epoch * 1000;
  const se = get("se");
  if (se !== undefined && !Number.isNaN(Date.parse(se))) return Date.parse(se);
  return undefined;
}

/** A kept URL, with what the service said about the file when it handed it out. */
export interface ResolvedUrl<T> {
  url: string;
  /** Used until then (ms since the epoch); Infinity: until refused. */
  until: number;
  about: T;
}

export class ResolvedUrls<T = undefined> {
  private readonly kept = new LruMap<string, ResolvedUrl<T>>({ max: MAX_KEPT });

  constructor(private readonly now: () => number = Date.now) {}

  /** The URL kept for `key`, unless it is expired (it is forgotten then). */
  get(key: string): ResolvedUrl<T> | undefined {
    const entry = this.kept.get(key);
    if (entry && this.now() >= entry.until) {
      this.kept.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Keep `url` for `key`, unless its signature expires too soon to be worth it. */
  set(key: string, url: string, about: T): void {
    const expiry = signedUrlExpiry(url);
    const until = expiry === undefined ? Infinity : expiry - EXPIRY_MARGIN_MS;
    if (this.now() >= until) this.kept.delete(key);
    else this.kept.set(key, { url, until, about });
  }

  /** Forget the URL of `key`; with `url`, only if that is still the one kept (a newer one stays). */
  drop(key: string, url?: string): void {
    if (url === undefined || this.kept.get(key)?.url === url) this.kept.delete(key);
  }

  /** Forget the URLs whose key `hit` accepts (all without it). */
  forget(hit?: (key: string) => boolean): void {
    if (!hit) return this.kept.clear();
    for (const key of [...this.kept.keys()]) if (hit(key)) this.kept.delete(key);
  }
}
