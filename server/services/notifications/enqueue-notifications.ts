// The outbox writer. appendAudit calls it inside the audit entry's transaction: each channel that
// wants the entry's event gets one notification_deliveries row, committed (or rolled back) with
// the event itself. (channel, audit event) is unique, so an entry is never queued twice.
import { Prisma } from "@prisma/client";
import type { Sql } from "@/server/db";
import { eventOf, pathOf, summaryOf, TEST_EVENT } from "./events";

export type AuditRow = {
  id: bigint;
  at: Date;
  actor: string | null;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
};

export type NotificationPayload = {
  event: string;
  at: string;
  summary: string;
  path: string | null;
  audit: {
    id: string;
    action: string;
    actor: string | null;
    target: string | null;
    detail: Record<string, unknown>;
  };
};

export async function enqueueNotifications(tx: Sql, row: AuditRow): Promise<number> {
  const event = eventOf(row);
  if (!event) return 0;
  const payload: NotificationPayload = {
    event,
    at: row.at.toISOString(),
    summary: summaryOf(event, row),
    path: pathOf(row.target),
    audit: {
      id: row.id.toString(),
      action: row.action,
      actor: row.actor,
      target: row.target,
      detail: row.detail,
    },
  };
  // One statement whatever the number of channels (this runs inside the audit lock).
  const wanted =
    event === TEST_EVENT
      ? Prisma.sql`id::text = ${String(row.detail.channelId ?? "")}`
      : Prisma.sql`${event} = ANY(events)`;
  return tx.$executeRaw`
    INSERT INTO notification_deliveries (channel_id, channel_name, event, audit_event_id, payload)
    SELECT id, name, ${event}, ${row.id}, ${JSON.stringify(payload)}::jsonb FROM notification_channels WHERE ${wanted}
    ON CONFLICT (channel_id, audit_event_id) DO NOTHING`;
}
