// The console's side of the compressed wire forms (decision 0030): a receive is sent as keel-z1 (a
// full stream) or keel-delta-1z (a delta) when the agent's hello lists that form, else as stored.
// A delta whose format-2 encoding is stored too goes as keel-delta-2 (decision 0040) to an agent
// that lists it, and only to such an agent: the same container with its own magic, which an agent
// without it cannot be handed. To an agent that lists keel-delta-c, a delta (the format-2 one when
// it is sent, else format 1) goes with its header compact (parent paths sharing prefixes, parent
// digests shortened to 64 bits; decision 0044). The compressed file is produced once per stored
// blob, beside it in `.wire/` (written to a temporary name and renamed), and reused for every host; the host verifies
// what it decompresses and decodes against the signed manifest, so this file is a transport cache,
// never trusted.
import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReceiveArgs, WireEncoding } from "@/agent/protocol";
import { compressDeltaHeader } from "@/agent/protocol/wire/delta-header";
import type { WireFeature } from "@/agent/protocol/wire/features";
import { compressBlocks } from "@/agent/protocol/wire/zblocks";

const FORMS: Partial<Record<WireEncoding, { as: WireFeature & WireEncoding; ext: string }>> = {
  raw: { as: "keel-z1", ext: "kz1" },
  "keel-delta-1": { as: "keel-delta-1z", ext: "kdz" },
};

/** A delta with its header compact, format 1 or 2 inside (decision 0044). */
const FORMAT_C = { as: "keel-delta-c", ext: "kdc" } as const satisfies {
  as: WireFeature & WireEncoding;
  ext: string;
};
/** The format-2 delta of the same stream, as keel-delta-2. */
const FORMAT_2 = { as: "keel-delta-2", ext: "kd2" } as const satisfies {
  as: WireFeature & WireEncoding;
  ext: string;
};

function encoder(as: WireEncoding): (i: AsyncIterable<Buffer>) => AsyncIterable<Buffer> {
  if (as === "keel-z1") return (i) => compressBlocks(i, 7);
  if (as === "keel-delta-c") return (i) => compressDeltaHeader(i, "c");
  return as === "keel-delta-2" ? (i) => compressDeltaHeader(i, 2) : (i) => compressDeltaHeader(i, 1);
}

/**
 * Compressions under way in this process, by output file. A rollout sends one release to many hosts
 * at once: without this, every concurrent step compressed the same stream itself (100 hosts: 100
 * brotli encoders of the whole stream at once, 4.7 GiB peak RSS in bench:rollout). Other processes
 * (more workers) may still each make one; their temporary files never collide and the last rename wins.
 */
const producing = new Map<string, Promise<string | null>>();

/** The compressed form of `path`, written once beside it and reused. */
async function cached(path: string, as: WireEncoding, ext: string): Promise<string | null> {
  const st = await stat(path);
  const dir = join(dirname(path), ".wire");
  const out = join(dir, `${basename(path)}.${st.size}.${Math.trunc(st.mtimeMs)}.${ext}`);
  if (await stat(out).catch(() => null)) return out;
  let made = producing.get(out);
  if (!made) {
    made = produce(path, as, dir, out).finally(() => producing.delete(out));
    producing.set(out, made);
  }
  return made;
}

async function produce(path: string, as: WireEncoding, dir: string, out: string): Promise<string | null> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${out}.${randomUUID()}.tmp`;
    try {
      const src = createReadStream(path, { highWaterMark: 1024 * 1024 });
      await pipeline(Readable.from(encoder(as)(src)), createWriteStream(tmp, { mode: 0o600 }));
      await rename(tmp, out);
    } finally {
      await rm(tmp, { force: true });
    }
    return out;
  } catch {
    return null; // not writable here: send on the fly instead
  }
}

export interface WireSend {
  args: ReceiveArgs;
  /** The bytes to send: a file, or pieces produced as they are sent. */
  path?: string;
  pieces?: AsyncIterable<Buffer>;
}

/** A stored stream or format-1 delta, and for a delta the way to its stored format-2 encoding. */
export interface StoredBlob {
  path: string;
  /** The format-2 delta's file, checked when asked (null: none to send, send the format-1 one). */
  format2?: () => Promise<string | null>;
}

/** What to send for a stored stream or delta, given what the agent's hello accepts. */
export async function wireForm(
  accepts: readonly string[],
  args: ReceiveArgs,
  stored: string | StoredBlob,
): Promise<WireSend> {
  const blob = typeof stored === "string" ? { path: stored } : stored;
  if (args.wireEncoding === "keel-delta-1" && blob.format2 && accepts.includes(FORMAT_2.as)) {
    const path2 = await blob.format2();
    const form2 = accepts.includes(FORMAT_C.as) ? FORMAT_C : FORMAT_2;
    if (path2) return send(path2, { ...args, wireEncoding: form2.as }, form2);
  }
  // Format 1 (no format-2 file, or the larger one) with its header compact.
  if (args.wireEncoding === "keel-delta-1" && accepts.includes(FORMAT_C.as))
    return send(blob.path, { ...args, wireEncoding: FORMAT_C.as }, FORMAT_C);
  const form = FORMS[args.wireEncoding ?? "raw"];
  if (!form || !accepts.includes(form.as)) return { args, path: blob.path };
  return send(blob.path, { ...args, wireEncoding: form.as }, form);
}

async function send(
  path: string,
  args: ReceiveArgs,
  form: { as: WireEncoding; ext: string },
): Promise<WireSend> {
  const file = await cached(path, form.as, form.ext);
  if (file) return { args, path: file };
  return { args, pieces: encoder(form.as)(createReadStream(path, { highWaterMark: 1024 * 1024 })) };
}
