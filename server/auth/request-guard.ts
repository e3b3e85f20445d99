// Cross-site request refusal for every state-changing request (RELIABILITY.md case 22): a POST must
// be `application/json` and come from one of the console's own origins. Browsers cannot send a
// cross-origin JSON POST without a CORS preflight (which the console never grants), and plain
// form posts (`text/plain`, urlencoded, multipart) are refused outright. Callers holding an API
// token (the CLI, scripts) need no Origin, as no browser attaches one for them.
export function jsonError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

export function isJsonContentType(req: Request): boolean {
  const ct = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  return ct === "application/json";
}

/** Returns a refusal for a cross-site or non-JSON write, or null when the request may go on. */
export function refuseCrossSiteWrite(
  req: Request,
  opts: { trustedOrigins: string[]; hasToken: boolean },
): Response | null {
  if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return null;
  if (req.method !== "POST") return jsonError(405, "METHOD_NOT_SUPPORTED", `${req.method} is not supported`);
  if (!isJsonContentType(req))
    return jsonError(
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "Requests that change something must be sent as application/json.",
    );
  if (opts.hasToken) return null;
  const origin = req.headers.get("origin");
  if (!origin || !opts.trustedOrigins.includes(origin))
    return jsonError(
      403,
      "CROSS_ORIGIN",
      `Refused: requests that change something must come from the console's own pages (origin ${origin ?? "missing"}).`,
    );
  return null;
}

/** The client's address: set by Keel's HTTP server (infra/start) from the socket, or by a trusted proxy. */
export function clientIp(headers: Headers, trustProxy = false): string {
  if (trustProxy) {
    const fwd = headers.get("x-forwarded-for");
    const last = fwd?.split(",").pop()?.trim();
    if (last) return last;
  }
  return headers.get("x-keel-client-ip") ?? "unknown";
}
