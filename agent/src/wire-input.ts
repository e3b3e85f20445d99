// A receive's compressed wire forms (decision 0030) turned back into the forms the pipeline knows:
// keel-z1 → the raw signed stream, keel-delta-1z → keel-delta-1, keel-delta-2 and keel-delta-c (its
// header compact, decision 0044) → a format-2 delta, which
// the delta decoder reads as it reads format 1 (decision 0040). The bytes then go through the same
// chunk-by-chunk verification against the signed manifest (store/stage.ts); a damaged or hostile
// compressed input is refused as BAD_STREAM before its bytes reach anything but .staging/<op>.
import type { WireEncoding } from "../protocol";
import { expandDeltaHeader } from "../protocol/wire/delta-header";
import { WireError } from "../protocol/wire/wire-reader";
import { decompressBlocks } from "../protocol/wire/zblocks";
import { AgentError } from "./errors";
import type { FileReader, StreamInput } from "./input";

export interface PipelineInput {
  wire: "raw" | "keel-delta-1";
  file?: FileReader;
  input?: AsyncIterable<Buffer>;
  /** Compressed forms: the bytes that arrived on the wire (the pipeline counts what it was handed). */
  wireBytes?: () => number;
}

async function* counted(pieces: AsyncIterable<Buffer>, add: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const p of pieces) {
    add(p.length);
    yield p;
  }
}

async function* refused(pieces: AsyncIterable<Buffer>, wire: WireEncoding): AsyncGenerator<Buffer> {
  try {
    yield* pieces;
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    throw new AgentError(
      "BAD_STREAM",
      "verify",
      `the ${wire} input cannot be decompressed (${e.code}): ${e.message}; nothing was installed, send the release again (or as raw)`,
    );
  }
}

/** Whether the encoding is decoded against an installed base tree. */
export function isDeltaWire(wire: WireEncoding): boolean {
  return (
    wire === "keel-delta-1" || wire === "keel-delta-1z" || wire === "keel-delta-2" || wire === "keel-delta-c"
  );
}

/** The input as the verified pipeline takes it; a raw file is read straight into its buffer. */
export function pipelineInput(wire: WireEncoding, input: StreamInput): PipelineInput {
  switch (wire) {
    case "raw": {
      const file = input.openFile?.();
      return file ? { wire, file } : { wire, input: input.open() };
    }
    case "keel-delta-1":
      return { wire, input: input.open() };
    case "keel-z1":
    case "keel-delta-1z":
    case "keel-delta-2":
    case "keel-delta-c":
      break;
  }
  let n = 0;
  const arrived = counted(input.open(), (k) => (n += k));
  const wireBytes = () => n;
  return wire === "keel-z1"
    ? { wire: "raw", input: refused(decompressBlocks(arrived), wire), wireBytes }
    : {
        wire: "keel-delta-1",
        input: refused(
          expandDeltaHeader(arrived, wire === "keel-delta-c" ? "c" : wire === "keel-delta-2" ? 2 : 1),
          wire,
        ),
        wireBytes,
      };
}
