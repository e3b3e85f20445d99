// The running console's dependencies for governed actions (tests build their own GovernDeps).
import type { PrismaClient } from "@prisma/client";
import { inventoryDeps } from "@/server/services/inventory/deps";
import { releaseDeps } from "@/server/services/releases/deps";
import type { GovernDeps } from "./types";

export function governDeps(db: PrismaClient): GovernDeps {
  return { db, inventory: inventoryDeps(db), box: () => releaseDeps(db, null).box };
}
