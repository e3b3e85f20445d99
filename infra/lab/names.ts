// Names and paths of everything a lab creates. Every resource name is derived from the lab name
// alone, so `down` can find what a crashed `up` left behind without any state file.
import { createHash } from "node:crypto";
import { join } from "node:path";

export const LAB_STATE_ROOT = "/var/lib/keel-lab";
export const LAB_RUN_ROOT = "/run/keel-lab";
export const DEFAULT_LAB = "lab";

/** Mount points every host gets privately; they must exist (empty) in the shared root fs. */
export const HOST_MOUNT_POINTS = ["/var/lib/keel", "/etc/keel", "/usr/local/lib/keel"] as const;

const LAB_NAME_RE = /^[a-z][a-z0-9-]{0,18}[a-z0-9]$|^[a-z]$/;

export class LabError extends Error {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = "LabError";
  }
}

export function assertLabName(lab: string): void {
  if (!LAB_NAME_RE.test(lab) || lab.includes("--")) {
    throw new LabError(
      `invalid lab name ${JSON.stringify(lab)}: use 1-20 characters a-z, 0-9 and '-', starting with a letter`,
    );
  }
}

/** Six hex characters that identify the lab in 15-character interface names. */
export function labTag(lab: string): string {
  return createHash("sha256").update(lab).digest("hex").slice(0, 6);
}

export interface LabPaths {
  lab: string;
  tag: string;
  dir: string; // /var/lib/keel-lab/<lab>
  hostsDir: string;
  inventory: string;
  state: string;
  consoleKey: string; // generated console key (private); ".pub" beside it
  home: string; // home of the sudo user
  runDir: string; // /run/keel-lab/<lab>: a private bind mount holding namespace files
  bridge: string;
  vethPrefix: string;
  netnsPrefix: string;
  sudoUser: string;
  sudoersFile: string;
  lockFile: string;
}

export function labPaths(lab: string): LabPaths {
  assertLabName(lab);
  const tag = labTag(lab);
  const dir = join(LAB_STATE_ROOT, lab);
  return {
    lab,
    tag,
    dir,
    hostsDir: join(dir, "hosts"),
    inventory: join(dir, "inventory.json"),
    state: join(dir, "lab.json"),
    consoleKey: join(dir, "console_ed25519"),
    home: join(dir, "home"),
    runDir: join(LAB_RUN_ROOT, lab),
    bridge: `kb${tag}`,
    vethPrefix: `kv${tag}`,
    netnsPrefix: `keel-${lab}-`,
    sudoUser: `keellab-${lab}`,
    sudoersFile: `/etc/sudoers.d/keel-lab-${lab}`,
    lockFile: join(LAB_RUN_ROOT, "locks", `${lab}.lock`),
  };
}

export interface HostPaths {
  index: number;
  name: string;
  netns: string;
  veth: string;
  dir: string;
  disk: string;
  etcKeel: string;
  libKeel: string;
  authorizedKeysDir: string;
  hostKey: string;
  sshdConfig: string;
  sshdLog: string;
  pidFile: string;
  readyFile: string;
  mntNs: string;
  utsNs: string;
  proxyPidFile: string;
}

export function hostName(lab: string, index: number): string {
  return `${lab}-h${String(index).padStart(3, "0")}`;
}

export function hostPaths(p: LabPaths, index: number): HostPaths {
  if (!Number.isInteger(index) || index < 1 || index > 9999)
    throw new LabError(`host index out of range: ${index}`);
  const name = hostName(p.lab, index);
  const dir = join(p.hostsDir, name);
  return {
    index,
    name,
    netns: `${p.netnsPrefix}h${String(index).padStart(3, "0")}`,
    veth: `${p.vethPrefix}${index}`,
    dir,
    disk: join(dir, "disk.img"),
    etcKeel: join(dir, "etc-keel"),
    libKeel: join(dir, "usr-local-lib-keel"),
    authorizedKeysDir: join(dir, "authorized_keys"),
    hostKey: join(dir, "ssh_host_ed25519_key"),
    sshdConfig: join(dir, "sshd_config"),
    sshdLog: join(dir, "sshd.log"),
    pidFile: join(dir, "sshd.pid"),
    readyFile: join(dir, "ready.json"),
    mntNs: join(p.runDir, `${name}.mnt`),
    utsNs: join(p.runDir, `${name}.uts`),
    proxyPidFile: join(dir, "delay-proxy.pid"),
  };
}

/** Accepts "lab-h007", "h007", "h7" or "7" and returns the host index. */
export function parseHostRef(lab: string, ref: string): number {
  const m = new RegExp(`^(?:${lab}-)?h?0*([1-9][0-9]{0,3})$`).exec(ref);
  if (!m?.[1])
    throw new LabError(
      `unknown host ${JSON.stringify(ref)} in lab ${lab} (expected e.g. ${hostName(lab, 1)})`,
    );
  return Number(m[1]);
}
