// POST /api/releases/upload — the streaming entry for pushing and building releases (bodies of
// any size, so not tRPC). Same rules as /api/trpc: the caller is a session or an API token; a
// browser's request must come from the console's own origin; and the body must be
// application/octet-stream, which no cross-site form can send without a CORS preflight.
//   ?mode=push   header x-keel-manifest-bytes: N; body = the manifest (N bytes) then the stream
//   ?mode=build&app=A&version=V[&kind=K][&healthCheck=JSON][&requires=node@^20,…][&activation=JSON]&format=tar|tar.zst   body = the tree as a tar
// Answers JSON: { result } or { error: { code, message } }.
// The caller is checked from the headers before a byte of the body is read: an anonymous or
// unauthorized upload (no or bad credentials, foreign origin, wrong role or content type) is
// answered at once and its body is never read (the HTTP server,
// infra/start/body-guard.ts, closes the connection instead of reading the rest). Only an upload
// from someone allowed to upload is read to its end when refused later, so that their client
// sees the answer.
import { parseActivationParam } from "@/server/services/releases/activation-input";
import type { PrismaClient } from "@prisma/client";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { PassThrough, Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { RELEASE_KINDS, type ReleaseKind } from "@/agent/protocol";
import type { Auth } from "@/server/auth/auth";
import { bearerToken, getViewer } from "@/server/auth/get-viewer";
import { jsonError } from "@/server/auth/request-guard";
import { AppError, toTRPCError } from "@/server/errors";
import { isAllowed } from "@/server/trpc/init";
import { buildRelease, assertCanBuild } from "@/server/services/releases/build-release";
import { consoleServices } from "@/server/services/compose";
import type { ReleaseDeps } from "@/server/services/releases/deps";
import { parseHealthCheckParam } from "@/server/services/releases/health-check";
import { MAX_MANIFEST_BYTES } from "@/server/services/releases/parse-manifest";
import { pushRelease } from "@/server/services/releases/push-release";

export const UPLOAD_ROLES = ["admin", "operator"] as const;

/** Reads the first `n` bytes of a stream; the rest stays readable. */
export async function splitHead(
  body: AsyncIterable<Uint8Array>,
  n: number,
): Promise<{ head: Buffer; rest: Readable }> {
  const it = body[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let got = 0;
  let leftover: Buffer | null = null;
  while (got < n) {
    const r = await it.next();
    if (r.done)
      throw new AppError("BAD_REQUEST", {
        message: `the body ended after ${got} of the manifest's ${n} bytes`,
      });
    const b = Buffer.from(r.value);
    if (got + b.length > n) {
      parts.push(b.subarray(0, n - got));
      leftover = b.subarray(n - got);
      got = n;
    } else {
      parts.push(b);
      got += b.length;
    }
  }
  async function* rest() {
    if (leftover?.length) yield leftover;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { head: Buffer.concat(parts), rest: Readable.from(rest()) };
}

/**
 * Reads what is left of an upload and throws it away. Every answer to an allowed uploader waits for this:
 * an HTTP client still sending its body treats a connection the server closed (or stopped
 * reading) as a failure (EPIPE, ECONNRESET) and never sees the answer, whichever check refused it.
 */
async function discardRest(raw: Readable | null, piped: PassThrough | null): Promise<void> {
  if (!raw || raw.readableEnded || raw.destroyed) return;
  if (piped) raw.unpipe(piped);
  await new Promise<void>((res) => {
    raw
      .once("end", res)
      .once("error", () => res())
      .once("close", res);
    raw.resume();
  });
}

function errorResponse(e: unknown): Response {
  if (e instanceof AppError) {
    const status = getHTTPStatusCodeFromError(toTRPCError(e));
    return jsonError(status, e.code, e.message);
  }
  console.error("release upload failed:", e);
  return jsonError(500, "INTERNAL", "internal error");
}

export function createReleaseUploadHandler(deps: {
  db: PrismaClient;
  auth: Auth;
  trustedOrigins: string[];
  depsFor?: (db: PrismaClient, actorId: string) => ReleaseDeps;
}) {
  const depsFor =
    deps.depsFor ?? ((db: PrismaClient, actorId: string) => consoleServices().releases(db, actorId));
  return async function handle(req: Request): Promise<Response> {
    const raw = req.body ? Readable.fromWeb(req.body as unknown as WebReadableStream<Uint8Array>) : null;
    // The body as the services read it; a service that refuses early may drop (destroy) it.
    let piped: PassThrough | null = null;
    // A client that gives up half way errors the body: the service reading it fails and cleans up
    // instead of waiting for the rest (pipe() does not pass a source's error on), and the error is
    // never an uncaught one.
    let broken: Error | null = null;
    raw?.on("error", (e) => {
      broken = e;
      piped?.destroy(e);
    });
    const body = (): PassThrough => {
      if (!piped) {
        piped = new PassThrough();
        if (broken) piped.destroy(broken);
        else raw!.pipe(piped);
      }
      return piped;
    };
    const state = { allowed: false };
    let res: Response;
    try {
      res = await route(req, body, state);
    } catch (e) {
      res = errorResponse(e);
    }
    if (state.allowed) {
      await discardRest(raw, piped);
      return res;
    }
    // Not allowed to upload: nothing of the body is read; the HTTP server closes the connection
    // after the answer (infra/start/body-guard.ts).
    return res;
  };

  async function route(
    req: Request,
    body: () => PassThrough,
    state: { allowed: boolean },
  ): Promise<Response> {
    if (req.method !== "POST")
      return jsonError(405, "METHOD_NOT_SUPPORTED", `${req.method} is not supported; POST the upload`);
    const ct = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (ct !== "application/octet-stream")
      return jsonError(415, "UNSUPPORTED_MEDIA_TYPE", "Uploads must be sent as application/octet-stream.");
    const viewer = await getViewer(req.headers, deps);
    if (!viewer) {
      return bearerToken(req.headers) !== null
        ? jsonError(
            401,
            "UNAUTHORIZED",
            "The API token is not valid: it is unknown, revoked or expired, or its user is disabled.",
          )
        : jsonError(401, "UNAUTHORIZED", "Sign in first.");
    }
    if (viewer.via === "session") {
      const origin = req.headers.get("origin");
      if (!origin || !deps.trustedOrigins.includes(origin))
        return jsonError(
          403,
          "CROSS_ORIGIN",
          `Refused: uploads must come from the console's own pages (origin ${origin ?? "missing"}).`,
        );
    }
    if (!isAllowed(UPLOAD_ROLES, viewer.user, "mutation"))
      return jsonError(403, "FORBIDDEN", `Uploading releases needs the role ${UPLOAD_ROLES.join(" or ")}.`);
    state.allowed = true;
    if (!req.body) return jsonError(400, "BAD_REQUEST", "The upload has no body.");

    const url = new URL(req.url);
    const rd = depsFor(deps.db, viewer.user.id);
    // Services may drop the stream when they refuse early (or find the release already there);
    // handle() reads and discards the rest of the upload before answering (see discardRest).
    const mode = url.searchParams.get("mode");
    if (mode === "push") {
      const n = Number(req.headers.get("x-keel-manifest-bytes"));
      if (!Number.isSafeInteger(n) || n < 2 || n > MAX_MANIFEST_BYTES)
        throw new AppError("BAD_REQUEST", {
          message: "x-keel-manifest-bytes must give the manifest's length in bytes (at most 16 MiB)",
        });
      const { head, rest } = await splitHead(body(), n);
      return Response.json({
        result: await pushRelease(rd, { manifest: head.toString("utf8"), stream: rest }),
      });
    }
    if (mode === "build") {
      const format = url.searchParams.get("format");
      if (format !== "tar" && format !== "tar.zst")
        throw new AppError("BAD_REQUEST", { message: "format must be tar or tar.zst" });
      const kind = url.searchParams.get("kind") ?? "app";
      if (!(RELEASE_KINDS as readonly string[]).includes(kind))
        throw new AppError("BAD_REQUEST", { message: `kind must be one of ${RELEASE_KINDS.join(", ")}` });
      await assertCanBuild(rd);
      const result = await buildRelease(rd, {
        app: url.searchParams.get("app") ?? "",
        version: url.searchParams.get("version") ?? "",
        kind: kind as ReleaseKind,
        healthCheck: parseHealthCheckParam(url.searchParams.get("healthCheck")),
        activation: parseActivationParam(url.searchParams.get("activation")),
        requires: url.searchParams.get("requires") ?? undefined,
        source: { tar: body(), compression: format === "tar.zst" ? "zstd" : "none" },
      });
      return Response.json({ result });
    }
    throw new AppError("BAD_REQUEST", { message: "mode must be push or build" });
  }
}
