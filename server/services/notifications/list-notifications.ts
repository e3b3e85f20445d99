// What Settings → Notifications and `keel notifications list|deliveries` show. Secrets and the
// SMTP password never leave the server; only whether they are set.
import type { PrismaClient } from "@prisma/client";

export async function listChannels(db: PrismaClient) {
  const rows = await db.notificationChannel.findMany({ orderBy: { name: "asc" } });
  const counts = await db.notificationDelivery.groupBy({ by: ["channelId", "state"], _count: true });
  return rows.map((c) => ({
    id: c.id,
    name: c.name,
    kind: c.kind as "webhook" | "email",
    url: c.url,
    to: c.emailTo,
    roles: c.emailRoles,
    events: c.events,
    createdAt: c.createdAt,
    deliveries: Object.fromEntries(
      counts.filter((n) => n.channelId === c.id).map((n) => [n.state, n._count]),
    ) as Record<string, number>,
  }));
}

export async function getSmtp(db: PrismaClient) {
  const s = await db.notificationSmtp.findUnique({ where: { id: 1 } });
  return s
    ? {
        host: s.host,
        port: s.port,
        tls: s.tls as "none" | "starttls" | "tls",
        username: s.username,
        from: s.from,
        hasPassword: s.encryptedPassword != null,
        updatedAt: s.updatedAt,
      }
    : null;
}

export async function listDeliveries(db: PrismaClient, o: { channelId?: string; limit?: number }) {
  const rows = await db.notificationDelivery.findMany({
    where: o.channelId ? { channelId: o.channelId } : {},
    orderBy: [{ createdAt: "desc" }, { id: "asc" }],
    take: Math.min(500, o.limit ?? 100),
  });
  return rows.map((d) => ({
    id: d.id,
    channel: d.channelName,
    channelId: d.channelId,
    event: d.event,
    summary: String((d.payload as { summary?: unknown }).summary ?? ""),
    auditEventId: d.auditEventId.toString(),
    state: d.state as "pending" | "delivering" | "delivered" | "failed",
    attempts: d.attempts,
    nextAttemptAt: d.state === "pending" ? d.nextAttemptAt : null,
    lastError: d.lastError,
    responseCode: d.responseCode,
    createdAt: d.createdAt,
    deliveredAt: d.deliveredAt,
  }));
}
