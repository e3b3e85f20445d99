// The one place every request body passes (docs/decisions/0017-bounded-input.md): Keel's HTTP
// server calls guardBody before handing a request to Next.
//  - A declared length above the path's limit (server/auth/bounded-body.ts) is answered 413 at
//    once, without reading the body.
//  - A body without a declared length is counted as it arrives. Routes read their bodies through
//    readBoundedText and answer 413 themselves at the limit; should anything read further (Next's
//    own endpoints, a route that forgot), the connection is answered 413 and closed once the body
//    passes the limit plus what socket reads and stream buffers hold, so nothing reads an unbounded body.
//  - Once an answer is sent, a body left unread is not read to its end: Node's HTTP server would
//    read and discard the rest to reuse the connection (a 200 MB upload refused with 401 was
//    still received in full); the connection is closed instead.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { bodyLimitFor, describeBytes, KIB } from "@/server/auth/bounded-body";

// More than the Node socket reads and stream buffers a route sees before it can count them, so
// that a route reading through readBoundedText always answers first (with its own audit).
const SLACK = 256 * KIB;

function refusal(limit: number): string {
  return JSON.stringify({
    error: {
      code: "PAYLOAD_TOO_LARGE",
      message: `Request bodies here are limited to ${describeBytes(limit)}; this one is larger. Nothing was changed.`,
    },
  });
}

/** Answers 413 on the raw socket (Next may be holding the response) and closes the connection. */
/** How long a connection whose body was left unread stays half-open after its answer. */
const LINGER_MS = 2000;

/**
 * Ends a connection whose request body was not read to its end, without reading any more of it:
 * reading stops, the answer already written is followed by a FIN, and the socket is destroyed
 * once the client has closed its side or after LINGER_MS. Destroying at once would make the
 * kernel answer the unread bytes with a reset, which can reach the client before it has read
 * the answer (it then sees ECONNRESET instead of the 413 or 401).
 */
function closeUnread(socket: Socket): void {
  if (socket.destroyed) return;
  socket.pause();
  if (!socket.writableEnded) socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}

/** Answers 413 on the raw socket (Next may be holding the response) and closes the connection. */
function refuseMidBody(req: IncomingMessage, limit: number): void {
  const socket = req.socket;
  if (socket.destroyed || socket.writableEnded) return;
  const body = refusal(limit);
  socket.write(
    `HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\ncache-control: no-store\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  closeUnread(socket);
  // Whatever was reading the body fails (without reading the rest) once the connection is gone.
  socket.once("close", () => req.destroy(new Error(`request body over ${limit} bytes`)));
}

/**
 * Guards one request's body. Returns true when it already answered (the request must not reach
 * Next), false when Next should handle it.
 */
export function guardBody(req: IncomingMessage, res: ServerResponse): boolean {
  // Node discards the unread rest of a body after the answer (to reuse the connection), which
  // reads all of it: only a body that has fully arrived is discarded so (that frees it and lets
  // the connection carry the next request); otherwise the connection is closed instead. Node's
  // own finish handler calls _dump, then this one runs.
  const dumpable = req as unknown as { _dump(): void };
  const dump = dumpable._dump.bind(req);
  dumpable._dump = () => {
    if (req.complete) dump();
  };
  res.once("finish", () => {
    if (!req.complete) closeUnread(req.socket);
  });
  const limit = bodyLimitFor((req.url ?? "/").split("?")[0]!);
  if (limit === null) return false;
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) {
    res
      .writeHead(413, { "content-type": "application/json", "cache-control": "no-store" })
      .end(refusal(limit));
    return true;
  }
  let seen = 0;
  const push = req.push.bind(req);
  req.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (chunk != null) {
      seen += (chunk as Buffer).length;
      if (seen > limit + SLACK) {
        refuseMidBody(req, limit);
        return false;
      }
    }
    return push(chunk, encoding);
  };
  return false;
}
