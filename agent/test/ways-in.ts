// The four ways a stream reaches a host's agent, for tests that must refuse a hostile stream
// through every one of them: the CLI (`keel-agent receive`), `serve` on stdin/stdout (what the
// console runs over SSH), the resident agent's socket (what the console reaches first), and the
// `keel-delta-1` wire encoding (a delta that decodes into the stream), here through the CLI.
import { spawnSync } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import {
  FrameDecoder,
  PROTOCOL_VERSION,
  encodeDataFrames,
  encodeEndFrame,
  encodeJsonFrame,
  residentSocketPath,
  type ReleaseManifest,
} from "../protocol";
import { encodeDelta } from "../protocol/delta/encode";
import { AGENT, agent, receiveArgs, storeArgs, type Loose } from "./helpers";

export const WAYS = ["cli", "serve", "resident", "delta"] as const;
export type Way = (typeof WAYS)[number];

export interface Attempt {
  manifestPath: string;
  streamPath: string;
  allowSpecial?: boolean;
  /** For "delta": the installed version the delta is encoded against. */
  deltaBase: { version: string; dir: string };
}

/** What the agent answered: `{ error }` or the receive result, and the error's text. */
export interface Outcome {
  error?: { code: string; step: string; message: string };
  result?: Loose;
}

function frames(manifest: ReleaseManifest, stream: Buffer, allowSpecial: boolean): Buffer {
  const args: Loose = { manifest };
  if (allowSpecial) args.allowSpecial = true;
  return Buffer.concat([
    encodeJsonFrame({ protocolVersion: PROTOCOL_VERSION, id: "r1", command: "receive", args }),
    ...encodeDataFrames(stream),
    encodeEndFrame(),
  ]);
}

function answerOf(messages: Loose[]): Outcome {
  const r = messages.find((m) => m.id === "r1" && m.ok !== undefined);
  if (!r) throw new Error(`no answer to the receive: ${JSON.stringify(messages).slice(0, 500)}`);
  return r.ok ? { result: r.result } : { error: r.error };
}

function viaServe(store: string, trusted: string, a: Attempt): Outcome {
  const m = JSON.parse(readFileSync(a.manifestPath, "utf8")) as ReleaseManifest;
  const r = spawnSync("node", [AGENT, "serve", ...storeArgs(store, trusted)], {
    input: frames(m, readFileSync(a.streamPath), a.allowSpecial === true),
    maxBuffer: 64 * 1024 * 1024,
  });
  const d = new FrameDecoder();
  return answerOf(d.push(r.stdout).flatMap((f) => (f.kind === "json" ? [f.value as Loose] : [])));
}

/** Starts the store's resident agent (serve --resident) if none answers; returns its pid. */
export function startResident(store: string, trusted: string): void {
  const r = spawnSync("node", [AGENT, "serve", ...storeArgs(store, trusted), "--resident", "120"], {
    input: "",
  });
  if (r.status !== 0) throw new Error(`serve --resident failed: ${r.stdout}${r.stderr}`);
}

function viaResident(store: string, a: Attempt): Promise<Outcome & { pid: number }> {
  const m = JSON.parse(readFileSync(a.manifestPath, "utf8")) as ReleaseManifest;
  return new Promise((resolve, reject) => {
    const c = connect(residentSocketPath(store));
    const d = new FrameDecoder();
    const got: Loose[] = [];
    c.on("data", (b) => {
      for (const f of d.push(b)) if (f.kind === "json") got.push(f.value as Loose);
      if (got.some((x) => x.id === "r1" && x.ok !== undefined)) c.end();
    });
    c.on("error", reject);
    c.on("close", () => {
      try {
        resolve({ ...answerOf(got), pid: (got[0] as { pid: number }).pid });
      } catch (e) {
        reject(e);
      }
    });
    c.write(frames(m, readFileSync(a.streamPath), a.allowSpecial === true));
  });
}

/** `keel-agent receive` of the attempt's manifest with `stream` (and `more` arguments) through the CLI. */
function viaCli(store: string, trusted: string, a: Attempt, stream: string, more: string[] = []): Outcome {
  const args = [...receiveArgs(storeArgs(store, trusted), { manifest: a.manifestPath, stream }), ...more];
  if (a.allowSpecial) args.push("--allow-special");
  const r = agent(args);
  return r.json.error ? { error: r.json.error } : { result: r.json };
}

async function viaDelta(store: string, trusted: string, a: Attempt, scratchDir: string): Promise<Outcome> {
  const delta = join(scratchDir, `${a.streamPath.split("/").pop()}.delta`);
  const out = createWriteStream(delta);
  await encodeDelta({ parentDir: a.deltaBase.dir, target: a.streamPath, out });
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
  return viaCli(store, trusted, a, delta, ["--wire", "keel-delta-1", "--delta-base", a.deltaBase.version]);
}

/** Offers the attempt to the host's agent one way; resident pids are collected for clean-up. */
export async function offer(
  way: Way,
  store: string,
  trusted: string,
  a: Attempt,
  scratchDir: string,
  residentPids: Set<number>,
): Promise<Outcome> {
  switch (way) {
    case "cli":
      return viaCli(store, trusted, a, a.streamPath);
    case "serve":
      return viaServe(store, trusted, a);
    case "resident": {
      const r = await viaResident(store, a);
      residentPids.add(r.pid);
      return r;
    }
    case "delta":
      return viaDelta(store, trusted, a, scratchDir);
  }
}
