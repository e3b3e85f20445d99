// Where a receive's bytes come from: a file or stdin (CLI), or DATA frames (serve). open() is called
// only after the request passed every check that needs no stream bytes, so that `serve` can tell
// the console "ready" — a refused or already-installed release costs no transfer.
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";

export interface StreamInput {
  open(): AsyncIterable<Buffer>;
}

/**
 * Reads a file through one reused 1 MiB buffer: each chunk is valid until the consumer asks for
 * the next one (stageStream writes it before that), which keeps the agent's memory flat.
 */
async function* readReusing(path: string): AsyncGenerator<Buffer> {
  const fh = await open(path, "r");
  const buf = Buffer.allocUnsafe(1024 * 1024);
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

export function fileInput(path: string): StreamInput {
  return { open: () => (path === "-" ? (process.stdin as Readable) : readReusing(path)) };
}
