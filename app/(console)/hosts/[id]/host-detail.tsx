"use client";
// One host: identity and facts, store disk use, every app with all installed versions
// (current/previous marked), and its timeline. "As of" shows what it had at a past time.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { ConfirmButton } from "@/app/_components/buttons";
import { Badge, ErrorNote, OkNote, PageHeader, Table, Time } from "@/app/_components/ui";
import { formatBytes } from "@/app/(console)/hosts/_csv";
import { AsOfField, ExportCsvButton } from "@/app/(console)/hosts/export-csv-button";
import { RepinPanel } from "./repin-panel";

export function HostDetail({ id, roles }: { id: string; roles: string[] }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [asOf, setAsOf] = useState("");
  const at = asOf ? new Date(asOf) : undefined;
  const host = useQuery(trpc.hosts.get.queryOptions({ id, ...(at ? { at } : {}) }));
  const [notice, setNotice] = useState<{ text: string; bad: boolean } | null>(null);
  const refresh = useMutation(
    trpc.hosts.refresh.mutationOptions({
      onSuccess: async (r) => {
        const x = r.results[0];
        if (!x) setNotice({ text: "Refreshed.", bad: false });
        else if (x.status === "ok")
          setNotice({
            text: x.changed ? "Refreshed: changes recorded." : "Refreshed: nothing changed.",
            bad: false,
          });
        else setNotice({ text: `Refresh failed (${x.status}): ${x.message ?? "no message"}`, bad: true });
        await queryClient.invalidateQueries({ queryKey: trpc.hosts.get.queryKey() });
      },
    }),
  );
  const remove = useMutation(trpc.hosts.remove.mutationOptions({ onSuccess: () => router.push("/hosts") }));
  if (host.error) return <ErrorNote>Could not load the host: {errorMessage(host.error)}</ErrorNote>;
  const h = host.data;
  if (!h) return <p className="text-sm text-muted">Loading…</p>;
  // A retired host is read-only: its page shows what it had when it was removed, and its timeline.
  const canOperate = (roles.includes("admin") || roles.includes("operator")) && !h.retiredAt;
  const facts = (h.facts ?? {}) as {
    cpuCount?: number;
    cpuModel?: string;
    memoryBytes?: number;
    store?: { backend?: string } | null;
  };
  const used = h.storeUsedBytes ?? 0;
  const total = h.storeTotalBytes ?? 0;
  return (
    <div className="flex flex-col gap-4">
      <PageHeader title={h.name}>
        <div className="flex flex-wrap items-end gap-2">
          <AsOfField value={asOf} onChange={setAsOf} />
          {canOperate && (
            <button
              className="btn"
              type="button"
              disabled={refresh.isPending}
              onClick={() => refresh.mutate({ hostIds: [h.id] })}
            >
              {refresh.isPending ? "Refreshing…" : "Refresh now"}
            </button>
          )}
          {roles.includes("admin") && !h.retiredAt && (
            <ConfirmButton
              question={`Remove ${h.name} from the inventory? Its history and timeline are kept (retired hosts, "as of").`}
              className="btn btn-danger"
              onConfirm={() => remove.mutate({ id: h.id })}
            >
              Remove
            </ConfirmButton>
          )}
        </div>
      </PageHeader>
      {notice && (notice.bad ? <ErrorNote>{notice.text}</ErrorNote> : <OkNote>{notice.text}</OkNote>)}
      {refresh.error && <ErrorNote>{errorMessage(refresh.error)}</ErrorNote>}
      {remove.error && <ErrorNote>{errorMessage(remove.error)}</ErrorNote>}
      {h.retiredAt && (
        <ErrorNote>
          Retired <Time value={h.retiredAt} />
          {h.retiredBy ? ` by ${h.retiredBy}` : ""}: no longer in the inventory. Showing its last known facts,
          the versions it had{at ? " at the chosen time" : " when it was removed"}, and its timeline.
        </ErrorNote>
      )}
      {h.hostKeyChanged && (
        <ErrorNote>
          The host presented a different host key ({h.presentedKeyFingerprint ?? "unknown"}) than the pinned{" "}
          {h.hostKeyFingerprint}. Keel stopped talking to it; an admin must verify the machine and re-pin its
          key.
        </ErrorNote>
      )}
      {h.hostKeyChanged && !h.retiredAt && roles.includes("admin") && (
        <RepinPanel
          hostId={h.id}
          name={h.name}
          pinned={h.hostKeyFingerprint}
          presented={h.presentedKeyFingerprint}
          onDone={(text) => setNotice({ text, bad: false })}
        />
      )}
      {h.reachable === false && !h.hostKeyChanged && (
        <ErrorNote>Unreachable at the last refresh: {h.lastError}. Showing the last known state.</ErrorNote>
      )}
      <section className="card grid grid-cols-2 gap-x-6 gap-y-1 text-sm md:grid-cols-4" aria-label="Facts">
        <Fact k="Address" v={`${h.user}@${h.address}:${h.port}`} />
        <Fact k="Environment" v={h.environment ?? "—"} />
        <Fact k="Hostname" v={h.hostname ?? "—"} />
        <Fact k="OS" v={h.os ?? "—"} />
        <Fact k="Kernel" v={h.kernel ?? "—"} />
        <Fact k="Arch" v={h.arch ?? "—"} />
        <Fact k="CPU" v={facts.cpuCount ? `${facts.cpuCount} × ${facts.cpuModel ?? ""}` : "—"} />
        <Fact k="Memory" v={formatBytes(facts.memoryBytes)} />
        <Fact k="Agent" v={h.agentVersion ?? "—"} />
        <Fact k="Machine id" v={h.machineId ?? "—"} />
        <Fact k="Host key" v={h.hostKeyFingerprint} />
        <Fact
          k="Labels"
          v={
            Object.entries(h.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(" ") || "—"
          }
        />
        <div>
          <div className="text-muted">Last seen</div>
          <Time value={h.lastSeenAt} />
        </div>
        <div>
          <div className="text-muted">Groups</div>
          {h.groups.map((g) => g.name).join(", ") || "—"}
        </div>
      </section>
      <section className="card text-sm" aria-label="Store disk use">
        <div className="mb-1 font-medium">
          Store ({facts.store?.backend ?? "unknown"}): {formatBytes(used)} of {formatBytes(total)} used
        </div>
        <div className="h-2 w-full rounded bg-line">
          <div
            className="h-2 rounded bg-accent"
            style={{ width: `${total ? Math.min(100, (used / total) * 100) : 0}%` }}
          />
        </div>
      </section>
      <section aria-label="Apps">
        <h2 className="mb-2 font-medium">Apps and runtimes{h.at ? ` as of ${h.at.toLocaleString()}` : ""}</h2>
        <Table columns={["App", "Version", "State", "Size", "Received UUID", "Signer", "Since"]}>
          {h.apps.flatMap((a) =>
            a.versions.map((v) => (
              <tr key={`${a.app}/${v.version}`}>
                <td>
                  {a.app} {a.kind === "runtime" && <Badge>runtime</Badge>}
                </td>
                <td className="font-mono">{v.version}</td>
                <td>
                  {v.isCurrent ? (
                    <Badge tone="ok">current</Badge>
                  ) : v.isPrevious ? (
                    <Badge>previous</Badge>
                  ) : null}
                </td>
                <td>{formatBytes(v.sizeBytes)}</td>
                <td className="font-mono text-xs">{v.receivedUuid ?? "—"}</td>
                <td className="font-mono text-xs">{v.signer ?? "—"}</td>
                <td>
                  <Time value={v.since} />
                </td>
              </tr>
            )),
          )}
          {h.apps.length === 0 && (
            <tr>
              <td colSpan={7} className="text-muted">
                No apps installed{h.factsAt ? "" : " (not refreshed yet)"}.
              </td>
            </tr>
          )}
        </Table>
      </section>
      <section aria-label="Timeline">
        <div className="mb-2 flex items-center justify-between">
          <h2 className="font-medium">Timeline</h2>
          <ExportCsvButton request={{ table: "timeline", hostId: h.id }} />
        </div>
        <ol className="card flex flex-col gap-1 text-sm">
          {h.events.map((e) => (
            <li key={e.id} className="flex gap-3">
              <span className="w-48 shrink-0 text-muted">
                <Time value={e.at} />
              </span>
              <Badge>{e.kind}</Badge>
              <span>{e.message}</span>
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}

function Fact({ k, v }: { k: string; v: string }) {
  return (
    <div className="min-w-0">
      <div className="text-muted">{k}</div>
      <div className="truncate" title={v}>
        {v}
      </div>
    </div>
  );
}
