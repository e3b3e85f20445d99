// ssh2 writes every SSH packet to the socket on its own: one write system call (and one libuv write
// request) per packet, and a host step's stream is dozens of packets. Corked until the end of the
// current tick, the packets ssh2 writes in one go (a channel write split into 32 KiB packets, a
// request and its window adjust) leave in one writev. The bytes and their order are unchanged.
import { Socket } from "node:net";

export function coalesceWrites(sock: Socket): void {
  const write = sock.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    sock.uncork();
  };
  sock.write = function (this: Socket, ...args: Parameters<Socket["write"]>) {
    if (!corked && !sock.destroyed) {
      corked = true;
      sock.cork();
      process.nextTick(uncork);
    }
    return write.apply(this, args);
  } as Socket["write"];
}

/** The socket ssh2's Client made for connect() (its private `_sock`), when it is a TCP socket. */
export function clientSocket(client: object): Socket | null {
  const s = (client as { _sock?: unknown })._sock;
  return s instanceof Socket ? s : null;
}
