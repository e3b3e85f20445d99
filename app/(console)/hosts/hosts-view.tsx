"use client";
// Hosts: the fleet, filtered/sorted/paged on the server, with selection for bulk refresh and
// labels, and CSV export of exactly what the filters select.
import Link from "next/link";
import { useState } from "react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { CursorPager, type PageCursor } from "@/app/_components/cursor-pager";
import { Badge, ErrorNote, OkNote, PageHeader, Time } from "@/app/_components/ui";
import { parseLabels } from "./_csv";
import { ExportCsvButton } from "./export-csv-button";

type Sort =
  "name" | "address" | "environment" | "os" | "reachable" | "lastSeenAt" | "lastRefreshAt" | "createdAt";

export function HostsView({ roles }: { roles: string[] }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const canEnroll = roles.includes("admin");
  const canOperate = roles.includes("admin") || roles.includes("operator");
  const [form, setForm] = useState({
    q: "",
    labels: "",
    environment: "",
    app: "",
    version: "",
    os: "",
    reachable: "",
    staleHours: "",
  });
  const [applied, setApplied] = useState(form);
  const [sort, setSort] = useState<{ key: Sort; dir: "asc" | "desc" }>({ key: "name", dir: "asc" });
  // Keyset paging: the page after (or before) a cursor the server handed out; none is the first page.
  const [cursor, setCursor] = useState<PageCursor>({});
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState<string | null>(null);
  // A refresh that reported failures is shown as a problem, not as a success.
  const [noticeIsBad, setNoticeIsBad] = useState(false);
  // While a background refresh runs, the list polls so hosts leave "not refreshed" as results land.
  const [liveUntil, setLiveUntil] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);

  const labels = parseLabels(applied.labels);
  const filter = {
    ...(applied.q ? { q: applied.q } : {}),
    ...(labels && Object.keys(labels).length ? { labels } : {}),
    ...(applied.environment ? { environments: applied.environment.split(/[\s,]+/).filter(Boolean) } : {}),
    ...(applied.app ? { app: applied.app } : {}),
    ...(applied.version ? { version: applied.version } : {}),
    ...(applied.os ? { os: applied.os } : {}),
    ...(applied.reachable ? { reachable: applied.reachable === "yes" } : {}),
    ...(applied.staleHours
      ? { seenBefore: new Date(Date.now() - Number(applied.staleHours) * 3600_000) }
      : {}),
  };
  const hosts = useQuery({
    ...trpc.hosts.list.queryOptions({ filter, sort: sort.key, direction: sort.dir, ...cursor, pageSize: 50 }),
    placeholderData: keepPreviousData,
    refetchInterval: () => (Date.now() < liveUntil ? 2000 : false),
  });
  const refresh = useMutation(
    trpc.hosts.refresh.mutationOptions({
      onSuccess: async (r) => {
        setNotice(
          r.background
            ? `Refreshing ${r.total} hosts in the background; the list updates as they answer.`
            : `Refreshed ${r.total}: ${r.ok} ok, ${r.changed} changed, ${r.unreachable} unreachable${r.keyChanged ? `, ${r.keyChanged} host key changed` : ""}.`,
        );
        setNoticeIsBad(!r.background && r.unreachable + r.keyChanged > 0);
        if (r.background) setLiveUntil(Date.now() + Math.max(60_000, r.total * 1000));
        await queryClient.invalidateQueries({ queryKey: trpc.hosts.list.queryKey() });
      },
      onError: (e) => setProblem(errorMessage(e)),
    }),
  );
  const setLabels = useMutation(
    trpc.hosts.setLabels.mutationOptions({
      onSuccess: async (r) => {
        setNotice(`Labels changed on ${r.updated} hosts.`);
        setNoticeIsBad(false);
        await queryClient.invalidateQueries({ queryKey: trpc.hosts.list.queryKey() });
      },
      onError: (e) => setProblem(errorMessage(e)),
    }),
  );

  const sortBy = (key: Sort) => {
    setCursor({});
    setSort((s) => ({ key, dir: s.key === key && s.dir === "asc" ? "desc" : "asc" }));
  };
  const header = (key: Sort, label: string) => (
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
  const rows = hosts.data?.rows ?? [];
  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

  return (
    <div className="flex flex-col gap-4">
      <PageHeader title="Hosts">
        <div className="flex gap-2">
          <Link className="btn" href="/apps">
            Apps and versions
          </Link>
          {canEnroll && (
            <>
              <Link className="btn" href="/hosts/import">
                Import
              </Link>
              <Link className="btn btn-primary" href="/hosts/enroll">
                Enroll host
              </Link>
            </>
          )}
        </div>
      </PageHeader>
      <form
        aria-label="Filter hosts"
        className="card grid grid-cols-2 gap-2 md:grid-cols-4"
        onSubmit={(e) => {
          e.preventDefault();
          if (form.labels && !parseLabels(form.labels))
            return setProblem("Labels are key=value pairs separated by spaces.");
          setProblem(null);
          setCursor({});
          setApplied(form);
        }}
      >
        {(
          [
            ["q", "Search", "name, address, OS, label…"],
            ["labels", "Labels", "role=web dc=fra1"],
            ["environment", "Environment", "prod"],
            ["os", "OS", "debian"],
            ["app", "App", "nginx"],
            ["version", "Version", "1.25.3"],
            ["staleHours", "Not seen for (hours)", "24"],
          ] as const
        ).map(([key, label, ph]) => (
          <div key={key}>
            <label className="label" htmlFor={`f-${key}`}>
              {label}
            </label>
            <input
              id={`f-${key}`}
              className="input"
              placeholder={ph}
              value={form[key]}
              onChange={(e) => setForm({ ...form, [key]: e.target.value })}
            />
          </div>
        ))}
        <div>
          <label className="label" htmlFor="f-reachable">
            Reachable
          </label>
          <select
            id="f-reachable"
            className="input"
            value={form.reachable}
            onChange={(e) => setForm({ ...form, reachable: e.target.value })}
          >
            <option value="">any</option>
            <option value="yes">yes</option>
            <option value="no">no</option>
          </select>
        </div>
        <div className="col-span-full flex flex-wrap gap-2">
          <button className="btn btn-primary" type="submit">
            Apply filters
          </button>
          <ExportCsvButton
            request={{ table: "hosts", filter, sort: sort.key, direction: sort.dir }}
            onError={setProblem}
          />
        </div>
      </form>
      {notice && (noticeIsBad ? <ErrorNote>{notice}</ErrorNote> : <OkNote>{notice}</OkNote>)}
      {problem && <ErrorNote>{problem}</ErrorNote>}
      {canOperate && (
        <div className="flex flex-wrap items-center gap-2 text-sm" aria-label="Bulk actions">
          <span className="text-muted">{selected.size} selected</span>
          <button
            className="btn"
            type="button"
            disabled={!selected.size || refresh.isPending}
            onClick={() => refresh.mutate({ hostIds: [...selected] })}
          >
            {refresh.isPending ? "Refreshing…" : "Refresh selected"}
          </button>
          <button
            className="btn"
            type="button"
            disabled={!hosts.data?.total || refresh.isPending}
            onClick={() => refresh.mutate(Object.keys(filter).length ? { filter } : { all: true })}
          >
            Refresh all matching ({hosts.data?.total ?? 0})
          </button>
          <button
            className="btn"
            type="button"
            disabled={!selected.size}
            onClick={() => {
              const text = window.prompt("Labels to set on the selected hosts (key=value …)");
              const l = text ? parseLabels(text) : null;
              if (l && Object.keys(l).length) setLabels.mutate({ hostIds: [...selected], set: l });
            }}
          >
            Set labels…
          </button>
        </div>
      )}
      {hosts.error && <ErrorNote>Could not load hosts: {errorMessage(hosts.error)}</ErrorNote>}
      <table className="table card !p-0" aria-label="Hosts">
        <thead>
          <tr>
            <th className="w-0">
              <input
                type="checkbox"
                aria-label="Select all on this page"
                checked={rows.length > 0 && rows.every((r) => selected.has(r.id))}
                onChange={(e) => setSelected(e.target.checked ? new Set(rows.map((r) => r.id)) : new Set())}
              />
            </th>
            {header("name", "Name")}
            {header("address", "Address")}
            {header("environment", "Env")}
            <th>Labels</th>
            {header("os", "OS")}
            <th>Apps</th>
            {header("reachable", "State")}
            {header("lastSeenAt", "Last seen")}
          </tr>
        </thead>
        <tbody>
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
          {hosts.data && rows.length === 0 && (
            <tr>
              <td colSpan={9} className="text-muted">
                No hosts match.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <CursorPager label="Pages" page={hosts.data && { ...hosts.data, noun: "hosts" }} onPage={setCursor} />
      <RetiredHosts />
    </div>
  );
}

/** Hosts removed from the inventory: their pages (history, timeline) stay reachable from here. */
function RetiredHosts() {
  const trpc = useTRPC();
  const [open, setOpen] = useState(false);
  const retired = useQuery({ ...trpc.hosts.retired.queryOptions({ limit: 200 }), enabled: open });
  return (
    <details className="card text-sm" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>Retired hosts</summary>
      {retired.error && <ErrorNote>{errorMessage(retired.error)}</ErrorNote>}
      {retired.data && retired.data.length === 0 && <p className="text-muted">No host has been removed.</p>}
      {retired.data && retired.data.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Address</th>
              <th>Environment</th>
              <th>Enrolled</th>
              <th>Retired</th>
            </tr>
          </thead>
          <tbody>
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
          </tbody>
        </table>
      )}
    </details>
  );
}
