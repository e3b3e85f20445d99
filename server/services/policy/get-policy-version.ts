// One policy version as a reviewer reads it: its state, who proposed it and when, its full text, the
// version in force to diff it against, the answers given so far, and whether the viewer may answer
// (the same rules answerPolicy enforces, so the page offers only what the server will accept).
import type { PrismaClient } from "@prisma/client";
import { AppError } from "@/server/errors";
import { evaluatePolicy } from "./evaluate-policy";
import { getActivePolicy } from "./get-active-policy";
import type { PolicyDocument } from "./types";

export type PolicyViewer = { id: string; roles: readonly string[] };

export async function getPolicyVersion({ db }: { db: PrismaClient }, viewer: PolicyViewer, version: number) {
  const v = await db.policyVersion.findUnique({ where: { version } });
  if (!v)
    throw new AppError("NOT_FOUND", {
      message: `There is no policy version ${version}; the Policy page lists the versions.`,
    });
  const active = await getActivePolicy({ db });
  const rows = await answersOf(db, v.id);
  const people = new Map(
    (
      await db.user.findMany({
        where: {
          id: { in: [v.createdById, ...rows.map((a) => a.approverId)].filter((x): x is string => !!x) },
        },
        select: { id: true, name: true, email: true },
      })
    ).map((u) => [u.id, u]),
  );
  const answers = rows.map((a) => ({
    by: people.get(a.approverId)?.email ?? "a removed user",
    verdict: a.verdict,
    comment: a.comment,
    at: a.createdAt,
    // An answer given for another text (the digest) does not count for this one.
    current: a.digest === v.digest,
  }));
  let canAnswer = false;
  let why: string | null = null;
  if (v.state === "proposed") {
    const decision = evaluatePolicy(active.document, {
      actor: { id: v.createdById ?? "unknown", roles: ["admin"] },
      action: "edit_policy",
      hosts: [],
      at: new Date(),
    });
    const role = decision.effect === "needs_approval" ? decision.approverRole : null;
    const answered = rows.some((a) => a.approverId === viewer.id && a.digest === v.digest);
    if (v.createdById === viewer.id) why = "You proposed this version; someone else must answer.";
    else if (answered) why = "You already answered this version.";
    else if (!viewer.roles.some((r) => r === "approver" || r === "admin"))
      why = "Only approvers answer policy proposals.";
    else if (role && !viewer.roles.includes(role)) why = `Policy edits need approval from the role ${role}.`;
    else canAnswer = true;
  }
  const proposer = v.createdById ? people.get(v.createdById) : null;
  return {
    id: v.id,
    version: v.version,
    state: v.state as "proposed" | "active" | "superseded" | "rejected",
    digest: v.digest,
    comment: v.comment,
    createdAt: v.createdAt,
    activatedAt: v.activatedAt,
    proposedBy: proposer
      ? { name: proposer.name, email: proposer.email }
      : v.createdById
        ? { name: "a removed user", email: "" }
        : null,
    document: v.document as PolicyDocument,
    active: { version: active.version, digest: active.digest, document: active.document },
    answers,
    canAnswer,
    cannotAnswerWhy: why,
  };
}

function answersOf(db: PrismaClient, versionId: string) {
  return db.approval.findMany({
    where: { subjectKind: "policy", subjectId: versionId },
    orderBy: { createdAt: "asc" },
    select: { approverId: true, verdict: true, comment: true, digest: true, createdAt: true },
  });
}
