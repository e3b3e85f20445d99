// A compressed JSON frame (kind 0x5A "Z", decision 0030): the same UTF-8 JSON as a "J" frame, brotli
// compressed. The console sends it (a receive request carries the signed manifest) only to an agent
// whose hello lists "json-z"; the agent inflates it into at most MAX_JSON_FRAME bytes and parses
// it exactly as a "J" frame, so the manifest's signature is checked over the same object.
import { brotliCompressSync, brotliDecompressSync, constants as zc } from "node:zlib";

/**
 * JSON frames shorter than this are sent as they are: a request without a manifest (facts, activate,
 * health, …) is a few hundred bytes, where compressing saves next to nothing on the wire.
 */
export const MIN_JSON_Z_BYTES = 1024;

/**
 * Brotli quality 5: on the manifests and facts these frames carry it compresses as small as quality 9
 * (within a few bytes) for a fiftieth of the CPU (quality 9 sets up large match tables for every frame,
 * 3–29 ms a frame; docs/benchmarks.md). Any quality inflates the same, so agents of earlier builds
 * read it unchanged.
 */
export function deflateJson(body: Buffer): Buffer {
  return brotliCompressSync(body, {
    params: {
      [zc.BROTLI_PARAM_QUALITY]: 5,
      [zc.BROTLI_PARAM_MODE]: zc.BROTLI_MODE_TEXT,
      [zc.BROTLI_PARAM_SIZE_HINT]: body.length,
    },
  });
}

/** The JSON text of a Z frame, or a message saying why not (the caller raises its FramingError). */
export function inflateJson(payload: Buffer, max: number): Buffer | string {
  try {
    return brotliDecompressSync(payload, { maxOutputLength: max });
  } catch (e) {
    return e instanceof RangeError || (e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE"
      ? `compressed JSON frame inflates past ${max} bytes (refused)`
      : `compressed JSON frame does not decompress (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
}
