// The bytes of a release file as a receive sends them. A rollout sends the same delta to every
// host: a file up to 8 MiB is read once per console process and each host's session sends slices
// of that one buffer, instead of opening and reading the file again per host (1 MiB each time:
// ≈ 2 ms of the console's CPU per host step, docs/benchmarks.md). At most 64 MiB are kept, the
// least recently sent dropped first; larger files stream from disk. A file is known by its path,
// size and modification time (stored blobs are named by their digest and never rewritten, `.wire/`
// files by the blob's size and time); the host verifies what it receives against the signed
// manifest, so these bytes are a transport cache, never trusted.
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { Readable } from "node:stream";

const MAX_FILE = 8 * 1024 * 1024;
const MAX_KEPT = 64 * 1024 * 1024;

const kept = new Map<string, Buffer>();
let keptBytes = 0;
const reading = new Map<string, Promise<Buffer>>();

function keep(key: string, buf: Buffer): void {
  kept.set(key, buf);
  keptBytes += buf.length;
  for (const [k, b] of kept) {
    if (keptBytes <= MAX_KEPT) break;
    kept.delete(k);
    keptBytes -= b.length;
  }
}

function* slices(buf: Buffer, chunk: number): Generator<Buffer> {
  for (let at = 0; at < buf.length; at += chunk) yield buf.subarray(at, at + chunk);
}

/** The file at `path` in pieces of `chunk` bytes (the last may be shorter). */
export async function wireBytes(path: string, chunk: number): Promise<Readable> {
  const st = await stat(path);
  if (st.size > MAX_FILE) return createReadStream(path, { highWaterMark: chunk });
  const key = `${path}\0${st.size}\0${Math.trunc(st.mtimeMs)}`;
  let buf = kept.get(key);
  if (buf) {
    kept.delete(key); // most recently sent last
    kept.set(key, buf);
  } else {
    let p = reading.get(key);
    if (!p) {
      p = readFile(path).finally(() => reading.delete(key));
      reading.set(key, p);
    }
    buf = await p;
    if (buf.length === st.size && !kept.has(key)) keep(key, buf);
  }
  return Readable.from(slices(buf, chunk), { objectMode: true });
}

/** For tests: forget every kept file. */
export function forgetWireBytes(): void {
  kept.clear();
  keptBytes = 0;
}
