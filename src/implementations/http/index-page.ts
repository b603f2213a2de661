/**
 * Directory listings from HTML index pages (Apache/nginx autoindex, `python -m http.server`,
 * S3 website listings...): the links that lead below the page's URL, one entry per child.
 */
import { canonicalSegment } from "./names.js";

export interface IndexChild {
  /** The child's segment as it appears in URLs (percent-encoded, see names.ts), plus any query of a file. */
  segment: string;
  type: "file" | "directory";
}

const ANCHOR_HREF = /<a\s[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === "#") {
      const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/** Every `href` of an `<a>` element, entity-decoded, in page order. */
export function extractLinks(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(ANCHOR_HREF)) {
    const raw = m[1] ?? m[2] ?? m[3] ?? "";
    if (raw) out.push(decodeEntities(raw.trim()));
  }
  return out;
}

/**
 * The direct children of the directory at `pageUrl` that the page links to. Links are resolved
 * against the page's URL; only those strictly below the directory count (so `../`, `./`,
 * sorting links such as `?C=N;O=D`, fragments and other sites drop out). A deeper link makes
 * its first segment a directory.
 */
export function childrenOf(html: string, pageUrl: URL): IndexChild[] {
  const dirPath = pageUrl.pathname.endsWith("/") ? pageUrl.pathname : `${pageUrl.pathname}/`;
  const seen = new Map<string, IndexChild>();
  for (const href of extractLinks(html)) {
    let link: URL;
    try {
      link = new URL(href, pageUrl);
    } catch {
      continue;
    }
    if (link.origin !== pageUrl.origin || !link.pathname.startsWith(dirPath)) continue;
    const rest = link.pathname.slice(dirPath.length);
    if (rest === "") continue;
    const slash = rest.indexOf("/");
    // One spelling whatever the server's (`%c3%bc` and `%C3%BC`, `+` and `%2B` are one name).
    const name = canonicalSegment(slash < 0 ? rest : rest.slice(0, slash));
    if (name === "" || name === "." || name === "..") continue;
    const isDir = slash >= 0;
    const segment = isDir ? name : name + link.search;
    const known = seen.get(name);
    // A name linked both as a file and as a directory (`a` and `a/x`) is a directory.
    if (!known || (isDir && known.type === "file")) seen.set(name, { segment: isDir ? name : segment, type: isDir ? "directory" : "file" });
  }
  return [...seen.values()].sort((a, b) => (a.segment < b.segment ? -1 : a.segment > b.segment ? 1 : 0));
}
