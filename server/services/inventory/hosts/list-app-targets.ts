// Target versions, for the apps page and the CLI.
import type { Prisma } from "@prisma/client";
import type { InventoryDeps } from "@/server/services/inventory/types";

/** The targets of one app (or all) in the order every view shows them: app, scope kind, scope key. */
export function appTargetsOf(app?: string) {
  return {
    where: app ? { app } : {},
    orderBy: [{ app: "asc" }, { scopeKind: "asc" }, { scopeKey: "asc" }],
  } satisfies Prisma.AppTargetFindManyArgs;
}

export async function listAppTargets(deps: InventoryDeps, input: { app?: string } = {}) {
  return deps.db.appTarget.findMany({
    ...appTargetsOf(input.app),
    select: {
      id: true,
      app: true,
      version: true,
      scopeKind: true,
      scopeKey: true,
      updatedAt: true,
      group: { select: { name: true } },
    },
  });
}
