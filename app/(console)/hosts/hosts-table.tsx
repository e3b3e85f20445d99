"use client";
// The Hosts page's table: one row per host on this page, sortable headers, a checkbox per host
// and one for the whole page.
import Link from "next/link";
import type { Dispatch, SetStateAction } from "react";
import { Badge, Table, Time } from "@/app/_components/ui";
import type { HostSort } from "./host-filter";

type HostRow = {
  id: string;
  name: string;
  address: string;
  port: number;
  environment: string | null;
  labels: Record<string, string>;
  os: string | null;
  appCount: number;
  lastError: string | null;
  hostKeyChanged: boolean;
  reachable: boolean | null;
  lastSeenAt: Date | string | null;
};

export function HostsTable({
  rows,
  loaded,
  selected,
  setSelected,
  sort,
  sortBy,
}: {
  rows: HostRow[];
  /** The page has loaded (an empty page then says no host matches). */
  loaded: boolean;
  selected: Set<string>;
  setSelected: Dispatch<SetStateAction<Set<string>>>;
  sort: { key: HostSort; dir: "asc" | "desc" };
  sortBy: (key: HostSort) => void;
}) {
  const header = (key: HostSort, label: string) => (
    <th>
      <button
        type="button"
        className="font-medium"
        onClick={() => sortBy(key)}
        aria-label={`Sort by ${label}`}
      >
        {label} {sort.key === key ? (sort.dir === "asc" ? "▲" : "▼") : ""}
      </button>
    </th>
  );
  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

  return (
    <Table
      columns={[
        <th className="w-0">
          <input
            type="checkbox"
            aria-label="Select all on this page"
            checked={rows.length > 0 && rows.every((r) => selected.has(r.id))}
            onChange={(e) => setSelected(e.target.checked ? new Set(rows.map((r) => r.id)) : new Set())}
          />
        </th>,
        header("name", "Name"),
        header("address", "Address"),
        header("environment", "Env"),
        "Labels",
        header("os", "OS"),
        "Apps",
        header("reachable", "State"),
        header("lastSeenAt", "Last seen"),
      ]}
      label="Hosts"
    >
      {rows.map((h) => (
        <tr key={h.id}>
          <td>
            <input
              type="checkbox"
              aria-label={`Select ${h.name}`}
              checked={selected.has(h.id)}
              onChange={() => toggle(h.id)}
            />
          </td>
          <td>
            <Link className="font-medium text-accent" href={`/hosts/${h.id}`}>
              {h.name}
            </Link>
          </td>
          <td className="font-mono text-xs">
            {h.address}:{h.port}
          </td>
          <td>{h.environment ?? <span className="text-muted">—</span>}</td>
          <td className="flex flex-wrap gap-1">
            {Object.entries(h.labels).map(([k, v]) => (
              <Badge key={k}>
                {k}={v}
              </Badge>
            ))}
          </td>
          <td>{h.os ?? <span className="text-muted">unknown</span>}</td>
          <td>{h.appCount}</td>
          <td title={h.lastError ?? undefined}>
            {h.hostKeyChanged ? (
              <Badge tone="danger">host key changed</Badge>
            ) : h.reachable === null ? (
              <Badge>not refreshed</Badge>
            ) : h.reachable ? (
              <Badge tone="ok">reachable</Badge>
            ) : (
              <Badge tone="danger">unreachable</Badge>
            )}
          </td>
          <td>
            <Time value={h.lastSeenAt} />
          </td>
        </tr>
      ))}
      {loaded && rows.length === 0 && (
        <tr>
          <td colSpan={9} className="text-muted">
            No hosts match.
          </td>
        </tr>
      )}
    </Table>
  );
}
