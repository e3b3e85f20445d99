// The console's own HTTP handlers (/api/trpc and /api/releases/upload) on a real database, behind
// one real HTTP server on a free local port: for tests that drive `keel` or plain HTTP against it.
// Callers sign in with API tokens (there are no browser sessions). One request per connection, as
// each `keel` process makes (keep-alive reuse is not under test).
import { createServer } from "node:http";
import { Readable } from "node:stream";
import type { AddressInfo } from "node:net";
import type { PrismaClient } from "@prisma/client";
import type { Auth } from "@/server/auth/auth";
import { createReleaseUploadHandler } from "@/server/services/releases/upload-handler";
import { createTRPCHandler } from "@/server/trpc/http-handler";

const noSessions = { api: { getSession: async () => null } } as unknown as Auth;

export type ServedConsole = { base: string; close(): Promise<void> };

export async function serveConsole(db: PrismaClient): Promise<ServedConsole> {
  const trpc = createTRPCHandler({ db, auth: noSessions, trustedOrigins: [] });
  const uploads = createReleaseUploadHandler({ db, auth: noSessions, trustedOrigins: [] });
  const server = createServer(async (req, res) => {
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(`http://127.0.0.1${req.url}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
      duplex: "half",
    } as RequestInit);
    const response = req.url!.startsWith("/api/releases/upload")
      ? await uploads(request)
      : await trpc(request);
    res.writeHead(response.status, { ...Object.fromEntries(response.headers), connection: "close" });
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
