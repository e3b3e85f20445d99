// One SIMULATED host's sshd: an ssh2 Server on its own 127.0.0.1 port with its own ed25519 host key
// (real key exchange; the console pins its fingerprint like any host's), that lets in only the
// console's key (the signature is checked) for root, and answers the agent protocol where the real
// host would: on the resident agent's socket (a direct-streamlocal channel to
// /var/lib/keel/.run/agent.sock) and on an exec of `… keel-agent… serve`. Every other command
// exits 127 with a message saying the host is simulated.
import type { AddressInfo } from "node:net";
import { Server, utils, type Connection, type ParsedKey } from "ssh2";
import { DEFAULT_STORE, residentSocketPath } from "@/agent/protocol";
import { fingerprintOfKey } from "@/server/ssh/fingerprint";
import { type SimAgent } from "./sim-agent";
import { fateOf, type SimFaults } from "./sim-faults";
import { serveSimSession } from "./sim-session";

export type SimHostEntry = {
  name: string;
  address: string;
  port: number;
  user: string;
  hostKeyFingerprint: string;
};

export type SimHost = { entry: SimHostEntry; agent: SimAgent; close(): Promise<void> };

/** An ed25519 host key (OpenSSH format) and its SHA256 fingerprint as `ssh-keygen -lf` prints it. */
export function newHostKey(): { privateKey: string; fingerprint: string } {
  // ssh2 1.17 cannot parse about 1 in 300 of the ed25519 keys it generates: take another one.
  let k = utils.generateKeyPairSync("ed25519");
  while (utils.parseKey(k.private) instanceof Error) k = utils.generateKeyPairSync("ed25519");
  // "ssh-ed25519 <base64 blob> comment": the blob is what the host presents in the key exchange.
  const blob = Buffer.from(k.public.trim().split(/\s+/)[1]!, "base64");
  return { privateKey: k.private, fingerprint: fingerprintOfKey(blob) };
}

export async function startSimHost(o: {
  name: string;
  hostKey: { privateKey: string; fingerprint: string };
  /** The console's public key (OpenSSH line): the only key let in. */
  authorizedKey: ParsedKey;
  agent: SimAgent;
  faults: () => SimFaults;
}): Promise<SimHost> {
  const allowed = o.authorizedKey.getPublicSSH();
  const sockets = new Set<{ destroy(): void }>();
  const server = new Server({ hostKeys: [o.hostKey.privateKey] }, (client: Connection) => {
    const sock = (client as unknown as { _sock?: { destroy(): void } })._sock;
    if (sock) sockets.add(sock);
    client.on("close", () => sock && sockets.delete(sock));
    client.on("error", () => undefined);
    o.agent.counters.connections++;
    const fate = fateOf(o.faults(), () => {
      o.agent.counters.dropped++;
      sock?.destroy();
    });
    client.on("authentication", (ctx) => {
      if (ctx.method !== "publickey" || ctx.username !== "root") return ctx.reject(["publickey"]);
      if (ctx.key.algo !== o.authorizedKey.type || !ctx.key.data.equals(allowed)) return ctx.reject();
      if (!ctx.signature) return ctx.accept(); // the client asks whether the key would do
      if (o.authorizedKey.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject();
      ctx.accept();
    });
    client.on("ready", () => {
      const pid = 10_000 + Math.floor(Math.random() * 50_000);
      client.on("openssh.streamlocal", (accept, reject, info) => {
        if (info.socketPath !== residentSocketPath(DEFAULT_STORE)) return reject();
        serveSimSession(accept(), o.agent, o.faults(), fate, pid);
      });
      client.on("session", (accept) => {
        const session = accept();
        session.on("exec", (acc, _rej, info) => {
          const ch = acc();
          if (/keel-agent[^\s]*'?\s+'?serve'?(\s|$)/.test(info.command))
            return serveSimSession(ch, o.agent, o.faults(), fate, pid);
          ch.stderr.write(
            `simulated host ${o.name}: only the keel agent's serve is simulated, not: ${info.command}\n`,
          );
          ch.exit(127);
          ch.end();
        });
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    entry: {
      name: o.name,
      address: "127.0.0.1",
      port,
      user: "root",
      hostKeyFingerprint: o.hostKey.fingerprint,
    },
    agent: o.agent,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
