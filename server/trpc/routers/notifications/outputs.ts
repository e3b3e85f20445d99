// What the notifications procedures answer, declared and checked (`.output()`). Secrets never leave
// the server: only whether they are set (hasPassword), and a new webhook's signing secret once.
import { z } from "zod";
import { NOTIFICATION_EVENTS } from "@/server/services/notifications/events";

const ZCount = z.number().int();
const ZNamed = z.strictObject({ id: z.uuid(), name: z.string() });

export const ZEventsOut = z.array(z.enum(NOTIFICATION_EVENTS));
export const ZChannelsOut = z.array(
  z.strictObject({
    id: z.uuid(),
    name: z.string(),
    kind: z.enum(["webhook", "email"]),
    url: z.string().nullable(),
    to: z.array(z.string()),
    roles: z.array(z.string()),
    events: z.array(z.string()),
    createdAt: z.date(),
    /** Deliveries per state. */
    deliveries: z.record(z.string(), ZCount),
  }),
);
export const ZSmtpOut = z
  .strictObject({
    host: z.string(),
    port: ZCount,
    tls: z.enum(["none", "starttls", "tls"]),
    username: z.string().nullable(),
    from: z.string(),
    hasPassword: z.boolean(),
    updatedAt: z.date(),
  })
  .nullable();
export const ZDeliveriesOut = z.array(
  z.strictObject({
    id: z.string(),
    channel: z.string(),
    channelId: z.string().nullable(),
    event: z.string(),
    summary: z.string(),
    auditEventId: z.string(),
    state: z.enum(["pending", "delivering", "delivered", "failed"]),
    attempts: ZCount,
    nextAttemptAt: z.date().nullable(),
    lastError: z.string().nullable(),
    responseCode: ZCount.nullable(),
    createdAt: z.date(),
    deliveredAt: z.date().nullable(),
  }),
);
/** A new webhook with its signing secret, shown once. */
export const ZWebhookAddedOut = ZNamed.extend({ secret: z.string() });
export const ZChannelOut = ZNamed;
export const ZSmtpSetOut = z.strictObject({ host: z.string(), port: ZCount });
