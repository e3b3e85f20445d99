"use client";
// One policy version, for whoever reads the policy: its state, proposer, comment, full text and a
// line diff against the version in force; for a proposal, Approve / Reject for those who may answer
// (with the digest of the text shown, so an answer is for exactly this text) and what was done.
import Link from "next/link";
import { useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { AnswerButtons, CommentRow } from "@/app/_components/comment-row";
import { Badge, ErrorNote, OkNote, PageHeader, Time } from "@/app/_components/ui";
import { DiffView, windowsText } from "@/app/(console)/policy/diff-view";
import { lineDiff } from "@/app/(console)/policy/line-diff";

const TONE = { active: "ok", rejected: "danger", proposed: "neutral", superseded: "neutral" } as const;

export function PolicyVersionView({ version }: { version: number }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const q = useQuery(trpc.policy.version.queryOptions({ version }));
  const [comment, setComment] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const refresh = () =>
    Promise.all([
      qc.invalidateQueries({ queryKey: trpc.policy.version.queryKey() }),
      qc.invalidateQueries({ queryKey: trpc.policy.get.queryKey() }),
    ]);
  const approve = useMutation(
    trpc.policy.approve.mutationOptions({
      onSuccess: (r) => {
        setDone(
          r.state === "active"
            ? `You approved policy version ${version}; it is now the policy in force.`
            : `You approved policy version ${version}; it is still ${r.state}: it needs more approvals.`,
        );
        return refresh();
      },
    }),
  );
  const reject = useMutation(
    trpc.policy.reject.mutationOptions({
      onSuccess: () => {
        setDone(`You rejected policy version ${version}; it will not take effect.`);
        return refresh();
      },
    }),
  );
  const v = q.data;
  const diffs = useMemo(
    () =>
      v && {
        cedar: lineDiff(v.active.document.cedar, v.document.cedar),
        windows: lineDiff(windowsText(v.active.document.windows), windowsText(v.document.windows)),
      },
    [v],
  );

  if (q.isPending) return <p className="text-sm text-muted">Loading policy version {version}…</p>;
  if (q.error)
    return (
      <ErrorNote>
        Could not load policy version {version}: {errorMessage(q.error)}
      </ErrorNote>
    );
  const failed = approve.error ?? reject.error;
  const isActive = v!.version === v!.active.version;
  return (
    <div className="flex max-w-6xl flex-col gap-5">
      <PageHeader title={`Policy version ${v!.version}`}>
        <Link className="text-sm underline" href="/policy">
          Policy in force (version {v!.active.version})
        </Link>
      </PageHeader>
      {done && <OkNote>{done}</OkNote>}
      {failed && <ErrorNote>{errorMessage(failed)}</ErrorNote>}
      <section aria-label="About this version" className="card flex flex-col gap-1 text-sm">
        <p>
          State:{" "}
          <span data-testid="policy-version-state">
            <Badge tone={TONE[v!.state]}>{v!.state}</Badge>
          </span>
          {v!.activatedAt && (
            <span className="text-muted">
              {" "}
              in force since <Time value={v!.activatedAt} />
            </span>
          )}
        </p>
        <p>
          {v!.proposedBy
            ? `Proposed by ${v!.proposedBy.name}${v!.proposedBy.email ? ` (${v!.proposedBy.email})` : ""}`
            : "Installed by Keel"}
          , <Time value={v!.createdAt} />
        </p>
        <p>Comment: {v!.comment ? v!.comment : <span className="text-muted">none</span>}</p>
        <p className="text-muted">Digest {v!.digest}</p>
        {v!.answers.length > 0 && (
          <ul className="list-disc pl-5" aria-label="Answers">
            {v!.answers.map((a, i) => (
              <li key={i}>
                {a.by} {a.verdict === "approve" ? "approved" : "rejected"} <Time value={a.at} />
                {a.comment && `: ${a.comment}`}
                {!a.current && " (for an earlier text; it does not count)"}
              </li>
            ))}
          </ul>
        )}
      </section>
      {v!.state === "proposed" &&
        (v!.canAnswer ? (
          <CommentRow
            section="Answer"
            width="min-w-80"
            placeholder="Comment (optional)"
            value={comment}
            onChange={setComment}
          >
            <AnswerButtons
              approveText={`Approve version ${v!.version}`}
              disabled={approve.isPending || reject.isPending}
              onApprove={() =>
                approve.mutate({ versionId: v!.id, digest: v!.digest, comment: comment || undefined })
              }
              onReject={() =>
                reject.mutate({ versionId: v!.id, digest: v!.digest, comment: comment || undefined })
              }
            />
          </CommentRow>
        ) : (
          <p className="text-sm text-muted">{v!.cannotAnswerWhy}</p>
        ))}
      <section aria-label="Changes" className="flex flex-col gap-2">
        <h2 className="font-medium">
          {isActive
            ? "This is the version in force"
            : `Changes against version ${v!.active.version} (in force)`}
        </h2>
        {!isActive && (
          <>
            <DiffView lines={diffs!.cedar} label="Changes to the Cedar policies" />
            <DiffView lines={diffs!.windows} label="Changes to the maintenance windows" />
          </>
        )}
      </section>
      <section aria-label="Full text" className="grid grid-cols-1 gap-3 lg:grid-cols-2">
        <div className="flex flex-col gap-1 text-sm">
          <h2 className="font-medium">Cedar policies</h2>
          <pre className="card overflow-x-auto font-mono text-xs" data-testid="policy-cedar">
            {v!.document.cedar}
          </pre>
        </div>
        <div className="flex flex-col gap-1 text-sm">
          <h2 className="font-medium">Maintenance windows (JSON)</h2>
          <pre className="card overflow-x-auto font-mono text-xs" data-testid="policy-windows">
            {windowsText(v!.document.windows)}
          </pre>
        </div>
      </section>
    </div>
  );
}
