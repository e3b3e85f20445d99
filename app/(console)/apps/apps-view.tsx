"use client";
// Apps across the fleet: version distribution per app (chart), drift from the target versions per
// fleet/environment/group, hosts not seen recently, and "as of" a past time. Every table exports CSV.
import Link from "next/link";
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { Badge, ErrorNote, PageHeader, Table, Time } from "@/app/_components/ui";
import { CursorPager, type PageCursor } from "@/app/_components/cursor-pager";
import { AsOfField, ExportCsvButton } from "@/app/(console)/hosts/export-csv-button";
import { RuntimesSection } from "./runtimes-section";

export function AppsView({ roles }: { roles: string[] }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const apps = useQuery(trpc.apps.list.queryOptions());
  const [picked, setPicked] = useState<string | null>(null);
  const app = picked ?? apps.data?.[0]?.app ?? null;
  const [asOf, setAsOf] = useState("");
  const at = asOf ? new Date(asOf) : undefined;
  const dist = useQuery({
    ...trpc.apps.distribution.queryOptions({ app: app ?? "x", ...(at ? { at } : {}) }),
    enabled: !!app,
  });
  const drift = useQuery({ ...trpc.apps.drift.queryOptions({ app: app ?? "x" }), enabled: !!app });
  const [asOfCursor, setAsOfCursor] = useState<PageCursor>({});
  const asOfHosts = useQuery({
    ...trpc.hosts.asOf.queryOptions({
      at: at ?? new Date(0),
      app: app ?? undefined,
      ...asOfCursor,
      pageSize: 50,
    }),
    enabled: !!at && !!app,
  });
  const [staleHours, setStaleHours] = useState(24);
  const stale = useQuery(trpc.hosts.stale.queryOptions({ olderThanHours: staleHours, pageSize: 20 }));
  const [target, setTarget] = useState({ version: "", scope: "fleet", key: "" });
  const setTargetM = useMutation(
    trpc.apps.setTarget.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.apps.drift.queryKey() }),
    }),
  );
  const canSetTarget = roles.includes("admin") || roles.includes("operator");
  return (
    <div className="flex flex-col gap-6">
      <PageHeader title="Apps and versions">
        <Link className="btn" href="/hosts">
          Hosts
        </Link>
      </PageHeader>
      {apps.error && <ErrorNote>{errorMessage(apps.error)}</ErrorNote>}
      <section aria-label="Apps" className="flex flex-wrap items-center gap-2">
        {apps.data?.map((a) => (
          <button
            key={a.app}
            type="button"
            className={`btn ${a.app === app ? "btn-primary" : ""}`}
            onClick={() => (setPicked(a.app), setAsOfCursor({}))}
          >
            {a.app} <span className="text-xs opacity-70">{a.hosts} hosts</span>
          </button>
        ))}
        {apps.data?.length === 0 && (
          <p className="text-sm text-muted">No app is installed on any enrolled host yet.</p>
        )}
        <ExportCsvButton request={{ table: "apps" }} />
      </section>
      <RuntimesSection />
      {app && (
        <section aria-label="Version distribution" className="card flex flex-col gap-2">
          <div className="flex flex-wrap items-end justify-between gap-2">
            <h2 className="font-medium">
              {app}: versions across {dist.data?.hostCount ?? "…"} hosts
              {dist.data?.at ? ` as of ${dist.data.at.toLocaleString()}` : ""}
            </h2>
            <div className="flex items-end gap-2">
              <AsOfField value={asOf} onChange={(v) => (setAsOf(v), setAsOfCursor({}))} />
              <ExportCsvButton request={{ table: "distribution", app, ...(at ? { at } : {}) }} />
            </div>
          </div>
          {dist.data && (
            <div className="h-64 w-full">
              <ResponsiveContainer>
                <BarChart
                  data={[...dist.data.versions, { version: "not installed", hosts: dist.data.withoutApp }]}
                >
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="version" />
                  <YAxis allowDecimals={false} />
                  <Tooltip />
                  <Bar dataKey="hosts" fill="var(--color-accent, #2563eb)" />
                </BarChart>
              </ResponsiveContainer>
            </div>
          )}
        </section>
      )}
      {app && at && asOfHosts.data && (
        <section aria-label="As of">
          <div className="mb-2 flex items-center justify-between">
            <h2 className="font-medium">
              Hosts running {app} at {at.toLocaleString()} ({asOfHosts.data.total})
            </h2>
            <ExportCsvButton request={{ table: "as-of", at, app }} />
          </div>
          <Table columns={["Host", "Environment", "Version then"]}>
            {asOfHosts.data.rows.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link className="text-accent" href={`/hosts/${r.id}`}>
                    {r.name}
                  </Link>
                </td>
                <td>{r.environment ?? "—"}</td>
                <td className="font-mono">{r.versions.map((v) => v.version).join(", ")}</td>
              </tr>
            ))}
          </Table>
          <CursorPager
            label="As of pages"
            page={{ ...asOfHosts.data, noun: "hosts" }}
            onPage={setAsOfCursor}
          />
        </section>
      )}
      {app && (
        <section aria-label="Drift">
          <div className="mb-2 flex items-center justify-between">
            <h2 className="font-medium">Drift from target ({app})</h2>
            <ExportCsvButton request={{ table: "drift", app }} />
          </div>
          <Table columns={["Scope", "Target", "Hosts", "On target", "Behind", "Ahead", "Missing"]}>
            {drift.data?.map((d) => (
              <tr key={d.targetId}>
                <td>{d.scopeName}</td>
                <td className="font-mono">{d.targetVersion}</td>
                <td>{d.hosts}</td>
                <td>{d.onTarget}</td>
                <td>{d.behind ? <Badge tone="danger">{d.behind}</Badge> : 0}</td>
                <td>{d.ahead}</td>
                <td>{d.missing}</td>
              </tr>
            ))}
            {drift.data?.length === 0 && (
              <tr>
                <td colSpan={7} className="text-muted">
                  No target version set for {app}.
                </td>
              </tr>
            )}
          </Table>
          {canSetTarget && (
            <form
              aria-label="Set target"
              className="mt-2 flex flex-wrap items-end gap-2"
              onSubmit={(e) => {
                e.preventDefault();
                const scope =
                  target.scope === "fleet"
                    ? { kind: "fleet" as const }
                    : { kind: "environment" as const, environment: target.key };
                setTargetM.mutate({ app, version: target.version || null, scope });
              }}
            >
              <input
                className="input w-32"
                placeholder="version"
                value={target.version}
                onChange={(e) => setTarget({ ...target, version: e.target.value })}
              />
              <select
                className="input w-40"
                value={target.scope}
                onChange={(e) => setTarget({ ...target, scope: e.target.value })}
              >
                <option value="fleet">whole fleet</option>
                <option value="environment">environment</option>
              </select>
              {target.scope === "environment" && (
                <input
                  className="input w-32"
                  placeholder="prod"
                  value={target.key}
                  onChange={(e) => setTarget({ ...target, key: e.target.value })}
                />
              )}
              <button className="btn" type="submit">
                Set target
              </button>
              {setTargetM.error && <ErrorNote>{errorMessage(setTargetM.error)}</ErrorNote>}
            </form>
          )}
        </section>
      )}
      <section aria-label="Not seen recently">
        <div className="mb-2 flex items-center justify-between">
          <h2 className="font-medium">
            Hosts not seen for{" "}
            <input
              className="input inline w-20"
              type="number"
              min={1}
              value={staleHours}
              onChange={(e) => setStaleHours(Number(e.target.value) || 24)}
            />{" "}
            hours ({stale.data?.total ?? "…"})
          </h2>
          <ExportCsvButton request={{ table: "stale", olderThanMs: staleHours * 3600_000 }} />
        </div>
        <Table columns={["Host", "Last seen", "Last error"]}>
          {stale.data?.rows.map((h) => (
            <tr key={h.id}>
              <td>
                <Link className="text-accent" href={`/hosts/${h.id}`}>
                  {h.name}
                </Link>
              </td>
              <td>
                <Time value={h.lastSeenAt} />
              </td>
              <td className="text-xs">{h.lastError ?? "—"}</td>
            </tr>
          ))}
        </Table>
      </section>
    </div>
  );
}
