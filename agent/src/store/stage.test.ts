// Verifying while streaming (decision 0010): the sink (btrfs receive's stdin, the plain backend's
// staging file) gets a chunk only once its signed digest and its structure checked out, the last
// one only after the end of the stream did; pieces of any size (straddling chunks, as delta-decoded
// output does) and a file read straight into the ring are handled. The btrfs-backed paths are covered by agent/test (int).
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ReleaseManifest } from "../../protocol";
import { AgentError } from "../errors";
import { StreamProblem } from "./send-stream";
import { streamVerified, StreamVerifier, type Inspector, type VerifiedSink } from "./stage";

const CHUNK = 1000;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function manifestFor(data: Buffer): ReleaseManifest {
  const chunks: string[] = [];
  for (let i = 0; i < data.length; i += CHUNK) chunks.push(sha(data.subarray(i, i + CHUNK)));
  return {
    stream: {
      format: "btrfs-send",
      compression: "none",
      bytes: data.length,
      sha256: sha(data),
      chunkSize: CHUNK,
      chunks,
    },
  } as unknown as ReleaseManifest;
}

/** Records what it was fed; throws a StreamProblem once it has seen more than `failAt` bytes. */
class Recorder implements Inspector {
  seen: Buffer[] = [];
  total = 0;
  constructor(private readonly failAt = Infinity) {}
  push(chunk: Buffer): void {
    this.seen.push(Buffer.from(chunk));
    this.total += chunk.length;
    if (this.total > this.failAt) throw new StreamProblem("BAD_STREAM", "crafted");
  }
}

/** A sink that keeps copies of what it was handed (the pipeline reuses its buffers). */
class Sink implements VerifiedSink {
  got: Buffer[] = [];
  async write(buf: Buffer): Promise<void> {
    await new Promise((r) => setTimeout(r, 1));
    this.got.push(Buffer.from(buf));
  }
  get bytes(): Buffer {
    return Buffer.concat(this.got);
  }
}

/** Yields data in pieces of pseudo-random sizes (1..2.5 chunks) so that pieces straddle chunks; counts pulls. */
function pieces(data: Buffer, counter = { pulled: 0 }): AsyncIterable<Buffer> {
  return (async function* () {
    let off = 0;
    let n = 7;
    while (off < data.length) {
      n = (n * 1103515245 + 12345) & 0x7fffffff;
      const len = 1 + (n % (2.5 * CHUNK));
      counter.pulled += Math.min(len, data.length - off);
      yield Buffer.from(data.subarray(off, off + len));
      off += len;
    }
  })();
}

async function run(
  m: ReleaseManifest,
  input: AsyncIterable<Buffer>,
  inspector = new Recorder(),
  endOfStream: () => void = () => undefined,
) {
  const sink = new Sink();
  const verifier = new StreamVerifier(m, inspector);
  const handed: number[] = [];
  let error: AgentError | null = null;
  try {
    await streamVerified({
      input,
      wire: "raw",
      deltaParentDir: null,
      manifest: m,
      verifier,
      sink,
      endOfStream: () => {
        verifier.finish(() => undefined);
        endOfStream();
      },
      handedOff: (b) => void handed.push(b),
    });
  } catch (e) {
    expect(e).toBeInstanceOf(AgentError);
    error = e as AgentError;
  }
  return { sink, error, handed, inspector };
}

/** streamVerified of a raw stream read from `file` straight into the ring, verified against `m`. */
function runFile(
  m: ReleaseManifest,
  file: NonNullable<Parameters<typeof streamVerified>[0]["file"]>,
  sink: VerifiedSink,
  handedOff: (bytes: number, last: boolean) => void = () => undefined,
) {
  const verifier = new StreamVerifier(m, new Recorder());
  return streamVerified({
    file,
    wire: "raw",
    deltaParentDir: null,
    manifest: m,
    verifier,
    sink,
    endOfStream: () => verifier.finish(() => undefined),
    handedOff,
  });
}

describe("streamVerified", () => {
  const data = randomBytes(10 * CHUNK + 321);

  it("hands exactly the signed bytes to the sink, chunk by chunk, and all of them to the inspector", async () => {
    const r = await run(manifestFor(data), pieces(data));
    expect(r.error).toBeNull();
    expect(r.sink.bytes.equals(data)).toBe(true);
    expect(r.sink.got.map((b) => b.length)).toEqual([...Array(10).fill(CHUNK), 321]);
    expect(r.handed.at(-1)).toBe(data.length);
    expect(Buffer.concat(r.inspector.seen).equals(data)).toBe(true);
  });

  it("refuses a damaged chunk as soon as it is complete; the sink never sees it, and reading stops", async () => {
    const bad = Buffer.from(data);
    bad[3 * CHUNK + 5]! ^= 1;
    const counter = { pulled: 0 };
    const r = await run(manifestFor(data), pieces(bad, counter));
    expect(r.error).toMatchObject({ code: "DIGEST_MISMATCH", step: "verify" });
    expect(r.error!.message).toMatch(/chunk 3 /);
    expect(r.sink.bytes.equals(data.subarray(0, 3 * CHUNK))).toBe(true);
    expect(counter.pulled).toBeLessThan(7 * CHUNK); // at most two chunks are held
  });

  it("refuses a truncated stream and a longer one before the last chunk reaches the sink", async () => {
    const m = manifestFor(data);
    const short = await run(m, pieces(data.subarray(0, data.length - 1)));
    expect(short.error!.message).toMatch(/truncated/);
    expect(short.sink.bytes.equals(data.subarray(0, 10 * CHUNK))).toBe(true);
    const long = await run(
      { ...m, stream: { ...m.stream, bytes: data.length - 321, chunks: m.stream.chunks.slice(0, 10) } },
      pieces(data),
    );
    expect(long.error!.message).toMatch(/longer/);
    expect(long.sink.bytes.length).toBeLessThan(10 * CHUNK);
  });

  it("holds back the last chunk until the end of the stream checked out", async () => {
    const r = await run(manifestFor(data), pieces(data), new Recorder(), () => {
      throw new AgentError("BAD_STREAM", "verify", "no end marker");
    });
    expect(r.error).toMatchObject({ code: "BAD_STREAM", step: "verify" });
    expect(r.sink.bytes.equals(data.subarray(0, 10 * CHUNK))).toBe(true);
  });

  it("reports a structural problem once its chunk matched its digest, and releases nothing from that chunk on", async () => {
    const r = await run(manifestFor(data), pieces(data), new Recorder(2 * CHUNK + 10));
    expect(r.error).toMatchObject({ code: "BAD_STREAM", step: "verify" });
    expect(r.sink.bytes.equals(data.subarray(0, 2 * CHUNK))).toBe(true);

    const bad = Buffer.from(data);
    bad[2 * CHUNK + 700]! ^= 1; // the same structural failure, but the bytes are not the signed ones
    const w = await run(manifestFor(data), pieces(bad), new Recorder(2 * CHUNK + 10));
    expect(w.error!.code).toBe("DIGEST_MISMATCH");
    expect(w.sink.bytes.length).toBe(2 * CHUNK);
  });

  it("reads a file straight into its ring (short reads of any size), with the same checks", async () => {
    const file = (src: Buffer) => {
      let pos = 0;
      let n = 3;
      return {
        read: (buf: Buffer, off: number, len: number) => {
          n = (n * 1103515245 + 12345) & 0x7fffffff;
          const k = Math.min(len, 1 + (n % 700), src.length - pos);
          src.copy(buf, off, pos, pos + k);
          pos += k;
          return k;
        },
        close: () => undefined,
      };
    };
    const m = manifestFor(data);
    const sink = new Sink();
    const r = await runFile(m, file(data), sink);
    expect(r).toEqual({ wireBytes: data.length, bytes: data.length });
    expect(sink.bytes.equals(data)).toBe(true);

    const bad = Buffer.from(data);
    bad[6 * CHUNK + 1]! ^= 1;
    const sink2 = new Sink();
    await expect(runFile(m, file(bad), sink2)).rejects.toMatchObject({ code: "DIGEST_MISMATCH" });
    expect(sink2.bytes.equals(data.subarray(0, 6 * CHUNK))).toBe(true);
  });

  it("reports every chunk handed off when the ring wraps inside chunks (chunk larger than the ring's slack)", async () => {
    const chunk = 300 * 1024;
    const big = randomBytes(7 * chunk + 12345);
    const chunks: string[] = [];
    for (let i = 0; i < big.length; i += chunk) chunks.push(sha(big.subarray(i, i + chunk)));
    const m = {
      stream: {
        format: "btrfs-send",
        compression: "none",
        bytes: big.length,
        sha256: sha(big),
        chunkSize: chunk,
        chunks,
      },
    } as unknown as ReleaseManifest;
    const sink = new Sink();
    const handed: [number, boolean][] = [];
    let pos = 0;
    const file = {
      read: (buf: Buffer, off: number, len: number) =>
        big.copy(buf, off, pos, (pos += Math.min(len, big.length - pos))),
      close: () => undefined,
    };
    await runFile(m, file, sink, (b, last) => void handed.push([b, last]));
    expect(sink.bytes.equals(big)).toBe(true);
    expect(handed).toEqual([
      ...Array.from({ length: 7 }, (_, i): [number, boolean] => [(i + 1) * chunk, false]),
      [big.length, true],
    ]);
  });

  it("a failing sink ends the stream with the sink's error", async () => {
    const m = manifestFor(data);
    const verifier = new StreamVerifier(m, new Recorder());
    const sink: VerifiedSink = {
      write: async () => {
        throw new AgentError("RECEIVE_FAILED", "receive", "btrfs receive failed");
      },
    };
    await expect(
      streamVerified({
        input: pieces(data),
        wire: "raw",
        deltaParentDir: null,
        manifest: m,
        verifier,
        sink,
        endOfStream: () => undefined,
        handedOff: () => undefined,
      }),
    ).rejects.toMatchObject({ code: "RECEIVE_FAILED" });
  });
});
