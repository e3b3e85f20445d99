// The cells a plan's host row has wherever a plan is shown (rollout form and page, approvals).
import type { RolloutPlan } from "@/app/_trpc/outputs";
import { bytes } from "./format";

type Host = RolloutPlan["hosts"][number];

/** Host, Env and Wave, then the page's Action cell, then From → to, Stream and Bytes. */
export const PLAN_COLUMNS = ["Host", "Env", "Wave", "Action", "From → to", "Stream", "Bytes"] as const;

/** The host's name, environment and wave (1-based; "—" when left out). */
export function WhereCells({ h }: { h: Pick<Host, "name" | "environment" | "wave"> }) {
  return (
    <>
      <td>{h.name}</td>
      <td>{h.environment ?? "—"}</td>
      <td>{h.wave >= 0 ? h.wave + 1 : "—"}</td>
    </>
  );
}

/** What the host runs now and will run, the stream it gets, and its size. */
export function StreamCells({ h }: { h: Pick<Host, "from" | "to" | "stream" | "parent" | "bytes"> }) {
  return (
    <>
      <td>
        {h.from ?? "—"} → {h.to ?? "—"}
      </td>
      <td>{h.stream === "delta" ? `delta from ${h.parent}` : h.stream}</td>
      <td>{bytes(h.bytes)}</td>
    </>
  );
}
