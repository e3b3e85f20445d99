// The agent's side of the wire as the console reads it: envelopes decoded from frames and
// checked (an id, the console's protocol version), and the agent's own failures as errors.
import { FramingError, PROTOCOL_VERSION, type AgentErrorBody, type FrameDecoder } from "@/agent/protocol";
import { SshError } from "./errors";
import { printable, type SshTarget } from "./target";

/** The agent failed the command itself (its own error code, e.g. BAD_SIGNATURE, DISK_FULL). */
export class AgentCommandError extends SshError {
  readonly agentError: AgentErrorBody;
  constructor(target: SshTarget, command: string, body: AgentErrorBody) {
    super(
      "AGENT_FAILED",
      `keel-agent ${command} failed on ${target.name} at step ${body.step}: ${printable(body.message, 300)} (${body.code}).`,
      {
        host: target.name,
        step: "run-agent",
        details: { agentCode: body.code, agentStep: body.step, retryable: body.retryable },
      },
    );
    this.agentError = body;
  }
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
  settled: boolean;
}
export function deferred<T>(): Deferred<T> {
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

export type Envelope = {
  protocolVersion: number;
  id: string;
  ok?: boolean;
  event?: string;
  result?: unknown;
  error?: AgentErrorBody;
} & Record<string, unknown>;

/**
 * The agent's stdout as envelopes: frames decoded, each checked to be a JSON message with an id in
 * the console's protocol version, then handed on. A violation throws (ending the channel).
 */
export function envelopeReader(
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
      if (typeof v !== "object" || v === null || typeof v.id !== "string")
        throw protocolError("a message without an id");
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
