// What the release services need, passed explicitly (tests build their own).
import type { PrismaClient } from "@prisma/client";
import { resolve } from "node:path";
import { getEnv } from "@/server/env";
import { createDiskArtifactStore, type ArtifactStore } from "@/server/services/artifacts/store";
import { createSecretBox, type SecretBox } from "@/server/services/keys/secret-box";

export type ReleaseDeps = {
  db: PrismaClient;
  store: ArtifactStore;
  /** The console's data directory (artifacts, uploads, build subvolumes). */
  dataDir: string;
  box: SecretBox;
  actorId: string | null;
};

let cached: { dataDir: string; store: ArtifactStore; box: SecretBox } | undefined;

/** Dependencies for the running console, from the environment. */
export function releaseDeps(db: PrismaClient, actorId: string | null): ReleaseDeps {
  if (!cached) {
    const env = getEnv();
    const dataDir = resolve(env.KEEL_DATA_DIR);
    cached = {
      dataDir,
      store: createDiskArtifactStore({ dataDir }),
      box: createSecretBox({ secret: env.KEEL_SECRET, dataDir }),
    };
  }
  return { db, actorId, ...cached };
}
