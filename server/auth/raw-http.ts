// Test helpers for bounded bodies (used by the *.int.test.ts files beside it): a raw HTTP client
// that streams a body of any size from one reused buffer (so the client itself allocates nothing
// in proportion) and records how much it could send before the server answered or closed, and a
// server that hands requests to route handlers the way Next.js does (the IncomingMessage itself
// is the Request's body, read only as far as the handler reads it), behind Keel's body guard.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { guardBody } from "@/infra/start/body-guard";

export type RawAnswer = {
  status: number;
  body: string;
  /** Body bytes the client wrote before the server answered or closed. */
  sent: number;
  /** Whether the whole body was sent. */
  complete: boolean;
};

/**
 * Sends `size` bytes to `path`, chunked (no Content-Length) unless `declare` is set, in writes of
 * `chunk` bytes; stops writing once an answer starts arriving or the connection breaks.
 */
export function rawPost(
  port: number,
  path: string,
  o: { headers: Record<string, string>; size: number; chunk?: number; declare?: boolean; head?: Buffer },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(o.chunk ?? 64 * 1024, 0x41);
    const sock = connect(port, "127.0.0.1");
    const lines = [`POST ${path} HTTP/1.1`, `host: 127.0.0.1:${port}`];
    for (const [k, v] of Object.entries(o.headers)) lines.push(`${k}: ${v}`);
    const headLen = o.head?.length ?? 0;
    lines.push(o.declare ? `content-length: ${o.size + headLen}` : "transfer-encoding: chunked");
    let received = Buffer.alloc(0);
    let sent = 0;
    let stop = false;
    const frame = (b: Buffer): Buffer[] =>
      o.declare ? [b] : [Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from("\r\n")];
    sock.on("data", (d: Buffer) => {
      received = Buffer.concat([received, d]);
      stop = true;
    });
    const finish = () => {
      const text = received.toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!m) return reject(new Error(`no answer (sent ${sent} bytes)`));
      const head = text.slice(0, text.indexOf("\r\n\r\n"));
      let body = text.slice(head.length + 4);
      if (/\r\ntransfer-encoding: *chunked/i.test(head)) body = dechunk(body);
      resolve({
        status: Number(m[1]),
        body: Buffer.from(body, "latin1").toString("utf8"),
        sent,
        complete: sent >= o.size,
      });
    };
    sock.on("error", () => {
      stop = true;
    });
    sock.on("close", finish);
    sock.on("connect", async () => {
      sock.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (o.head) for (const b of frame(o.head)) sock.write(b);
      while (sent < o.size && !stop && !sock.destroyed) {
        const n = Math.min(chunk.length, o.size - sent);
        let ok = true;
        for (const b of frame(n === chunk.length ? chunk : chunk.subarray(0, n))) ok = sock.write(b) && ok;
        sent += n;
        if (!ok)
          await new Promise<void>((r) => {
            sock.once("drain", r);
            sock.once("close", r);
            sock.once("data", () => r());
          });
      }
      if (!stop && !sock.destroyed && !o.declare) sock.write("0\r\n\r\n");
      // The answer (and the server's close) arrive by themselves; a server that keeps the
      // connection open after a complete answer is closed from here.
      const end = () => setTimeout(() => sock.end(), 200);
      if (stop) end();
      else sock.once("data", end);
    });
  });
}

function dechunk(s: string): string {
  let out = "";
  for (let i = 0; ;) {
    const eol = s.indexOf("\r\n", i);
    const n = eol < 0 ? 0 : parseInt(s.slice(i, eol), 16);
    if (!n) return out;
    out += s.slice(eol + 2, eol + 2 + n);
    i = eol + 2 + n + 2;
  }
}

/** The resident set size of this process, in bytes. */
export function rssBytes(pid: number | "self" = "self"): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]) * 1024;
}

export type Served = {
  port: number;
  server: Server;
  /** Per connection closed so far: how many bytes the server read from it (headers included). */
  readPerConnection: number[];
  close(): Promise<void>;
};

/** Serves `route(pathname)`'s handler behind guardBody, as infra/start/next-app.ts serves Next. */
export async function serveHandlers(
  route: (pathname: string) => ((r: Request) => Promise<Response>) | null,
): Promise<Served> {
  const readPerConnection: number[] = [];
  const server = createServer({ requestTimeout: 0 }, async (req: IncomingMessage, res) => {
    req.headers["x-keel-client-ip"] = req.socket.remoteAddress ?? "unknown";
    if (guardBody(req, res)) return;
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const handler = route(url.pathname);
    if (!handler) return void res.writeHead(404).end();
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    try {
      const r = await handler(
        new Request(url, {
          method: req.method,
          headers,
          body: req.method === "GET" || req.method === "HEAD" ? null : (req as unknown as ReadableStream),
          duplex: "half",
        } as RequestInit),
      );
      if (res.destroyed || res.headersSent) return;
      res.writeHead(r.status, Object.fromEntries(r.headers));
      res.end(Buffer.from(await r.arrayBuffer()));
    } catch (e) {
      if (!res.headersSent && !res.destroyed) res.writeHead(500).end(String(e));
    }
  });
  server.on("connection", (s) => s.once("close", () => readPerConnection.push(s.bytesRead)));
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    readPerConnection,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
