"use client";
// The approval policy: the version in force (Cedar + maintenance windows), an editor that
// validates as you type, a diff against the version in force, a dry run against an existing
// rollout, and the history of versions. An edit is proposed and needs approval like any change;
// after proposing, the editor keeps the text proposed (not the version in force) and links to it.
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import type { inferRouterInputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/root";
import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { CommentRow } from "@/app/_components/comment-row";
import { Badge, ErrorNote, OkNote, PageHeader, Table, Time } from "@/app/_components/ui";
import { lineDiff } from "./line-diff";
import { DiffView, windowsText } from "./diff-view";
import { decisionText } from "@/app/(console)/rollouts/format";

type Doc = inferRouterInputs<AppRouter>["policy"]["validate"];

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export function PolicyView({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const policy = useQuery(trpc.policy.get.queryOptions());
  const [cedar, setCedar] = useState<string | null>(null);
  const [windows, setWindows] = useState<string | null>(null);
  const [comment, setComment] = useState("");
  const [rolloutId, setRolloutId] = useState("");
  const active = policy.data?.active.document as Doc | undefined;

  const draft = useMemo((): { doc: Doc | null; jsonError: string | null } => {
    if (!active) return { doc: null, jsonError: null };
    try {
      const w = windows === null ? active.windows : (JSON.parse(windows) as Doc["windows"]);
      return { doc: { cedar: cedar ?? active.cedar, windows: w }, jsonError: null };
    } catch (e) {
      return { doc: null, jsonError: `Windows are not valid JSON: ${(e as Error).message}` };
    }
  }, [active, cedar, windows]);
  const debounced = useDebounced(draft.doc, 400);
  const validation = useQuery(trpc.policy.validate.queryOptions(debounced ?? skipToken));
  const rollouts = useQuery(trpc.rollouts.list.queryOptions({ page: 0, pageSize: 25 }));
  const dryRun = useQuery(
    trpc.policy.test.queryOptions(debounced && rolloutId ? { document: debounced, rolloutId } : skipToken),
  );
  const propose = useMutation(
    trpc.policy.propose.mutationOptions({
      // The editor keeps what was proposed: falling back to the text in force would hide the proposal.
      onSuccess: async () => {
        await qc.invalidateQueries({ queryKey: trpc.policy.get.queryKey() });
      },
    }),
  );

  if (policy.isPending) return <p className="text-sm text-muted">Loading the policy…</p>;
  if (policy.error) return <ErrorNote>Could not load the policy: {errorMessage(policy.error)}</ErrorNote>;
  const doc = active!;
  const changed =
    draft.doc !== null &&
    (draft.doc.cedar !== doc.cedar || JSON.stringify(draft.doc.windows) !== JSON.stringify(doc.windows));
  const diff =
    changed && draft.doc
      ? {
          cedar: lineDiff(doc.cedar, draft.doc.cedar),
          windows: lineDiff(windowsText(doc.windows), windowsText(draft.doc.windows)),
        }
      : null;
  // The text in the editor is exactly what was just proposed: proposing it again would only duplicate it.
  const justProposed =
    propose.data &&
    propose.variables &&
    draft.doc &&
    propose.variables.document.cedar === draft.doc.cedar &&
    windowsText(propose.variables.document.windows) === windowsText(draft.doc.windows)
      ? propose.data
      : null;
  const pending = policy.data.versions.filter((v) => v.state === "proposed");

  return (
    <div className="flex max-w-6xl flex-col gap-5">
      <PageHeader title="Policy">
        <span className="text-sm text-muted">
          version {policy.data.active.version} in force · digest {policy.data.active.digest.slice(0, 12)}
        </span>
      </PageHeader>
      {propose.error && <ErrorNote>{errorMessage(propose.error)}</ErrorNote>}
      {propose.data && (
        <OkNote>
          Version {propose.data.version} is{" "}
          {propose.data.state === "proposed" ? "proposed: it waits for approval" : "in force"}.{" "}
          {propose.data.state === "proposed" && (
            <Link className="underline" href={`/policy/versions/${propose.data.version}`}>
              View proposed version {propose.data.version}
            </Link>
          )}
        </OkNote>
      )}
      {pending
        .filter((v) => v.version !== propose.data?.version)
        .map((v) => (
          <p key={v.id} className="text-sm">
            Version {v.version} is proposed and waits for approval:{" "}
            <Link className="underline" href={`/policy/versions/${v.version}`}>
              View proposed version {v.version}
            </Link>
          </p>
        ))}
      <section className="grid grid-cols-1 gap-3 lg:grid-cols-2" aria-label="Editor">
        <label className="flex flex-col gap-1 text-sm">
          Cedar policies
          <textarea
            className="input min-h-96 font-mono text-xs"
            spellCheck={false}
            readOnly={!canEdit}
            value={cedar ?? doc.cedar}
            onChange={(e) => setCedar(e.target.value)}
          />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          Maintenance windows (JSON)
          <textarea
            className="input min-h-96 font-mono text-xs"
            spellCheck={false}
            readOnly={!canEdit}
            value={windows ?? windowsText(doc.windows)}
            onChange={(e) => setWindows(e.target.value)}
          />
        </label>
      </section>
      {draft.jsonError && <ErrorNote>{draft.jsonError}</ErrorNote>}
      {validation.data && !validation.data.ok && (
        <ErrorNote>
          The policy is not valid:
          <ul className="list-disc pl-5">
            {validation.data.errors.map((e, i) => (
              <li key={i}>{e}</li>
            ))}
          </ul>
        </ErrorNote>
      )}
      {changed && validation.data?.ok && <OkNote>The edited policy is valid.</OkNote>}
      {diff && (
        <section aria-label="Diff" className="flex flex-col gap-2">
          <h2 className="font-medium">
            {justProposed ? `Version ${justProposed.version} (proposed)` : "The edited text"} against version{" "}
            {policy.data.active.version} (in force)
          </h2>
          <DiffView lines={diff.cedar} label="Changes to the Cedar policies" />
          <DiffView lines={diff.windows} label="Changes to the maintenance windows" />
        </section>
      )}
      <section className="card flex flex-col gap-2 text-sm" aria-label="Dry run">
        <label className="flex flex-col gap-1">
          Dry run: what would this policy say about rollout…
          <select className="input" value={rolloutId} onChange={(e) => setRolloutId(e.target.value)}>
            <option value="">choose a rollout</option>
            {rollouts.data?.rows.map((r) => (
              <option key={r.id} value={r.id}>
                {r.number}: {r.action} {r.app} {r.version ?? ""} ({r.state})
              </option>
            ))}
          </select>
        </label>
        {dryRun.data && dryRun.data.ok && (
          <div>
            <p>
              In force: <strong>{decisionText(dryRun.data.current)}</strong> —{" "}
              {dryRun.data.current.reasons.join("; ")}
            </p>
            <p>
              This text: <strong>{decisionText(dryRun.data.proposed)}</strong> —{" "}
              {dryRun.data.proposed.reasons.join("; ")}
            </p>
          </div>
        )}
        {dryRun.error && <ErrorNote>{errorMessage(dryRun.error)}</ErrorNote>}
      </section>
      {canEdit && (
        <CommentRow width="min-w-80" placeholder="Why this change" value={comment} onChange={setComment}>
          <button
            className="btn btn-primary"
            disabled={!changed || !draft.doc || !validation.data?.ok || propose.isPending || !!justProposed}
            onClick={() => draft.doc && propose.mutate({ document: draft.doc, comment })}
          >
            Propose this version
          </button>
        </CommentRow>
      )}
      <section aria-label="Versions">
        <h2 className="mb-1 font-medium">Versions</h2>
        <Table columns={["Version", "State", "Comment", "Created", "In force since"]} className="text-sm">
          {policy.data.versions.map((v) => (
            <tr key={v.id}>
              <td>
                <Link className="underline" href={`/policy/versions/${v.version}`}>
                  {v.version}
                </Link>
              </td>
              <td>
                <Badge tone={v.state === "active" ? "ok" : v.state === "rejected" ? "danger" : "neutral"}>
                  {v.state}
                </Badge>
              </td>
              <td>{v.comment}</td>
              <td>
                <Time value={v.createdAt} />
              </td>
              <td>{v.activatedAt ? <Time value={v.activatedAt} /> : "—"}</td>
            </tr>
          ))}
        </Table>
      </section>
    </div>
  );
}
