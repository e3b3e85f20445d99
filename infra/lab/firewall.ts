// Keeps lab hosts inside the lab even if they change their own routes (they are root in their
// namespace): on this machine, traffic from the lab bridge may only reach the bridge address,
// and is never forwarded, whatever ip_forward says. One chain per lab, removed at `down`.
import { type LabPaths } from "./names";
import { run } from "./run";

const chainOf = (p: LabPaths) => `KEEL-LAB-${p.tag}`;

function jumps(p: LabPaths): string[][] {
  return [
    ["INPUT", "-i", p.bridge, "-j", chainOf(p)],
    ["FORWARD", "-i", p.bridge, "-j", "DROP"],
    ["FORWARD", "-o", p.bridge, "-j", "DROP"],
  ];
}

async function tool(cmd: "iptables" | "ip6tables", args: string[], allowFail = false) {
  return run([cmd, "-w", "10", ...args], { allowFail, what: "setting up the lab firewall" });
}

export async function ensureLabFirewall(p: LabPaths, bridgeAddress: string): Promise<void> {
  const chain = chainOf(p);
  for (const cmd of ["iptables", "ip6tables"] as const) {
    if ((await tool(cmd, ["-n", "-L", chain], true)).code !== 0) await tool(cmd, ["-N", chain]);
    await tool(cmd, ["-F", chain]);
    if (cmd === "iptables") await tool(cmd, ["-A", chain, "-d", `${bridgeAddress}/32`, "-j", "RETURN"]);
    await tool(cmd, ["-A", chain, "-j", "DROP"]);
    for (const j of jumps(p)) {
      const [c, ...rule] = j as [string, ...string[]];
      if ((await tool(cmd, ["-C", c, ...rule], true)).code !== 0) await tool(cmd, ["-I", c, ...rule]);
    }
  }
}

export async function removeLabFirewall(p: LabPaths): Promise<void> {
  const chain = chainOf(p);
  for (const cmd of ["iptables", "ip6tables"] as const) {
    for (const j of jumps(p)) {
      const [c, ...rule] = j as [string, ...string[]];
      // -D removes one copy at a time; a crash may have left more than one.
      for (let i = 0; i < 10 && (await tool(cmd, ["-D", c, ...rule], true)).code === 0; i++);
    }
    if ((await tool(cmd, ["-n", "-L", chain], true)).code === 0) {
      await tool(cmd, ["-F", chain], true);
      await tool(cmd, ["-X", chain], true);
    }
  }
}

/** Rules of the lab still present (for tests and status). */
export async function labFirewallRules(p: LabPaths): Promise<string[]> {
  const out: string[] = [];
  for (const cmd of ["iptables", "ip6tables"] as const) {
    const r = await tool(cmd, ["-S"], true);
    out.push(...r.stdout.split("\n").filter((l) => l.includes(chainOf(p)) || l.includes(p.bridge)));
  }
  return out;
}
