"use client";
// One rollout: the plan and the policy's reasons, approvals (bound to the plan's digest), the
// controls, and live per-host progress (polled every second while it runs; no reload needed).
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { Badge, ErrorNote, PageHeader, Table, Time } from "@/app/_components/ui";
import { PlanTable } from "@/app/(console)/rollouts/plan-table";
import { RootCommandsNotice } from "@/app/(console)/rollouts/root-commands-notice";
import { ScheduleControls } from "./schedule-controls";
import { STATE_TONE, bytes, decisionText, stateLabel } from "@/app/(console)/rollouts/format";

const LIVE = ["running", "paused", "approved", "awaiting_approval"];

export function RolloutDetail({ id, viewer }: { id: string; viewer: { id: string; roles: string[] } }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const [comment, setComment] = useState("");
  const r = useQuery({
    ...trpc.rollouts.get.queryOptions({ rolloutId: id }),
    refetchInterval: (q) => (q.state.data && LIVE.includes(q.state.data.state) ? 1000 : false),
  });
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.rollouts.get.queryKey({ rolloutId: id }) });
  const opts = { onSuccess: refresh };
  const start = useMutation(trpc.rollouts.start.mutationOptions(opts));
  const pause = useMutation(trpc.rollouts.pause.mutationOptions(opts));
  const resume = useMutation(trpc.rollouts.resume.mutationOptions(opts));
  const cancel = useMutation(trpc.rollouts.cancel.mutationOptions(opts));
  const approve = useMutation(trpc.rollouts.approve.mutationOptions(opts));
  const reject = useMutation(trpc.rollouts.reject.mutationOptions(opts));
  const rollback = useMutation(
    trpc.rollouts.create.mutationOptions({ onSuccess: (x) => router.push(`/rollouts/${x.id}`) }),
  );
  const replan = useMutation(trpc.rollouts.replan.mutationOptions(opts));
  const failed = [start, pause, resume, cancel, approve, reject, rollback, replan].find((m) => m.error);

  if (r.isPending) return <p className="text-sm text-muted">Loading rollout…</p>;
  if (r.error) return <ErrorNote>Could not load the rollout: {errorMessage(r.error)}</ErrorNote>;
  const x = r.data;
  const canControl = viewer.roles.includes("operator") || viewer.roles.includes("admin");
  const canAnswer =
    x.state === "awaiting_approval" &&
    x.createdById !== viewer.id &&
    (!x.approverRole || viewer.roles.includes(x.approverRole));
  const counts = x.hosts.reduce<Record<string, number>>(
    (a, h) => ({ ...a, [h.state]: (a[h.state] ?? 0) + 1 }),
    {},
  );

  return (
    <div className="flex max-w-6xl flex-col gap-5">
      <PageHeader
        title={`Rollout ${x.number}: ${x.action === "rollback" ? "roll back" : "update"} ${x.app}${x.version ? " " + x.version : ""}`}
      >
        <Badge tone={STATE_TONE[x.state] ?? "neutral"}>
          <span data-testid="rollout-state">{stateLabel(x.state)}</span>
        </Badge>
      </PageHeader>
      {x.lapse ? (
        <ErrorNote>
          <span data-testid="lapse-reason">Approvals lapsed: {x.lapse.reason}.</span> Nothing more is sent to
          its hosts on this decision;{" "}
          {x.startedAt ? "cancel it and create a new rollout" : "change (plan) it again"} to have it approved
          anew.
        </ErrorNote>
      ) : (
        x.pauseReason && <ErrorNote>Paused: {x.pauseReason}</ErrorNote>
      )}
      <RootCommandsNotice rootCommands={x.plan.rootCommands} />
      {failed && <ErrorNote>{errorMessage(failed.error)}</ErrorNote>}

      <section className="card flex flex-col gap-1 text-sm" aria-label="Summary">
        <p>
          Requested by <strong>{x.requester}</strong> <Time value={x.createdAt} /> · policy version{" "}
          {x.policyVersion}: <strong>{decisionText(x.decision)}</strong>
        </p>
        <p>Reasons: {x.decision.reasons.join("; ")}</p>
        <p>
          Approvals for this plan: {x.validApprovals} of {x.requiredApprovals} · wave{" "}
          {Math.min(x.currentWave + 1, x.waveSizes.length)} of {x.waveSizes.length} · up to {x.parallelism}{" "}
          hosts at once · {x.failureThreshold} failure(s) tolerated per wave
        </p>
        <p className="font-mono text-xs text-muted">plan digest {x.planDigest}</p>
      </section>

      <div className="flex flex-wrap gap-2">
        {canControl && x.state === "approved" && (
          <button className="btn btn-primary" onClick={() => start.mutate({ rolloutId: id })}>
            Start
          </button>
        )}
        {canControl && x.state === "running" && (
          <button className="btn" onClick={() => pause.mutate({ rolloutId: id })}>
            Pause
          </button>
        )}
        {canControl && x.state === "paused" && !x.lapse && (
          <button className="btn btn-primary" onClick={() => resume.mutate({ rolloutId: id })}>
            Resume
          </button>
        )}
        {x.lapse && !x.startedAt && (x.createdById === viewer.id || viewer.roles.includes("admin")) && (
          // The same request (targets, waves, threshold) planned again on the hosts as they are now.
          <button
            className="btn btn-primary"
            onClick={() =>
              replan.mutate({
                rolloutId: id,
                spec: {
                  action: x.action as "update" | "rollback",
                  app: x.app,
                  ...(x.version ? { version: x.version } : {}),
                  targets: x.targets as Parameters<typeof replan.mutate>[0]["spec"]["targets"],
                  waves: x.waveSpec,
                  failureThreshold: x.failureThreshold,
                  parallelism: x.parallelism,
                },
              })
            }
          >
            Plan again
          </button>
        )}
        {canControl && ["awaiting_approval", "approved", "running", "paused"].includes(x.state) && (
          <button className="btn btn-danger" onClick={() => cancel.mutate({ rolloutId: id })}>
            Cancel
          </button>
        )}
        {canControl &&
          x.action === "update" &&
          ["succeeded", "finished_with_failures", "paused", "failed", "cancelled"].includes(x.state) && (
            <button
              className="btn btn-danger"
              onClick={() =>
                rollback.mutate({
                  action: "rollback",
                  app: x.app,
                  targets: { ids: x.hosts.filter((h) => h.state === "succeeded").map((h) => h.hostId) },
                  waves: x.waveSpec,
                  failureThreshold: x.failureThreshold,
                  parallelism: x.parallelism,
                })
              }
            >
              Roll back these hosts
            </button>
          )}
      </div>
      <ScheduleControls
        id={id}
        state={x.state}
        canControl={canControl}
        schedule={x.schedule}
        scheduleError={x.scheduleError}
        onChange={refresh}
      />

      {canAnswer && (
        <section className="card flex flex-col gap-2" aria-label="Your answer">
          <label className="flex flex-col gap-1 text-sm">
            Comment (required to reject)
            <textarea className="input" value={comment} onChange={(e) => setComment(e.target.value)} />
          </label>
          <div className="flex gap-2">
            <button
              className="btn btn-primary"
              onClick={() => approve.mutate({ rolloutId: id, digest: x.planDigest, comment })}
            >
              Approve this plan
            </button>
            <button
              className="btn btn-danger"
              onClick={() => reject.mutate({ rolloutId: id, digest: x.planDigest, comment })}
            >
              Reject
            </button>
          </div>
        </section>
      )}

      {x.approvals.length > 0 && (
        <section aria-label="Approvals" className="text-sm">
          <h2 className="mb-1 font-medium">Answers</h2>
          <ul className="flex flex-col gap-1">
            {x.approvals.map((a, i) => (
              <li key={i}>
                <Badge tone={a.verdict === "approve" ? "ok" : "danger"}>{a.verdict}</Badge> {a.approver}{" "}
                <Time value={a.at} />
                {!a.current && (
                  <span className="ml-1 text-muted">(for an earlier plan: no longer counts)</span>
                )}
                {a.lapsed && <span className="ml-1 text-muted">(lapsed: no longer counts)</span>}
                {a.comment && <span className="ml-1">— {a.comment}</span>}
              </li>
            ))}
          </ul>
        </section>
      )}

      <section aria-label="Hosts">
        <h2 className="mb-1 font-medium">
          Hosts{" "}
          <span className="text-sm font-normal text-muted">
            {Object.entries(counts)
              .map(([s, n]) => `${n} ${s}`)
              .join(", ")}
          </span>
        </h2>
        <Table columns={["Host", "Wave", "Action", "State", "Step", "Sent", "Error"]} className="text-sm">
          {x.hosts.map((h) => (
            <tr key={h.hostId} data-host={h.hostName}>
              <td>{h.hostName}</td>
              <td>{h.wave >= 0 ? h.wave + 1 : "—"}</td>
              <td>{h.action}</td>
              <td>
                <Badge tone={STATE_TONE[h.state] ?? "neutral"}>{h.state}</Badge>
              </td>
              <td>{h.step ?? ""}</td>
              <td>
                {bytes(h.bytesSent)}
                {h.plannedBytes > 0 && ` / ${bytes(h.plannedBytes)}`}
              </td>
              <td className="text-danger">{h.error ?? ""}</td>
            </tr>
          ))}
        </Table>
      </section>

      <details>
        <summary className="cursor-pointer text-sm">The plan as approved</summary>
        <PlanTable plan={x.plan} />
      </details>
    </div>
  );
}
