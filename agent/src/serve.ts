// `keel-agent serve`: the request loop the console drives over SSH. Framing and session rules are
// in agent/protocol/framing.ts. One request at a time; a receive's bytes arrive as DATA frames
// after the agent has sent `ready`.
import type { Readable, Writable } from "node:stream";
import {
  FrameDecoder,
  PROTOCOL_VERSION,
  REQUEST_ID_PATTERN,
  encodeJsonFrame,
  encodeJsonFrameD,
  encodeJsonFrameZ,
  isProtocolCompatible,
  validateRequest,
  type AgentMessage,
  type Frame,
} from "../protocol";
import { createContext } from "./context";
import { runCommand } from "./dispatch";
import { AgentError, toErrorBody } from "./errors";
import type { StreamInput } from "./input";
import { WIRE_FEATURES } from "../protocol/wire/features";
import { AGENT_VERSION, agentSha256 } from "./version";
import { span, timingStart } from "./timing";

const PAUSE_ABOVE = 8 * 1024 * 1024;
const RESUME_BELOW = 2 * 1024 * 1024;

type Next = Frame | { kind: "eof" } | { kind: "error"; error: Error };

/** Frames from stdin as an awaitable queue, pausing stdin while too many DATA bytes wait. */
class FrameQueue {
  private frames: Next[] = [];
  private waiting: ((f: Next) => void) | null = null;
  private queuedBytes = 0;
  private done = false;

  constructor(private readonly input: Readable) {
    const decoder = new FrameDecoder();
    input.on("data", (chunk: Buffer) => {
      if (this.done) return;
      try {
        for (const f of decoder.push(chunk)) this.put(f);
      } catch (e) {
        this.finish({ kind: "error", error: e as Error });
      }
    });
    input.on("end", () => this.finish({ kind: "eof" }));
    input.on("error", (e) => this.finish({ kind: "error", error: e }));
  }

  private finish(f: Next): void {
    if (this.done) return;
    this.done = true;
    this.put(f);
  }

  private put(f: Next): void {
    if (f.kind === "data") {
      this.queuedBytes += f.data.length;
      if (this.queuedBytes > PAUSE_ABOVE) this.input.pause();
    }
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      this.taken(f);
      w(f);
    } else this.frames.push(f);
  }

  private taken(f: Next): void {
    if (f.kind === "data") {
      this.queuedBytes -= f.data.length;
      if (this.queuedBytes < RESUME_BELOW && this.input.isPaused()) this.input.resume();
    }
  }

  next(): Promise<Next> {
    const f = this.frames.shift();
    if (f) {
      this.taken(f);
      return Promise.resolve(f);
    }
    return new Promise((r) => (this.waiting = r));
  }
}

export interface ServeOptions {
  store: string;
  trusted: string;
  input: Readable;
  output: Writable;
}

export async function serve(opts: ServeOptions): Promise<number> {
  const queue = new FrameQueue(opts.input);
  // A client that sent its request compressed ("json-z" / "json-d1" in the hello) reads answers in that form.
  let compressed: true | "json-d1" | undefined;
  const send = (m: AgentMessage): Promise<void> =>
    new Promise((resolve, reject) => {
      const f =
        compressed === "json-d1"
          ? encodeJsonFrameD(m)
          : compressed
            ? encodeJsonFrameZ(m)
            : encodeJsonFrame(m);
      opts.output.write(f, (e) => (e ? reject(e) : resolve()));
    });
  await send({
    protocolVersion: PROTOCOL_VERSION,
    id: "",
    event: "hello",
    agentVersion: AGENT_VERSION,
    agentSha256: agentSha256(),
    pid: process.pid,
    wire: WIRE_FEATURES,
  });

  for (;;) {
    const frame = await queue.next();
    if (frame.kind === "eof") return 0;
    if (frame.kind === "error" || frame.kind !== "json") {
      const message =
        frame.kind === "error"
          ? frame.error.message
          : `unexpected ${frame.kind.toUpperCase()} frame outside a receive`;
      await send({
        protocolVersion: PROTOCOL_VERSION,
        id: "",
        ok: false,
        error: { code: "BAD_REQUEST", step: "framing", message, retryable: false },
      });
      return 2;
    }
    compressed = frame.compressed;
    const raw = frame.value as { id?: unknown; protocolVersion?: unknown } | null;
    const id = typeof raw?.id === "string" && REQUEST_ID_PATTERN.test(raw.id) ? raw.id : "";
    if (typeof raw?.protocolVersion === "number" && !isProtocolCompatible(raw.protocolVersion)) {
      await send({
        protocolVersion: PROTOCOL_VERSION,
        id,
        ok: false,
        error: {
          code: "PROTOCOL_MISMATCH",
          step: "request",
          message: `agent speaks protocol ${PROTOCOL_VERSION}, request uses ${raw.protocolVersion}`,
          retryable: false,
        },
      });
      continue;
    }
    let streaming: "no" | "open" | "ended" = "no";
    let lastProgress = 0;
    let progressed = false;
    const ctx = createContext(opts.store, opts.trusted, (step, bytes, totalBytes) => {
      // A stream handed off whole at its first report (one chunk: a small delta) gets no progress
      // event: its response follows (decision 0044). Once one went out, the others go as before.
      if (!progressed && totalBytes !== null && bytes >= totalBytes) return;
      const now = Date.now();
      if (now - lastProgress < 250) return;
      lastProgress = now;
      progressed = true;
      void send({ protocolVersion: PROTOCOL_VERSION, id, event: "progress", step, bytes, totalBytes });
    });
    const input: StreamInput = {
      open: () => {
        streaming = "open";
        return (async function* () {
          await send({ protocolVersion: PROTOCOL_VERSION, id, event: "ready" });
          for (;;) {
            const f = await queue.next();
            if (f.kind === "data") yield f.data;
            else if (f.kind === "end") {
              streaming = "ended";
              return;
            } else {
              streaming = "ended";
              if (f.kind === "abort")
                throw new AgentError("BAD_STREAM", "stage", "the console aborted sending the stream");
              if (f.kind === "eof")
                throw new AgentError(
                  "BAD_STREAM",
                  "stage",
                  "the stream was cut off (input closed before END)",
                );
              throw new AgentError(
                "BAD_REQUEST",
                "framing",
                f.kind === "error" ? f.error.message : "a JSON frame arrived in the middle of a stream",
              );
            }
          }
        })();
      },
    };
    let response: AgentMessage;
    const named = (raw as { command?: unknown } | null)?.command;
    const served = span(`request:${typeof named === "string" && /^[a-z-]{1,20}$/.test(named) ? named : "?"}`);
    timingStart();
    try {
      const req = validateRequest(frame.value);
      const result = await runCommand(req.command, req.args, ctx, input);
      response = { protocolVersion: PROTOCOL_VERSION, id, ok: true, result };
    } catch (e) {
      response = { protocolVersion: PROTOCOL_VERSION, id, ok: false, error: toErrorBody(e, "request") };
    }
    await send(response);
    served();
    // The command may have stopped reading mid-stream (refused bytes): skip the rest of them.
    while ((streaming as string) === "open") {
      const f = await queue.next();
      if (f.kind === "data") continue;
      if (f.kind === "end" || f.kind === "abort") break;
      if (f.kind === "eof") return 0;
      return 2;
    }
  }
}
