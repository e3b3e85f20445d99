// Test helpers: synthetic btrfs send v1 streams with valid CRCs, parent trees, and running the
// bundled decoder in a child process (as keel-agent would: one file, plain node, no node_modules).
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { access, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable, Writable } from "node:stream";
import { promisify } from "node:util";
import { build } from "esbuild";
import { decodeDelta } from "./decode";
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
      parts.push(
        command(15, [
          tlv(15, Buffer.from(f.path)),
          tlv(18, u64(off)),
          tlv(19, f.data.subarray(off, off + 49152)),
        ]),
      );
    parts.push(
      command(20, [
        tlv(15, Buffer.from(f.path)),
        tlv(11, Buffer.concat([u64(1795719533), Buffer.alloc(4, ino)])),
      ]),
    );
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
  cpuMs?: number;
  peakRssKiB?: number;
  error?: string;
  message?: string;
}

/** Runs the bundled decoder as a child `node` process: delta file in, decoded file out. */
export async function decodeInChild(
  bundle: string,
  parentDir: string,
  deltaFile: string,
  outFile: string,
  /** Limit on the child's open files (soft and hard: Node raises the soft one to the hard one). */
  maxFiles?: number,
): Promise<ChildDecodeResult> {
  const args = [bundle, parentDir, outFile];
  const child = maxFiles
    ? execFile("sh", ["-c", `ulimit -n ${maxFiles} && exec "$0" "$@"`, process.execPath, ...args], {
        maxBuffer: 1 << 20,
      })
    : execFile(process.execPath, args, { maxBuffer: 1 << 20 });
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

/** Runs a command (argument vector, no shell); rejects with its stderr on a non-zero exit. */
export async function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  try {
    const { stdout } = await execFileP(cmd, args, { cwd: opts.cwd, maxBuffer: 64 << 20 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${err.stderr?.trim() || err.message}`);
  }
}

/** A btrfs file system on a sparse loop image under `dir`, mounted noatime at `dir/mnt`. */
export async function btrfsLoop(
  dir: string,
  sizeGiB: number,
): Promise<{ mnt: string; close(): Promise<void> }> {
  const img = join(dir, "btrfs.img");
  const mnt = join(dir, "mnt");
  await run("truncate", ["-s", `${sizeGiB}G`, img]);
  await run("mkfs.btrfs", ["-q", "-f", img]);
  await mkdir(mnt, { recursive: true });
  // noatime: reading a tree (rsync --checksum) would otherwise put a UTIMES for every file in the stream.
  await run("mount", ["-o", "loop,noatime", img, mnt]);
  return {
    mnt,
    async close() {
      for (let i = 0; ; i++) {
        try {
          await run("umount", [mnt]); // the loop device was set up by mount -o loop: autoclear detaches it
          break;
        } catch (e) {
          if (i >= 5) throw e;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      await rm(img, { force: true });
    },
  };
}

/**
 * Builds two read-only subvolumes the way a console build does: `old` from `oldTree`, then `new` as
 * a snapshot of `old` synced to `newTree` (changed files are replaced whole).
 */
export async function buildVersionPair(
  mnt: string,
  oldTree: string,
  newTree: string,
  oldName: string,
  newName: string,
): Promise<void> {
  await run("btrfs", ["subvolume", "create", join(mnt, oldName)]);
  await run("rsync", ["-a", `${oldTree}/`, `${join(mnt, oldName)}/`]);
  await run("btrfs", ["property", "set", "-ts", join(mnt, oldName), "ro", "true"]);
  await run("btrfs", ["subvolume", "snapshot", join(mnt, oldName), join(mnt, newName)]);
  await run("rsync", ["-a", "--checksum", "--delete", `${newTree}/`, `${join(mnt, newName)}/`]);
  await run("btrfs", ["property", "set", "-ts", join(mnt, newName), "ro", "true"]);
  await run("sync", []);
}

/** `npm pack NAME@VERSION` into `cacheDir` (once), unpacked into `dest`. */
export async function fetchPackage(
  name: string,
  version: string,
  cacheDir: string,
  dest: string,
): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  const tgz = join(cacheDir, `${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`);
  try {
    await access(tgz);
  } catch {
    await run("npm", ["pack", `${name}@${version}`, "--pack-destination", cacheDir, "--silent"]);
  }
  await mkdir(dest, { recursive: true });
  await run("tar", ["-xzf", tgz, "-C", dest, "--strip-components=1"]);
}

/**
 * Decodes `delta` against `parentDir` in this process, fed in 777-byte pieces so the header and the
 * frames must be reassembled across them; checks the reported byte count against what was written.
 */
export async function decodeInPieces(delta: Buffer, parentDir: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const output = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      cb();
    },
  });
  const pieces = [];
  for (let i = 0; i < delta.length; i += 777) pieces.push(delta.subarray(i, i + 777));
  const r = await decodeDelta({ parentDir, input: Readable.from(pieces), output });
  const out = Buffer.concat(chunks);
  if (r.bytes !== out.length) throw new Error(`decodeDelta reported ${r.bytes} bytes, wrote ${out.length}`);
  return out;
}
