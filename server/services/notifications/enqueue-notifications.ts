// The outbox writer. appendAudit calls it inside the audit entry's transaction: each channel that
// wants the entry's event gets one notification_deliveries row, committed (or rolled back) with
// the event itself. (channel, audit event) is unique, so an entry is never queued twice.
import type { Prisma } from "@prisma/client";
import { eventOf, pathOf, summaryOf, TEST_EVENT } from "./events";

export type AuditRow = { id: bigint; at: Date; actor: string | null; action: string; target: string | null; detail: Record<string, unknown> };

export type NotificationPayload = {
  event: string;
  at: string;
  summary: string;
  path: string | null;
  audit: { id: string; action: string; actor: string | null; target: string | null; detail: Record<string, unknown> };
};

export async function enqueueNotifications(tx: Prisma.TransactionClient, row: AuditRow): Promise<number> {
  const event = eventOf(row);
  if (!event) return 0;
  const channels =
    event === TEST_EVENT
      ? await tx.$queryRaw<{ id: string; name: string }[]>`SELECT id, name FROM notification_channels WHERE id::text = ${String(row.detail.channelId ?? "")}`
      : await tx.$queryRaw<{ id: string; name: string }[]>`SELECT id, name FROM notification_channels WHERE ${event} = ANY(events)`;
  if (channels.length === 0) return 0;
  const payload: NotificationPayload = {
    event,
    at: row.at.toISOString(),
    summary: summaryOf(event, row),
    path: pathOf(row.target),
    audit: { id: row.id.toString(), action: row.action, actor: row.actor, target: row.target, detail: row.detail },
  };
  const json = JSON.stringify(payload);
  for (const c of channels)
    await tx.$executeRaw`
      INSERT INTO notification_deliveries (channel_id, channel_name, event, audit_event_id, payload)
      VALUES (${c.id}::uuid, ${c.name}, ${event}, ${row.id}, ${json}::jsonb)
      ON CONFLICT (channel_id, audit_event_id) DO NOTHING`;
  return channels.length;
}
