"use client";
// Admin actions the policy says need approvals (moving a prod host, granting admin or approver,
// …): each with the policy's reasons, the exact change (by digest) and its answers. An approver
// answers here; the approval that completes a request applies it.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { AnswerButtons, CommentRow } from "@/app/_components/comment-row";
import { Badge, ErrorNote, OkNote, PageHeader, Time } from "@/app/_components/ui";

export function ChangesView() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const changes = useQuery({ ...trpc.policy.changes.queryOptions(), refetchInterval: 5000 });
  const [notice, setNotice] = useState<string | null>(null);
  const done = (what: string) => (r: { state: string; error?: string }) => {
    setNotice(`${what}: ${r.state}${r.error ? ` — ${r.error}` : ""}`);
    return qc.invalidateQueries({ queryKey: trpc.policy.changes.queryKey() });
  };
  const approve = useMutation(trpc.policy.approveChange.mutationOptions({ onSuccess: done("Approved") }));
  const reject = useMutation(trpc.policy.rejectChange.mutationOptions({ onSuccess: done("Rejected") }));
  const cancel = useMutation(trpc.policy.cancelChange.mutationOptions({ onSuccess: done("Cancelled") }));
  const [comments, setComments] = useState<Record<string, string>>({});
  const failed = [approve, reject, cancel].find((m) => m.error);
  const rows = changes.data ?? [];

  return (
    <div className="flex max-w-5xl flex-col gap-5">
      <PageHeader title="Change requests" />
      {failed && <ErrorNote>{errorMessage(failed.error)}</ErrorNote>}
      {notice && !failed && <OkNote>{notice}</OkNote>}
      {changes.error && <ErrorNote>Could not load change requests: {errorMessage(changes.error)}</ErrorNote>}
      {changes.data && rows.length === 0 && <p className="text-sm text-muted">No change requests.</p>}
      {rows.map((c) => (
        <section key={c.id} className="card flex flex-col gap-2 text-sm" aria-label={`Change ${c.number}`}>
          <h2 className="font-medium">
            Change {c.number}: {c.summary}{" "}
            <span className="font-normal text-muted">
              by {c.requester}, <Time value={c.createdAt} />
            </span>{" "}
            <Badge>{c.state}</Badge>
          </h2>
          <p>Why approval: {c.reasons.join("; ")}</p>
          <p className="text-muted">
            {c.kind} · needs {c.requiredApprovals} from {c.approverRole} · digest{" "}
            <code>{c.digest.slice(0, 16)}</code>
          </p>
          <details>
            <summary className="cursor-pointer text-muted">The exact change</summary>
            <pre className="overflow-x-auto text-xs">{JSON.stringify(c.input, null, 2)}</pre>
          </details>
          {c.answers.map((a) => (
            <p key={`${a.approver}-${String(a.at)}`}>
              {a.verdict === "approve" ? "Approved" : "Rejected"} by {a.approver} <Time value={a.at} />
              {a.comment && `: ${a.comment}`}
            </p>
          ))}
          {c.error && <ErrorNote>{c.error}</ErrorNote>}
          {c.isMine && c.state === "pending" && (
            <div className="flex gap-2">
              <Badge>your request: someone else must approve it</Badge>
              <button className="btn" onClick={() => cancel.mutate({ id: c.id })}>
                Cancel request
              </button>
            </div>
          )}
          {c.canAnswer && (
            <CommentRow
              placeholder="Comment"
              inputLabel={`Comment on change ${c.number}`}
              value={comments[c.id] ?? ""}
              onChange={(v) => setComments({ ...comments, [c.id]: v })}
            >
              <AnswerButtons
                onApprove={() => approve.mutate({ id: c.id, digest: c.digest, comment: comments[c.id] })}
                onReject={() => reject.mutate({ id: c.id, digest: c.digest, comment: comments[c.id] })}
              />
            </CommentRow>
          )}
        </section>
      ))}
    </div>
  );
}
