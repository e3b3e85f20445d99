// What the release services need, passed explicitly: the running console builds them once in
// server/services/compose.ts (ctx.services.releases in procedures); tests build their own.
import type { PrismaClient } from "@prisma/client";
import type { ArtifactStore } from "@/server/services/artifacts/store";
import type { SecretBox } from "@/server/services/keys/secret-box";

export type ReleaseDeps = {
  db: PrismaClient;
  store: ArtifactStore;
  /** The console's data directory (artifacts, uploads, build subvolumes). */
  dataDir: string;
  box: SecretBox;
  actorId: string | null;
};
