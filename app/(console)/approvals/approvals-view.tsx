"use client";
// What waits for an approver: each rollout with the policy's reasons and its risk (hosts,
// environments, bytes, waves), answered here or on the rollout's page; proposed policy edits; and
// rollouts whose approvals lapsed because a host changed after the plan, with the reason.
import { ChangesSinceApproval } from "./changes-since-approval";
import Link from "next/link";
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { AnswerButtons, CommentRow } from "@/app/_components/comment-row";
import { Badge, ErrorNote, OkNote, PageHeader, Table, Time } from "@/app/_components/ui";
import { bytes } from "@/app/(console)/rollouts/format";
import { RootCommandsNotice } from "@/app/(console)/rollouts/root-commands-notice";
import { RuntimeAffects, RuntimeSteps } from "@/app/(console)/rollouts/runtime-notes";
import { PLAN_COLUMNS, StreamCells, WhereCells } from "@/app/(console)/rollouts/plan-cells";

export function ApprovalsView() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const pending = useQuery({ ...trpc.rollouts.pendingApprovals.queryOptions(), refetchInterval: 5000 });
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.rollouts.pendingApprovals.queryKey() });
  // Every answer confirms what it did (the card itself leaves the list).
  const [confirmation, setConfirmation] = useState<string | null>(null);
  const approve = useMutation(
    trpc.rollouts.approve.mutationOptions({
      onSuccess: (r, v) => {
        setConfirmation(
          `You approved rollout ${numberOf(v.rolloutId)}; it is now ${r.state.replace(/_/g, " ")}.`,
        );
        return refresh();
      },
    }),
  );
  const reject = useMutation(
    trpc.rollouts.reject.mutationOptions({
      onSuccess: (_r, v) => {
        setConfirmation(`You rejected rollout ${numberOf(v.rolloutId)}; it will not run.`);
        return refresh();
      },
    }),
  );
  const numberOf = (id: string) => pending.data?.rollouts.find((x) => x.id === id)?.number ?? "";
  const approvePolicy = useMutation(trpc.policy.approve.mutationOptions({ onSuccess: refresh }));
  const rejectPolicy = useMutation(trpc.policy.reject.mutationOptions({ onSuccess: refresh }));
  const [comments, setComments] = useState<Record<string, string>>({});
  const failed = [approve, reject, approvePolicy, rejectPolicy].find((m) => m.error);

  return (
    <div className="flex max-w-5xl flex-col gap-5">
      <PageHeader title="Approvals" />
      {failed && <ErrorNote>{errorMessage(failed.error)}</ErrorNote>}
      {confirmation && !failed && <OkNote>{confirmation}</OkNote>}
      {pending.isPending && <p className="text-sm text-muted">Loading…</p>}
      {pending.error && <ErrorNote>Could not load approvals: {errorMessage(pending.error)}</ErrorNote>}
      {pending.data &&
        pending.data.rollouts.length === 0 &&
        pending.data.policies.length === 0 &&
        pending.data.lapsed.length === 0 && <p className="text-sm text-muted">Nothing waits for approval.</p>}
      {pending.data?.rollouts.map((r) => (
        <section key={r.id} className="card flex flex-col gap-2 text-sm" aria-label={`Rollout ${r.number}`}>
          <h2 className="font-medium">
            <Link className="underline" href={`/rollouts/${r.id}`}>
              Rollout {r.number}
            </Link>
            : {r.action === "rollback" ? "roll back" : "update"} {r.app} {r.version ?? ""}{" "}
            <span className="font-normal text-muted">
              by {r.requester}, <Time value={r.createdAt} />
            </span>
          </h2>
          <RootCommandsNotice rootCommands={r.risk.rootCommands} />
          <ChangesSinceApproval value={r.changedSinceApproval} />
          <RuntimeAffects kind={r.risk.kind} affects={r.risk.affects} />
          <p>Why approval: {r.reasons.join("; ")}</p>
          <p>
            Risk: {r.risk.hosts} host(s) in {r.risk.environments.join(", ")} · {bytes(r.risk.bytes)} to send ·
            waves {r.risk.waves.join(" → ")} · needs {r.requiredApprovals} from {r.approverRole} ·{" "}
            {bytes(r.risk.diskNeeded)} disk
          </p>
          <p data-testid="approval-windows">
            {r.windows.length > 0 ? (
              <>Windows: {r.windows.join("; ")}. </>
            ) : (
              "No maintenance window binds its hosts. "
            )}
            {r.nextStart ? (
              <>
                Could start: <Time value={r.nextStart} />
              </>
            ) : (
              <strong>
                Its hosts&apos; windows are never open together in the next 14 days: it cannot start as
                planned.
              </strong>
            )}
          </p>
          <details>
            <summary className="cursor-pointer">
              Plan per host ({r.hostCount}
              {r.hostCount > r.hosts.length
                ? `, first ${r.hosts.length} shown; all on the rollout's page`
                : ""}
              )
            </summary>
            <Table
              card={false}
              columns={[...PLAN_COLUMNS, "Disk"]}
              className="mt-2 text-xs"
              label={`Plan of rollout ${r.number}`}
            >
              {r.hosts.map((h) => (
                <tr key={h.name}>
                  <WhereCells h={h} />
                  <td>
                    {h.excluded ? `left out (${h.excluded})` : h.action}
                    {h.note && <span className="ml-1 text-muted">({h.note})</span>}
                    <RuntimeSteps runtimes={h.runtimes} />
                  </td>
                  <StreamCells h={h} />
                  <td>{bytes(h.diskNeeded)}</td>
                </tr>
              ))}
            </Table>
          </details>
          {r.isMine && <Badge>your request: someone else must approve it</Badge>}
          {r.canAnswer && (
            <CommentRow
              placeholder="Comment (required to reject)"
              value={comments[r.id] ?? ""}
              onChange={(c) => setComments({ ...comments, [r.id]: c })}
            >
              <AnswerButtons
                onApprove={() =>
                  approve.mutate({ rolloutId: r.id, digest: r.digest, comment: comments[r.id] })
                }
                onReject={() => reject.mutate({ rolloutId: r.id, digest: r.digest, comment: comments[r.id] })}
              />
            </CommentRow>
          )}
        </section>
      ))}
      {pending.data?.lapsed.map((r) => (
        <section
          key={r.id}
          className="card flex flex-col gap-2 text-sm"
          aria-label={`Lapsed: rollout ${r.number}`}
        >
          <h2 className="font-medium">
            <Link className="underline" href={`/rollouts/${r.id}`}>
              Rollout {r.number}
            </Link>
            : {r.action === "rollback" ? "roll back" : "update"} {r.app} {r.version ?? ""}{" "}
            <Badge tone="danger">approvals lapsed</Badge>{" "}
            <span className="font-normal text-muted">
              <Time value={r.lapsedAt} />
            </span>
          </h2>
          <p data-testid="lapse-reason">Why: {r.reason}</p>
          <p>
            {r.approvers.length > 0
              ? `Approvals that no longer count: ${r.approvers.join(", ")}`
              : "No approvals had been given."}
            {r.yours && " (including yours)"}. Nothing more is sent to its hosts until the requester plans it
            again and it is approved anew.
          </p>
        </section>
      ))}
      {pending.data?.policies.map((p) => (
        <section
          key={p.id}
          className="card flex flex-col gap-2 text-sm"
          aria-label={`Policy version ${p.version}`}
        >
          <h2 className="font-medium">
            <Link className="underline" href={`/policy/versions/${p.version}`}>
              Policy version {p.version}
            </Link>{" "}
            <span className="font-normal text-muted">
              proposed <Time value={p.createdAt} />
            </span>
          </h2>
          {p.comment && <p>{p.comment}</p>}
          {p.canAnswer ? (
            <div className="flex gap-2">
              <button
                className="btn btn-primary"
                onClick={() => approvePolicy.mutate({ versionId: p.id, digest: p.digest })}
              >
                Approve policy
              </button>
              <button
                className="btn btn-danger"
                onClick={() => rejectPolicy.mutate({ versionId: p.id, digest: p.digest })}
              >
                Reject
              </button>
            </div>
          ) : (
            <Badge>your proposal: someone else must approve it</Badge>
          )}
        </section>
      ))}
    </div>
  );
}
