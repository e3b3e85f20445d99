// Small formatting helpers for the rollout pages.
export { formatBytes as bytes } from "@/app/_components/format-bytes";

export const STATE_TONE: Record<string, "neutral" | "danger" | "ok"> = {
  succeeded: "ok",
  finished_with_failures: "danger",
  failed: "danger",
  reverted: "danger",
  rejected: "danger",
  paused: "danger",
  cancelled: "neutral",
};

export const stateLabel = (s: string) => s.replace(/_/g, " ");

export function decisionText(d: {
  effect: string;
  approvals?: number;
  approverRole?: string | null;
}): string {
  if (d.effect === "needs_approval")
    return `needs ${d.approvals} approval${d.approvals === 1 ? "" : "s"} from ${d.approverRole}`;
  if (d.effect === "allow") return "allowed without approval";
  return "denied";
}
