// Where a receive's bytes come from: a file or stdin (CLI), or DATA frames (serve). open() is called
// only after the request passed every check that needs no stream bytes, so that `serve` can tell
// the console "ready" — a refused or already-installed release costs no transfer.
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";

export interface StreamInput {
  open(): AsyncIterable<Buffer>;
}

/**
 * Reads a file through one reused 256 KiB buffer: each piece is valid until the consumer asks for
 * the next one (the receive pipeline copies it before that), which keeps the agent's memory flat.
 * Pieces this small keep the main thread, which hashes them, returning often to the event loop
 * that feeds btrfs receive's pipe.
 */
async function* readReusing(path: string): AsyncGenerator<Buffer> {
  const fh = await open(path, "r");
  const buf = Buffer.allocUnsafe(256 * 1024);
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
