// Settings → Notifications and `keel notifications`: channels (webhooks, e-mail), the SMTP server,
// deliveries, "send test". Changes are governed (manage_notifications) and audited as notification.*.
import { z } from "zod";
import { procedureFor, router } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";
import { NOTIFICATION_EVENTS } from "@/server/services/notifications/events";
import { sendTest } from "@/server/services/notifications/channels";
import { getSmtp, listChannels, listDeliveries } from "@/server/services/notifications/list-notifications";
import {
  ZChannelOut,
  ZChannelsOut,
  ZDeliveriesOut,
  ZEventsOut,
  ZSmtpOut,
  ZSmtpSetOut,
  ZWebhookAddedOut,
} from "./outputs";

const readers = procedureFor(["admin", "auditor"]);
const admins = procedureFor(["admin"]);
const ZEvents = z.array(z.enum(NOTIFICATION_EVENTS)).min(1).max(NOTIFICATION_EVENTS.length);
const ZName = z.string().min(1).max(64);

export const notificationsRouter = router({
  events: readers.output(ZEventsOut).query(() => [...NOTIFICATION_EVENTS]),
  list: readers.output(ZChannelsOut).query(({ ctx }) => listChannels(ctx.db)),
  smtp: readers.output(ZSmtpOut).query(({ ctx }) => getSmtp(ctx.db)),
  deliveries: readers
    .input(
      z
        .object({ channelId: z.uuid().optional(), limit: z.number().int().min(1).max(500).optional() })
        .optional(),
    )
    .output(ZDeliveriesOut)
    .query(({ ctx, input }) => listDeliveries(ctx.db, input ?? {})),
  addWebhook: admins
    .input(z.object({ name: ZName, url: z.string().min(1).max(2048), events: ZEvents }))
    .output(ZWebhookAddedOut)
    .mutation(({ ctx, input }) =>
      governed(ctx.services.govern(ctx.db), ctx.user, "notifications.addWebhook", input),
    ),
  addEmail: admins
    .input(
      z.object({
        name: ZName,
        to: z.array(z.string().max(254)).max(50),
        roles: z.array(z.enum(["admin", "operator", "approver", "auditor"])).max(4),
        events: ZEvents,
      }),
    )
    .output(ZChannelOut)
    .mutation(({ ctx, input }) =>
      governed(ctx.services.govern(ctx.db), ctx.user, "notifications.addEmail", input),
    ),
  remove: admins
    .input(z.object({ id: z.uuid() }))
    .output(ZChannelOut)
    .mutation(({ ctx, input }) =>
      governed(ctx.services.govern(ctx.db), ctx.user, "notifications.remove", input),
    ),
  setSmtp: admins
    .input(
      z.object({
        host: z.string().min(1).max(253),
        port: z.number().int().min(1).max(65535),
        tls: z.enum(["none", "starttls", "tls"]),
        username: z.string().max(254).optional(),
        password: z.string().max(1024).optional(),
        from: z.string().min(3).max(254),
      }),
    )
    .output(ZSmtpSetOut)
    .mutation(({ ctx, input }) =>
      governed(ctx.services.govern(ctx.db), ctx.user, "notifications.setSmtp", input),
    ),
  test: admins
    .input(z.object({ id: z.uuid() }))
    .output(ZChannelOut)
    .mutation(({ ctx, input }) => sendTest({ db: ctx.db, actorId: ctx.user.id }, input)),
});
