// Inventory dependencies for the running console: the database, one SSH port (one pool, the
// console's identity key) per process, and the release-signing keys to install at enrollment.
import type { PrismaClient } from "@prisma/client";
import { consoleIdentity } from "@/server/console-identity";
import { listTrustedPublicKeys } from "@/server/services/keys/list-trusted-public-keys";
import { createInventorySsh } from "./ssh-port";
import type { InventoryDeps, InventorySsh, TrustedKeyFile } from "./types";

const globalForSsh = globalThis as unknown as { keelInventorySsh?: InventorySsh };

function sshPort(): InventorySsh {
  return (globalForSsh.keelInventorySsh ??= createInventorySsh({ privateKey: consoleIdentity().privateKey }));
}

export function inventoryDeps(db: PrismaClient): InventoryDeps & { trustedKeys: () => Promise<TrustedKeyFile[]> } {
  return {
    db,
    // Lazily: queries never need SSH, and reading the identity creates a key on first use.
    get ssh() {
      return sshPort();
    },
    trustedKeys: () => listTrustedPublicKeys({ db }),
  };
}
