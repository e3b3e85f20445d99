// The composition root: the console's service dependencies, built once from settings instead of
// inside procedures. The tRPC context (ctx.services), the workers (server/jobs/start-workers.ts)
// and the release upload handler take them from here; tests build their own deps or call
// createServices with a temporary data directory. Nothing is read or created until first used:
// queries never touch the disk, and the console's SSH identity is made on first use.
import type { PrismaClient } from "@prisma/client";
import { resolve } from "node:path";
import { consoleIdentity } from "@/server/console-identity";
import { getEnv } from "@/server/env";
import { createDiskArtifactStore, type ArtifactStore } from "./artifacts/store";
import { listTrustedPublicKeys } from "./keys/list-trusted-public-keys";
import { createSecretBox, type SecretBox } from "./keys/secret-box";
import { createInventorySsh } from "./inventory/ssh-adapter";
import type { InventoryDeps, InventorySsh, TrustedKeyFile } from "./inventory/types";
import type { GovernDeps } from "./policy/governed/types";
import type { ReleaseDeps } from "./releases/deps";

export type Services = {
  /** The console's data directory (artifacts, uploads, build subvolumes, identity). */
  readonly dataDir: string;
  readonly artifacts: ArtifactStore;
  readonly box: SecretBox;
  /** One SSH port (one pool, the console's identity key) for inventory actions. */
  readonly inventorySsh: InventorySsh;
  releases(db: PrismaClient, actorId: string | null): ReleaseDeps;
  inventory(db: PrismaClient): InventoryDeps & { trustedKeys: () => Promise<TrustedKeyFile[]> };
  govern(db: PrismaClient): GovernDeps;
};

type Settings = { dataDir: string; secret?: string };

/**
 * Services over one data directory; each part is made on first use, then kept. `settings` may be
 * a function: it is then read on first use too (the environment is not parsed to build a context).
 */
export function createServices(settings: Settings | (() => Settings)): Services {
  let read: Settings | undefined;
  const get = () => (read ??= typeof settings === "function" ? settings() : settings);
  let dataDir: string | undefined;
  let artifacts: ArtifactStore | undefined;
  let box: SecretBox | undefined;
  let ssh: InventorySsh | undefined;
  const s: Services = {
    get dataDir() {
      return (dataDir ??= resolve(get().dataDir));
    },
    get artifacts() {
      return (artifacts ??= createDiskArtifactStore({ dataDir: s.dataDir }));
    },
    get box() {
      return (box ??= createSecretBox({ secret: get().secret, dataDir: s.dataDir }));
    },
    get inventorySsh() {
      return (ssh ??= createInventorySsh({ privateKey: consoleIdentity({ dataDir: s.dataDir }).privateKey }));
    },
    releases: (db, actorId) => ({ db, actorId, dataDir: s.dataDir, store: s.artifacts, box: s.box }),
    inventory: (db) => ({
      db,
      // Lazily: queries never need SSH, and reading the identity creates a key on first use.
      get ssh() {
        return s.inventorySsh;
      },
      trustedKeys: () => listTrustedPublicKeys({ db }),
    }),
    govern: (db) => ({ db, inventory: s.inventory(db), box: () => s.box }),
  };
  return s;
}

// One per process (kept on globalThis so a dev-server reload does not open a second SSH pool).
const global = globalThis as unknown as { keelServices?: Services };

/** The running console's services, from the environment (KEEL_DATA_DIR, KEEL_SECRET) on first use. */
export function consoleServices(): Services {
  return (global.keelServices ??= createServices(() => ({
    dataDir: getEnv().KEEL_DATA_DIR,
    secret: getEnv().KEEL_SECRET,
  })));
}
