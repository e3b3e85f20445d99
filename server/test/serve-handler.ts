// Serves a fetch-style handler (Request → Response) on a real HTTP port for tests, setting
// x-keel-client-ip from the socket as Keel's server does.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

async function toRequest(req: IncomingMessage, origin: string): Promise<Request> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
  headers.set("x-keel-client-ip", req.socket.remoteAddress ?? "unknown");
  const body =
    chunks.length && req.method !== "GET" && req.method !== "HEAD" ? Buffer.concat(chunks) : undefined;
  return new Request(new URL(req.url ?? "/", origin), { method: req.method, headers, body });
}

export async function serveHandler(
  route: (path: string) => ((r: Request) => Promise<Response>) | undefined,
): Promise<{ url: string; close(): Promise<void> }> {
  let origin = "";
  const server = createServer(async (req, res) => {
    const handler = route(new URL(req.url ?? "/", "http://x").pathname);
    if (!handler) return void res.writeHead(404).end();
    const r = await handler(await toRequest(req, origin));
    res.writeHead(r.status, Object.fromEntries(r.headers));
    res.end(Buffer.from(await r.arrayBuffer()));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: origin, close: () => new Promise((ok) => server.close(() => ok())) };
}
