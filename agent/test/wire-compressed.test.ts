// The compressed wire forms (decision 0030) through every way a stream reaches a host: the CLI
// (`--wire keel-z1`), `serve` (the request in a compressed JSON frame, what the console sends), the
// resident agent's socket, and the delta wire (keel-delta-1z). A faithful compressed stream
// installs exactly the signed tree; a decompression bomb, a truncated block, a block over the limit
// or a header bomb is refused with the reason and leaves the host as it was.
import { spawnSync } from "node:child_process";
import { createWriteStream, existsSync, readFileSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { brotliCompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  FrameDecoder,
  PROTOCOL_VERSION,
  encodeDataFrames,
  FRAME_JSON_D,
  encodeEndFrame,
  encodeJsonFrameD,
  encodeJsonFrameZ,
  residentSocketPath,
} from "../protocol";
import { encodeDelta } from "../protocol/delta/encode";
import { compressDeltaHeader } from "../protocol/wire/delta-header";
import { ZBLOCKS_MAGIC, compressBlocks } from "../protocol/wire/zblocks";
import {
  AGENT,
  agent,
  buildRelease,
  randomData,
  readManifest,
  storeArgs,
  storeState,
  testBench,
  writeTree,
  type Built,
  type Loose,
  type Scratch,
} from "./helpers";
import { startResident } from "./ways-in";

let s: Scratch;
let host: string;
let trusted: string;
const rel: Record<string, Built> = {};
const residentPids = new Set<number>();
/** The format-2 delta of 1.0 → 1.1 (sent as keel-delta-c). */
let delta2: string;

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of it) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}
async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}
const u32s = (...xs: number[]) => {
  const b = Buffer.alloc(4 * xs.length);
  xs.forEach((x, i) => b.writeUInt32BE(x, 4 * i));
  return b;
};

type Way = "cli" | "serve" | "resident";
interface Sent {
  manifest: string;
  wire: "keel-z1" | "keel-delta-1z" | "keel-delta-c";
  bytes: Buffer;
  deltaBase?: string;
  /** The request's JSON frame: brotli ("Z", the default) or against the json-d1 dictionary ("d"). */
  json?: "z" | "d";
}

/** Every frame the agent wrote in the last serve or resident session (kind byte and value). */
let lastFrames: { kind: number; value: Loose }[] = [];
function framesOf(out: Buffer): { kind: number; value: Loose }[] {
  const got: { kind: number; value: Loose }[] = [];
  const d = new FrameDecoder();
  for (let o = 0; o < out.length;) {
    const n = 5 + out.readUInt32BE(o + 1);
    for (const f of d.push(out.subarray(o, o + n)))
      if (f.kind === "json") got.push({ kind: out[o]!, value: f.value as Loose });
    o += n;
  }
  return got;
}

function request(x: Sent): Buffer {
  const args: Loose = { manifest: readManifest(x.manifest), wireEncoding: x.wire };
  if (x.deltaBase) args.deltaBase = x.deltaBase;
  const req = { protocolVersion: PROTOCOL_VERSION, id: "r1", command: "receive", args };
  return Buffer.concat([
    x.json === "d" ? encodeJsonFrameD(req) : encodeJsonFrameZ(req),
    ...encodeDataFrames(x.bytes),
    encodeEndFrame(),
  ]);
}

function answer(out: Buffer): Loose {
  lastFrames = framesOf(out);
  const got = lastFrames.map((f) => f.value);
  if (got[0]?.event === "hello")
    expect(got[0].wire).toEqual([
      "keel-z1",
      "keel-delta-1z",
      "json-z",
      "keel-delta-2",
      "json-d1",
      "keel-delta-c",
    ]);
  const r = got.find((m) => m.id === "r1" && m.ok !== undefined);
  if (!r) throw new Error(`no answer: ${JSON.stringify(got).slice(0, 400)}`);
  return r.ok ? r.result : { error: r.error };
}

async function send(way: Way, x: Sent): Promise<Loose> {
  if (way === "cli") {
    const file = join(s.root, `wire-${Date.now()}-${Math.random()}`);
    writeFileSync(file, x.bytes);
    const args = ["receive", ...storeArgs(host, trusted), "--manifest", x.manifest, "--stream", file];
    args.push("--wire", x.wire, ...(x.deltaBase ? ["--delta-base", x.deltaBase] : []));
    const r = agent(args);
    return r.json.error ? { error: r.json.error } : r.json;
  }
  if (way === "serve") {
    const r = spawnSync("node", [AGENT, "serve", ...storeArgs(host, trusted)], {
      input: request(x),
      maxBuffer: 64 * 1024 * 1024,
    });
    return answer(r.stdout);
  }
  startResident(host, trusted);
  for (let i = 0; i < 100 && !existsSync(residentSocketPath(host)); i++) await sleep(100);
  return await new Promise((resolve, reject) => {
    const c = connect(residentSocketPath(host));
    const parts: Buffer[] = [];
    const d = new FrameDecoder();
    c.on("data", (b: Buffer) => {
      parts.push(b);
      for (const f of d.push(b)) {
        const v = f.kind === "json" ? (f.value as Loose) : null;
        if (v?.event === "hello") residentPids.add(v.pid as number);
        if (v?.id === "r1" && v.ok !== undefined) c.end();
      }
    });
    c.on("error", reject);
    c.on("close", () => {
      try {
        resolve(answer(Buffer.concat(parts)));
      } catch (e) {
        reject(e);
      }
    });
    c.write(request(x));
  });
}

beforeAll(async () => {
  const bench = testBench("wirez");
  ({ s, trusted } = bench);
  const { key, out, src } = bench;
  const build = s.btrfs("build", 300);
  host = s.btrfs("host", 256);
  const text = Array.from({ length: 60_000 }, (_, i) => `export const v${i} = ${i * 7919};`).join("\n");
  writeTree(src, { "lib/main.js": text, "lib/blob": randomData(256 * 1024) });
  rel["1.0"] = buildRelease(build, src, "web", "1.0", key, out);
  writeTree(src, { "lib/main.js": text.replace("v30000 =", "v30000 = 1 +") });
  rel["1.1"] = buildRelease(build, src, "web", "1.1", key, out, "1.0");
  const delta = join(out, "1.1.delta");
  const w = createWriteStream(delta);
  await encodeDelta({ parentDir: join(build, "apps/web/1.0"), target: rel["1.1"]!.incStream!, out: w });
  await new Promise<void>((res, rej) => w.end((e?: Error | null) => (e ? rej(e) : res())));
  rel["1.1"]!.stream = delta; // reused below: the delta, not a stream
  delta2 = join(out, "1.1.delta2");
  const w2 = createWriteStream(delta2);
  const parentDir = join(build, "apps/web/1.0");
  await encodeDelta({ parentDir, target: rel["1.1"]!.incStream!, out: w2, version: 2 });
  await new Promise<void>((res, rej) => w2.end((e?: Error | null) => (e ? rej(e) : res())));
});

afterAll(() => {
  for (const pid of residentPids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  s?.cleanup();
});

const z1 = async () => collect(compressBlocks(once(readFileSync(rel["1.0"]!.stream))));
const before = { current: null, versions: [], staging: [], journal: [], metas: [] };

describe.each([["cli"], ["serve"], ["resident"]] as [Way][])("hostile keel-z1 via %s", (way) => {
  it("a decompression bomb (1 KiB declared, 8 MiB of zeros inside) is refused; the host is unchanged", async () => {
    const bomb = brotliCompressSync(Buffer.alloc(8 * 1024 * 1024));
    const bytes = Buffer.concat([ZBLOCKS_MAGIC, u32s(1024, bomb.length), bomb, u32s(0, 0)]);
    const r = await send(way, { manifest: rel["1.0"]!.manifest, wire: "keel-z1", bytes });
    expect(r.error).toMatchObject({ code: "BAD_STREAM", step: "verify" });
    expect(r.error.message).toMatch(
      /keel-z1 input cannot be decompressed \(TOO_LARGE\): keel-z1 block 0 decompresses to more than the 1024 bytes/,
    );
    expect(storeState(host, "web")).toEqual({ ...before, previous: null });
  });

  it("a truncated block and a block over the limit are refused; the host is unchanged", async () => {
    const good = await z1();
    const cut = await send(way, {
      manifest: rel["1.0"]!.manifest,
      wire: "keel-z1",
      bytes: good.subarray(0, 2000),
    });
    expect(cut.error.code).toBe("BAD_STREAM");
    expect(cut.error.message).toMatch(/\(TRUNCATED\): the keel-z1 stream ended early/);
    const big = Buffer.concat([ZBLOCKS_MAGIC, u32s(64 * 1024 * 1024, 100), Buffer.alloc(100)]);
    const over = await send(way, { manifest: rel["1.0"]!.manifest, wire: "keel-z1", bytes: big });
    expect(over.error.message).toMatch(
      /\(TOO_LARGE\): keel-z1 block 0 declares 67108864 bytes, outside 1\.\.8388608/,
    );
    expect(storeState(host, "web")).toEqual({ ...before, previous: null });
  });

  it("another release's stream, faithfully compressed, fails the signed digests", async () => {
    const other = await collect(compressBlocks(once(readFileSync(rel["1.1"]!.incStream!))));
    const r = await send(way, { manifest: rel["1.0"]!.manifest, wire: "keel-z1", bytes: other });
    expect(r.error.code).toBe("DIGEST_MISMATCH");
    expect(storeState(host, "web")).toEqual({ ...before, previous: null });
  });
});

describe("faithful compressed forms install exactly the signed tree", () => {
  it("a first install as keel-z1 (request in a compressed JSON frame) is smaller on the wire and verifies", async () => {
    const bytes = await z1();
    const raw = readFileSync(rel["1.0"]!.stream).length;
    expect(bytes.length).toBeLessThan(raw * 0.7);
    const r = await send("serve", { manifest: rel["1.0"]!.manifest, wire: "keel-z1", bytes });
    expect(r).toMatchObject({ app: "web", version: "1.0", streamBytes: raw, wireBytes: bytes.length });
    expect(agent(["activate", ...storeArgs(host, trusted), "web", "1.0"]).code).toBe(0);
    expect(agent(["verify", ...storeArgs(host, trusted), "web", "1.0"]).code).toBe(0);
  });

  it("a hostile keel-delta-1z header (bomb) is refused, then the faithful one installs the update", async () => {
    const bomb = brotliCompressSync(Buffer.alloc(16 * 1024 * 1024, 0x20));
    const bad = Buffer.concat([Buffer.from("KEELDLTZ"), u32s(64, bomb.length), bomb]);
    for (const way of ["cli", "serve", "resident"] as Way[]) {
      const r = await send(way, { manifest: rel["1.1"]!.incManifest!, wire: "keel-delta-1z", bytes: bad });
      expect(r.error.code).toBe("BAD_STREAM");
      expect(r.error.message).toMatch(/keel-delta-1z input cannot be decompressed \(TOO_LARGE\)/);
      expect(storeState(host, "web")).toMatchObject({
        current: "1.0",
        versions: ["1.0"],
        staging: [],
        journal: [],
      });
    }
    const delta = readFileSync(rel["1.1"]!.stream);
    const bytes = await collect(compressDeltaHeader(once(delta)));
    expect(bytes.length).toBeLessThan(delta.length);
    const r = await send("cli", { manifest: rel["1.1"]!.incManifest!, wire: "keel-delta-1z", bytes });
    expect(r).toMatchObject({ version: "1.1", wireBytes: bytes.length });
    expect(agent(["verify", ...storeArgs(host, trusted), "web", "1.1"]).code).toBe(0);
  });
});

describe("decision 0044: a json-d1 request, a keel-delta-c delta", () => {
  it.each([["serve"], ["resident"]] as [Way][])(
    "via %s: answered in json-d1 frames, no progress event for a stream done at once, the update installs",
    async (way) => {
      expect(agent(["remove", ...storeArgs(host, trusted), "web", "1.1"]).code).toBe(0);
      const bytes = await collect(compressDeltaHeader(once(readFileSync(delta2)), "c"));
      expect(bytes.subarray(0, 8).toString()).toBe("KEELDLTC");
      const x: Sent = { manifest: rel["1.1"]!.incManifest!, wire: "keel-delta-c", bytes, json: "d" };
      expect(request(x)[0]).toBe(FRAME_JSON_D);
      const r = await send(way, x);
      expect(r).toMatchObject({ version: "1.1", wireBytes: bytes.length });
      const after = lastFrames.slice(1); // the hello stays a plain JSON frame (sent before any request)
      expect(lastFrames[0]).toMatchObject({ kind: 0x4a, value: { event: "hello" } });
      expect(after.map((f) => f.value.event ?? "response")).toEqual(["ready", "response"]);
      expect(after.map((f) => f.kind)).toEqual([FRAME_JSON_D, FRAME_JSON_D]);
      expect(agent(["verify", ...storeArgs(host, trusted), "web", "1.1"]).code).toBe(0);
    },
  );
});
