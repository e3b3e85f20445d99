// Small formatting helpers for the rollout pages.
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export const STATE_TONE: Record<string, "neutral" | "danger" | "ok"> = {
  succeeded: "ok",
  failed: "danger",
  reverted: "danger",
  rejected: "danger",
  paused: "danger",
  cancelled: "neutral",
};

export const stateLabel = (s: string) => s.replace(/_/g, " ");

export function decisionText(d: { effect: string; approvals?: number; approverRole?: string | null }): string {
  if (d.effect === "needs_approval") return `needs ${d.approvals} approval${d.approvals === 1 ? "" : "s"} from ${d.approverRole}`;
  if (d.effect === "allow") return "allowed without approval";
  return "denied";
}
