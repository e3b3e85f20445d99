// One e-mail attempt through the admin's SMTP server (nodemailer). The recipients are the channel's
// addresses plus the enabled users holding its roles, looked up when it is sent.
import nodemailer from "nodemailer";
import type { PrismaClient, Role } from "@prisma/client";
import type { SecretBox } from "@/server/services/keys/secret-box";
import { SMTP_PASSWORD_AAD } from "@/server/services/notifications/channels";
import type { NotificationPayload } from "@/server/services/notifications/enqueue-notifications";
import type { Outcome } from "./claim";

export async function sendEmail(
  deps: { db: PrismaClient; box: SecretBox; origin: string },
  channel: { emailTo: string[]; emailRoles: string[] },
  payload: NotificationPayload,
): Promise<Outcome> {
  const smtp = await deps.db.notificationSmtp.findUnique({ where: { id: 1 } });
  if (!smtp)
    return {
      ok: false,
      responseCode: null,
      error: "no SMTP server is set: Settings → Notifications → E-mail server",
    };
  const users = channel.emailRoles.length
    ? await deps.db.user.findMany({
        where: { disabled: false, roles: { hasSome: channel.emailRoles as Role[] } },
        select: { email: true },
      })
    : [];
  const to = [...new Set([...channel.emailTo, ...users.map((u) => u.email)])];
  if (to.length === 0)
    return {
      ok: false,
      responseCode: null,
      error: `no recipients: no enabled user has the role(s) ${channel.emailRoles.join(", ")}`,
      permanent: true,
    };
  let password: string | undefined;
  try {
    password = smtp.encryptedPassword
      ? deps.box.open(Buffer.from(smtp.encryptedPassword), SMTP_PASSWORD_AAD).toString("utf8")
      : undefined;
  } catch (e) {
    return { ok: false, responseCode: null, error: `SMTP password: ${(e as Error).message}` };
  }
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.tls === "tls",
    requireTLS: smtp.tls === "starttls",
    ignoreTLS: smtp.tls === "none",
    auth: smtp.username ? { user: smtp.username, pass: password ?? "" } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  const link = payload.path ? `${deps.origin}${payload.path}` : deps.origin;
  try {
    const info = await transport.sendMail({
      from: smtp.from,
      to,
      subject: `[Keel] ${payload.summary}`,
      text: [
        payload.summary,
        "",
        `event: ${payload.event}`,
        `at: ${payload.at}`,
        `audit entry: ${payload.audit.id} (${payload.audit.action})`,
        "",
        link,
      ].join("\n"),
      headers: { "Keel-Event": payload.event },
    });
    const code = Number(/^(\d{3})/.exec(String(info.response ?? ""))?.[1] ?? NaN);
    return { ok: true, responseCode: Number.isFinite(code) ? code : null };
  } catch (e) {
    const err = e as Error & { responseCode?: number };
    return {
      ok: false,
      responseCode: err.responseCode ?? null,
      error: `SMTP ${smtp.host}:${smtp.port}: ${err.message}`,
    };
  } finally {
    transport.close();
  }
}
