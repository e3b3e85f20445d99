// Rollouts, newest first, with per-state host counts for the list page.
import type { PrismaClient } from "@prisma/client";
import { ROLLOUT_NAME } from "./types";

export async function listRollouts(
  { db }: { db: PrismaClient },
  q: { state?: string; app?: string; page: number; pageSize: number },
) {
  const where = { ...(q.state ? { state: q.state } : {}), ...(q.app ? { app: q.app } : {}) };
  const [total, rows] = await Promise.all([
    db.rollout.count({ where }),
    db.rollout.findMany({
      where,
      orderBy: { createdAt: "desc" },
      skip: q.page * q.pageSize,
      take: q.pageSize,
      select: {
        ...ROLLOUT_NAME,
        state: true,
        pauseReason: true,
        currentWave: true,
        waveSizes: true,
        requiredApprovals: true,
        createdAt: true,
        startedAt: true,
        finishedAt: true,
        createdById: true,
      },
    }),
  ]);
  const counts = rows.length
    ? await db.rolloutHost.groupBy({
        by: ["rolloutId", "state"],
        where: { rolloutId: { in: rows.map((r) => r.id) } },
        _count: true,
      })
    : [];
  const users = await db.user.findMany({
    where: { id: { in: [...new Set(rows.map((r) => r.createdById))] } },
    select: { id: true, email: true },
  });
  const email = new Map(users.map((u) => [u.id, u.email]));
  return {
    total,
    rows: rows.map((r) => ({
      ...r,
      requester: email.get(r.createdById) ?? r.createdById,
      hosts: Object.fromEntries(
        counts.filter((c) => c.rolloutId === r.id).map((c) => [c.state, c._count]),
      ) as Record<string, number>,
    })),
  };
}
