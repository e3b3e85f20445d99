"use client";
// Hosts removed from the inventory: their pages (history, timeline) stay reachable from here.
import Link from "next/link";
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { ErrorNote, Table, Time } from "@/app/_components/ui";

export function RetiredHosts() {
  const trpc = useTRPC();
  const [open, setOpen] = useState(false);
  const retired = useQuery({ ...trpc.hosts.retired.queryOptions({ limit: 200 }), enabled: open });
  return (
    <details className="card text-sm" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>Retired hosts</summary>
      {retired.error && <ErrorNote>{errorMessage(retired.error)}</ErrorNote>}
      {retired.data && retired.data.length === 0 && <p className="text-muted">No host has been removed.</p>}
      {retired.data && retired.data.length > 0 && (
        <Table card={false} columns={["Name", "Address", "Environment", "Enrolled", "Retired"]}>
          {retired.data.map((h) => (
            <tr key={h.id}>
              <td>
                <Link href={`/hosts/${h.id}`}>{h.name}</Link>
              </td>
              <td>{h.address}</td>
              <td>{h.environment ?? "—"}</td>
              <td>
                <Time value={h.createdAt} />
              </td>
              <td>
                <Time value={h.retiredAt} />
              </td>
            </tr>
          ))}
        </Table>
      )}
    </details>
  );
}
