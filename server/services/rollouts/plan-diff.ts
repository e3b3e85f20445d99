// What differs between two plans of one rollout, in words an approver reads: the run's settings
// (version, waves, threshold, parallelism, commands as root) and each host (added, left out, or
// its action, versions, stream, bytes or wave). Empty when the plans do the same thing.
import type { PlanHost, RolloutPlan } from "./types";

const list = (xs: readonly unknown[]) => xs.join(", ");
const fmt = (v: unknown) =>
  v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v);

function hostLine(h: PlanHost): string {
  return h.action === "nothing"
    ? `nothing to do${h.excluded ? ` (${h.excluded})` : ""}`
    : `${h.action} ${h.from ?? "—"} → ${h.to ?? "—"}, ${h.stream} stream, ${h.bytes} bytes, wave ${h.wave + 1}`;
}

export function diffPlans(before: RolloutPlan, after: RolloutPlan): string[] {
  const out: string[] = [];
  const field = (label: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b))
      out.push(`${label}: ${String(a ?? "—")} → ${String(b ?? "—")}`);
  };
  field("version", before.version, after.version);
  field("hosts per wave", list(before.waves), list(after.waves));
  field("failures tolerated per wave", before.failureThreshold, after.failureThreshold);
  field("hosts at once", before.parallelism, after.parallelism);
  const root = (p: RolloutPlan) =>
    p.rootCommands ? `${p.rootCommands.commands.join(", ")} on ${p.rootCommands.hosts} hosts` : "none";
  field("commands as root", root(before), root(after));
  const old = new Map(before.hosts.map((h) => [h.hostId, h]));
  const now = new Map(after.hosts.map((h) => [h.hostId, h]));
  for (const h of after.hosts) {
    const o = old.get(h.hostId);
    if (!o) out.push(`${h.name} added: ${hostLine(h)}`);
    else {
      const parts: string[] = [];
      const was = (label: string, a: unknown, b: unknown) => {
        if (JSON.stringify(a) !== JSON.stringify(b)) parts.push(`${label} ${fmt(a)} → ${fmt(b)}`);
      };
      was(
        "action",
        o.excluded ? `nothing (${o.excluded})` : o.action,
        h.excluded ? `nothing (${h.excluded})` : h.action,
      );
      was("from", o.from, h.from);
      was("to", o.to, h.to);
      was("stream", o.stream, h.stream);
      was("bytes", o.bytes, h.bytes);
      was("wave", o.wave + 1, h.wave + 1);
      was("environment", o.environment, h.environment);
      was("labels", o.labels, h.labels);
      was("groups", o.groups ?? [], h.groups ?? []);
      if (parts.length) out.push(`${h.name}: ${parts.join(", ")}`);
    }
  }
  for (const h of before.hosts) if (!now.has(h.hostId)) out.push(`${h.name} removed (was: ${hostLine(h)})`);
  return out;
}
