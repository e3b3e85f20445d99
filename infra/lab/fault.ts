// Network faults on one lab host, applied inside its network namespace: a silent drop and packet
// loss with iptables, delay with tc netem or, on kernels without netem, a delaying relay.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { resolveHost } from "./exec";
import { type HostPaths, LabError } from "./names";
import { killAndWait, nsInode } from "./ns";
import { run, sleep } from "./run";

export type FaultSpec =
  { kind: "drop" } | { kind: "delay"; ms: number } | { kind: "loss"; percent: number } | { kind: "restore" };

const CHAIN = "KEEL-FAULT";
const PROXY_PORT = "2222";
const PROXY = fileURLToPath(new URL("./delay-proxy.mjs", import.meta.url));

export function parseFaultSpec(kind: string, value?: string): FaultSpec {
  const n = Number(value);
  switch (kind) {
    case "drop":
    case "restore":
      return { kind };
    case "delay":
      if (!Number.isInteger(n) || n < 1 || n > 600_000)
        throw new LabError("delay needs a whole number of milliseconds (1-600000)");
      return { kind, ms: n };
    case "loss":
      if (!(n > 0 && n <= 100)) throw new LabError("loss needs a percentage (0 < PCT <= 100)");
      return { kind, percent: n };
    default:
      throw new LabError(`unknown fault ${JSON.stringify(kind)}: use drop, delay MS, loss PCT or restore`);
  }
}

function inNet(h: HostPaths, argv: string[]): string[] {
  return ["nsenter", `--net=/run/netns/${h.netns}`, "--", ...argv];
}

async function ipt(h: HostPaths, args: string[], allowFail = false) {
  return run(inNet(h, ["iptables", "-w", "5", ...args]), { allowFail, what: `fault on ${h.name}` });
}

let netemKnown: boolean | undefined;
async function hasNetem(h: HostPaths): Promise<boolean> {
  if (netemKnown === undefined) {
    const r = await run(inNet(h, ["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"]), {
      allowFail: true,
    });
    if (r.code === 0) await run(inNet(h, ["tc", "qdisc", "del", "dev", "lo", "root"]), { allowFail: true });
    netemKnown = r.code === 0;
  }
  return netemKnown;
}

/** The nat rule that sends SSH to the delay relay (added by `delay`, deleted when clearing). */
const SSH_REDIRECT = [
  "PREROUTING",
  "-i",
  "eth0",
  "-p",
  "tcp",
  "--dport",
  "22",
  "-j",
  "REDIRECT",
  "--to-ports",
  PROXY_PORT,
];

async function clearFault(h: HostPaths): Promise<void> {
  if ((await ipt(h, ["-n", "-L", CHAIN], true)).code === 0) await ipt(h, ["-F", CHAIN]);
  for (;;) {
    const r = await ipt(h, ["-t", "nat", "-D", ...SSH_REDIRECT], true);
    if (r.code !== 0) break;
  }
  await run(inNet(h, ["tc", "qdisc", "del", "dev", "eth0", "root"]), { allowFail: true });
  if (existsSync(h.proxyPidFile)) {
    const pid = Number(readFileSync(h.proxyPidFile, "utf8"));
    // Only if that pid is still our relay inside this host's network namespace.
    if (pid > 0 && nsInode(`/proc/${pid}/ns/net`) === nsInode(`/run/netns/${h.netns}`))
      await killAndWait([pid]);
    rmSync(h.proxyPidFile, { force: true });
  }
  rmSync(`${h.dir}/fault.json`, { force: true });
}

async function ensureChain(h: HostPaths): Promise<void> {
  if ((await ipt(h, ["-n", "-L", CHAIN], true)).code !== 0) await ipt(h, ["-N", CHAIN]);
  if ((await ipt(h, ["-C", "INPUT", "-i", "eth0", "-j", CHAIN], true)).code !== 0)
    await ipt(h, ["-I", "INPUT", "-i", "eth0", "-j", CHAIN]);
  if ((await ipt(h, ["-C", "OUTPUT", "-o", "eth0", "-j", CHAIN], true)).code !== 0)
    await ipt(h, ["-I", "OUTPUT", "-o", "eth0", "-j", CHAIN]);
}

async function startDelayProxy(h: HostPaths, ms: number): Promise<void> {
  const argv = inNet(h, [process.execPath, PROXY, PROXY_PORT, "22", String(ms), h.netns]);
  const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: "ignore" });
  child.unref();
  // nsenter execs node in place, so the child's pid is the relay's pid.
  if (child.pid) writeFileSync(h.proxyPidFile, String(child.pid));
  for (let i = 0; i < 100; i++) {
    const r = await run(inNet(h, ["ss", "-Htln", `sport = :${PROXY_PORT}`]), { allowFail: true });
    if (r.stdout.trim()) return;
    await sleep(50);
  }
  throw new LabError(`delay relay on ${h.name} did not start`);
}

/** Applies one fault to a host, replacing whatever fault it had. */
export async function labFault(lab: string, host: string | number, spec: FaultSpec): Promise<void> {
  const h = resolveHost(lab, host);
  await clearFault(h);
  if (spec.kind === "restore") return;
  await ensureChain(h);
  if (spec.kind === "drop") {
    await ipt(h, ["-A", CHAIN, "-j", "DROP"]);
  } else if (spec.kind === "loss") {
    const p = (spec.percent / 100).toFixed(4);
    await ipt(h, ["-A", CHAIN, "-m", "statistic", "--mode", "random", "--probability", p, "-j", "DROP"]);
  } else if (await hasNetem(h)) {
    await run(inNet(h, ["tc", "qdisc", "replace", "dev", "eth0", "root", "netem", "delay", `${spec.ms}ms`]), {
      what: `delay on ${h.name}`,
    });
  } else {
    await startDelayProxy(h, spec.ms);
    await ipt(h, ["-t", "nat", "-A", ...SSH_REDIRECT]);
  }
  writeFileSync(`${h.dir}/fault.json`, JSON.stringify(spec) + "\n");
}

export function currentFault(h: HostPaths): FaultSpec | null {
  try {
    return JSON.parse(readFileSync(`${h.dir}/fault.json`, "utf8")) as FaultSpec;
  } catch {
    return null;
  }
}
