// Answers to change requests. An approval is bound to the request's digest, never the requester's,
// and counts only under the two-person rule; the approval that completes a request applies the
// change — after asking the policy again on the facts as they are then — as the requester, with the
// approvers recorded (a role granted this way records them as its grant's approvers).
import type { Prisma } from "@prisma/client";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { countIndependentApprovals } from "@/server/services/policy/count-independent";
import { decide, opOf } from "./govern";
import type { GovernActor, GovernDeps } from "./types";

const TTL_MS = 7 * 24 * 3_600_000;

function approvalsOf(tx: Prisma.TransactionClient | GovernDeps["db"], id: string, digest: string) {
  return tx.approval.findMany({
    where: {
      subjectKind: "change",
      subjectId: id,
      digest,
      verdict: "approve",
      expiresAt: { gt: new Date() },
    },
    orderBy: { createdAt: "asc" },
    select: { approverId: true },
  });
}

export async function answerChange(
  deps: GovernDeps,
  actor: GovernActor,
  input: { id: string; digest: string; verdict: "approve" | "reject"; comment?: string },
): Promise<{ state: string; result?: unknown; error?: string }> {
  const { db } = deps;
  const step = await db.$transaction(async (tx) => {
    // The row lock serialises answers: two approvals at once cannot both miss (or both pass) the threshold.
    const [cr] = await tx.$queryRaw<
      {
        id: string;
        number: number;
        state: string;
        digest: string;
        created_by_id: string;
        created_at: Date;
        required_approvals: number;
        approver_role: string;
      }[]
    >`
      SELECT id::text, number, state, digest, created_by_id, created_at, required_approvals, approver_role FROM change_requests WHERE id = ${input.id}::uuid FOR UPDATE`;
    if (!cr) throw new AppError("NOT_FOUND", { message: "no such change request" });
    const target = `change:${cr.number}`;
    const refuse = async (code: "FORBIDDEN" | "CONFLICT", message: string) => {
      await appendAudit(db, {
        actorId: actor.id,
        action: "change.approval_refused",
        target,
        detail: { reason: message, verdict: input.verdict },
      });
      throw new AppError(code, { message });
    };
    if (cr.created_by_id === actor.id)
      return refuse("FORBIDDEN", `You requested change ${cr.number}; someone else must ${input.verdict} it.`);
    if (cr.state !== "pending")
      return refuse("CONFLICT", `Change ${cr.number} is ${cr.state}, not waiting for approval.`);
    if (!actor.roles.includes(cr.approver_role))
      return refuse(
        "FORBIDDEN",
        `Change ${cr.number} needs approval from the role ${cr.approver_role}, which you do not have.`,
      );
    if (input.digest !== cr.digest)
      return refuse(
        "CONFLICT",
        `That is not the change ${cr.number} you were shown; reload and review it again.`,
      );
    const dup = await tx.approval.count({
      where: { subjectKind: "change", subjectId: cr.id, digest: cr.digest, approverId: actor.id },
    });
    if (dup) return refuse("CONFLICT", `You already answered change ${cr.number}.`);
    await tx.approval.create({
      data: {
        subjectKind: "change",
        subjectId: cr.id,
        digest: cr.digest,
        approverId: actor.id,
        verdict: input.verdict,
        comment: input.comment?.trim() ?? "",
        expiresAt: new Date(Date.now() + TTL_MS),
      },
    });
    let state = cr.state;
    let approvers: string[] = [];
    if (input.verdict === "reject") state = "rejected";
    else {
      const counted = await countIndependentApprovals(
        tx,
        { requesterId: cr.created_by_id, requestedAt: cr.created_at, role: cr.approver_role },
        await approvalsOf(tx, cr.id, cr.digest),
      );
      const mine = counted.checks.find((c) => c.approverId === actor.id);
      if (mine && !mine.counts) {
        await appendAudit(db, {
          actorId: actor.id,
          action: "change.approval_refused",
          target,
          detail: { reason: mine.why },
        });
        throw new AppError("FORBIDDEN", {
          message: `Your approval of change ${cr.number} would not count: ${mine.why}.`,
        });
      }
      approvers = counted.approvers;
      if (counted.count >= cr.required_approvals) state = "applying";
    }
    if (state !== cr.state)
      await tx.changeRequest.update({
        where: { id: cr.id },
        data: { state, ...(state === "rejected" ? { finishedAt: new Date() } : {}) },
      });
    await appendAudit(tx, {
      actorId: actor.id,
      action: input.verdict === "approve" ? "change.approve" : "change.reject",
      target,
      detail: { digest: cr.digest, comment: input.comment ?? "", state },
    });
    return { state, approvers };
  });
  if (step.state !== "applying") return { state: step.state };
  return applyChange(deps, input.id, step.approvers);
}

/** Applies a fully approved change as its requester, if the policy still says so on today's facts. */
async function applyChange(deps: GovernDeps, id: string, approvers: string[]) {
  const { db } = deps;
  const cr = await db.changeRequest.findUniqueOrThrow({ where: { id } });
  const target = `change:${cr.number}`;
  const finish = async (state: string, data: { result?: unknown; error?: string }) => {
    const result =
      data.result === undefined
        ? undefined
        : (JSON.parse(
            JSON.stringify(data.result, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
          ) as Prisma.InputJsonValue);
    await db.$transaction(async (tx) => {
      await tx.changeRequest.update({
        where: { id },
        data: {
          state,
          result,
          error: data.error ?? null,
          finishedAt: state === "pending" ? null : new Date(),
        },
      });
      await appendAudit(tx, {
        actorId: null,
        action:
          state === "applied" ? "change.applied" : state === "pending" ? "change.reopened" : "change.failed",
        target,
        detail: { kind: cr.kind, approvedBy: approvers, ...(data.error ? { error: data.error } : {}) },
      });
    });
    return { state, ...data };
  };
  const o = opOf(cr.kind);
  const requester = await db.user.findUnique({
    where: { id: cr.createdById },
    select: { id: true, roles: true, disabled: true },
  });
  if (!o) return finish("failed", { error: `unknown change kind ${cr.kind}` });
  if (!requester || requester.disabled)
    return finish("failed", { error: "the requester's account is disabled" });
  try {
    // The facts may have moved since the request: ask again, as the requester, on what it touches now.
    const decision = await decide(deps, requester, o.action, await o.describe(db, cr.input));
    if (decision.effect === "deny")
      return finish("failed", { error: `the policy now refuses it: ${decision.reasons.join("; ")}` });
    if (
      decision.effect === "needs_approval" &&
      (decision.approvals > approvers.length || decision.approverRole !== cr.approverRole)
    ) {
      await db.changeRequest.update({
        where: { id },
        data: { requiredApprovals: decision.approvals, approverRole: decision.approverRole },
      });
      return finish("pending", {
        error: `the policy now needs ${decision.approvals} approval(s) from ${decision.approverRole}: ${decision.reasons.join("; ")}`,
      });
    }
    const result = await o.apply(deps, requester, cr.input, {
      approvedBy: approvers,
      changeRequestId: cr.id,
    });
    return finish("applied", { result });
  } catch (e) {
    return finish("failed", { error: (e as Error).message });
  }
}

/** Change requests for the approvals page: those waiting, then the last ones answered. */
export async function listChangeRequests(deps: Pick<GovernDeps, "db">, viewer: GovernActor) {
  const { db } = deps;
  const rows = await db.changeRequest.findMany({ orderBy: { createdAt: "desc" }, take: 100 });
  const approvals = await db.approval.findMany({
    where: { subjectKind: "change", subjectId: { in: rows.map((r) => r.id) } },
    orderBy: { createdAt: "asc" },
  });
  const people = await db.user.findMany({
    where: { id: { in: [...rows.map((r) => r.createdById), ...approvals.map((a) => a.approverId)] } },
    select: { id: true, email: true },
  });
  const email = new Map(people.map((p) => [p.id, p.email]));
  return rows.map((r) => {
    const mine = approvals.filter((a) => a.subjectId === r.id);
    return {
      id: r.id,
      number: r.number,
      kind: r.kind,
      action: r.action,
      summary: r.summary,
      // The exact change approvers approve (host names, fingerprints, roles…), without secrets.
      input: JSON.parse(
        JSON.stringify(r.input, (k, v: unknown) => (k === "passwordHash" ? "(hidden)" : v)),
      ) as unknown,
      digest: r.digest,
      state: r.state,
      error: r.error,
      reasons: ((r.decision as { reasons?: string[] }).reasons ?? []) as string[],
      requiredApprovals: r.requiredApprovals,
      approverRole: r.approverRole,
      requester: email.get(r.createdById) ?? r.createdById,
      createdAt: r.createdAt,
      finishedAt: r.finishedAt,
      answers: mine.map((a) => ({
        approver: email.get(a.approverId) ?? a.approverId,
        verdict: a.verdict,
        comment: a.comment,
        at: a.createdAt,
      })),
      isMine: r.createdById === viewer.id,
      canAnswer:
        r.state === "pending" &&
        r.createdById !== viewer.id &&
        viewer.roles.includes(r.approverRole) &&
        !mine.some((a) => a.approverId === viewer.id),
    };
  });
}

/** The requester (or an admin) withdraws a pending change request. */
export async function cancelChange(deps: Pick<GovernDeps, "db">, actor: GovernActor, id: string) {
  return deps.db.$transaction(async (tx) => {
    const cr = await tx.changeRequest.findUnique({
      where: { id },
      select: { number: true, state: true, createdById: true },
    });
    if (!cr) throw new AppError("NOT_FOUND", { message: "no such change request" });
    if (cr.createdById !== actor.id && !actor.roles.includes("admin"))
      throw new AppError("FORBIDDEN", {
        message: `Only the requester or an admin may cancel change ${cr.number}.`,
      });
    if (cr.state !== "pending")
      throw new AppError("CONFLICT", {
        message: `Change ${cr.number} is ${cr.state}; only a pending change can be cancelled.`,
      });
    await tx.changeRequest.update({ where: { id }, data: { state: "cancelled", finishedAt: new Date() } });
    await appendAudit(tx, { actorId: actor.id, action: "change.cancel", target: `change:${cr.number}` });
    return { state: "cancelled" };
  });
}
