// Child process of `npm run bench:delta-encoder`: runs one side's encoder or this checkout's decoder
// once and prints one JSON line (the process's own figures: wall, CPU, peak RSS, and the peak RSS
// before the encoder was loaded — what the runtime and tsx's loader take).
//   encode MODULE_DIR PARENT_DIR TARGET OUT   — encodeDelta of MODULE_DIR/encode.ts
//   decode PARENT_DIR DELTA STREAM            — DeltaDecoder as the agent runs it (checkDigests: false),
//                                                output compared with STREAM
import { createReadStream, createWriteStream, readFileSync } from "node:fs";
import { once } from "node:events";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { DeltaDecoder } from "@/agent/protocol/delta/decode";
import type { encodeDelta as EncodeDelta } from "@/agent/protocol/delta/encode";

/** The process's peak RSS before it loads an encoder (node, tsx's loader, this file). */
const startRssKiB = process.resourceUsage().maxRSS;

function figures(t0: number, c0: NodeJS.CpuUsage): Record<string, number> {
  const c = process.cpuUsage(c0);
  return {
    wallMs: Math.round(performance.now() - t0),
    cpuMs: Math.round((c.user + c.system) / 1000),
    maxRssKiB: process.resourceUsage().maxRSS,
    startRssKiB,
  };
}

async function encode(moduleDir: string, parentDir: string, target: string, out: string): Promise<void> {
  const { encodeDelta } = (await import(join(moduleDir, "encode.ts"))) as { encodeDelta: typeof EncodeDelta };
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const ws = createWriteStream(out);
  // Format 2 (decision 0040) unless BENCH_DELTA_VERSION=1; an encoder before format 2 ignores the option.
  const version = process.env.BENCH_DELTA_VERSION === "1" ? 1 : 2;
  const r = await encodeDelta({ parentDir, target, out: ws, version } as Parameters<typeof EncodeDelta>[0]);
  ws.end();
  await once(ws, "close");
  console.log(JSON.stringify({ ...r, ...figures(t0, c0) }));
}

async function decode(parentDir: string, delta: string, stream: string): Promise<void> {
  const want = createHash("sha256").update(readFileSync(stream)).digest("hex");
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const got = createHash("sha256");
  let bytes = 0;
  const dec = new DeltaDecoder({
    parentDir,
    input: createReadStream(delta, { highWaterMark: 1 << 20 }),
    checkDigests: false,
    put: (b) => {
      bytes += b.length;
      got.update(b);
      return Promise.resolve();
    },
  });
  await dec.run();
  const f = figures(t0, c0);
  if (got.digest("hex") !== want) throw new Error(`decoded ${delta} differs from ${stream}`);
  console.log(JSON.stringify({ bytes, ...f }));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "encode") void encode(args[0]!, args[1]!, args[2]!, args[3]!);
else if (mode === "decode") void decode(args[0]!, args[1]!, args[2]!);
else throw new Error("usage: delta-encoder-child encode|decode …");
