"use client";
// The Runtimes view (decision 0023): per runtime, the versions current on the fleet, drift against
// the newest release, and the installed apps that use it (their range; hosts where it is unmet).
import { useQuery } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { Badge, ErrorNote, Table } from "@/app/_components/ui";

export function RuntimesSection() {
  const trpc = useTRPC();
  const runtimes = useQuery(trpc.apps.runtimes.queryOptions());
  return (
    <section aria-label="Runtimes" className="flex flex-col gap-2">
      <h2 className="font-medium">Runtimes</h2>
      {runtimes.error && <ErrorNote>{errorMessage(runtimes.error)}</ErrorNote>}
      <Table columns={["Runtime", "Current versions (hosts)", "Drift", "Used by"]} className="text-sm">
        {runtimes.data?.map((r) => (
          <tr key={r.runtime}>
            <td>{r.runtime}</td>
            <td className="font-mono">{r.versions.map((v) => `${v.version} (${v.hosts})`).join(", ")}</td>
            <td>
              {r.drift ? (
                <Badge tone="danger">drift{r.newestRelease ? ` · newest ${r.newestRelease}` : ""}</Badge>
              ) : (
                <Badge tone="ok">none</Badge>
              )}
            </td>
            <td>
              {r.usedBy.length === 0
                ? "no installed app"
                : r.usedBy.map((u) => (
                    <span key={`${u.app}/${u.version}`} className="block">
                      {u.app} {u.version} needs {u.versions} on {u.hosts} host{u.hosts === 1 ? "" : "s"}
                      {u.unmet > 0 && <strong className="ml-1 text-danger">unmet on {u.unmet}</strong>}
                    </span>
                  ))}
            </td>
          </tr>
        ))}
        {runtimes.data?.length === 0 && (
          <tr>
            <td colSpan={4} className="text-muted">
              No runtime is installed on any host.
            </td>
          </tr>
        )}
      </Table>
    </section>
  );
}
