// Adds an entry to a host's timeline. Other parts of Keel (rollouts, rollbacks, re-pinning) call
// this so the host detail page shows operations next to inventory changes.
import type { Prisma, PrismaClient } from "@prisma/client";

export async function appendHostEvent(
  db: PrismaClient | Prisma.TransactionClient,
  e: {
    hostId: string;
    kind: string;
    message: string;
    detail?: Prisma.InputJsonValue;
    actorId?: string | null;
    at?: Date;
  },
): Promise<void> {
  await db.hostEvent.create({
    data: {
      hostId: e.hostId,
      kind: e.kind,
      message: e.message,
      detail: e.detail,
      actorId: e.actorId ?? null,
      at: e.at,
    },
  });
}
