// Sets (or with version null, clears) the version an app should run in a scope: the whole fleet,
// an environment or a group. Drift reports compare against these. Audited as target.set.
import { z } from "zod";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { ZAppName, ZEnvironment, ZVersion, type InventoryDeps } from "@/server/services/inventory/types";

export const ZSetAppTargetRequest = z
  .object({
    app: ZAppName,
    version: ZVersion.nullable(),
    scope: z.discriminatedUnion("kind", [
      z.object({ kind: z.literal("fleet") }),
      z.object({ kind: z.literal("environment"), environment: ZEnvironment }),
      z.object({ kind: z.literal("group"), groupId: z.uuid() }),
    ]),
  })
  .strict();

export async function setAppTarget(
  deps: InventoryDeps,
  input: z.input<typeof ZSetAppTargetRequest> & { actorId: string | null },
) {
  const { actorId, ...raw } = input;
  const t = ZSetAppTargetRequest.parse(raw);
  const scopeKey =
    t.scope.kind === "fleet" ? "*" : t.scope.kind === "environment" ? t.scope.environment : t.scope.groupId;
  const groupId = t.scope.kind === "group" ? t.scope.groupId : null;
  return deps.db.$transaction(async (tx) => {
    let scopeName = scopeKey;
    if (groupId) {
      const g = await tx.hostGroup.findUnique({ where: { id: groupId }, select: { name: true } });
      if (!g) throw new AppError("NOT_FOUND", { message: `group ${groupId} does not exist` });
      scopeName = g.name;
    }
    const where = { app_scopeKind_scopeKey: { app: t.app, scopeKind: t.scope.kind, scopeKey } };
    if (t.version === null)
      await tx.appTarget.deleteMany({ where: { app: t.app, scopeKind: t.scope.kind, scopeKey } });
    else
      await tx.appTarget.upsert({
        where,
        create: {
          app: t.app,
          version: t.version,
          scopeKind: t.scope.kind,
          scopeKey,
          groupId,
          updatedBy: actorId,
        },
        update: { version: t.version, updatedBy: actorId },
      });
    await appendAudit(tx, {
      actorId,
      action: "target.set",
      target: `app:${t.app}`,
      detail: { version: t.version, scope: t.scope.kind, scopeName },
    });
    return { app: t.app, version: t.version, scopeKind: t.scope.kind, scopeKey };
  });
}
