// The console's side of the compressed wire forms (decision 0030): a receive is sent as keel-z1 (a
// full stream) or keel-delta-1z (a delta) when the agent's hello lists that form, else as stored.
// The compressed file is produced once per stored blob, beside it in `.wire/` (written to a
// temporary name and renamed), and reused for every host; the host verifies what it decompresses
// against the signed manifest, so this file is a transport cache, never trusted.
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

function encoder(as: WireEncoding): (i: AsyncIterable<Buffer>) => AsyncIterable<Buffer> {
  return as === "keel-z1" ? (i) => compressBlocks(i, 7) : compressDeltaHeader;
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

/** What to send for a stored stream or delta at `path`, given what the agent's hello accepts. */
export async function wireForm(
  accepts: readonly string[],
  args: ReceiveArgs,
  path: string,
): Promise<WireSend> {
  const form = FORMS[args.wireEncoding ?? "raw"];
  if (!form || !accepts.includes(form.as)) return { args, path };
  const next = { ...args, wireEncoding: form.as };
  const file = await cached(path, form.as, form.ext);
  if (file) return { args: next, path: file };
  return { args: next, pieces: encoder(form.as)(createReadStream(path, { highWaterMark: 1024 * 1024 })) };
}
