"use client";
// Releases per app: every version with its kind, size, signer, creation time and how many hosts
// have it (and run it). A version links to its detail page.
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { Badge, ErrorNote, Table, Time } from "@/app/_components/ui";
import { formatBytes } from "@/app/_components/format-bytes";

export function ReleasesView() {
  const trpc = useTRPC();
  const list = useQuery(trpc.releases.list.queryOptions({}));
  if (list.isPending) return <p className="text-sm text-muted">Loading releases…</p>;
  if (list.error) return <ErrorNote>Could not load releases: {errorMessage(list.error)}</ErrorNote>;
  if (list.data.apps.length === 0)
    return (
      <p className="text-sm text-muted">
        No releases yet. Push one built with keel-agent, or build one from a tree above.
      </p>
    );
  return (
    <div className="flex flex-col gap-6">
      {list.data.apps.map(({ app, releases }) => (
        <section key={app} aria-label={`App ${app}`} className="flex flex-col gap-2">
          <h2 className="text-lg font-semibold">{app}</h2>
          <Table columns={["Version", "Kind", "Stream", "Tree", "Signer", "Created", "Hosts"]}>
            {releases.map((r) => (
              <tr key={r.id} data-testid={`release-row-${app}-${r.version}`}>
                <td className="font-medium">
                  <Link
                    className="underline"
                    href={`/releases/${encodeURIComponent(app)}/${encodeURIComponent(r.version)}`}
                  >
                    {r.version}
                  </Link>{" "}
                  {r.source === "build" && <Badge>built here</Badge>}
                </td>
                <td>{r.kind}</td>
                <td>{formatBytes(r.streamBytes)}</td>
                <td className="text-xs">
                  {r.treeFiles} files, {formatBytes(r.treeBytes)}
                </td>
                <td className="text-xs">
                  {r.signerName} <code>{r.signerKeyId}</code>
                </td>
                <td className="text-xs">
                  <Time value={r.createdAt} />
                </td>
                <td data-testid="hosts">
                  {r.hosts}{" "}
                  {r.currentOn > 0 && <span className="text-xs text-muted">({r.currentOn} running)</span>}
                </td>
              </tr>
            ))}
          </Table>
        </section>
      ))}
    </div>
  );
}
