// Shared helpers for the agent's integration tests: real btrfs loop images (mounted, cleaned up
// in afterAll even on failure), the built agent bundle run as a child process, release building
// and re-signing for crafted bad inputs.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { formatManifest, parsePrivateKey, signManifest, type ReleaseManifest } from "../protocol";
import { digestStreamFile } from "../src/stream-digest";

export const REPO = resolve(__dirname, "..", "..");
export const AGENT = join(REPO, "agent", "dist", "keel-agent.mjs");

let built = false;
/** Builds the bundle once per test file (tests run the real one-file agent). */
export function buildAgent(): void {
  if (built) return;
  execFileSync("node", [join(REPO, "agent", "build.mjs")], { stdio: "ignore" });
  built = true;
}

export interface Scratch {
  root: string;
  /** A mounted btrfs file system of sizeMiB on a loop image. */
  btrfs(name: string, sizeMiB?: number): string;
  dir(name: string): string;
  cleanup(): void;
}

export function scratch(prefix: string): Scratch {
  const root = mkdtempSync(join(tmpdir(), `keel-agent-${prefix}-`));
  const mounts: string[] = [];
  return {
    root,
    btrfs(name, sizeMiB = 256) {
      const img = join(root, `${name}.img`);
      const mnt = join(root, name);
      mkdirSync(mnt, { recursive: true });
      execFileSync("truncate", ["-s", `${sizeMiB}M`, img]);
      execFileSync("mkfs.btrfs", ["-q", "-f", img], { stdio: "ignore" });
      execFileSync("mount", ["-o", "loop", img, mnt]);
      mounts.push(mnt);
      return mnt;
    },
    dir(name) {
      const d = join(root, name);
      mkdirSync(d, { recursive: true });
      return d;
    },
    cleanup() {
      for (const m of mounts.reverse()) {
        // The loop device is released with the last unmount (mount -o loop sets autoclear).
        spawnSync("umount", [m]);
        if (spawnSync("mountpoint", ["-q", m]).status === 0) spawnSync("umount", ["-l", m]);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Parsed agent JSON output; tests assert on its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = Record<string, any>;

export interface AgentRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  json: Loose;
  stdout: string;
  stderr: string;
}

export function agent(args: string[], opts: { env?: Record<string, string>; input?: Buffer } = {}): AgentRun {
  const r = spawnSync("node", [AGENT, ...args], {
    env: { ...process.env, ...opts.env },
    input: opts.input,
    maxBuffer: 64 * 1024 * 1024,
  });
  const stdout = r.stdout.toString();
  let json: Loose = {};
  try {
    json = JSON.parse(stdout);
  } catch {
    json = {};
  }
  return { code: r.status, signal: r.signal, json, stdout, stderr: r.stderr.toString() };
}

export function agentAsync(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn("node", [AGENT, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/**
 * Starts an agent run with KEEL_AGENT_PAUSE=step and waits (up to 10 s) until it is paused there:
 * its marker file `.staging/<op>/paused-<step>` exists. Removing `marker` lets it go on.
 */
export async function startPaused(
  store: string,
  args: string[],
  step: string,
): Promise<{
  child: ChildProcess;
  exit: Promise<number | null>;
  stdout: () => string;
  opDir: string | undefined;
  marker: string | undefined;
}> {
  const child = agentAsync(args, { KEEL_AGENT_PAUSE: step });
  const exit = new Promise<number | null>((r) => child.on("exit", r));
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  const name = `paused-${step}`;
  let opDir: string | undefined;
  for (let i = 0; i < 500 && !opDir; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const op = readdirSync(join(store, ".staging")).find((o) => existsSync(join(store, ".staging", o, name)));
    if (op) opDir = join(store, ".staging", op);
  }
  return { child, exit, stdout: () => out, opDir, marker: opDir && join(opDir, name) };
}

/** A signing key pair in dir (keys/<name>.key) and its public key in trusted/. */
export function makeKey(dir: string, name = "release"): { key: string; trusted: string; keyId: string } {
  const keys = join(dir, `keys-${name}`);
  const trusted = join(dir, `trusted-${name}`);
  const r = agent(["keygen", "--out", keys, "--name", name]);
  if (r.code !== 0) throw new Error(r.stdout + r.stderr);
  mkdirSync(trusted, { recursive: true });
  writeFileSync(join(trusted, `${name}.pub`), readFileSync(join(keys, `${name}.pub`)));
  return { key: join(keys, `${name}.key`), trusted, keyId: r.json.keyId };
}

export interface Built {
  manifest: string;
  stream: string;
  incManifest?: string;
  incStream?: string;
}

export function buildRelease(
  store: string,
  from: string,
  app: string,
  version: string,
  key: string,
  out: string,
  parent?: string,
  /** More `build` options (--kind, --requires, ...). */
  extra: string[] = [],
): Built {
  const args = [
    "build",
    "--store",
    store,
    "--from",
    from,
    "--app",
    app,
    "--version",
    version,
    "--key",
    key,
    "--out",
    out,
    ...extra,
  ];
  if (parent) args.push("--parent", parent);
  const r = agent(args);
  if (r.code !== 0) throw new Error(`build failed: ${r.stdout}${r.stderr}`);
  return {
    manifest: r.json.full.manifestPath,
    stream: r.json.full.streamPath,
    incManifest: r.json.incremental?.manifestPath,
    incStream: r.json.incremental?.streamPath,
  };
}

/** The `receive` arguments for a built release (its full stream) into the store `store` names. */
export function receiveArgs(store: string[], b: { manifest: string; stream: string }): string[] {
  return ["receive", ...store, "--manifest", b.manifest, "--stream", b.stream];
}

/**
 * The start of most agent integration tests: the built bundle, a scratch root named `prefix`, a
 * signing key trusted by the host, and the `out` (releases) and `src` (source tree) directories.
 */
export function testBench(prefix: string): {
  s: Scratch;
  key: string;
  trusted: string;
  out: string;
  src: string;
} {
  buildAgent();
  const s = scratch(prefix);
  try {
    const { key, trusted } = makeKey(s.root);
    return { s, key, trusted, out: s.dir("out"), src: s.dir("src") };
  } catch (e) {
    s.cleanup();
    throw e;
  }
}

export function readManifest(path: string): ReleaseManifest {
  return JSON.parse(readFileSync(path, "utf8")) as ReleaseManifest;
}

/** Re-signs a (modified) manifest, recomputing stream digests from streamPath when given. */
export function resign(m: ReleaseManifest, keyPath: string, outPath: string, streamPath?: string): string {
  const { signature: _s, signer: _k, ...rest } = m;
  if (streamPath) {
    const d = digestStreamFile(streamPath, rest.stream.chunkSize);
    rest.stream = { ...rest.stream, bytes: d.bytes, sha256: d.sha256, chunks: d.chunks };
  }
  writeFileSync(outPath, formatManifest(signManifest(rest, parsePrivateKey(readFileSync(keyPath)))));
  return outPath;
}

/** Writes a source tree: files with given contents (paths may have directories). */
export function writeTree(dir: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(resolve(p, ".."), { recursive: true });
    writeFileSync(p, content);
  }
}

export function randomData(bytes: number): Buffer {
  return randomBytes(bytes);
}

export function storeArgs(store: string, trusted: string): string[] {
  return ["--store", store, "--trusted", trusted];
}

/** The invariants every crash test checks after recovery. */
export function storeState(store: string, app: string) {
  const appDir = join(store, "apps", app);
  const link = (n: string) => {
    try {
      return execFileSync("readlink", [join(appDir, n)])
        .toString()
        .trim();
    } catch {
      return null;
    }
  };
  return {
    current: link("current"),
    previous: link("previous"),
    staging: existsSync(join(store, ".staging")) ? readdirSync(join(store, ".staging")) : [],
    journal: existsSync(join(store, ".journal")) ? readdirSync(join(store, ".journal")) : [],
    versions: existsSync(appDir)
      ? readdirSync(appDir)
          .filter((n) => !n.startsWith(".") && n !== "current" && n !== "previous")
          .sort()
      : [],
    metas: existsSync(join(appDir, ".meta")) ? readdirSync(join(appDir, ".meta")).sort() : [],
  };
}

export function isSubvolumeReadOnly(path: string): boolean {
  const out = execFileSync("btrfs", ["property", "get", "-ts", path, "ro"]).toString();
  return out.trim() === "ro=true";
}

export function fileSize(path: string): number {
  return statSync(path).size;
}

/**
 * Runs a command inside the test process (same code as the bundle, no node start-up): for test
 * setup and checks, where only the crashing invocation needs to be a separate real agent.
 */
export async function inproc(
  store: string,
  trusted: string,
  command: string,
  args: Record<string, unknown>,
  streamPath?: string,
): Promise<Loose> {
  const { runCommand } = await import("../src/dispatch");
  const { createContext } = await import("../src/context");
  const { fileInput } = await import("../src/input");
  const { validateArgs } = await import("../protocol");
  const cmd = command as Parameters<typeof validateArgs>[0];
  return (await runCommand(
    cmd,
    validateArgs(cmd, args),
    createContext(store, trusted),
    streamPath ? fileInput(streamPath) : undefined,
  )) as Loose;
}
