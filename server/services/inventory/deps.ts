// Inventory dependencies for the running console (server/services/compose.ts builds them once:
// one SSH port per process, the release-signing keys to install at enrollment); procedures use
// ctx.services.inventory.
import type { PrismaClient } from "@prisma/client";
import { consoleServices } from "@/server/services/compose";
import type { InventoryDeps, TrustedKeyFile } from "./types";

export function inventoryDeps(
  db: PrismaClient,
): InventoryDeps & { trustedKeys: () => Promise<TrustedKeyFile[]> } {
  return consoleServices().inventory(db);
}
