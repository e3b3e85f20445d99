// Policy edits are changes like any other: a new version is validated, the policy in force decides
// whether it needs approval (the default: one approver), and it becomes active only then.
import type { Prisma, PrismaClient } from "@prisma/client";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { countIndependentApprovals } from "./count-independent";
import { evaluatePolicy } from "./evaluate-policy";
import { getActivePolicy, policyDigest } from "./get-active-policy";
import { parsePolicy } from "./parse-policy";
import type { PolicyDocument, Role } from "./types";

export type PolicyActor = { id: string; roles: readonly string[] };

export async function proposePolicy(
  { db }: { db: PrismaClient },
  actor: PolicyActor,
  doc: PolicyDocument,
  comment: string,
) {
  const parsed = parsePolicy(doc);
  if (!parsed.ok)
    throw new AppError("BAD_REQUEST", {
      message: `The policy is not valid: ${parsed.errors.join("; ")}`,
      details: { errors: parsed.errors },
    });
  const active = await getActivePolicy({ db });
  const digest = policyDigest(doc);
  if (digest === active.digest)
    throw new AppError("BAD_REQUEST", {
      message: "This is the policy already in force; nothing to propose.",
    });
  const decision = evaluatePolicy(active.document, {
    actor: { id: actor.id, roles: actor.roles as Role[] },
    action: "edit_policy",
    hosts: [],
    at: new Date(),
  });
  if (decision.effect === "deny") {
    await appendAudit(db, {
      actorId: actor.id,
      action: "policy.denied",
      target: "policy",
      detail: { reasons: decision.reasons },
    });
    throw new AppError("POLICY_DENIED", {
      message: `The policy refuses this edit: ${decision.reasons.join("; ")}.`,
    });
  }
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('keel:policy'))`;
    const last = await tx.policyVersion.aggregate({ _max: { version: true } });
    const version = (last._max.version ?? 0) + 1;
    const immediate = decision.effect === "allow";
    if (immediate)
      await tx.policyVersion.updateMany({ where: { state: "active" }, data: { state: "superseded" } });
    const row = await tx.policyVersion.create({
      data: {
        version,
        document: doc as unknown as Prisma.InputJsonValue,
        digest,
        state: immediate ? "active" : "proposed",
        comment,
        createdById: actor.id,
        activatedAt: immediate ? new Date() : null,
      },
      select: { id: true, version: true, state: true },
    });
    await appendAudit(tx, {
      actorId: actor.id,
      action: immediate ? "policy.activate" : "policy.propose",
      target: `policy:v${version}`,
      detail: { digest, comment, decision },
    });
    return { ...row, digest, decision };
  });
}

export async function answerPolicy(
  { db }: { db: PrismaClient },
  actor: PolicyActor,
  input: { versionId: string; digest: string; verdict: "approve" | "reject"; comment?: string },
) {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('keel:policy'))`;
    const v = await tx.policyVersion.findUnique({ where: { id: input.versionId } });
    if (!v) throw new AppError("NOT_FOUND", { message: "no such policy version" });
    if (v.state !== "proposed")
      throw new AppError("CONFLICT", {
        message: `Policy version ${v.version} is ${v.state}, not waiting for approval.`,
      });
    if (v.createdById === actor.id)
      throw new AppError("FORBIDDEN", {
        message: `You proposed policy version ${v.version}; someone else must answer.`,
      });
    if (v.digest !== input.digest)
      throw new AppError("CONFLICT", {
        message: "That is not the text you were shown; reload and review again.",
      });
    const active = await getActivePolicy({ db: tx as PrismaClient });
    const decision = evaluatePolicy(active.document, {
      actor: { id: v.createdById ?? "unknown", roles: ["admin"] },
      action: "edit_policy",
      hosts: [],
      at: new Date(),
    });
    const need = decision.effect === "needs_approval" ? decision.approvals : 0;
    const role = decision.effect === "needs_approval" ? decision.approverRole : null;
    if (role && !actor.roles.includes(role))
      throw new AppError("FORBIDDEN", { message: `Policy edits need approval from the role ${role}.` });
    const dup = await tx.approval.count({
      where: { subjectKind: "policy", subjectId: v.id, digest: v.digest, approverId: actor.id },
    });
    if (dup) throw new AppError("CONFLICT", { message: `You already answered policy version ${v.version}.` });
    await tx.approval.create({
      data: {
        subjectKind: "policy",
        subjectId: v.id,
        digest: v.digest,
        approverId: actor.id,
        verdict: input.verdict,
        comment: input.comment ?? "",
        expiresAt: new Date(Date.now() + 7 * 24 * 3_600_000),
      },
    });
    let state = v.state;
    if (input.verdict === "reject") state = "rejected";
    else {
      // Two people means two people: an approval that rests solely on the proposer (or on the same
      // account as an earlier approval) is refused with the reason, not quietly ignored.
      const rows = await tx.approval.findMany({
        where: {
          subjectKind: "policy",
          subjectId: v.id,
          digest: v.digest,
          verdict: "approve",
          expiresAt: { gt: new Date() },
        },
        orderBy: { createdAt: "asc" },
        select: { approverId: true },
      });
      const { count, checks } = await countIndependentApprovals(
        tx,
        { requesterId: v.createdById ?? "unknown", requestedAt: v.createdAt, role },
        rows,
      );
      const mine = checks.find((c) => c.approverId === actor.id);
      if (mine && !mine.counts) {
        await appendAudit(db, {
          actorId: actor.id,
          action: "policy.approval_refused",
          target: `policy:v${v.version}`,
          detail: { reason: mine.why },
        });
        throw new AppError("FORBIDDEN", {
          message: `Your approval of policy version ${v.version} would not count: ${mine.why}.`,
        });
      }
      if (count >= need) state = "active";
    }
    if (state === "active")
      await tx.policyVersion.updateMany({ where: { state: "active" }, data: { state: "superseded" } });
    if (state !== v.state)
      await tx.policyVersion.update({
        where: { id: v.id },
        data: { state, activatedAt: state === "active" ? new Date() : null },
      });
    await appendAudit(tx, {
      actorId: actor.id,
      action: input.verdict === "approve" ? "policy.approve" : "policy.reject",
      target: `policy:v${v.version}`,
      detail: { digest: v.digest, comment: input.comment ?? "", state },
    });
    return { state };
  });
}
