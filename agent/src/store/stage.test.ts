// One-pass staging and verification: StreamVerifier sees the bytes in pieces of any size (pieces
// straddle chunk boundaries, as delta-decoded output does) and checks them against the manifest;
// the staged file is unnamed. The btrfs-backed paths are covered by agent/test (int).
import { createHash, randomBytes } from "node:crypto";
import { closeSync, fstatSync, mkdtempSync, readdirSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ReleaseManifest } from "../../protocol";
import { AgentError } from "../errors";
import { StreamProblem } from "./send-stream";
import { openStagingFile, stageStream, StreamVerifier, type Inspector } from "./stage";

const CHUNK = 1000;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function manifestFor(data: Buffer): ReleaseManifest {
  const chunks: string[] = [];
  for (let i = 0; i < data.length; i += CHUNK) chunks.push(sha(data.subarray(i, i + CHUNK)));
  return { stream: { format: "btrfs-send", compression: "none", bytes: data.length, sha256: sha(data), chunkSize: CHUNK, chunks } } as unknown as ReleaseManifest;
}

/** Records what it was fed; throws a StreamProblem once it has seen `failAt` bytes. */
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

/** Feeds data in pieces of pseudo-random sizes (1..2.5 chunks) so that pieces straddle chunks. */
function feed(v: StreamVerifier, data: Buffer): void {
  let off = 0;
  let n = 7;
  while (off < data.length) {
    n = (n * 1103515245 + 12345) & 0x7fffffff;
    const len = 1 + (n % (2.5 * CHUNK));
    v.update(data.subarray(off, off + len));
    off += len;
  }
}

function errorOf(f: () => void): AgentError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AgentError);
    return e as AgentError;
  }
  throw new Error("expected an error");
}

describe("StreamVerifier", () => {
  const data = randomBytes(10 * CHUNK + 321);

  it("accepts the signed bytes in pieces of any size and feeds all of them, in order, to the inspector", () => {
    const r = new Recorder();
    const v = new StreamVerifier(manifestFor(data), r);
    feed(v, data);
    v.finish();
    expect(Buffer.concat(r.seen).equals(data)).toBe(true);
  });

  it("refuses a damaged chunk as soon as that chunk is complete", () => {
    const bad = Buffer.from(data);
    bad[3 * CHUNK + 5]! ^= 1;
    const v = new StreamVerifier(manifestFor(data), new Recorder());
    v.update(bad.subarray(0, 3 * CHUNK)); // chunks 0–2 are fine
    const e = errorOf(() => v.update(bad.subarray(3 * CHUNK, 4 * CHUNK)));
    expect(e.code).toBe("DIGEST_MISMATCH");
    expect(e.step).toBe("verify");
    expect(e.message).toMatch(/chunk 3 /);
  });

  it("refuses a truncated stream, a longer one, and a whole-stream digest that does not match", () => {
    const m = manifestFor(data);
    const short = new StreamVerifier(m, new Recorder());
    feed(short, data.subarray(0, data.length - 1));
    expect(errorOf(() => short.finish()).message).toMatch(/truncated/);
    const long = new StreamVerifier({ ...m, stream: { ...m.stream, bytes: data.length - 321, chunks: m.stream.chunks.slice(0, 10) } }, new Recorder());
    feed(long, data);
    expect(errorOf(() => long.finish()).message).toMatch(/longer/);
    const otherWhole = new StreamVerifier({ ...m, stream: { ...m.stream, sha256: sha(Buffer.from("x")) } }, new Recorder());
    feed(otherWhole, data);
    expect(errorOf(() => otherWhole.finish()).message).toMatch(/SHA-256/);
  });

  it("reports a structural problem only once its chunk matched its signed digest", () => {
    const v = new StreamVerifier(manifestFor(data), new Recorder(2 * CHUNK + 10));
    v.update(data.subarray(0, 2 * CHUNK + 500)); // the inspector failed inside chunk 2, not complete yet
    const e = errorOf(() => v.update(data.subarray(2 * CHUNK + 500, 3 * CHUNK)));
    expect(e).toMatchObject({ code: "BAD_STREAM", step: "verify" });

    const bad = Buffer.from(data);
    bad[2 * CHUNK + 700]! ^= 1; // the same structural failure, but the bytes are not the signed ones
    const w = new StreamVerifier(manifestFor(data), new Recorder(2 * CHUNK + 10));
    expect(errorOf(() => feed(w, bad)).code).toBe("DIGEST_MISMATCH");
  });
});

describe("stageStream and openStagingFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "keel-stage-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes exactly the verified bytes into an unnamed file", async () => {
    const data = randomBytes(5 * CHUNK + 17);
    const m = manifestFor(data);
    const fd = openStagingFile(dir);
    try {
      expect(readdirSync(dir)).toEqual([]); // O_TMPFILE: nothing to open by path
      expect(fstatSync(fd).nlink).toBe(0);
      const verifier = new StreamVerifier(m, new Recorder());
      const input = (async function* () {
        for (let off = 0; off < data.length; off += 777) yield data.subarray(off, off + 777);
      })();
      const r = await stageStream({ fd, input, wire: "raw", deltaParentDir: null, manifest: m, verifier, progress: () => undefined });
      verifier.finish();
      expect(r).toEqual({ wireBytes: data.length, bytes: data.length });
      const back = Buffer.alloc(data.length + 1);
      expect(readSync(fd, back, 0, back.length, 0)).toBe(data.length);
      expect(back.subarray(0, data.length).equals(data)).toBe(true);
    } finally {
      closeSync(fd);
    }
  });

  it("stops staging at the first chunk that does not match", async () => {
    const data = randomBytes(8 * CHUNK);
    const m = manifestFor(data);
    const bad = Buffer.from(data);
    bad[CHUNK + 1]! ^= 1;
    let pulled = 0;
    const input = (async function* () {
      for (let off = 0; off < bad.length; off += CHUNK) {
        pulled++;
        yield bad.subarray(off, off + CHUNK);
      }
    })();
    const fd = openStagingFile(dir);
    try {
      await expect(stageStream({ fd, input, wire: "raw", deltaParentDir: null, manifest: m, verifier: new StreamVerifier(m, new Recorder()), progress: () => undefined })).rejects.toMatchObject({
        code: "DIGEST_MISMATCH",
      });
      expect(pulled).toBe(2);
    } finally {
      closeSync(fd);
    }
  });
});
