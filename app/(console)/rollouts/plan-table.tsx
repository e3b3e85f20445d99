"use client";
// The plan people approve: totals, waves, and per host what happens and what it costs.
import { bytes } from "./format";
import { RootCommandsNotice, type RootCommands } from "./root-commands-notice";
import { RuntimeAffects, RuntimeSteps, type RuntimeUse } from "./runtime-notes";
import { Table } from "@/app/_components/ui";

type Plan = {
  waves: number[];
  totals: {
    hosts: number;
    install: number;
    update: number;
    rollback: number;
    nothing: number;
    bytes: number;
    diskNeeded: number;
  };
  rootCommands?: RootCommands;
  kind?: string;
  affects?: RuntimeUse[];
  hosts: {
    hostId: string;
    name: string;
    environment: string | null;
    wave: number;
    action: string;
    from: string | null;
    to: string | null;
    stream: string;
    parent: string | null;
    bytes: number;
    note?: string;
    excluded?: string;
    runtimes?: Parameters<typeof RuntimeSteps>[0]["runtimes"];
  }[];
};

export function PlanTable({ plan }: { plan: Plan }) {
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
      <Table columns={["Host", "Env", "Wave", "Action", "From → to", "Stream", "Bytes"]} className="text-sm">
        {plan.hosts.slice(0, 500).map((h) => (
          <tr key={h.hostId}>
            <td>{h.name}</td>
            <td>{h.environment ?? "—"}</td>
            <td>{h.wave >= 0 ? h.wave + 1 : "—"}</td>
            <td>
              {h.excluded ? (
                <strong className="text-red-700 dark:text-red-400">left out ({h.excluded})</strong>
              ) : (
                h.action
              )}
              {h.note && <span className="ml-1 text-xs text-muted">({h.note})</span>}
              <RuntimeSteps runtimes={h.runtimes} />
            </td>
            <td>
              {h.from ?? "—"} → {h.to ?? "—"}
            </td>
            <td>{h.stream === "delta" ? `delta from ${h.parent}` : h.stream}</td>
            <td>{bytes(h.bytes)}</td>
          </tr>
        ))}
      </Table>
      {plan.hosts.length > 500 && (
        <p className="text-xs text-muted">First 500 of {plan.hosts.length} hosts shown.</p>
      )}
    </div>
  );
}
