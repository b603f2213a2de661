/**
 * Percent-encoding of URL paths: what is sent, how listed names are spelled, and the plain
 * file names behind them. Servers spell the same name differently in their listings
 * (`%C3%BC`, `%c3%bc`, raw `+` or `%2B`); every name is given back in one spelling.
 */

/** A `%` that does not start an escape stands for itself: sent as `%25`, as browsers do. */
export function escapeLonePercents(url: string): string {
  return url.replace(/%(?![0-9A-Fa-f]{2})/g, "%25");
}

/** The plain name a path segment spells, or undefined when its escapes are not UTF-8. */
export function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(escapeLonePercents(segment));
  } catch {
    return undefined;
  }
}

/** The segment that names `name`: every byte outside the unreserved set escaped. */
export function encodeSegment(name: string): string {
  return encodeURIComponent(name);
}

/** One spelling for a segment: decoded and encoded again (undecodable: escapes in upper case). */
export function canonicalSegment(segment: string): string {
  const name = decodeSegment(segment);
  return name === undefined ? escapeLonePercents(segment).replace(/%[0-9a-f]{2}/gi, (e) => e.toUpperCase()) : encodeSegment(name);
}

/**
 * A URL split where its query or fragment starts: `[path part, "?query#fragment"]`. The query
 * belongs to that URL only; names below it are built from the path part.
 */
export function splitQuery(url: string): [string, string] {
  const q = url.search(/[?#]/);
  return q < 0 ? [url, ""] : [url.slice(0, q), url.slice(q)];
}
