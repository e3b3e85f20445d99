// The HTTP entry of /api/trpc: Keel's request checks in front of tRPC's fetch adapter.
// Order: batch size and declared body size (cheap, before anything is read), per-address call
// rate, who the caller is (session cookie or API token), cross-site write refusal, the body read
// up to its limit whether or not its length was declared (413 past it, 400 for invalid UTF-8;
// ../auth/bounded-body.ts), then tRPC.
// Queries are GET (tRPC refuses a mutation over GET), mutations POST.
import type { PrismaClient } from "@prisma/client";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { Auth } from "@/server/auth/auth";
import { bearerToken, getViewer } from "@/server/auth/get-viewer";
import { RateLimiter, type Limit } from "@/server/auth/rate-limit";
import { BODY_LIMITS, readBoundedText, tooLarge } from "@/server/auth/bounded-body";
import { clientIp, jsonError, refuseCrossSiteWrite } from "@/server/auth/request-guard";
import { createContextInner } from "./init";
import { appRouter } from "./root";

export const TRPC_ENDPOINT = "/api/trpc";
export const MAX_BATCH = 50;
export const MAX_BODY_BYTES = BODY_LIMITS.trpc;
export const DEFAULT_CALL_LIMIT: Limit = { max: 1200, windowMs: 60_000 };

export function createTRPCHandler(deps: {
  db: PrismaClient;
  auth: Auth;
  trustedOrigins: string[];
  trustProxy?: boolean;
  callLimit?: Limit;
}) {
  const calls = new RateLimiter(deps.callLimit ?? DEFAULT_CALL_LIMIT);
  return async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const paths = decodeURIComponent(url.pathname.slice(TRPC_ENDPOINT.length).replace(/^\//, ""));
    const count = paths ? paths.split(",").length : 0;
    if (count > MAX_BATCH)
      return jsonError(
        413,
        "BATCH_TOO_LARGE",
        `A batch may hold at most ${MAX_BATCH} calls; this one has ${count}.`,
      );
    if (Number(req.headers.get("content-length") ?? 0) > MAX_BODY_BYTES) return tooLarge(MAX_BODY_BYTES);
    const ip = clientIp(req.headers, deps.trustProxy);
    if (!calls.hit(ip, Math.max(1, count))) {
      const wait = calls.retryAfter(ip);
      return jsonError(429, "TOO_MANY_REQUESTS", `Too many API calls from ${ip}; try again in ${wait} s.`, {
        "retry-after": String(wait),
      });
    }
    const viewer = await getViewer(req.headers, deps);
    if (bearerToken(req.headers) !== null && !viewer)
      return jsonError(
        401,
        "UNAUTHORIZED",
        "The API token is not valid: it is unknown, revoked or expired, or its user is disabled.",
      );
    const refused = refuseCrossSiteWrite(req, {
      trustedOrigins: deps.trustedOrigins,
      hasToken: viewer?.via === "token",
    });
    if (refused) return refused;
    let bounded = req;
    if (req.method === "POST") {
      const read = await readBoundedText(req, MAX_BODY_BYTES);
      if (!read.ok) return read.response;
      bounded = new Request(req.url, {
        method: "POST",
        headers: req.headers,
        body: read.text,
        signal: req.signal,
      });
    }
    return fetchRequestHandler({
      endpoint: TRPC_ENDPOINT,
      req: bounded,
      router: appRouter,
      maxBatchSize: MAX_BATCH,
      allowMethodOverride: false,
      createContext: () =>
        createContextInner({
          db: deps.db,
          user: viewer?.user ?? null,
          session: viewer?.session ?? null,
          via: viewer?.via ?? null,
          tokenId: viewer?.tokenId ?? null,
          ip,
        }),
      onError({ error, path }) {
        if (error.code === "INTERNAL_SERVER_ERROR")
          console.error(`tRPC ${path ?? "?"} failed:`, error.cause ?? error);
      },
    });
  };
}
