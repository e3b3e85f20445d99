// The `keel-agent serve` framing (protocol version 1), shared by the agent and the console.
//
// Both directions carry frames:   kind (1 byte) | length (uint32 big-endian) | payload (length bytes)
//   kind 0x4A "J"  JSON: one UTF-8 JSON object (request, response or event), ≤ MAX_JSON_FRAME bytes
//   kind 0x44 "D"  DATA: stream bytes of the receive in flight, 1..MAX_DATA_FRAME bytes
//   kind 0x45 "E"  END:  the stream of the receive in flight is complete (length 0)
//   kind 0x41 "A"  ABORT: the client gives up sending the stream (length 0); the agent cleans up
//   kind 0x5A "Z"  JSON, brotli-compressed (sent only to an agent whose hello lists "json-z"; wire/json-z.ts)
//   kind 0x64 "d"  JSON, deflated against a preset dictionary (only to an agent whose hello lists "json-d1"; wire/json-d.ts)
//
// Session: the agent writes a `hello` event first. The client sends one request at a time and
// waits for its response. For `receive`, the agent answers either with a response (e.g. refused,
// or already installed) or with a `ready` event; only after `ready` does the client send DATA
// frames and one END (or ABORT). The agent sends the response after the stream is handled.
// Closing stdin ends the session; an unfinished receive is then treated as truncated.
// Anything else (unknown kind, over-long frame, DATA outside a receive) is a protocol error:
// the agent writes an error response with id "" and exits.

import { MIN_JSON_Z_BYTES, deflateJson, inflateJson } from "./wire/json-z";
import { deflateJsonD, inflateJsonD } from "./wire/json-d";

export const FRAME_JSON = 0x4a;
export const FRAME_DATA = 0x44;
export const FRAME_END = 0x45;
export const FRAME_ABORT = 0x41;
export const FRAME_JSON_Z = 0x5a;
export const FRAME_JSON_D = 0x64;
export const FRAME_HEADER_BYTES = 5;
export const MAX_JSON_FRAME = 32 * 1024 * 1024;
export const MAX_DATA_FRAME = 1024 * 1024;

export type Frame =
  /** compressed: true for a "Z" frame, "json-d1" for a "d" frame (answer in the same form). */
  | { kind: "json"; value: unknown; compressed?: true | "json-d1" }
  | { kind: "data"; data: Buffer }
  | { kind: "end" }
  | { kind: "abort" };

export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FramingError";
  }
}

/** The same JSON, compressed (a "Z" frame) when it is long enough to gain and that is smaller. */
export function encodeJsonFrameZ(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), "utf8");
  if (body.length < MIN_JSON_Z_BYTES) return encodeJsonFrame(value);
  const z = deflateJson(body);
  if (z.length + 64 >= body.length) return encodeJsonFrame(value);
  return Buffer.concat([header(FRAME_JSON_Z, z.length), z]);
}

/** Largest JSON deflated against the dictionary; above it the brotli frame alone is tried (it gains more there). */
const MAX_JSON_D_BYTES = 64 * 1024;

/**
 * For a peer that lists "json-d1" (it lists "json-z" too): the smallest of the dictionary frame, the
 * brotli frame (from MIN_JSON_Z_BYTES) and the plain one.
 */
export function encodeJsonFrameD(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), "utf8");
  if (body.length > MAX_JSON_D_BYTES) return encodeJsonFrameZ(value);
  let best: { kind: number; payload: Buffer } = { kind: FRAME_JSON_D, payload: deflateJsonD(body) };
  if (body.length <= best.payload.length) best = { kind: FRAME_JSON, payload: body };
  if (body.length >= MIN_JSON_Z_BYTES) {
    const z = deflateJson(body);
    if (z.length < best.payload.length) best = { kind: FRAME_JSON_Z, payload: z };
  }
  return Buffer.concat([header(best.kind, best.payload.length), best.payload]);
}

function header(kind: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  h.writeUInt8(kind, 0);
  h.writeUInt32BE(length, 1);
  return h;
}

export function encodeJsonFrame(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), "utf8");
  if (body.length > MAX_JSON_FRAME)
    throw new FramingError(`JSON frame of ${body.length} bytes exceeds ${MAX_JSON_FRAME}`);
  return Buffer.concat([header(FRAME_JSON, body.length), body]);
}

/** Splits data into DATA frames of at most MAX_DATA_FRAME bytes (header and payload buffers, no copy). */
export function encodeDataFrames(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += MAX_DATA_FRAME) {
    const part = data.subarray(off, Math.min(data.length, off + MAX_DATA_FRAME));
    out.push(header(FRAME_DATA, part.length), part);
  }
  return out;
}

export function encodeEndFrame(): Buffer {
  return header(FRAME_END, 0);
}

export function encodeAbortFrame(): Buffer {
  return header(FRAME_ABORT, 0);
}

/**
 * Incremental decoder: push() bytes as they arrive, get back complete frames.
 * Holds at most one partial frame; throws FramingError on malformed input.
 */
export class FrameDecoder {
  private parts: Buffer[] = [];
  private buffered = 0;
  private head: { kind: number; length: number } | null = null;

  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.parts.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (!this.head) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const h = this.take(FRAME_HEADER_BYTES);
        this.head = { kind: h.readUInt8(0), length: h.readUInt32BE(1) };
        checkHeader(this.head.kind, this.head.length);
      }
      if (this.buffered < this.head.length) break;
      const payload = this.take(this.head.length);
      frames.push(toFrame(this.head.kind, payload));
      this.head = null;
    }
    return frames;
  }

  /** Bytes of an unfinished frame (non-zero at end of input means the peer was cut off). */
  get pending(): number {
    return this.buffered + (this.head ? FRAME_HEADER_BYTES : 0);
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.parts[0];
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.parts.shift();
      else this.parts[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const all = Buffer.concat(this.parts);
    const out = all.subarray(0, n);
    this.parts = all.length > n ? [all.subarray(n)] : [];
    this.buffered -= n;
    return out;
  }
}

function checkHeader(kind: number, length: number): void {
  switch (kind) {
    case FRAME_JSON:
    case FRAME_JSON_Z:
    case FRAME_JSON_D:
      if (length > MAX_JSON_FRAME)
        throw new FramingError(`JSON frame of ${length} bytes exceeds ${MAX_JSON_FRAME}`);
      return;
    case FRAME_DATA:
      if (length === 0 || length > MAX_DATA_FRAME)
        throw new FramingError(`DATA frame length ${length} is outside 1..${MAX_DATA_FRAME}`);
      return;
    case FRAME_END:
    case FRAME_ABORT:
      if (length !== 0) throw new FramingError(`END/ABORT frame must be empty, got ${length} bytes`);
      return;
    default:
      throw new FramingError(`unknown frame kind 0x${kind.toString(16).padStart(2, "0")}`);
  }
}

function toFrame(kind: number, payload: Buffer): Frame {
  switch (kind) {
    case FRAME_JSON:
    case FRAME_JSON_Z:
    case FRAME_JSON_D: {
      const text =
        kind === FRAME_JSON
          ? payload
          : kind === FRAME_JSON_Z
            ? inflateJson(payload, MAX_JSON_FRAME)
            : inflateJsonD(payload, MAX_JSON_FRAME);
      if (typeof text === "string") throw new FramingError(text);
      let value: unknown;
      try {
        value = JSON.parse(text.toString("utf8"));
      } catch {
        throw new FramingError("JSON frame does not hold valid JSON");
      }
      if (kind === FRAME_JSON_Z) return { kind: "json", value, compressed: true };
      return kind === FRAME_JSON_D ? { kind: "json", value, compressed: "json-d1" } : { kind: "json", value };
    }
    case FRAME_DATA:
      return { kind: "data", data: payload };
    case FRAME_END:
      return { kind: "end" };
    default:
      return { kind: "abort" };
  }
}
