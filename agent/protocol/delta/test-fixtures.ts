// Test helpers: synthetic btrfs send v1 streams with valid CRCs, parent trees, and running the
// bundled decoder in a child process (as keel-agent would: one file, plain node, no node_modules).
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { SEND_MAGIC, sendCommandCrc } from "./format";

function tlv(type: number, value: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16LE(type, 0);
  h.writeUInt16LE(value.length, 2);
  return Buffer.concat([h, value]);
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

function command(cmd: number, attrs: Buffer[]): Buffer {
  const payload = Buffer.concat(attrs);
  const c = Buffer.alloc(10 + payload.length);
  c.writeUInt32LE(payload.length, 0);
  c.writeUInt16LE(cmd, 4);
  payload.copy(c, 10);
  c.writeUInt32LE(sendCommandCrc(c), 6);
  return c;
}

/** A send v1 stream that creates each file (MKFILE, RENAME, WRITE in 48 KiB pieces, UTIMES), then END. */
export function sendStream(files: { path: string; data: Buffer }[]): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32LE(1);
  const parts: Buffer[] = [SEND_MAGIC, header];
  let ino = 257;
  for (const f of files) {
    const tmp = Buffer.from(`o${ino++}-5-0`);
    parts.push(command(3, [tlv(15, tmp), tlv(3, u64(ino))]));
    parts.push(command(9, [tlv(15, tmp), tlv(16, Buffer.from(f.path))]));
    for (let off = 0; off < f.data.length; off += 49152)
      parts.push(command(15, [tlv(15, Buffer.from(f.path)), tlv(18, u64(off)), tlv(19, f.data.subarray(off, off + 49152))]));
    parts.push(command(20, [tlv(15, Buffer.from(f.path)), tlv(11, Buffer.concat([u64(1795719533), Buffer.alloc(4, ino)]))]));
  }
  parts.push(command(21, []));
  return Buffer.concat(parts);
}

export async function writeTree(root: string, files: Record<string, Buffer>): Promise<void> {
  for (const [rel, data] of Object.entries(files)) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), data);
  }
}

/** Bundles decode-cli.ts into one stdlib-only .mjs file (what keel-agent ships) at `outFile`. */
export async function bundleDecoder(outFile: string): Promise<{ imports: string[] }> {
  const r = await build({
    entryPoints: [join(__dirname, "decode-cli.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: outFile,
    metafile: true,
    logLevel: "silent",
  });
  const imports = Object.values(r.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
  return { imports };
}

export interface ChildDecodeResult {
  bytes?: number;
  sha256?: string;
  ms?: number;
  peakRssKiB?: number;
  error?: string;
  message?: string;
}

/** Runs the bundled decoder as a child `node` process: delta file in, decoded file out. */
export async function decodeInChild(bundle: string, parentDir: string, deltaFile: string, outFile: string): Promise<ChildDecodeResult> {
  const child = execFile(process.execPath, [bundle, parentDir, outFile], { maxBuffer: 1 << 20 });
  createReadStream(deltaFile).pipe(child.stdin!);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const code: number = await new Promise((res) => child.on("close", (c) => res(c ?? -1)));
  if (code !== 0 && code !== 2) throw new Error(`decoder exited ${code}: ${err}`);
  return JSON.parse(out) as ChildDecodeResult;
}

export const execFileP = promisify(execFile);
