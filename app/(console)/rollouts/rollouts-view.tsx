"use client";
// Rollouts: the newest first with their progress, and (operators, admins) the form to plan a new one.
import Link from "next/link";
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { Badge, ErrorNote, PageHeader, Table, Time } from "@/app/_components/ui";
import { NewRolloutForm } from "./new-rollout-form";
import { STATE_TONE, stateLabel } from "./format";

export function RolloutsView({ canCreate }: { canCreate: boolean }) {
  const trpc = useTRPC();
  const [page, setPage] = useState(0);
  const list = useQuery({
    ...trpc.rollouts.list.queryOptions({ page, pageSize: 25 }),
    refetchInterval: 3000,
  });
  return (
    <div className="flex max-w-6xl flex-col gap-6">
      <PageHeader title="Rollouts" />
      {canCreate && <NewRolloutForm />}
      <section aria-label="All rollouts">
        {list.isPending && <p className="text-sm text-muted">Loading rollouts…</p>}
        {list.error && <ErrorNote>Could not load rollouts: {errorMessage(list.error)}</ErrorNote>}
        {list.data && list.data.rows.length === 0 && <p className="text-sm text-muted">No rollouts yet.</p>}
        {list.data && list.data.rows.length > 0 && (
          <Table columns={["#", "Change", "State", "Hosts", "Requested by", "Created"]}>
            {list.data.rows.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link className="underline" href={`/rollouts/${r.id}`}>
                    {r.number}
                  </Link>
                </td>
                <td>
                  {r.action === "rollback" ? "roll back" : "update"} <strong>{r.app}</strong>{" "}
                  {r.version ?? ""}
                </td>
                <td>
                  <Badge tone={STATE_TONE[r.state] ?? "neutral"}>{stateLabel(r.state)}</Badge>
                  {r.pauseReason && <span className="ml-2 text-xs text-muted">{r.pauseReason}</span>}
                </td>
                <td className="text-xs">
                  {Object.entries(r.hosts)
                    .map(([s, n]) => `${n} ${s}`)
                    .join(", ")}
                </td>
                <td>{r.requester}</td>
                <td>
                  <Time value={r.createdAt} />
                </td>
              </tr>
            ))}
          </Table>
        )}
        {list.data && list.data.total > 25 && (
          <div className="mt-2 flex gap-2 text-sm">
            <button className="btn" disabled={page === 0} onClick={() => setPage(page - 1)}>
              Newer
            </button>
            <button
              className="btn"
              disabled={(page + 1) * 25 >= list.data.total}
              onClick={() => setPage(page + 1)}
            >
              Older
            </button>
          </div>
        )}
      </section>
    </div>
  );
}
