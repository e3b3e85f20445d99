// AgentSession: the console's one client of the agent protocol (agent/protocol). One
// `keel-agent serve` process, or the host's resident agent, answers requests one at a time —
// including a release streamed from disk into `receive` with backpressure.
import { PassThrough, Readable } from "node:stream";
import {
  FRAME_HEADER_BYTES,
  FrameDecoder,
  PROTOCOL_VERSION,
  encodeDataFrames,
  encodeEndFrame,
  encodeJsonFrame,
  encodeJsonFrameD,
  encodeJsonFrameZ,
  type AgentRequest,
  type Command,
  type CommandArgs,
  type CommandResults,
  DEFAULT_STORE,
  residentSocketPath,
} from "@/agent/protocol";
import { AgentCommandError, deferred, envelopeReader, type Deferred, type Envelope } from "./agent-envelope";
import { type SshConnection } from "./connection";
import { SshError } from "./errors";
import { describe, lossyText, type ExecResult } from "./exec";
import { agentArgv, sudoOrFailure } from "./privileged";
import { printable } from "./target";
import { wireBytes } from "./wire-bytes";
import { wireForm, type StoredBlob } from "./wire-form";

/** Queued frames are written at once from this many bytes on (a DATA frame of STREAM_CHUNK plus its header). */
const FLUSH_BYTES = 256 * 1024;
/**
 * A release file is read in chunks that make a DATA frame of exactly FLUSH_BYTES with its 5-byte
 * header: whole 32 KiB SSH packets (the channel's packet size at OpenSSH and ssh2), none left half full.
 */
const STREAM_CHUNK = FLUSH_BYTES - FRAME_HEADER_BYTES;

export interface AgentHello {
  agentVersion: string;
  agentSha256: string | null;
  pid: number;
  /** Compressed wire forms the agent accepts (decision 0030); empty for an agent before them. */
  wire: string[];
}

export interface AgentRequestOptions {
  /** For `receive`: the stream's bytes, sent as DATA frames after the agent says `ready`. */
  stream?: Readable;
  onProgress?: (p: { step: string; bytes: number; totalBytes: number | null }) => void;
  onSent?: (bytes: number) => void;
}

/**
 * One `keel-agent serve` process on the host, kept open for several requests (one at a time):
 * a host step asks for facts, receives, activates and asks for facts again while paying for one
 * channel and one Node start-up on the host instead of one per command. The `hello` the agent sends
 * first carries the digest of the agent that is running, so checking the agent costs nothing extra.
 */
export class AgentSession {
  readonly hello: AgentHello;
  /** Commands sent in this session, in order, with their outcome (for the audit log). */
  readonly log: { command: Command; ok: boolean; ms: number; error?: string }[] = [];
  private busy = false;
  private requests = 0;
  private current: {
    id: string;
    response: Deferred<Envelope>;
    ready: Deferred<void>;
    onProgress?: AgentRequestOptions["onProgress"];
  } | null = null;
  private ended: Error | null = null;

  private constructor(
    readonly conn: SshConnection,
    hello: Envelope,
    private readonly stdin: PassThrough,
    private readonly done: Promise<ExecResult | Error>,
    private readonly setRouter: (route: (v: Envelope) => void) => void,
  ) {
    this.hello = {
      agentVersion: String(hello.agentVersion ?? ""),
      agentSha256: typeof hello.agentSha256 === "string" ? hello.agentSha256 : null,
      pid: Number(hello.pid ?? 0),
      wire: Array.isArray(hello.wire) ? hello.wire.filter((x): x is string => typeof x === "string") : [],
    };
    setRouter((v) => this.route(v));
    void done.then((r) => {
      this.ended =
        r instanceof Error
          ? r
          : new Error(
              `agent session ended (${r.exitSignal ? `signal ${r.exitSignal}` : `exit ${r.exitCode}`}): ${printable(lossyText(r.stderr).trim(), 300) || "no message"}`,
            );
      this.current?.response.reject(this.sessionEnded());
      this.current?.ready.reject(this.sessionEnded());
      this.stdin.destroy();
    });
  }

  /** Envelope routing shared by both ways of reaching an agent (serve, resident): the hello first, then the session's. */
  private static plumbing(conn: SshConnection) {
    const t = conn.target;
    const hello = deferred<Envelope>();
    let route: ((v: Envelope) => void) | null = null;
    const pending: Envelope[] = [];
    const protocolError = (msg: string) =>
      new SshError(
        "AGENT_PROTOCOL",
        `keel-agent on ${t.name} broke the protocol: ${msg}. Make sure the agent matches the console (ensureAgent).`,
        { host: t.name, step: "run-agent" },
      );
    const onStdout = envelopeReader(t, new FrameDecoder(), protocolError, "", (v) => {
      if (v.event === "hello" && !hello.settled) hello.resolve(v);
      else if (route) route(v);
      else pending.push(v);
    });
    const session = (v: Envelope, stdin: PassThrough, done: Promise<ExecResult | Error>) => {
      const s = new AgentSession(conn, v, stdin, done, (r) => {
        route = r;
      });
      for (const m of pending.splice(0)) s.route(m);
      return s;
    };
    return { hello, onStdout, protocolError, session };
  }

  /** Start `keel-agent serve` and wait for its hello; a clear SshError when the agent cannot start (sudo, node). */
  static async open(
    conn: SshConnection,
    opts: {
      timeoutMs?: number;
      signal?: AbortSignal;
      residentSeconds?: number;
      maxOutputBytes?: number;
    } = {},
  ): Promise<AgentSession> {
    const t = conn.target;
    const { hello, onStdout, protocolError, session } = AgentSession.plumbing(conn);
    const stdin = new PassThrough();
    const argv = agentArgv(
      t,
      "serve",
      ...(opts.residentSeconds ? ["--resident", String(opts.residentSeconds)] : []),
    );
    const done: Promise<ExecResult | Error> = conn
      .exec(argv, {
        step: "run-agent",
        stdin,
        onStdout,
        timeoutMs: opts.timeoutMs,
        maxOutputBytes: opts.maxOutputBytes ?? 256 * 1024 * 1024,
        signal: opts.signal,
      })
      .catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
    void done.then((r) => {
      if (hello.settled) return;
      if (r instanceof Error) return hello.reject(r);
      if (r.exitCode !== 0) {
        const e = sudoOrFailure(t, argv, r, "run-agent");
        if (e.code === "SUDO_REFUSED") return hello.reject(e);
        return hello.reject(
          new SshError(
            "AGENT_PROTOCOL",
            `keel-agent on ${t.name} ended (${r.exitSignal ? `signal ${r.exitSignal}` : `exit ${r.exitCode}`}) before it said hello: ${printable(lossyText(r.stderr).trim(), 300) || "no message"}. Run ensureAgent, and check node on the host.`,
            { host: t.name, step: "run-agent", cause: e },
          ),
        );
      }
      hello.reject(protocolError(`it ended without saying hello (${describe(argv)})`));
    });
    let v: Envelope;
    try {
      v = await hello.promise;
    } catch (e) {
      stdin.end();
      throw e;
    }
    return session(v, stdin, done);
  }

  /**
   * A session with the host's resident agent (agent/protocol/resident.ts) over a streamlocal
   * channel of this connection: nothing is started on the host. Null when there is none (not
   * running, not reachable for this login, or it did not say hello within helloTimeoutMs); the
   * caller then starts `serve` as usual. The session ends after timeoutMs like an exec'd one.
   */
  static async openResident(
    conn: SshConnection,
    opts: { timeoutMs?: number; helloTimeoutMs?: number } = {},
  ): Promise<AgentSession | null> {
    const ch = await conn.openStreamLocal(residentSocketPath(DEFAULT_STORE), "run-agent").catch(() => null);
    if (!ch) return null;
    const { hello, onStdout, session } = AgentSession.plumbing(conn);
    const started = Date.now();
    const stdin = new PassThrough();
    stdin.pipe(ch);
    let broke: Error | null = null;
    ch.on("data", (b: Buffer) => {
      try {
        onStdout(b);
      } catch (e) {
        broke ??= e as Error;
        ch.close();
      }
    });
    ch.stderr.resume();
    const limit = setTimeout(() => ch.close(), opts.timeoutMs ?? 600_000);
    const done = new Promise<ExecResult | Error>((resolve) =>
      ch.once("close", () => {
        clearTimeout(limit);
        resolve(
          broke ?? {
            exitCode: 0,
            exitSignal: null,
            stdout: Buffer.alloc(0),
            stderr: Buffer.alloc(0),
            durationMs: Date.now() - started,
          },
        );
      }),
    );
    const gone = setTimeout(() => hello.reject(new Error("no hello")), opts.helloTimeoutMs ?? 5_000);
    void done.then(() => hello.reject(new Error("closed before hello")));
    try {
      return session(await hello.promise, stdin, done);
    } catch {
      ch.close();
      return null;
    } finally {
      clearTimeout(gone);
    }
  }

  get isOpen(): boolean {
    return this.ended === null;
  }

  private sessionEnded(): SshError {
    const t = this.conn.target;
    return new SshError(
      "AGENT_PROTOCOL",
      `keel-agent on ${t.name}: ${this.ended?.message ?? "the session ended"}`,
      { host: t.name, step: "run-agent", cause: this.ended ?? undefined },
    );
  }

  private route(v: Envelope): void {
    const c = this.current;
    if (v.event === "ready" && c && v.id === c.id) c.ready.resolve();
    else if (v.event === "progress" && c && v.id === c.id) c.onProgress?.(v as never);
    else if (v.event === undefined && c && (v.id === c.id || v.id === "") && typeof v.ok === "boolean")
      c.response.resolve(v);
    else {
      const t = this.conn.target;
      const e = new SshError(
        "AGENT_PROTOCOL",
        `keel-agent on ${t.name} sent an unexpected message (${printable(JSON.stringify(v), 120)}).`,
        { host: t.name, step: "run-agent" },
      );
      c?.response.reject(e);
      this.stdin.destroy();
    }
  }

  /**
   * Frames are queued and go to the channel together at the end of the tick (or at once past
   * FLUSH_BYTES): ssh2 sends at least one SSH packet per channel write, so a DATA frame's header, its
   * bytes and the END after them are one write, not three packets.
   */
  private queued: Buffer[] = [];
  private queuedBytes = 0;

  private write(b: Buffer): Promise<void> | null {
    this.queued.push(b);
    this.queuedBytes += b.length;
    if (this.queuedBytes >= FLUSH_BYTES) return this.flush();
    if (this.queued.length === 1) process.nextTick(() => void this.flush()?.catch(() => undefined));
    return null;
  }

  /** The queued frames in one channel write; a promise when the channel wants us to wait (backpressure). */
  private flush(): Promise<void> | null {
    if (this.queued.length === 0) return null;
    const b = this.queued.length === 1 ? this.queued[0]! : Buffer.concat(this.queued, this.queuedBytes);
    this.queued = [];
    this.queuedBytes = 0;
    if (this.stdin.destroyed) return Promise.reject(this.sessionEnded());
    if (this.stdin.write(b)) return null;
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.stdin.off("close", onClose);
        resolve();
      };
      const onClose = () => {
        this.stdin.off("drain", onDrain);
        reject(this.sessionEnded());
      };
      this.stdin.once("drain", onDrain);
      this.stdin.once("close", onClose);
    });
  }

  /** Send one request and wait for its answer; the agent's own failures are AgentCommandErrors. */
  async request<C extends Command>(
    command: C,
    args: CommandArgs[C],
    opts: AgentRequestOptions = {},
  ): Promise<CommandResults[C]> {
    const t = this.conn.target;
    if (this.busy) throw new Error("AgentSession: one request at a time");
    if (this.ended) throw this.sessionEnded();
    this.busy = true;
    const started = Date.now();
    // A per-session counter, not a UUID: the id comes back in `ready`, every `progress` and the
    // response, and requests of a session never overlap (decision 0044).
    const id = String(++this.requests);
    const c = { id, response: deferred<Envelope>(), ready: deferred<void>(), onProgress: opts.onProgress };
    this.current = c;
    const stream = opts.stream;
    try {
      const request: AgentRequest<C> = { protocolVersion: PROTOCOL_VERSION, id, command, args };
      await this.write(
        this.hello.wire.includes("json-d1")
          ? encodeJsonFrameD(request)
          : this.hello.wire.includes("json-z")
            ? encodeJsonFrameZ(request)
            : encodeJsonFrame(request),
      );
      if (stream) {
        const first = await Promise.race([
          c.ready.promise.then(() => "ready" as const),
          c.response.promise.then(() => "response" as const),
        ]);
        if (first === "ready") {
          let sent = 0;
          // Each chunk is sent when the next one is read, so the last one and END go in one write.
          let held: Buffer | null = null;
          const send = async (chunk: Buffer) => {
            sent += chunk.length;
            for (const b of encodeDataFrames(chunk)) await this.write(b);
            opts.onSent?.(sent);
          };
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            if (c.response.settled) break; // the agent refused mid-stream; it skips the rest
            if (held) await send(held);
            held = chunk;
          }
          if (held && !c.response.settled) await send(held);
          await this.write(encodeEndFrame());
        }
      }
      const res = await c.response.promise;
      if (res.ok === true) {
        if (typeof res.result !== "object" || res.result === null)
          throw new SshError(
            "AGENT_PROTOCOL",
            `keel-agent on ${t.name} answered ${command} without a result.`,
            { host: t.name, step: "run-agent" },
          );
        this.log.push({ command, ok: true, ms: Date.now() - started });
        return res.result as CommandResults[C];
      }
      const body = res.error;
      if (!body || typeof body.code !== "string" || typeof body.message !== "string")
        throw new SshError(
          "AGENT_PROTOCOL",
          `keel-agent on ${t.name} answered ${command} with an error without an error.`,
          { host: t.name, step: "run-agent" },
        );
      throw new AgentCommandError(t, command, body);
    } catch (e) {
      this.log.push({ command, ok: false, ms: Date.now() - started, error: (e as Error).message });
      throw e;
    } finally {
      stream?.destroy();
      this.current = null;
      this.busy = false;
    }
  }

  /** End the session (closes the agent's stdin: serve exits 0) and wait for the channel to close. */
  async close(): Promise<void> {
    await this.flush()?.catch(() => undefined);
    this.stdin.end();
    await this.done;
  }
}

/**
 * `receive` a release in a session: the stream file goes from disk (or, up to 8 MiB, from memory:
 * wire-bytes.ts) through the channel with backpressure. `stored` is the stored stream or format-1
 * delta, with the format-2 delta's file when there is one (sent instead only if the agent lists
 * keel-delta-2).
 */
export async function receiveReleaseIn(
  session: AgentSession,
  args: CommandArgs["receive"],
  stored: string | StoredBlob,
  opts: Omit<AgentRequestOptions, "stream"> = {},
) {
  // Compressed on the wire when the agent accepts it (decisions 0030, 0040).
  const w = await wireForm(session.hello.wire, args, stored);
  return session.request("receive", w.args, {
    ...opts,
    stream: w.path ? await wireBytes(w.path, STREAM_CHUNK) : Readable.from(w.pieces!),
  });
}
