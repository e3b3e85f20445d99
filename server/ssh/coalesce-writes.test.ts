import { createServer, Socket, type AddressInfo } from "node:net";
import { Client } from "ssh2";
import { afterEach, describe, expect, it } from "vitest";
import { clientSocket, coalesceWrites } from "./coalesce-writes";

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((c) => c()));

/** A connected socket pair on 127.0.0.1; `received` resolves with all bytes once the client ends. */
async function pair() {
  let received!: Promise<Buffer>;
  const server = createServer((s) => {
    const parts: Buffer[] = [];
    received = new Promise((r) =>
      s.on("data", (b: Buffer) => parts.push(b)).on("end", () => r(Buffer.concat(parts))),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const sock = new Socket();
  await new Promise<void>((r) => sock.connect((server.address() as AddressInfo).port, "127.0.0.1", r));
  closers.push(() => (sock.destroy(), server.close()));
  return { sock, received: () => received };
}

function countCalls(sock: Socket) {
  const calls = { write: 0, writev: 0, chunks: 0 };
  const s = sock as unknown as {
    _write: (...a: unknown[]) => void;
    _writev: (chunks: unknown[], cb: unknown) => void;
  };
  const w = s._write;
  const wv = s._writev;
  s._write = function (this: unknown, ...a: unknown[]) {
    calls.write++;
    calls.chunks++;
    return w.apply(this, a);
  };
  s._writev = function (this: unknown, chunks: unknown[], cb: unknown) {
    calls.writev++;
    calls.chunks += chunks.length;
    return wv.call(this, chunks, cb);
  };
  return calls;
}

describe("coalesceWrites", () => {
  it("sends the writes of one tick in one writev, bytes in order", async () => {
    const { sock, received } = await pair();
    coalesceWrites(sock);
    const calls = countCalls(sock);
    const parts = Array.from({ length: 10 }, (_, i) => Buffer.alloc(100 + i, i));
    for (const p of parts) sock.write(p);
    await new Promise((r) => setImmediate(r));
    for (const p of parts) sock.write(p); // a later tick: its own writev
    await new Promise((r) => setImmediate(r));
    sock.end();
    expect(await received()).toEqual(Buffer.concat([...parts, ...parts]));
    expect(calls).toEqual({ write: 0, writev: 2, chunks: 20 });
  });

  it("finds the socket ssh2's client connects with", () => {
    const c = new Client();
    c.on("error", () => undefined);
    c.connect({ host: "127.0.0.1", port: 9, username: "x", readyTimeout: 1000 });
    expect(clientSocket(c)).toBeInstanceOf(Socket);
    c.destroy();
  });
});
