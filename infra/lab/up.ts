// `lab up N`: the lab-wide pieces (subnet, bridge, namespace-file mount, sudo user, console key)
// and then N hosts in parallel with a small bound. Idempotent: complete hosts are left alone,
// half-made ones (from a crash) are removed and made again.
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname } from "node:path";
import {
  bridgeAddress,
  createHost,
  destroyHost,
  inventoryHost,
  isHostComplete,
  writeAuthorizedKeys,
  type ReadyRecord,
} from "./host";
import { ensureLabFirewall } from "./firewall";
import { type LabInventory, type LabState, readJson, writeJsonAtomic } from "./inventory";
import { withLock } from "./lock";
import {
  HOST_MOUNT_POINTS,
  LAB_RUN_ROOT,
  LAB_STATE_ROOT,
  LabError,
  type LabPaths,
  hostPaths,
  labPaths,
} from "./names";
import { isMountPoint, listLinks } from "./ns";
import { mapLimit, run } from "./run";

export const GLOBAL_LOCK = `${LAB_RUN_ROOT}/locks/.global.lock`;

export interface LabUpOptions {
  lab: string;
  count: number;
  ext4?: boolean;
  /** Public key the console logs in with; generated per lab when absent. */
  consoleKeyPath?: string;
  concurrency?: number;
  log?: (line: string) => void;
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new LabError("the lab needs root (network namespaces, loop devices, sshd)");
}

const CREATED_DIRS_FILE = `${LAB_STATE_ROOT}/.created-mount-points.json`;

/** Makes the (empty) mount points hosts need, remembering which ones did not exist before. */
function ensureMountPoints(): void {
  mkdirSync(LAB_STATE_ROOT, { recursive: true, mode: 0o755 });
  const created = readJson<string[]>(CREATED_DIRS_FILE) ?? [];
  const missing = HOST_MOUNT_POINTS.filter((d) => !existsSync(d) && !created.includes(d));
  if (missing.length) writeJsonAtomic(CREATED_DIRS_FILE, [...created, ...missing]);
  for (const dir of HOST_MOUNT_POINTS) mkdirSync(dir, { recursive: true, mode: 0o755 });
}

/** When no lab is left: removes the mount points the lab created (if still empty) and its roots. */
export function releaseMountPoints(): void {
  if (!existsSync(LAB_STATE_ROOT)) return;
  if (readdirSync(LAB_STATE_ROOT).some((d) => !d.startsWith("."))) return;
  for (const dir of readJson<string[]>(CREATED_DIRS_FILE) ?? []) {
    try {
      rmdirSync(dir);
    } catch {
      /* not empty: someone put something there */
    }
  }
  rmSync(CREATED_DIRS_FILE, { force: true });
  try {
    rmdirSync(LAB_STATE_ROOT);
  } catch {
    /* not empty */
  }
}

function ipToInt(ip: string): number {
  return ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

function overlaps16(octet: number, cidr: string): boolean {
  const [ip, lenText] = cidr.split("/");
  if (!ip || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return false;
  const len = Math.min(Number(lenText ?? 32), 16);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return (ipToInt(ip) & mask) >>> 0 === (ipToInt(`10.${octet}.0.0`) & mask) >>> 0;
}

/** 10.X.0.0/16 for the lab: derived from its tag, moved on while another lab or a route uses it. */
async function chooseSubnet(p: LabPaths): Promise<number> {
  const used: string[] = [];
  const routes = await run(["ip", "-j", "-4", "route", "show", "table", "all"], { allowFail: true });
  for (const r of JSON.parse(routes.stdout || "[]") as { dst?: string }[])
    if (r.dst && r.dst !== "default") used.push(r.dst);
  const addrs = await run(["ip", "-j", "-4", "addr"], { allowFail: true });
  for (const l of JSON.parse(addrs.stdout || "[]") as {
    addr_info?: { local: string; prefixlen: number }[];
  }[])
    for (const a of l.addr_info ?? []) used.push(`${a.local}/${a.prefixlen}`);
  const taken = new Set<number>();
  for (const other of existsSync(LAB_STATE_ROOT)
    ? readdirSync(LAB_STATE_ROOT).filter((d) => !d.startsWith("."))
    : []) {
    const st = readJson<LabState>(`${LAB_STATE_ROOT}/${other}/lab.json`);
    if (st && other !== p.lab) taken.add(st.subnetOctet);
  }
  const start = 64 + (parseInt(p.tag, 16) % 160);
  for (let i = 0; i < 160; i++) {
    const octet = 64 + ((start - 64 + i) % 160);
    if (!taken.has(octet) && !used.some((c) => overlaps16(octet, c))) return octet;
  }
  throw new LabError("no free 10.X.0.0/16 subnet for the lab (10.64-10.223 all in use)");
}

async function ensureConsoleKey(p: LabPaths, given?: string): Promise<{ pub: string; priv: string | null }> {
  if (given) {
    if (!existsSync(given)) throw new LabError(`console key ${given} does not exist`);
    const text = readFileSync(given, "utf8");
    if (!/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-\S+) [A-Za-z0-9+/=]+/.test(text.trim()))
      throw new LabError(`${given} is not an OpenSSH public key (pass the .pub file)`);
    const priv = given.endsWith(".pub") && existsSync(given.slice(0, -4)) ? given.slice(0, -4) : null;
    return { pub: given, priv };
  }
  if (!existsSync(p.consoleKey) || !existsSync(`${p.consoleKey}.pub`)) {
    rmSync(p.consoleKey, { force: true });
    rmSync(`${p.consoleKey}.pub`, { force: true });
    await run(
      ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", `keel-console@lab-${p.lab}`, "-f", p.consoleKey],
      {
        what: "generating the lab's console key",
      },
    );
  }
  return { pub: `${p.consoleKey}.pub`, priv: p.consoleKey };
}

async function ensureSudoUser(p: LabPaths, log: (line: string) => void): Promise<void> {
  mkdirSync(p.home, { recursive: true, mode: 0o755 });
  const passwd = readFileSync("/etc/passwd", "utf8");
  if (!passwd.split("\n").some((l) => l.startsWith(`${p.sudoUser}:`))) {
    // "*" (not "!"): no password login, but not a locked account, so sshd accepts its key.
    // -r: a system account, so no subordinate uid/gid ranges are handed out for it.
    await run(
      [
        "useradd",
        "-r",
        "-M",
        "-d",
        p.home,
        "-s",
        "/bin/bash",
        "-p",
        "*",
        "-c",
        `keel lab ${p.lab}`,
        p.sudoUser,
      ],
      {
        what: "creating the lab's sudo user",
      },
    );
  }
  const id = await run(["id", "-u", p.sudoUser]);
  const gid = await run(["id", "-g", p.sudoUser]);
  chownSync(p.home, Number(id.stdout.trim()), Number(gid.stdout.trim()));
  if (!existsSync(dirname(p.sudoersFile)) || !existsSync("/usr/sbin/visudo")) {
    // Without sudo the lab still works for root logins; only the `sudo -n` mode cannot be tried.
    log(
      `sudo is not installed: the lab's user ${p.sudoUser} gets no sudo rights (install sudo to try hosts enrolled with sudo)`,
    );
    return;
  }
  const want = `# keel lab ${p.lab}: removed by \`npm run lab -- down --lab ${p.lab}\`\n${p.sudoUser} ALL=(ALL:ALL) NOPASSWD: ALL\n`;
  if (!existsSync(p.sudoersFile) || readFileSync(p.sudoersFile, "utf8") !== want) {
    const tmp = `${dirname(p.sudoersFile)}/.keel-lab-${p.lab}.tmp`; // dotted names are ignored by sudo
    writeFileSync(tmp, want, { mode: 0o440 });
    try {
      await run(["visudo", "-c", "-q", "-f", tmp], { what: "checking the lab's sudoers entry" });
      writeFileSync(p.sudoersFile, want, { mode: 0o440 });
    } finally {
      rmSync(tmp, { force: true });
    }
  }
}

async function ensureBridge(p: LabPaths, octet: number): Promise<void> {
  if (!(await listLinks()).includes(p.bridge)) {
    await run(["ip", "link", "add", p.bridge, "type", "bridge"], { what: "creating the lab bridge" });
  }
  const addr = await run(["ip", "-j", "-4", "addr", "show", "dev", p.bridge]);
  const has = (JSON.parse(addr.stdout || "[]") as { addr_info?: { local: string }[] }[]).some((l) =>
    (l.addr_info ?? []).some((a) => a.local === bridgeAddress(octet)),
  );
  if (!has)
    await run(["ip", "addr", "add", `${bridgeAddress(octet)}/16`, "dev", p.bridge], {
      what: "addressing the lab bridge",
    });
  await run(["ip", "link", "set", p.bridge, "up"]);
}

/** Namespace files live on a private bind mount, as `ip netns` does for /run/netns. */
async function ensureRunDir(p: LabPaths): Promise<void> {
  mkdirSync(p.runDir, { recursive: true, mode: 0o755 });
  if (!isMountPoint(p.runDir)) {
    await run(["mount", "--bind", p.runDir, p.runDir], { what: "preparing the namespace directory" });
    await run(["mount", "--make-private", p.runDir]);
  }
}

function readyHosts(p: LabPaths): ReadyRecord[] {
  if (!existsSync(p.hostsDir)) return [];
  return readdirSync(p.hostsDir)
    .map((d) => readJson<ReadyRecord>(`${p.hostsDir}/${d}/ready.json`))
    .filter((r): r is ReadyRecord => r !== null)
    .sort((a, b) => a.index - b.index);
}

/** The inventory lists every complete host with the fingerprint pinned at creation (see rekey). */
export function writeInventory(p: LabPaths, state: LabState): LabInventory {
  const inv: LabInventory = {
    version: 1,
    lab: p.lab,
    subnet: `10.${state.subnetOctet}.0.0/16`,
    bridgeAddress: bridgeAddress(state.subnetOctet),
    consoleKey: { publicKeyPath: state.consolePublicKeyPath, privateKeyPath: state.consolePrivateKeyPath },
    sudoUser: p.sudoUser,
    hosts: readyHosts(p).map((r) => inventoryHost(p, r)),
    updatedAt: new Date().toISOString(),
  };
  writeJsonAtomic(p.inventory, inv);
  return inv;
}

export async function labUp(opts: LabUpOptions): Promise<LabInventory> {
  requireRoot();
  const p = labPaths(opts.lab);
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 2000)
    throw new LabError(`host count must be 1..2000, got ${opts.count}`);
  const log = opts.log ?? (() => {});
  return withLock(p.lockFile, 30 * 60_000, async () => {
    const state = await withLock(GLOBAL_LOCK, 120_000, async () => {
      ensureMountPoints();
      mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
      mkdirSync(p.hostsDir, { recursive: true, mode: 0o755 });
      const key = await ensureConsoleKey(p, opts.consoleKeyPath);
      const old = readJson<LabState>(p.state);
      const st: LabState = {
        lab: p.lab,
        tag: p.tag,
        subnetOctet: old?.subnetOctet ?? (await chooseSubnet(p)),
        consolePublicKeyPath: key.pub,
        consolePrivateKeyPath: key.priv,
        createdAt: old?.createdAt ?? new Date().toISOString(),
      };
      writeJsonAtomic(p.state, st);
      await ensureSudoUser(p, log);
      return st;
    });
    await ensureBridge(p, state.subnetOctet);
    await ensureLabFirewall(p, bridgeAddress(state.subnetOctet));
    await ensureRunDir(p);
    const consolePublicKey = readFileSync(state.consolePublicKeyPath, "utf8");
    const indexes = Array.from({ length: opts.count }, (_, i) => i + 1);
    let made = 0;
    const started = Date.now();
    const failure = await mapLimit(indexes, opts.concurrency ?? 6, async (i) => {
      const h = hostPaths(p, i);
      if (isHostComplete(h)) {
        writeAuthorizedKeys(p, h, consolePublicKey);
        return;
      }
      if (existsSync(h.dir) || existsSync(h.mntNs) || existsSync(`/run/netns/${h.netns}`))
        await destroyHost(p, h);
      const fsType = opts.ext4 ? "ext4" : "btrfs";
      await createHost(p, h, { octet: state.subnetOctet, fsType, consolePublicKey });
      made++;
      if (made % 10 === 0) log(`${made} hosts made (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }).then(
      () => null,
      (e: unknown) => e,
    );
    // Hosts that did come up are usable (and listed) even when another one failed.
    const inv = writeInventory(p, state);
    if (failure) throw failure;
    log(`lab ${p.lab}: ${inv.hosts.length} hosts (${made} new) on ${inv.subnet}; inventory ${p.inventory}`);
    return inv;
  });
}
