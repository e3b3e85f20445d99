// The console's two ways into the agent besides the CLI, for tests that send hostile input
// through every one: a `serve` session on a child's stdin/stdout, and a session on the resident
// agent's socket (what the console reaches over an SSH direct-streamlocal channel). Both speak
// the same frames; a receive sends its stream as DATA frames after `ready`.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { connect, type Socket } from "node:net";
import {
  FrameDecoder,
  encodeDataFrames,
  encodeEndFrame,
  encodeJsonFrame,
  residentSocketPath,
  type ReleaseManifest,
} from "../protocol";
import { AGENT, type Loose } from "./helpers";

export interface AgentSession {
  /** Sends a receive request with the stream's bytes; resolves with the final answer (ok or error). */
  receive(manifest: ReleaseManifest, stream: Buffer): Promise<Loose>;
  close(): Promise<void>;
}

class FrameSession implements AgentSession {
  private messages: Loose[] = [];
  private wake: (() => void) | null = null;
  private seq = 0;
  private closed = false;

  constructor(
    private readonly write: (b: Buffer) => void,
    onData: (cb: (d: Buffer) => void) => void,
    private readonly end: () => Promise<void>,
  ) {
    const dec = new FrameDecoder();
    onData((d) => {
      for (const f of dec.push(d)) if (f.kind === "json") this.messages.push(f.value as Loose);
      this.wake?.();
    });
  }

  async next(): Promise<Loose> {
    while (this.messages.length === 0) {
      if (this.closed) throw new Error("the agent session ended");
      await new Promise<void>((r) => (this.wake = r));
    }
    return this.messages.shift()!;
  }

  ended(): void {
    this.closed = true;
    this.wake?.();
  }

  async receive(manifest: ReleaseManifest, stream: Buffer): Promise<Loose> {
    const id = `r${++this.seq}`;
    this.write(encodeJsonFrame({ protocolVersion: 1, id, command: "receive", args: { manifest } }));
    let m = await this.next();
    if (m.event === "ready") {
      for (const b of encodeDataFrames(stream)) this.write(b);
      this.write(encodeEndFrame());
      m = await this.next();
    }
    while (m.event === "progress") m = await this.next();
    if (m.id !== id) throw new Error(`answer for ${m.id}, expected ${id}`);
    return m;
  }

  close(): Promise<void> {
    return this.end();
  }
}

/** `keel-agent serve` as a child process; the hello is read before it is returned. */
export async function serveSession(storeArgs: string[]): Promise<AgentSession> {
  const child = spawn("node", [AGENT, "serve", ...storeArgs], { stdio: ["pipe", "pipe", "inherit"] });
  const s = new FrameSession(
    (b) => child.stdin.write(b),
    (cb) => child.stdout.on("data", cb),
    async () => {
      child.stdin.end();
      child.kill("SIGKILL");
    },
  );
  child.on("exit", () => s.ended());
  const hello = await s.next();
  if (hello.event !== "hello") throw new Error(`serve said ${JSON.stringify(hello)}`);
  return s;
}

/** Starts `keel-agent resident` for the store and opens a session on its socket. */
export async function residentSession(
  store: string,
  trusted: string,
): Promise<AgentSession & { child: ChildProcess }> {
  const child = spawn("node", [AGENT, "resident", "--store", store, "--trusted", trusted, "--idle", "120"], {
    stdio: "ignore",
  });
  const sock = residentSocketPath(store);
  for (let i = 0; i < 500 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
  const c: Socket = connect(sock);
  await new Promise<void>((resolve, reject) => c.once("connect", resolve).once("error", reject));
  const s = new FrameSession(
    (b) => c.write(b),
    (cb) => c.on("data", cb),
    async () => {
      c.end();
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    },
  );
  c.on("close", () => s.ended());
  const hello = await s.next();
  if (hello.event !== "hello") throw new Error(`the resident agent said ${JSON.stringify(hello)}`);
  return Object.assign(s, { child });
}
