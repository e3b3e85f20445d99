// Where a receive's bytes come from: a file or stdin (CLI), or DATA frames (serve). open() is called
// only after the request passed every check that needs no stream bytes, so that `serve` can tell
// the console "ready" — a refused or already-installed release costs no transfer.
import { closeSync, openSync, readSync } from "node:fs";
import type { Readable } from "node:stream";

/** Reads a file straight into the caller's buffer: no copy, no buffer of its own. */
export interface FileReader {
  /** Reads up to len bytes into buf at off; 0 at the end of the file. */
  read(buf: Buffer, off: number, len: number): number;
  close(): void;
}

export interface StreamInput {
  /** The bytes as pieces; a piece is valid until the next one is asked for. */
  open(): AsyncIterable<Buffer>;
  /** A file input (raw wire encoding): read into the receive pipeline's own buffer instead. */
  openFile?(): FileReader;
}

/**
 * A file read with read(2) on the main thread, straight into the receive pipeline's ring buffer
 * (store/stage.ts): from the page cache a 256 KiB read takes tens of microseconds, less than a
 * thread-pool round trip, and no thread pool (nor its memory) is started for it.
 */
function fileReader(path: string): FileReader {
  let fd: number | null = openSync(path, "r");
  return {
    read: (buf, off, len) => readSync(fd!, buf, off, len, null),
    close: () => {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}

/** The pieces of a file through one reused 256 KiB buffer (the delta decoder's path; it copies them). */
async function* readPieces(path: string): AsyncGenerator<Buffer> {
  const r = fileReader(path);
  const buf = Buffer.allocUnsafe(256 * 1024);
  try {
    for (;;) {
      const n = r.read(buf, 0, buf.length);
      if (n === 0) return;
      yield buf.subarray(0, n);
    }
  } finally {
    r.close();
  }
}

export function fileInput(path: string): StreamInput {
  if (path === "-") return { open: () => process.stdin as Readable };
  return { open: () => readPieces(path), openFile: () => fileReader(path) };
}
