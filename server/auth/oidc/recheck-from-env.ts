// The directory re-check of the running console (server/jobs/start-workers.ts starts it).
import type { PrismaClient } from "@prisma/client";
import { getEnv } from "@/server/env";
import { createSecretBox } from "@/server/services/keys/secret-box";
import { startDirectoryRecheck } from "./recheck";
import { loadOidcSettings } from "./settings";

export function startDirectoryRecheckFromEnv(db: PrismaClient, dataDir: string, log: (l: string) => void) {
  const env = getEnv();
  const box = createSecretBox({ secret: env.KEEL_SECRET, dataDir });
  return startDirectoryRecheck(
    { db, box: () => box, settings: () => loadOidcSettings({ db, env, box: () => box }) },
    log,
  );
}
