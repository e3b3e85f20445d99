// Target versions, for the apps page and the CLI.
import type { InventoryDeps } from "../types";

export async function listAppTargets(deps: InventoryDeps, input: { app?: string } = {}) {
  return deps.db.appTarget.findMany({
    where: input.app ? { app: input.app } : {},
    orderBy: [{ app: "asc" }, { scopeKind: "asc" }, { scopeKey: "asc" }],
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
