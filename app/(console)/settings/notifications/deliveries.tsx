"use client";
// Every notification delivery, newest first, refreshed while the page is open.
import { useQuery } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { Badge, ErrorNote, Table, Time } from "@/app/_components/ui";

const TONE = { delivered: "ok", failed: "danger", pending: "neutral", delivering: "neutral" } as const;

export function Deliveries() {
  const trpc = useTRPC();
  const list = useQuery({
    ...trpc.notifications.deliveries.queryOptions({ limit: 50 }),
    refetchInterval: 2000,
  });
  return (
    <div className="flex flex-col gap-2">
      <h3 className="font-medium">Deliveries</h3>
      {list.error && <ErrorNote>Could not load deliveries: {errorMessage(list.error)}</ErrorNote>}
      {list.data && list.data.length === 0 && <p className="text-sm text-muted">Nothing sent yet.</p>}
      {list.data && list.data.length > 0 && (
        <Table
          columns={["Queued", "Channel", "Event", "State", "Attempts", "Response", "Last error"]}
          label="Notification deliveries"
        >
          {list.data.map((d) => (
            <tr key={d.id} data-testid={`delivery-${d.event}`}>
              <td className="text-xs">
                <Time value={d.createdAt} />
              </td>
              <td>{d.channel}</td>
              <td className="text-xs" title={d.summary}>
                {d.event}
              </td>
              <td>
                <Badge tone={TONE[d.state]}>{d.state}</Badge>
              </td>
              <td>{d.attempts}</td>
              <td>{d.responseCode ?? ""}</td>
              <td className="break-all text-xs">
                {d.lastError}
                {d.nextAttemptAt && d.lastError && (
                  <>
                    {" "}
                    (next try <Time value={d.nextAttemptAt} />)
                  </>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </div>
  );
}
