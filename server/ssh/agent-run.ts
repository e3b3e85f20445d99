// One-shot agent calls: open a session (`keel-agent serve`), send one request, close it. Built on
// AgentSession, the one protocol client; a host step that sends several requests keeps one open.
import { createReadStream } from "node:fs";
import { type Readable } from "node:stream";
import { type Command, type CommandArgs, type CommandResults } from "@/agent/protocol";
import { AgentSession } from "./agent-session";
import { type SshConnection } from "./connection";
import { SshError } from "./errors";

export interface RunAgentOptions {
  timeoutMs?: number;
  /** For `receive`: the stream's bytes, sent as DATA frames after the agent says `ready`. */
  stream?: Readable;
  onProgress?: (p: { step: string; bytes: number; totalBytes: number | null }) => void;
  /** Bytes of stream sent so far (called per chunk). */
  onSent?: (bytes: number) => void;
  signal?: AbortSignal;
}

/** Run one agent command through `keel-agent serve` and return its validated result. */
export async function runAgent<C extends Command>(
  conn: SshConnection,
  command: C,
  args: CommandArgs[C],
  opts: RunAgentOptions = {},
): Promise<CommandResults[C]> {
  const { timeoutMs, signal, ...requestOpts } = opts;
  let session: AgentSession;
  try {
    session = await AgentSession.open(conn, { timeoutMs, signal, maxOutputBytes: 64 * 1024 * 1024 });
  } catch (e) {
    opts.stream?.destroy();
    throw e;
  }
  try {
    return await session.request(command, args, requestOpts);
  } catch (e) {
    throw whyItEnded(e);
  } finally {
    await session.close();
  }
}

/**
 * A session that ended under a request reports AGENT_PROTOCOL with the reason as its cause; a
 * one-shot caller gets the reason itself (the timeout, the lost connection, the cancellation).
 */
function whyItEnded(e: unknown): unknown {
  if (e instanceof SshError && e.code === "AGENT_PROTOCOL" && e.cause instanceof SshError) return e.cause;
  return e;
}

/** `receive` a release: the stream file goes from disk through the channel with backpressure. */
export function receiveRelease(
  conn: SshConnection,
  args: CommandArgs["receive"],
  streamPath: string,
  opts: Omit<RunAgentOptions, "stream"> = {},
): Promise<CommandResults["receive"]> {
  return runAgent(conn, "receive", args, {
    ...opts,
    stream: createReadStream(streamPath, { highWaterMark: 256 * 1024 }),
  });
}
