// The running console's dependencies for governed actions (server/services/compose.ts; tests
// build their own GovernDeps); procedures use ctx.services.govern.
import type { PrismaClient } from "@prisma/client";
import { consoleServices } from "@/server/services/compose";
import type { GovernDeps } from "./types";

export function governDeps(db: PrismaClient): GovernDeps {
  return consoleServices().govern(db);
}
