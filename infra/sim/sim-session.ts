// One SIMULATED agent session on an SSH channel: the real framing (agent/protocol/framing.ts) and the
// real request validator (validateRequest), a `hello` first, one request at a time, `receive` as
// ready → DATA… → END → response. Faults (sim-faults.ts) delay answers, fail commands or drop the
// whole connection mid-session, as a host that goes away would.
import type { Duplex } from "node:stream";
import {
  FrameDecoder,
  PROTOCOL_VERSION,
  encodeJsonFrame,
  encodeJsonFrameZ,
  validateRequest,
  type AgentRequest,
  type CommandArgs,
} from "@/agent/protocol";
import { AgentError, type SimAgent } from "./sim-agent";
import { delayFor, type ConnectionFate, type SimFaults } from "./sim-faults";

const FAILABLE = new Set(["receive", "activate", "rollback"]);

export function serveSimSession(
  channel: Duplex,
  agent: SimAgent,
  faults: SimFaults,
  fate: ConnectionFate,
  pid: number,
): void {
  const decoder = new FrameDecoder();
  // As serve does: a client that sent a compressed request ("json-z") reads compressed answers.
  let compressed = false;
  const send = (v: unknown) => {
    const m = { protocolVersion: PROTOCOL_VERSION, ...(v as object) };
    channel.write(compressed ? encodeJsonFrameZ(m) : encodeJsonFrame(m));
  };
  let queue = Promise.resolve();
  let receiving: { req: AgentRequest<"receive">; bytes: number; done: () => void } | null = null;
  let closed = false;
  channel.on("close", () => (closed = true));
  channel.on("error", () => (closed = true));

  const protocolError = (message: string) => {
    send({ id: "", ok: false, error: { code: "BAD_REQUEST", step: "serve", message, retryable: false } });
    channel.end();
    closed = true;
  };

  const handle = async (raw: unknown) => {
    let req: AgentRequest;
    try {
      req = validateRequest(raw);
    } catch (e) {
      return protocolError((e as Error).message);
    }
    const c = agent.counters;
    c.requests++;
    c.byCommand[req.command] = (c.byCommand[req.command] ?? 0) + 1;
    if (fate.dropAtRequest === fate.requests++) return fate.drop();
    await delayFor(faults);
    if (closed) return;
    try {
      if (FAILABLE.has(req.command) && faults.failRate > 0 && Math.random() < faults.failRate) {
        c.injectedFailures++;
        throw new AgentError("IO_ERROR", req.command, `simulated failure of ${req.command} on ${agent.name}`);
      }
      if (req.command === "receive") {
        const args = req.args as CommandArgs["receive"];
        if (agent.checkReceive(args).already)
          return send({ id: req.id, ok: true, result: agent.alreadyReceived(args) });
        await new Promise<void>((done) => {
          receiving = { req: req as AgentRequest<"receive">, bytes: 0, done };
          send({ id: req.id, event: "ready" });
        });
        if (closed) return;
        const r = receiving as unknown as { bytes: number };
        receiving = null;
        return send({ id: req.id, ok: true, result: agent.finishReceive(args, r.bytes) });
      }
      send({ id: req.id, ok: true, result: agent.answer(req.command, req.args) });
    } catch (e) {
      if (e instanceof AgentError) return send({ id: req.id, ok: false, error: e.body() });
      send({
        id: req.id,
        ok: false,
        error: { code: "INTERNAL", step: req.command, message: String(e), retryable: false },
      });
    }
  };

  channel.on("data", (chunk: Buffer) => {
    let frames;
    try {
      frames = decoder.push(chunk);
    } catch (e) {
      return protocolError((e as Error).message);
    }
    for (const f of frames) {
      if (f.kind === "json") {
        if (f.compressed) compressed = true;
        queue = queue.then(async () => void (await handle(f.value)));
      } else if (!receiving) return protocolError(`${f.kind.toUpperCase()} frame outside a receive`);
      else if (f.kind === "data") receiving.bytes += f.data.length;
      else if (f.kind === "end") receiving.done();
      else {
        // ABORT: the console gave up the stream; nothing is installed.
        const id = receiving.req.id;
        receiving = null;
        send({
          id,
          ok: false,
          error: {
            code: "RECEIVE_FAILED",
            step: "receive",
            message: "aborted by the client",
            retryable: false,
          },
        });
      }
    }
  });
  // stdin closed: the session ends (serve exits 0).
  channel.on("end", () => {
    if (closed) return;
    closed = true;
    (channel as Duplex & { exit?: (code: number) => void }).exit?.(0);
    channel.end();
  });
  void delayFor(faults).then(() => {
    if (!closed)
      send({
        id: "",
        event: "hello",
        agentVersion: "0.0.0-simulated",
        agentSha256: agent.agentSha256,
        pid,
        // Compressed JSON frames as a real agent takes them, so the console pays what it pays for
        // a real host. Not the stream's wire forms: the simulator counts the bytes it is sent and
        // decodes nothing, so the console sends every release as stored.
        wire: ["json-z"],
      });
  });
}
