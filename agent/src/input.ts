// Where a receive's bytes come from: a file or stdin (CLI), or DATA frames (serve). open() is called
// only after the request passed every check that needs no stream bytes, so that `serve` can tell
// the console "ready" — a refused or already-installed release costs no transfer.
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";

export interface StreamInput {
  open(): AsyncIterable<Buffer>;
}

export function fileInput(path: string): StreamInput {
  return {
    open: () => (path === "-" ? (process.stdin as Readable) : createReadStream(path, { highWaterMark: 1024 * 1024 })),
  };
}
