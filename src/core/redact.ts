/**
 * Credentials out of anything printed: user info and secret-looking query values of URLs are
 * replaced by `***`. FsError applies it to every path it reports, so errors can be logged.
 */

const SECRET_PARAM = /^(x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|signature|sig|token|access_token|api_key|apikey|key|password|secret)$/i;

/** `url` with user info and secret-looking query values replaced by `***`. */
export function redactUrl(url: string): string {
  if (!url.includes("://")) return url;
  // Up to the last @ of the authority: a password may hold an unescaped @ (URL parsers allow it).
  let out = url.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/?#]*@/, "$1***@");
  const q = out.indexOf("?");
  if (q >= 0) {
    const query = out
      .slice(q + 1)
      .split("&")
      .map((pair) => {
        const eq = pair.indexOf("=");
        if (eq < 0) return pair;
        let name = pair.slice(0, eq);
        try {
          name = decodeURIComponent(name);
        } catch {
          // keep the raw name
        }
        return SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=***` : pair;
      })
      .join("&");
    out = `${out.slice(0, q)}?${query}`;
  }
  return out;
}

