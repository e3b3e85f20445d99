// keel-agent over SSH: make sure the host runs the console's agent bundle (compare digests,
// upload and rename atomically when they differ), and talk to `keel-agent serve` with the framing
// from agent/protocol — including streaming a release from disk into `receive` with backpressure.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import {
  FrameDecoder,
  FramingError,
  PROTOCOL_VERSION,
  encodeDataFrames,
  encodeEndFrame,
  encodeJsonFrame,
  type AgentErrorBody,
  type AgentRequest,
  type Command,
  type CommandArgs,
  type CommandResults,
  DEFAULT_STORE,
  residentSocketPath,
} from "@/agent/protocol";
import { commandFailed, describe, lossyText, type ExecResult, type SshConnection } from "./connection";
import { SshError, type SshStep } from "./errors";
import { DEFAULT_AGENT_PATH, printable, type SshTarget } from "./target";

export const MIN_NODE_MAJOR = 20;

/** The agent failed the command itself (its own error code, e.g. BAD_SIGNATURE, DISK_FULL). */
export class AgentCommandError extends SshError {
  readonly agentError: AgentErrorBody;
  constructor(target: SshTarget, command: string, body: AgentErrorBody) {
    super("AGENT_FAILED", `keel-agent ${command} failed on ${target.name} at step ${body.step}: ${printable(body.message, 300)} (${body.code}).`, {
      host: target.name,
      step: "run-agent",
      details: { agentCode: body.code, agentStep: body.step, retryable: body.retryable },
    });
    this.agentError = body;
  }
}

export function defaultBundlePath(): string {
  return process.env.KEEL_AGENT_BUNDLE ?? join(process.cwd(), "agent/dist/keel-agent.mjs");
}

export interface AgentBundle {
  path: string;
  bytes: Buffer;
  sha256: string;
}

export async function loadAgentBundle(path = defaultBundlePath()): Promise<AgentBundle> {
  const bytes = await readFile(path);
  return { path, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

function agentPathOf(t: SshTarget): string {
  return t.agentPath ?? DEFAULT_AGENT_PATH;
}

/** Prefix for commands that need root: nothing for root, `sudo -n --` for another login. */
export function privileged(t: SshTarget, argv: readonly string[]): string[] {
  return t.sudo ? ["sudo", "-n", "--", ...argv] : [...argv];
}

/** The argv that starts the agent on the host. */
export function agentArgv(t: SshTarget, ...args: string[]): string[] {
  return privileged(t, [t.nodePath ?? "node", agentPathOf(t), ...args]);
}

async function runPrivileged(conn: SshConnection, argv: string[], step: SshStep, opts: { stdin?: Buffer; timeoutMs?: number } = {}): Promise<ExecResult> {
  const t = conn.target;
  const r = await conn.exec(privileged(t, argv), { step, stdin: opts.stdin, timeoutMs: opts.timeoutMs, maxOutputBytes: 1024 * 1024 });
  if (r.exitCode !== 0) throw sudoOrFailure(t, privileged(t, argv), r, step);
  return r;
}

function sudoOrFailure(t: SshTarget, argv: string[], r: ExecResult, step: SshStep): SshError {
  const err = lossyText(r.stderr);
  if (t.sudo && /^sudo: /m.test(err)) {
    return new SshError(
      "SUDO_REFUSED",
      `sudo -n refused on ${t.name} for user ${t.user} (step ${step}): ${printable(err.trim(), 200)}. Allow ${t.user} to run node without a password (see docs/ssh.md) or log in as root.`,
      { host: t.name, step, details: { stderr: printable(err, 300) } },
    );
  }
  return commandFailed(t, argv, r, step);
}

export interface EnsureAgentResult {
  host: string;
  action: "unchanged" | "uploaded";
  /** sha256 (hex) of the agent now on the host. */
  sha256: string;
  previousSha256: string | null;
  nodeVersion: string;
}

/**
 * Make sure the host has exactly the console's agent bundle at its agent path. Checks node
 * (≥ 20) and, for a sudo login, that `sudo -n` works; uploads only when the digest differs:
 * written to a temporary file beside the target, checked, then renamed over it (atomic).
 */
export async function ensureAgent(conn: SshConnection, opts: { bundle?: AgentBundle } = {}): Promise<EnsureAgentResult> {
  const t = conn.target;
  const bundle = opts.bundle ?? (await loadAgentBundle());
  const path = agentPathOf(t);
  if (t.forcedCommand) return checkForcedAgent(conn, bundle);

  // Both checks at once on two channels of the same connection: one round trip, not two.
  const [nodeR, previous] = await Promise.allSettled([
    conn.exec(privileged(t, [t.nodePath ?? "node", "--version"]), { step: "check-agent", maxOutputBytes: 64 * 1024 }),
    remoteSha256(conn, path),
  ]);
  if (nodeR.status === "rejected") throw nodeR.reason;
  return finishEnsure(conn, bundle, path, nodeR.value, previous);
}

async function finishEnsure(
  conn: SshConnection,
  bundle: AgentBundle,
  path: string,
  nodeR: ExecResult,
  previous: PromiseSettledResult<string | null>,
): Promise<EnsureAgentResult> {
  const t = conn.target;
  if (nodeR.exitCode !== 0) {
    const e = sudoOrFailure(t, privileged(t, [t.nodePath ?? "node", "--version"]), nodeR, "check-agent");
    if (e.code === "SUDO_REFUSED") throw e;
    throw new SshError("AGENT_MISSING_NODE", `node was not found on ${t.name} (exit ${nodeR.exitCode}). Install Node.js ≥ ${MIN_NODE_MAJOR} on the host.`, {
      host: t.name,
      step: "check-agent",
      cause: e,
    });
  }
  const nodeVersion = lossyText(nodeR.stdout).trim();
  const major = Number(/^v(\d+)\./.exec(nodeVersion)?.[1] ?? "0");
  if (major < MIN_NODE_MAJOR) {
    throw new SshError("AGENT_MISSING_NODE", `${t.name} has node ${printable(nodeVersion)}; keel-agent needs Node.js ≥ ${MIN_NODE_MAJOR}. Upgrade node on the host.`, {
      host: t.name,
      step: "check-agent",
    });
  }

  if (previous.status === "rejected") throw previous.reason;
  const previousSha256 = previous.value;
  if (previousSha256 === bundle.sha256) return { host: t.name, action: "unchanged", sha256: bundle.sha256, previousSha256, nodeVersion };

  await uploadFile(conn, path, bundle.bytes, bundle.sha256, "0755", "upload-agent");
  return { host: t.name, action: "uploaded", sha256: bundle.sha256, previousSha256, nodeVersion };
}

/** With a forced command only `serve` runs: ask the agent for its digest, never upload. */
async function checkForcedAgent(conn: SshConnection, bundle: AgentBundle): Promise<EnsureAgentResult> {
  const t = conn.target;
  const v = await runAgent(conn, "version", {});
  if (v.sha256 !== bundle.sha256) {
    throw new SshError(
      "AGENT_OUTDATED",
      `${t.name} runs keel-agent ${printable(String(v.agentVersion))} (sha256 ${v.sha256 ?? "unknown"}), not the console's bundle (${bundle.sha256}). The console's key is restricted to the agent by a forced command, so it cannot update it: install the new agent on the host out of band (see docs/ssh.md).`,
      { host: t.name, step: "check-agent", details: { hostSha256: v.sha256, bundleSha256: bundle.sha256 } },
    );
  }
  return { host: t.name, action: "unchanged", sha256: bundle.sha256, previousSha256: v.sha256, nodeVersion: v.node };
}

/** sha256 (hex) of a file on the host, or null when it does not exist. */
async function remoteSha256(conn: SshConnection, path: string): Promise<string | null> {
  const t = conn.target;
  const argv = privileged(t, ["sha256sum", "--", path]);
  const r = await conn.exec(argv, { step: "check-agent", maxOutputBytes: 64 * 1024 });
  if (r.exitCode !== 0) {
    const err = lossyText(r.stderr);
    if (/No such file/.test(err)) return null;
    throw sudoOrFailure(t, argv, r, "check-agent");
  }
  const hex = /^([0-9a-f]{64})\s/.exec(lossyText(r.stdout))?.[1];
  if (!hex) throw new SshError("AGENT_UPLOAD_FAILED", `sha256sum on ${t.name} printed something unexpected for ${path}.`, { host: t.name, step: "check-agent" });
  return hex;
}

/**
 * Write bytes to `path` on the host without a shell: `cp /dev/stdin` into a temporary name in the
 * same directory, check its digest, chmod, then `mv` (rename(2)) over the final name. A reader
 * sees the old file or the new one, never a partial one.
 */
export async function uploadFile(conn: SshConnection, path: string, bytes: Buffer, sha256: string, mode: string, step: SshStep): Promise<void> {
  const t = conn.target;
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  const tmp = `${path}.keel-upload-${randomBytes(6).toString("hex")}`;
  await runPrivileged(conn, ["mkdir", "-p", "--", dir], step);
  try {
    await runPrivileged(conn, ["cp", "--", "/dev/stdin", tmp], step, { stdin: bytes, timeoutMs: 120_000 });
    const got = await remoteSha256(conn, tmp);
    if (got !== sha256) {
      throw new SshError("AGENT_UPLOAD_FAILED", `Uploading ${path} to ${t.name} arrived corrupted (sha256 ${got ?? "missing"}, expected ${sha256}). Retry; if it persists check the host's disk.`, {
        host: t.name,
        step,
      });
    }
    await runPrivileged(conn, ["chmod", mode, "--", tmp], step);
    await runPrivileged(conn, ["mv", "-f", "-T", "--", tmp, path], step);
  } catch (e) {
    await conn.exec(privileged(t, ["rm", "-f", "--", tmp]), { step }).catch(() => undefined);
    if (e instanceof SshError && e.code === "COMMAND_FAILED") {
      throw new SshError("AGENT_UPLOAD_FAILED", `Could not install ${path} on ${t.name}: ${e.message}`, { host: t.name, step, cause: e });
    }
    throw e;
  }
}

export interface RunAgentOptions {
  timeoutMs?: number;
  /** For `receive`: the stream's bytes, sent as DATA frames after the agent says `ready`. */
  stream?: Readable;
  onProgress?: (p: { step: string; bytes: number; totalBytes: number | null }) => void;
  /** Bytes of stream sent so far (called per chunk). */
  onSent?: (bytes: number) => void;
  signal?: AbortSignal;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
  settled: boolean;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const d = { settled: false } as Deferred<T>;
  d.promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  d.promise.catch(() => undefined);
  d.resolve = (v) => {
    if (!d.settled) {
      d.settled = true;
      resolve(v);
    }
  };
  d.reject = (e) => {
    if (!d.settled) {
      d.settled = true;
      reject(e);
    }
  };
  return d;
}

type Envelope = { protocolVersion: number; id: string; ok?: boolean; event?: string; result?: unknown; error?: AgentErrorBody } & Record<string, unknown>;

/**
 * The agent's stdout as envelopes: frames decoded, each checked to be a JSON message with an id in
 * the console's protocol version, then handed on. A violation throws (ending the channel).
 */
function envelopeReader(
  t: SshTarget,
  decoder: FrameDecoder,
  protocolError: (msg: string) => SshError,
  when: string,
  onEnvelope: (v: Envelope) => void,
): (chunk: Buffer) => void {
  return (chunk) => {
    let frames;
    try {
      frames = decoder.push(chunk);
    } catch (e) {
      throw protocolError(e instanceof FramingError ? e.message : String(e));
    }
    for (const f of frames) {
      if (f.kind !== "json") throw protocolError(`unexpected ${f.kind} frame from the agent`);
      const v = f.value as Envelope;
      if (typeof v !== "object" || v === null || typeof v.id !== "string") throw protocolError("a message without an id");
      if (v.protocolVersion !== PROTOCOL_VERSION) {
        throw new SshError(
          "AGENT_PROTOCOL",
          `keel-agent on ${t.name} speaks protocol ${String(v.protocolVersion)}, the console ${PROTOCOL_VERSION}. Update the agent (ensureAgent)${when}.`,
          { host: t.name, step: "run-agent" },
        );
      }
      onEnvelope(v);
    }
  };
}

/** Run one agent command through `keel-agent serve` and return its validated result. */
export async function runAgent<C extends Command>(conn: SshConnection, command: C, args: CommandArgs[C], opts: RunAgentOptions = {}): Promise<CommandResults[C]> {
  const t = conn.target;
  const id = randomUUID();
  const request: AgentRequest<C> = { protocolVersion: PROTOCOL_VERSION, id, command, args };
  const decoder = new FrameDecoder();
  const hello = deferred<Envelope>();
  const ready = deferred<void>();
  const response = deferred<Envelope>();
  const protocolError = (msg: string) =>
    new SshError("AGENT_PROTOCOL", `keel-agent on ${t.name} broke the protocol during ${command}: ${msg}. Make sure the agent matches the console (ensureAgent).`, {
      host: t.name,
      step: "run-agent",
    });

  const onStdout = envelopeReader(t, decoder, protocolError, ` before running ${command}`, (v) => {
    if (v.event === "hello") hello.resolve(v);
    else if (v.event === "ready" && v.id === id) ready.resolve();
    else if (v.event === "progress" && v.id === id) opts.onProgress?.(v as never);
    else if (v.event === undefined && (v.id === id || v.id === "") && typeof v.ok === "boolean") response.resolve(v);
    else throw protocolError(`an unexpected message (${printable(JSON.stringify(v), 120)})`);
  });

  const stream = opts.stream;
  async function* input(): AsyncGenerator<Buffer> {
    await hello.promise;
    yield encodeJsonFrame(request);
    if (stream) {
      const first = await Promise.race([ready.promise.then(() => "ready" as const), response.promise.then(() => "response" as const)]);
      if (first === "ready") {
        let sent = 0;
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          sent += chunk.length;
          for (const b of encodeDataFrames(chunk)) yield b;
          opts.onSent?.(sent);
        }
        yield encodeEndFrame();
      } else {
        stream.destroy();
      }
    }
    // Keep stdin open until the answer: closing it ends the serve session.
    await response.promise;
  }

  let exec: ExecResult;
  try {
    exec = await conn.exec(agentArgv(t, "serve"), {
      step: "run-agent",
      stdin: Readable.from(input()),
      onStdout,
      timeoutMs: opts.timeoutMs,
      maxOutputBytes: 64 * 1024 * 1024,
      signal: opts.signal,
    });
  } finally {
    const gone = new Error("agent session ended");
    hello.reject(gone);
    ready.reject(gone);
    response.reject(gone);
    stream?.destroy();
  }
  // Resolved before the session ended, or rejected by the finally block above.
  const answered = await response.promise.then(
    () => true,
    () => false,
  );
  if (!answered) {
    const argv = agentArgv(t, "serve");
    if (exec.exitCode !== 0) {
      const e = sudoOrFailure(t, argv, exec, "run-agent");
      if (e.code === "SUDO_REFUSED") throw e;
      throw new SshError(
        "AGENT_PROTOCOL",
        `keel-agent on ${t.name} ended (${exec.exitSignal ? `signal ${exec.exitSignal}` : `exit ${exec.exitCode}`}) without answering ${command}: ${printable(lossyText(exec.stderr).trim(), 300) || "no message"}. Run ensureAgent, and check node on the host.`,
        { host: t.name, step: "run-agent", cause: e },
      );
    }
    throw protocolError(`it ended without answering (${describe(argv)})`);
  }
  const res = await response.promise;
  if (res.ok === true) {
    if (typeof res.result !== "object" || res.result === null) throw protocolError("a response without a result");
    return res.result as CommandResults[C];
  }
  const body = res.error;
  if (!body || typeof body.code !== "string" || typeof body.message !== "string") throw protocolError("an error response without an error");
  throw new AgentCommandError(t, command, body);
}

/** `receive` a release: the stream file goes from disk through the channel with backpressure. */
export function receiveRelease(
  conn: SshConnection,
  args: CommandArgs["receive"],
  streamPath: string,
  opts: Omit<RunAgentOptions, "stream"> = {},
): Promise<CommandResults["receive"]> {
  return runAgent(conn, "receive", args, { ...opts, stream: createReadStream(streamPath, { highWaterMark: 256 * 1024 }) });
}

export interface AgentHello {
  agentVersion: string;
  agentSha256: string | null;
  pid: number;
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
  private current: { id: string; response: Deferred<Envelope>; ready: Deferred<void>; onProgress?: AgentRequestOptions["onProgress"] } | null = null;
  private ended: Error | null = null;

  private constructor(
    readonly conn: SshConnection,
    hello: Envelope,
    private readonly stdin: PassThrough,
    private readonly done: Promise<ExecResult | Error>,
    private readonly setRouter: (route: (v: Envelope) => void) => void,
  ) {
    this.hello = { agentVersion: String(hello.agentVersion ?? ""), agentSha256: typeof hello.agentSha256 === "string" ? hello.agentSha256 : null, pid: Number(hello.pid ?? 0) };
    setRouter((v) => this.route(v));
    void done.then((r) => {
      this.ended = r instanceof Error ? r : new Error(`agent session ended (${r.exitSignal ? `signal ${r.exitSignal}` : `exit ${r.exitCode}`}): ${printable(lossyText(r.stderr).trim(), 300) || "no message"}`);
      this.current?.response.reject(this.sessionEnded());
      this.current?.ready.reject(this.sessionEnded());
      this.stdin.destroy();
    });
  }

  /** Envelope routing shared by both ways of reaching an agent: the hello first, then the session's. */
  private static plumbing(conn: SshConnection) {
    const t = conn.target;
    const hello = deferred<Envelope>();
    let route: ((v: Envelope) => void) | null = null;
    const pending: Envelope[] = [];
    const protocolError = (msg: string) =>
      new SshError("AGENT_PROTOCOL", `keel-agent on ${t.name} broke the protocol: ${msg}. Make sure the agent matches the console (ensureAgent).`, { host: t.name, step: "run-agent" });
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

  /** Start `keel-agent serve` and wait for its hello. Fails like runAgent when the agent cannot start. */
  static async open(conn: SshConnection, opts: { timeoutMs?: number; signal?: AbortSignal; residentSeconds?: number } = {}): Promise<AgentSession> {
    const t = conn.target;
    const { hello, onStdout, protocolError, session } = AgentSession.plumbing(conn);
    const stdin = new PassThrough();
    const argv = agentArgv(t, "serve", ...(opts.residentSeconds ? ["--resident", String(opts.residentSeconds)] : []));
    const done: Promise<ExecResult | Error> = conn
      .exec(argv, { step: "run-agent", stdin, onStdout, timeoutMs: opts.timeoutMs, maxOutputBytes: 256 * 1024 * 1024, signal: opts.signal })
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
  static async openResident(conn: SshConnection, opts: { timeoutMs?: number; helloTimeoutMs?: number } = {}): Promise<AgentSession | null> {
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
        resolve(broke ?? { exitCode: 0, exitSignal: null, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), durationMs: Date.now() - started });
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
    return new SshError("AGENT_PROTOCOL", `keel-agent on ${t.name}: ${this.ended?.message ?? "the session ended"}`, { host: t.name, step: "run-agent", cause: this.ended ?? undefined });
  }

  private route(v: Envelope): void {
    const c = this.current;
    if (v.event === "ready" && c && v.id === c.id) c.ready.resolve();
    else if (v.event === "progress" && c && v.id === c.id) c.onProgress?.(v as never);
    else if (v.event === undefined && c && (v.id === c.id || v.id === "") && typeof v.ok === "boolean") c.response.resolve(v);
    else {
      const t = this.conn.target;
      const e = new SshError("AGENT_PROTOCOL", `keel-agent on ${t.name} sent an unexpected message (${printable(JSON.stringify(v), 120)}).`, { host: t.name, step: "run-agent" });
      c?.response.reject(e);
      this.stdin.destroy();
    }
  }

  private write(b: Buffer): Promise<void> | null {
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
  async request<C extends Command>(command: C, args: CommandArgs[C], opts: AgentRequestOptions = {}): Promise<CommandResults[C]> {
    const t = this.conn.target;
    if (this.busy) throw new Error("AgentSession: one request at a time");
    if (this.ended) throw this.sessionEnded();
    this.busy = true;
    const started = Date.now();
    const id = randomUUID();
    const c = { id, response: deferred<Envelope>(), ready: deferred<void>(), onProgress: opts.onProgress };
    this.current = c;
    const stream = opts.stream;
    try {
      const request: AgentRequest<C> = { protocolVersion: PROTOCOL_VERSION, id, command, args };
      await this.write(encodeJsonFrame(request));
      if (stream) {
        const first = await Promise.race([c.ready.promise.then(() => "ready" as const), c.response.promise.then(() => "response" as const)]);
        if (first === "ready") {
          let sent = 0;
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            if (c.response.settled) break; // the agent refused mid-stream; it skips the rest
            sent += chunk.length;
            for (const b of encodeDataFrames(chunk)) await this.write(b);
            opts.onSent?.(sent);
          }
          await this.write(encodeEndFrame());
        }
      }
      const res = await c.response.promise;
      if (res.ok === true) {
        if (typeof res.result !== "object" || res.result === null)
          throw new SshError("AGENT_PROTOCOL", `keel-agent on ${t.name} answered ${command} without a result.`, { host: t.name, step: "run-agent" });
        this.log.push({ command, ok: true, ms: Date.now() - started });
        return res.result as CommandResults[C];
      }
      const body = res.error;
      if (!body || typeof body.code !== "string" || typeof body.message !== "string")
        throw new SshError("AGENT_PROTOCOL", `keel-agent on ${t.name} answered ${command} with an error without an error.`, { host: t.name, step: "run-agent" });
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
    this.stdin.end();
    await this.done;
  }
}

/** `receive` a release in a session: the stream file goes from disk through the channel with backpressure. */
export function receiveReleaseIn(session: AgentSession, args: CommandArgs["receive"], streamPath: string, opts: Omit<AgentRequestOptions, "stream"> = {}) {
  return session.request("receive", args, { ...opts, stream: createReadStream(streamPath, { highWaterMark: 256 * 1024 }) });
}

/**
 * A session with the console's agent. With residentSeconds (root logins without a forced command),
 * the host's resident agent is asked first — no process started on the host; when there is none,
 * or it runs another bundle, `serve --resident` is started instead and leaves one behind when it
 * ends. The hello's digest is compared with the bundle, and only when it differs (or the agent does
 * not start) is ensureAgent run — which uploads it or explains what is missing (node, sudo) — and
 * the session opened again.
 */
export async function openCheckedSession(
  conn: SshConnection,
  opts: { bundle: AgentBundle; timeoutMs?: number; residentSeconds?: number },
): Promise<{ session: AgentSession; ensured: EnsureAgentResult | null; resident: boolean }> {
  const t = conn.target;
  const residentSeconds = t.sudo || t.forcedCommand ? 0 : (opts.residentSeconds ?? 0);
  if (residentSeconds) {
    const r = await AgentSession.openResident(conn, { timeoutMs: opts.timeoutMs });
    if (r && r.hello.agentSha256 === opts.bundle.sha256) return { session: r, ensured: null, resident: true };
    // Another bundle: it notices its file change after the upload below and exits by itself.
    void r?.close().catch(() => undefined);
  }
  const open = () => AgentSession.open(conn, { timeoutMs: opts.timeoutMs, residentSeconds });
  let first: AgentSession | null = null;
  try {
    first = await open();
  } catch (e) {
    if (e instanceof SshError && (e.code === "SUDO_REFUSED" || e.code === "HOST_KEY_CHANGED" || e.code === "CONNECTION_LOST" || e.code === "KEEPALIVE_TIMEOUT")) throw e;
  }
  if (first && first.hello.agentSha256 === opts.bundle.sha256) return { session: first, ensured: null, resident: false };
  await first?.close().catch(() => undefined);
  const ensured = await ensureAgent(conn, { bundle: opts.bundle });
  // ensureAgent checked the file's digest on the host; the agent now running is that file.
  return { session: await open(), ensured, resident: false };
}
