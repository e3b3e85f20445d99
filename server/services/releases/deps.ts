// What the release services need, passed explicitly (tests build their own).
import type { PrismaClient } from "@prisma/client";
import type { ArtifactStore } from "@/server/services/artifacts/store";
import type { SecretBox } from "@/server/services/keys/secret-box";
import { consoleServices } from "@/server/services/compose";

export type ReleaseDeps = {
  db: PrismaClient;
  store: ArtifactStore;
  /** The console's data directory (artifacts, uploads, build subvolumes). */
  dataDir: string;
  box: SecretBox;
  actorId: string | null;
};

/** The running console's release dependencies (server/services/compose.ts); procedures use ctx.services. */
export function releaseDeps(db: PrismaClient, actorId: string | null): ReleaseDeps {
  return consoleServices().releases(db, actorId);
}
