/**
 * Whether a `content-type` header names JSON: the media type `application/json` exactly, type and
 * subtype case-insensitive, parameters (`; charset=utf-8`) allowed (RFC 9110 §8.3.1). Never a
 * substring test: `text/plain; charset=application/json` is a type a browser sends cross-site
 * without a CORS preflight, and `application/json-patch+json` is another format.
 */
export function isJsonMediaType(header: string | null | undefined): boolean {
  if (!header) return false;
  const semicolon = header.indexOf(";");
  const essence = semicolon === -1 ? header : header.slice(0, semicolon);
  return essence.trim().toLowerCase() === "application/json";
}
