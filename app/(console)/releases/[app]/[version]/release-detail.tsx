"use client";
// One release: the signed manifest, the hosts that have it, and the cached incremental streams
// to and from it with their raw and on-the-wire sizes. Deleting is refused while a host runs it.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { ConfirmButton } from "@/app/_components/buttons";
import { Badge, ErrorNote, PageHeader, Table, Time } from "@/app/_components/ui";
import { formatBytes } from "@/app/_components/format-bytes";
import { ActivationDetail } from "./activation-detail";

export function ReleaseDetail({
  app,
  version,
  canDelete,
}: {
  app: string;
  version: string;
  canDelete: boolean;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const detail = useQuery(trpc.releases.show.queryOptions({ app, version }));
  const remove = useMutation(
    trpc.releases.delete.mutationOptions({
      onSuccess: () => {
        // The release list this tab fetched before (the page we came from) still has the deleted
        // version, and within its staleTime /releases would show it without asking again. Drop it,
        // so /releases loads the list anew, and mark every other release query out of date.
        queryClient.removeQueries({ queryKey: trpc.releases.list.queryKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.releases.pathKey(), refetchType: "none" });
        router.push("/releases");
      },
    }),
  );

  return (
    <div className="flex max-w-5xl flex-col gap-6">
      <PageHeader title={`${app} ${version}`}>
        <Link href="/releases" className="text-sm underline">
          All releases
        </Link>
      </PageHeader>
      {detail.isPending && <p className="text-sm text-muted">Loading…</p>}
      {detail.error && <ErrorNote>{errorMessage(detail.error)}</ErrorNote>}
      {detail.data && (
        <>
          <section className="card text-sm" aria-label="Summary">
            <dl className="grid grid-cols-[10rem_1fr] gap-y-1">
              <dt className="text-muted">Kind</dt>
              <dd>{detail.data.release.kind}</dd>
              <dt className="text-muted">Full stream</dt>
              <dd>{formatBytes(detail.data.release.streamBytes)}</dd>
              <dt className="text-muted">Tree</dt>
              <dd>
                {detail.data.release.treeFiles} files, {formatBytes(detail.data.release.treeBytes)}
              </dd>
              <dt className="text-muted">Signed by</dt>
              <dd>
                {detail.data.release.signerName} <code>{detail.data.release.signerKeyId}</code>
              </dd>
              <dt className="text-muted">Created</dt>
              <dd>
                <Time value={detail.data.release.createdAt} />
              </dd>
              <dt className="text-muted">Source</dt>
              <dd>{detail.data.release.source === "build" ? "built on this console" : "pushed"}</dd>
              <dt className="text-muted">Health check</dt>
              <dd aria-label="Health check">
                {detail.data.healthCheck ? (
                  <>
                    {detail.data.healthCheck.runsAsRoot && <Badge tone="danger">runs as root</Badge>}{" "}
                    <code className="text-xs">{detail.data.healthCheck.description}</code>
                  </>
                ) : (
                  "none declared"
                )}
              </dd>
              <ActivationDetail manifest={detail.data.manifest} />
              <dt className="text-muted">Requires</dt>
              <dd aria-label="Requires runtimes">
                {describeRequires(
                  (detail.data.manifest as { requires?: { runtime: string; versions: string }[] }).requires,
                ) || "no runtime"}
              </dd>
            </dl>
          </section>

          <section aria-label="Hosts" className="flex flex-col gap-2">
            <h2 className="text-lg font-semibold">Hosts that have it ({detail.data.installedOn.length})</h2>
            {detail.data.installedOn.length === 0 ? (
              <p className="text-sm text-muted">No host has this version.</p>
            ) : (
              <ul className="card text-sm">
                {detail.data.installedOn.map((h) => (
                  <li key={h.host}>
                    {h.host} {h.isCurrent && <Badge tone="ok">current</Badge>}{" "}
                    {h.isPrevious && <Badge>previous</Badge>}
                  </li>
                ))}
              </ul>
            )}
          </section>

          <section aria-label="Incremental streams" className="flex flex-col gap-2">
            <h2 className="text-lg font-semibold">Cached incremental streams</h2>
            {detail.data.deltas.length === 0 ? (
              <p className="text-sm text-muted">None cached yet; they are made when a host needs one.</p>
            ) : (
              <Table columns={["From → to", "Stream", "On the wire", "Made"]}>
                {detail.data.deltas.map((d) => (
                  <tr key={`${d.direction}-${d.otherVersion}`}>
                    <td>
                      {d.direction === "to"
                        ? `${d.otherVersion} → ${version}`
                        : `${version} → ${d.otherVersion}`}
                    </td>
                    <td>{formatBytes(d.streamBytes)}</td>
                    <td>{formatBytes(d.wireBytes)}</td>
                    <td className="text-xs">
                      <Time value={d.createdAt} />
                    </td>
                  </tr>
                ))}
              </Table>
            )}
          </section>

          <section aria-label="Manifest" className="flex flex-col gap-2">
            <h2 className="text-lg font-semibold">Signed manifest</h2>
            <pre className="card overflow-x-auto text-xs">
              {JSON.stringify(shortManifest(detail.data.manifest), null, 2)}
            </pre>
          </section>

          {canDelete && (
            <section className="flex flex-col gap-2">
              <ConfirmButton
                question={`Delete ${app} ${version} and its cached streams?`}
                className="btn btn-danger self-start"
                disabled={remove.isPending}
                onConfirm={() => remove.mutate({ app, version })}
              >
                {remove.isPending ? "Deleting…" : "Delete release"}
              </ConfirmButton>
              {remove.error && <ErrorNote>{errorMessage(remove.error)}</ErrorNote>}
            </section>
          )}
        </>
      )}
    </div>
  );
}

/** The manifest for reading: the per-chunk digests (up to 200,000) shown as a count. */
function shortManifest(m: unknown): unknown {
  const stream = (m as { stream?: { chunks?: unknown[] } }).stream;
  if (!stream?.chunks) return m;
  return { ...(m as object), stream: { ...stream, chunks: `${stream.chunks.length} chunk digests` } };
}

/** The runtimes a release's signed manifest requires, e.g. "node ^20, python >=3.11 <3.13" (decision 0023). */
function describeRequires(r: { runtime: string; versions: string }[] | undefined): string {
  return (r ?? []).map((x) => `${x.runtime} ${x.versions}`).join(", ");
}
