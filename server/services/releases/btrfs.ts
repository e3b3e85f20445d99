// The console's side of btrfs: its data directory keeps one read-only subvolume per built (or
// received) release under <dataDir>/subvolumes/apps/<app>/<version>, from which full and
// incremental `btrfs send` streams are made. Commands run as argument vectors, never via a shell.
import { execFile, spawn } from "node:child_process";
import { mkdir, statfs } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { AppError } from "@/server/errors";

const run = promisify(execFile);
const BTRFS_MAGIC = 0x9123683e;

export async function isOnBtrfs(path: string): Promise<boolean> {
  try {
    return (await statfs(path)).type === BTRFS_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Whether the console's build store (<dataDir>/subvolumes) is on btrfs: the data directory itself,
 * or the btrfs image `npm start` mounts there when the data directory is not (infra/start/build-store.ts).
 */
export async function buildStoreOnBtrfs(dataDir: string): Promise<boolean> {
  const root = join(dataDir, "subvolumes");
  await mkdir(root, { recursive: true });
  return isOnBtrfs(root);
}

/** Runs a command; on failure an AppError naming the step and the tool's own last words. */
export async function runTool(
  step: string,
  cmd: string,
  args: string[],
  opts: { cwd?: string } = {},
): Promise<string> {
  try {
    const r = await run(cmd, args, {
      cwd: opts.cwd,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, LC_ALL: "C" },
    });
    return r.stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const tail = (err.stderr || err.message).trim().split("\n").slice(-3).join(" ");
    throw new AppError("INTERNAL", { message: `${step} failed: ${tail}`, cause: e });
  }
}

export const createSubvolume = (path: string) =>
  runTool(`creating subvolume ${path}`, "btrfs", ["subvolume", "create", path]);
export const snapshot = (from: string, to: string, readonly: boolean) =>
  runTool(`snapshotting ${from}`, "btrfs", ["subvolume", "snapshot", ...(readonly ? ["-r"] : []), from, to]);
export const deleteSubvolume = (path: string) =>
  runTool(`deleting subvolume ${path}`, "btrfs", ["subvolume", "delete", path]);

export type SubvolumeInfo = { uuid: string; receivedUuid: string | null; readonly: boolean };

export async function showSubvolume(path: string): Promise<SubvolumeInfo> {
  const out = await runTool(`reading subvolume ${path}`, "btrfs", ["subvolume", "show", path]);
  const field = (name: string) => out.match(new RegExp(`^\\s*${name}:\\s*(\\S+)`, "m"))?.[1] ?? null;
  const uuid = field("UUID");
  if (!uuid) throw new AppError("INTERNAL", { message: `btrfs subvolume show ${path} printed no UUID` });
  const received = field("Received UUID");
  return {
    uuid,
    receivedUuid: received && received !== "-" ? received : null,
    readonly: /^\s*Flags:.*readonly/m.test(out),
  };
}

/** The UUID a host's copy of this subvolume carries as "Received UUID" after receiving it. */
export function hostReceivedUuid(info: SubvolumeInfo): string {
  return info.receivedUuid ?? info.uuid;
}

/**
 * `btrfs send [-p parent] subvol` as a byte stream. The stream errors if btrfs exits non-zero,
 * so a consumer never mistakes a cut-off stream for a whole one.
 */
export function sendStream(subvolume: string, parent?: string): Readable {
  const args = ["send", "-q", ...(parent ? ["-p", parent] : []), subvolume];
  const child = spawn("btrfs", args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const out = new Readable({ read() {} });
  child.stdout.on("data", (d: Buffer) => {
    if (!out.push(d)) child.stdout.pause();
  });
  out._read = () => child.stdout.resume();
  child.on("error", (e) => out.destroy(e));
  child.on("close", (code) => {
    if (code === 0) out.push(null);
    else
      out.destroy(
        new AppError("INTERNAL", {
          message: `btrfs send ${parent ? `-p ${parent} ` : ""}${subvolume} failed: ${stderr.trim()}`,
        }),
      );
  });
  out._destroy = (err, cb) => {
    if (child.exitCode === null) child.kill("SIGTERM");
    cb(err);
  };
  return out;
}
