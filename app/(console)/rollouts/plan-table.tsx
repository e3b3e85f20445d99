"use client";
// The plan people approve: totals, waves, and per host what happens and what it costs.
import { bytes } from "./format";
import { RootCommandsNotice } from "./root-commands-notice";
import { RuntimeAffects, RuntimeSteps } from "./runtime-notes";
import { PLAN_COLUMNS, StreamCells, WhereCells } from "./plan-cells";
import { Table } from "@/app/_components/ui";
import type { RolloutPlan } from "@/app/_trpc/outputs";

export function PlanTable({ plan }: { plan: RolloutPlan }) {
  const t = plan.totals;
  return (
    <div className="flex flex-col gap-2">
      <RootCommandsNotice rootCommands={plan.rootCommands} />
      <RuntimeAffects kind={plan.kind} affects={plan.affects} />
      {plan.hosts.some((h) => h.excluded) && (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400" aria-label="Hosts left out">
          Left out of this plan: {plan.hosts.filter((h) => h.excluded === "key-changed").length} host(s) whose
          key changed, {plan.hosts.filter((h) => h.excluded === "unreachable").length} unreachable at their
          last refresh.
        </p>
      )}
      <p className="text-sm" aria-label="Plan totals">
        {t.hosts} hosts: {t.install} install, {t.update} update, {t.rollback} roll back, {t.nothing} nothing ·{" "}
        {bytes(t.bytes)} to send · {bytes(t.diskNeeded)} disk · waves {plan.waves.join(" → ") || "none"}
      </p>
      <Table columns={PLAN_COLUMNS} className="text-sm">
        {plan.hosts.slice(0, 500).map((h) => (
          <tr key={h.hostId}>
            <WhereCells h={h} />
            <td>
              {h.excluded ? (
                <strong className="text-red-700 dark:text-red-400">left out ({h.excluded})</strong>
              ) : (
                h.action
              )}
              {h.note && <span className="ml-1 text-xs text-muted">({h.note})</span>}
              <RuntimeSteps runtimes={h.runtimes} />
            </td>
            <StreamCells h={h} />
          </tr>
        ))}
      </Table>
      {plan.hosts.length > 500 && (
        <p className="text-xs text-muted">First 500 of {plan.hosts.length} hosts shown.</p>
      )}
    </div>
  );
}
