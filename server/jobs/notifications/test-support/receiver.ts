// A real local HTTP receiver for the notification tests: records every request (headers, body,
// whether the signature verifies) and answers as `answer` says.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { verifySignature } from "@/server/services/notifications/sign";

export type Received = {
  delivery: string;
  event: string;
  body: string;
  signature: string;
  verified: boolean;
  status: number | "dropped";
};

export async function startReceiver(
  secretOf: () => string | undefined,
  answer: (r: Omit<Received, "status">, n: number, res: ServerResponse) => number | "drop",
) {
  const got: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const signature = String(req.headers["keel-signature"] ?? "");
      const secret = secretOf();
      const r = {
        delivery: String(req.headers["keel-delivery"] ?? ""),
        event: String(req.headers["keel-event"] ?? ""),
        body,
        signature,
        verified: !!secret && verifySignature(secret, body, signature),
      };
      const status = answer(r, got.length, res);
      got.push({ ...r, status: status === "drop" ? "dropped" : status });
      if (status === "drop") return void req.socket.destroy();
      res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "receiver says no");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
