// A build store must not record reads (decision 0030): `rsync --checksum` reads every file of the
// writable snapshot, and on a relatime mount each first read updates an atime, which the next
// `btrfs send -p` carries as a UTIMES per file (the typescript 5.8.2 → 5.8.3 delta: 2.0 → 3.5 KB).
// The build makes the store's own mount noatime (a per-mount flag: `mount -o remount,noatime`
// changes that mount point only, and the change is said on stderr) or refuses, naming the mount and
// what to do. A store on the root file system is refused rather than remounting `/`: that is the
// machine's own setting, for its admin to change.
import { execFileSync } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import { AgentError } from "../errors";

export interface MountInfo {
  target: string;
  /** Per-mount options (mountinfo field 6): rw, noatime, relatime, … */
  options: string[];
}

const unescape = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The mount that holds path: the longest mount point that is a prefix of its real path. */
export function mountOf(
  path: string,
  mountinfo = readFileSync("/proc/self/mountinfo", "utf8"),
  resolve: (p: string) => string = realpathSync,
): MountInfo {
  const real = resolve(path);
  let best: MountInfo = { target: "/", options: [] };
  for (const line of mountinfo.split("\n")) {
    const f = line.split(" ");
    if (f.length < 6) continue;
    const target = unescape(f[4]!);
    const inside = target === "/" || real === target || real.startsWith(`${target}/`);
    if (inside && target.length >= best.target.length) best = { target, options: f[5]!.split(",") };
  }
  return best;
}

/** Makes the mount holding the build store noatime, or throws naming it; returns what it did. */
export function ensureNoatime(
  store: string,
  read: (path: string) => MountInfo = (p) => mountOf(p),
): "noatime" | "remounted" {
  const m = read(store);
  if (m.options.includes("noatime")) return "noatime";
  const how = m.options.find((o) => o.endsWith("atime")) ?? "atime updates";
  if (m.target === "/")
    throw new AgentError(
      "NOT_SUPPORTED",
      "build",
      `the build store ${store} is on the root file system, mounted ${how}: reading the tree to build would record atimes that every later delta carries. Keel does not remount / itself: put the build store on its own noatime mount, or run \`mount -o remount,noatime /\` as root (and add noatime to its fstab entry), then build again`,
      { mount: m.target, options: m.options.join(",") },
    );
  try {
    execFileSync("mount", ["-o", "remount,noatime", m.target], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    const why = ((e as { stderr?: Buffer }).stderr?.toString() || (e as Error).message).trim();
    throw new AgentError(
      "NOT_SUPPORTED",
      "build",
      `the build store ${store} is on ${m.target}, mounted ${how}: reading the tree to build would record atimes that every later delta carries. Remounting it noatime failed (${why}); run \`mount -o remount,noatime ${m.target}\` as root (and add noatime to its fstab entry), then build again`,
      { mount: m.target, options: m.options.join(",") },
    );
  }
  if (!read(store).options.includes("noatime"))
    throw new AgentError(
      "NOT_SUPPORTED",
      "build",
      `the build store ${store} is on ${m.target}, which stays ${how} after \`mount -o remount,noatime ${m.target}\`; mount it noatime (fstab) and build again`,
    );
  process.stderr.write(`keel-agent: remounted ${m.target} noatime (it was ${how}) for the build store\n`);
  return "remounted";
}
