// The lab's TypeScript API for tests and benchmarks (the CLI in main.ts is a thin layer over it).
//   const inv = await labUp({ lab: "ssh-" + suffix, count: 3 });
//   await labExec(inv.lab, inv.hosts[0].name, ["cat", "/etc/hostname"]);
//   await labDown(inv.lab);
import { existsSync, readdirSync } from "node:fs";
import { isHostComplete } from "./host";
import { currentFault } from "./fault";
import { readJson, type LabState } from "./inventory";
import { LAB_STATE_ROOT, hostPaths, labPaths, parseHostRef } from "./names";

export { labUp, type LabUpOptions } from "./up";
export { labDown } from "./down";
export { labExec } from "./exec";
export { labFault, parseFaultSpec, type FaultSpec } from "./fault";
export { labRekey, labFillDisk, labReleaseDisk } from "./host-ops";
export { readInventory, type LabInventory, type LabHost } from "./inventory";
export { LabError, labTag } from "./names";

export function inventoryPath(lab: string): string {
  return labPaths(lab).inventory;
}

export interface LabHostStatus {
  name: string;
  address: string | null;
  up: boolean;
  fault: string | null;
}

export interface LabStatus {
  lab: string;
  subnet: string | null;
  inventory: string;
  hosts: LabHostStatus[];
}

export function labStatus(lab?: string): LabStatus[] {
  const labs = lab
    ? [lab]
    : existsSync(LAB_STATE_ROOT)
      ? readdirSync(LAB_STATE_ROOT).filter((d) => !d.startsWith("."))
      : [];
  return labs.map((name) => {
    const p = labPaths(name);
    const state = readJson<LabState>(p.state);
    const hosts = existsSync(p.hostsDir)
      ? readdirSync(p.hostsDir).map((d) => {
          const h = hostPaths(p, parseHostRef(name, d));
          const rec = readJson<{ address: string }>(`${h.dir}/host.json`);
          const f = currentFault(h);
          return {
            name: h.name,
            address: rec?.address ?? null,
            up: isHostComplete(h),
            fault: f
              ? [f.kind, "ms" in f ? `${f.ms}ms` : "", "percent" in f ? `${f.percent}%` : ""]
                  .filter(Boolean)
                  .join(" ")
              : null,
          };
        })
      : [];
    hosts.sort((a, b) => a.name.localeCompare(b.name));
    return {
      lab: name,
      subnet: state ? `10.${state.subnetOctet}.0.0/16` : null,
      inventory: p.inventory,
      hosts,
    };
  });
}

export async function labStatusText(lab?: string): Promise<string> {
  const all = labStatus(lab);
  if (all.length === 0) return "no labs";
  return all
    .map((l) => {
      const upCount = l.hosts.filter((h) => h.up).length;
      const lines = [
        `lab ${l.lab}: ${upCount}/${l.hosts.length} hosts up, subnet ${l.subnet ?? "?"}, inventory ${l.inventory}`,
      ];
      for (const h of l.hosts)
        lines.push(
          `  ${h.name.padEnd(24)} ${String(h.address ?? "-").padEnd(15)} ${h.up ? "up" : "DOWN"}${h.fault ? `  fault: ${h.fault}` : ""}`,
        );
      return lines.join("\n");
    })
    .join("\n");
}
