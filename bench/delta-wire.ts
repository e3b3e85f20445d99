// Bytes on the wire counted whole, for `npm run bench:delta` (decision 0030): one real
// `keel-agent serve` session per transfer on the bench's host store, fed exactly what the console
// writes (the receive request with its signed manifest, DATA frames of ≤ 256 KiB pieces, END) and
// counting what the agent writes back (hello, ready, progress, the response).
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { once } from "node:events";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  FrameDecoder,
  PROTOCOL_VERSION,
  encodeDataFrames,
  encodeEndFrame,
  encodeJsonFrame,
  encodeJsonFrameD,
  encodeJsonFrameZ,
  type ReleaseManifest,
  type WireEncoding,
} from "@/agent/protocol";
import { compressDeltaHeader } from "@/agent/protocol/wire/delta-header";
import { compressBlocks } from "@/agent/protocol/wire/zblocks";

export interface WireCount {
  /** Everything the console wrote: request frame + DATA frames (headers included) + END. */
  sent: number;
  /** Everything the agent wrote back in the session. */
  back: number;
  /** Of `sent`: the request frame (manifest), and the payload bytes of the stream. */
  request: number;
  payload: number;
}

/** Writes the compressed wire form of `file` the console would send (q7 blocks / compressed header). */
export async function wireFile(
  file: string,
  as: "keel-z1" | "keel-delta-1z" | "keel-delta-2" | "keel-delta-c",
  out: string,
): Promise<number> {
  const src = createReadStream(file, { highWaterMark: 1024 * 1024 });
  const t0 = performance.now();
  const container = as === "keel-delta-c" ? "c" : as === "keel-delta-2" ? 2 : 1;
  const enc = as === "keel-z1" ? compressBlocks(src, 7) : compressDeltaHeader(src, container);
  await pipeline(Readable.from(enc), createWriteStream(out));
  return (performance.now() - t0) / 1000;
}

/**
 * One serve session: a receive of `manifest` with `file` as `wire`; the request as a plain ("j"),
 * brotli ("z") or json-d1 ("d", decision 0044) frame, with a UUID as its id (as consoles sent before
 * decision 0044) unless `id` is given (the console's per-session counter: "1").
 */
export async function serveReceive(opts: {
  agent: string;
  store: string;
  trusted: string;
  manifest: ReleaseManifest;
  wire: WireEncoding;
  file: string;
  json: "j" | "z" | "d";
  id?: string;
}): Promise<WireCount> {
  const child = spawn(
    process.execPath,
    [opts.agent, "serve", "--store", opts.store, "--trusted", opts.trusted],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const d = new FrameDecoder();
  let back = 0;
  let answer: { ok: boolean; error?: unknown } | null = null;
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  child.stdout.on("data", (b: Buffer) => {
    back += b.length;
    for (const f of d.push(b)) {
      const v = f.kind === "json" ? (f.value as { event?: string; ok?: boolean; error?: unknown }) : null;
      if (v?.event === "ready") readyResolve();
      if (v && v.ok !== undefined) {
        answer = { ok: v.ok, error: v.error };
        readyResolve();
      }
    }
  });
  const write = async (b: Buffer) => {
    if (!child.stdin.write(b)) await once(child.stdin, "drain");
  };
  const request = {
    protocolVersion: PROTOCOL_VERSION,
    id: opts.id ?? randomUUID(),
    command: "receive",
    args: { manifest: opts.manifest, wireEncoding: opts.wire },
  };
  const req =
    opts.json === "d"
      ? encodeJsonFrameD(request)
      : opts.json === "z"
        ? encodeJsonFrameZ(request)
        : encodeJsonFrame(request);
  let sent = req.length;
  let payload = 0;
  await write(req);
  await ready;
  if (!answer) {
    for await (const chunk of createReadStream(opts.file, {
      highWaterMark: 256 * 1024,
    }) as AsyncIterable<Buffer>) {
      for (const b of encodeDataFrames(chunk)) {
        sent += b.length;
        await write(b);
      }
      payload += chunk.length;
    }
    const end = encodeEndFrame();
    sent += end.length;
    await write(end);
  }
  child.stdin.end();
  await once(child, "close");
  const a = answer as { ok: boolean; error?: unknown } | null;
  if (!a?.ok) throw new Error(`serve receive (${opts.wire}) failed: ${JSON.stringify(a?.error)}`);
  return { sent, back, request: req.length, payload };
}
