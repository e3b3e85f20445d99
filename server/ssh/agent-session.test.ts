import { Duplex, PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { FrameDecoder, PROTOCOL_VERSION, encodeJsonFrame, type Frame } from "@/agent/protocol";
import { AgentSession } from "./agent-session";
import type { SshConnection } from "./connection";

/** A resident agent's channel, played in-process: every channel write is recorded as the frames it held. */
function fakeAgent(wire?: string[]) {
  const writes: Frame["kind"][][] = [];
  /** Each request as it came: its id and the form of its JSON frame. */
  const requests: { id: string; form: string }[] = [];
  const decoder = new FrameDecoder();
  let receiving: string | null = null;
  let bytes = 0;
  const ch = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      const frames = decoder.push(chunk);
      writes.push(frames.map((f) => f.kind));
      for (const f of frames) {
        if (f.kind === "data") bytes += f.data.length;
        else if (f.kind === "end") answer({ id: receiving, ok: true, result: { bytes } });
        else if (f.kind === "json") {
          const req = f.value as { id: string; command: string };
          requests.push({ id: req.id, form: f.compressed === true ? "json-z" : (f.compressed ?? "json") });
          if (req.command === "receive") {
            receiving = req.id;
            answer({ id: req.id, event: "ready" });
          } else answer({ id: req.id, ok: true, result: { command: req.command } });
        }
      }
      cb();
    },
    final(cb) {
      this.push(null); // the agent ends the session when its input ends
      cb();
    },
  }) as Duplex & { stderr: PassThrough; close(): void };
  const answer = (v: object) => ch.push(encodeJsonFrame({ protocolVersion: PROTOCOL_VERSION, ...v }));
  ch.stderr = new PassThrough();
  ch.close = () => ch.destroy();
  answer({ id: "", event: "hello", agentVersion: "test", agentSha256: null, pid: 1, wire });
  const conn = {
    target: { name: "fake" },
    openStreamLocal: async () => ch,
  } as unknown as SshConnection;
  return { conn, writes, requests };
}

describe("AgentSession writes", () => {
  it("sends each DATA frame with its header in one channel write, and the last one with END", async () => {
    const { conn, writes } = fakeAgent();
    const s = (await AgentSession.openResident(conn))!;
    expect(await s.request("facts", {})).toEqual({ command: "facts" });
    const chunks = [Buffer.alloc(100_000, 1), Buffer.alloc(100_000, 2), Buffer.alloc(10_000, 3)];
    const r = await s.request("receive", { manifest: {} } as never, { stream: Readable.from(chunks) });
    expect(r).toEqual({ bytes: 210_000 });
    const streamed = writes.slice(2);
    // No write carries a header without its bytes (it would decode to no frame), END rides with the last DATA.
    expect(streamed.every((w) => w.length > 0)).toBe(true);
    expect(streamed.flat()).toEqual(["data", "data", "data", "end"]);
    expect(streamed.at(-1)).toEqual(["data", "end"]);
    await s.close();
  });
});

describe("AgentSession requests (decision 0044)", () => {
  const manifest = { app: "web", signature: "x".repeat(88), chunks: ["a".repeat(64)] };
  it.each([
    [undefined, "json"],
    [["json-z"], "json"], // a short request stays plain for json-z
    [["json-z", "json-d1"], "json-d1"],
  ])("hello listing %j: requests go as %s frames, with short per-session ids", async (wire, form) => {
    const { conn, requests } = fakeAgent(wire);
    const s = (await AgentSession.openResident(conn))!;
    expect(await s.request("facts", {})).toEqual({ command: "facts" });
    const r = await s.request("receive", { manifest } as never, {
      stream: Readable.from([Buffer.alloc(10)]),
    });
    expect(r).toEqual({ bytes: 10 });
    expect(await s.request("facts", {})).toEqual({ command: "facts" });
    expect(requests).toEqual([
      { id: "1", form },
      { id: "2", form },
      { id: "3", form },
    ]);
    await s.close();
  });
});
