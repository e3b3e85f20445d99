// Notification channels and the SMTP server as governed admin actions (manage_notifications).
// Adding a webhook or setting an SMTP password cannot wait for approvers: the secret is shown once
// to whoever adds the webhook, and a password would sit in the change request in clear.
import { AppError } from "@/server/errors";
import { op } from "@/server/services/policy/governed/types";
import type { GovernDeps } from "@/server/services/policy/governed/types";
import {
  addEmail,
  addWebhook,
  channelById,
  checkEmail,
  checkSmtp,
  describeWebhook,
  removeChannel,
  setSmtp,
  type EmailInput,
  type SmtpInput,
  type WebhookInput,
} from "./channels";

const boxOf = (d: GovernDeps) => {
  if (!d.box) throw new AppError("INTERNAL", { message: "notifications need the console's secret box" });
  return d.box();
};

export const notificationOps = {
  "notifications.addWebhook": op({
    action: "manage_notifications",
    async describe(_db, i: WebhookInput) {
      const w = await describeWebhook(i);
      return { hosts: [], summary: `add the webhook ${w.name} (${w.url}) for ${w.events.join(", ")}` };
    },
    notApprovable: () => "a webhook's signing secret is shown once, to whoever adds it",
    apply: (d, a, i) => addWebhook({ db: d.db, box: boxOf(d), actorId: a.id }, i),
  }),
  "notifications.addEmail": op({
    action: "manage_notifications",
    async describe(_db, i: EmailInput) {
      const e = checkEmail(i);
      return {
        hosts: [],
        summary: `add the e-mail channel ${e.name} to ${[...e.to, ...e.roles.map((r) => `role ${r}`)].join(", ")} for ${e.events.join(", ")}`,
      };
    },
    apply: (d, a, i) => addEmail({ db: d.db, actorId: a.id }, i),
  }),
  "notifications.remove": op({
    action: "manage_notifications",
    async describe(db, i: { id: string }) {
      const c = await channelById(db, i.id);
      return { hosts: [], summary: `remove the notification channel ${c.name}` };
    },
    apply: (d, a, i) => removeChannel({ db: d.db, actorId: a.id }, i),
  }),
  "notifications.setSmtp": op({
    action: "manage_notifications",
    async describe(_db, i: SmtpInput) {
      const s = checkSmtp(i);
      return {
        hosts: [],
        summary: `send notification e-mail through ${s.host}:${s.port} (${s.tls}) from ${s.from}`,
      };
    },
    notApprovable: (i) => (i.password ? "the SMTP password would wait in the change request in clear" : null),
    apply: (d, a, i) => setSmtp({ db: d.db, box: boxOf(d), actorId: a.id }, i),
  }),
};
