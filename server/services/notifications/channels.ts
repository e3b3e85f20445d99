// Adding, removing and listing notification channels, and the SMTP server, as the governed
// operations apply them (notification-ops.ts). Each change is audited as notification.*; a
// webhook's signing secret is made here, sealed at rest, and returned once.
import { randomBytes } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import type { SecretBox } from "@/server/services/keys/secret-box";
import { NOTIFICATION_EVENTS } from "./events";
import { assertPublicTarget, parseWebhookUrl } from "./webhook-url";

export type ChannelDeps = { db: PrismaClient; box: SecretBox; actorId: string };
export type WebhookInput = { name: string; url: string; events: string[] };
export type EmailInput = { name: string; to: string[]; roles: string[]; events: string[] };
export type SmtpInput = {
  host: string;
  port: number;
  tls: "none" | "starttls" | "tls";
  username?: string;
  password?: string;
  from: string;
};

export const SMTP_PASSWORD_AAD = "notification-smtp";
const ROLES = ["admin", "operator", "approver", "auditor"];
const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

export function checkEvents(events: string[]): string[] {
  const bad = events.filter((e) => !(NOTIFICATION_EVENTS as readonly string[]).includes(e));
  if (bad.length)
    throw new AppError("BAD_REQUEST", {
      message: `unknown event(s) ${bad.join(", ")}; events are ${NOTIFICATION_EVENTS.join(", ")}`,
    });
  if (events.length === 0)
    throw new AppError("BAD_REQUEST", {
      message: `choose at least one event: ${NOTIFICATION_EVENTS.join(", ")}`,
    });
  return [...new Set(events)].sort();
}

function checkName(name: string): string {
  const n = name.trim();
  if (!/^[\w .@-]{1,64}$/.test(n))
    throw new AppError("BAD_REQUEST", {
      message: `channel name "${name}" must be 1–64 letters, digits, spaces, . _ @ -`,
    });
  return n;
}

async function assertFreeName(db: PrismaClient, name: string) {
  if (await db.notificationChannel.findUnique({ where: { name }, select: { id: true } }))
    throw new AppError("CONFLICT", {
      message: `a notification channel named "${name}" exists; remove it first or pick another name`,
    });
}

export async function describeWebhook(i: WebhookInput) {
  const u = parseWebhookUrl(i.url);
  await assertPublicTarget(u);
  return { name: checkName(i.name), url: u.toString(), events: checkEvents(i.events) };
}

export async function addWebhook(deps: ChannelDeps, input: WebhookInput) {
  const w = await describeWebhook(input);
  await assertFreeName(deps.db, w.name);
  const secret = `whsec_${randomBytes(32).toString("hex")}`;
  return deps.db.$transaction(async (tx) => {
    const row = await tx.notificationChannel.create({
      data: { name: w.name, kind: "webhook", url: w.url, events: w.events, createdById: deps.actorId },
      select: { id: true },
    });
    await tx.notificationChannel.update({
      where: { id: row.id },
      data: { encryptedSecret: new Uint8Array(deps.box.seal(Buffer.from(secret), row.id)) },
    });
    await appendAudit(tx, {
      actorId: deps.actorId,
      action: "notification.channel_add",
      target: `notification:${w.name}`,
      detail: { kind: "webhook", url: w.url, events: w.events },
    });
    return { id: row.id, name: w.name, secret };
  });
}

export function checkEmail(i: EmailInput) {
  const to = [...new Set(i.to.map((a) => a.trim().toLowerCase()).filter(Boolean))];
  const bad = to.filter((a) => !EMAIL.test(a));
  if (bad.length) throw new AppError("BAD_REQUEST", { message: `not an e-mail address: ${bad.join(", ")}` });
  const roles = [...new Set(i.roles)];
  const badRole = roles.filter((r) => !ROLES.includes(r));
  if (badRole.length)
    throw new AppError("BAD_REQUEST", {
      message: `unknown role(s) ${badRole.join(", ")}; roles are ${ROLES.join(", ")}`,
    });
  if (to.length === 0 && roles.length === 0)
    throw new AppError("BAD_REQUEST", {
      message: "give recipients: addresses, roles (their users' addresses), or both",
    });
  return { name: checkName(i.name), to, roles, events: checkEvents(i.events) };
}

export async function addEmail(deps: Omit<ChannelDeps, "box">, input: EmailInput) {
  const e = checkEmail(input);
  await assertFreeName(deps.db, e.name);
  return deps.db.$transaction(async (tx) => {
    const row = await tx.notificationChannel.create({
      data: {
        name: e.name,
        kind: "email",
        emailTo: e.to,
        emailRoles: e.roles,
        events: e.events,
        createdById: deps.actorId,
      },
      select: { id: true },
    });
    await appendAudit(tx, {
      actorId: deps.actorId,
      action: "notification.channel_add",
      target: `notification:${e.name}`,
      detail: { kind: "email", to: e.to, roles: e.roles, events: e.events },
    });
    return { id: row.id, name: e.name };
  });
}

export async function channelById(db: PrismaClient, id: string) {
  const c = await db.notificationChannel.findUnique({ where: { id } }).catch(() => null);
  if (!c)
    throw new AppError("NOT_FOUND", {
      message: `no notification channel with id ${id}; \`keel notifications list\` shows them`,
    });
  return c;
}

export async function removeChannel(deps: Omit<ChannelDeps, "box">, input: { id: string }) {
  const c = await channelById(deps.db, input.id);
  return deps.db.$transaction(async (tx) => {
    // Its deliveries stay listed (channel_id becomes null; channel_name keeps the name); pending ones are dropped as failed.
    await tx.notificationDelivery.updateMany({
      where: { channelId: c.id, state: { in: ["pending", "delivering"] } },
      data: { state: "failed", lastError: "channel removed" },
    });
    await tx.notificationChannel.delete({ where: { id: c.id } });
    await appendAudit(tx, {
      actorId: deps.actorId,
      action: "notification.channel_remove",
      target: `notification:${c.name}`,
      detail: { kind: c.kind },
    });
    return { id: c.id, name: c.name };
  });
}

export function checkSmtp(i: SmtpInput) {
  const host = i.host.trim();
  if (!/^[\w.-]+$/.test(host) && !/^\[[0-9a-f:]+\]$/i.test(host))
    throw new AppError("BAD_REQUEST", { message: `SMTP host "${i.host}" is not a host name or address` });
  if (!Number.isInteger(i.port) || i.port < 1 || i.port > 65535)
    throw new AppError("BAD_REQUEST", { message: `SMTP port ${i.port} must be 1–65535` });
  if (!EMAIL.test(i.from.trim()))
    throw new AppError("BAD_REQUEST", { message: `the From address "${i.from}" is not an e-mail address` });
  return { host, port: i.port, tls: i.tls, username: i.username?.trim() || null, from: i.from.trim() };
}

export async function setSmtp(deps: ChannelDeps, input: SmtpInput) {
  const s = checkSmtp(input);
  const encryptedPassword = input.password
    ? new Uint8Array(deps.box.seal(Buffer.from(input.password, "utf8"), SMTP_PASSWORD_AAD))
    : null;
  return deps.db.$transaction(async (tx) => {
    const data = { ...s, encryptedPassword, updatedAt: new Date() };
    await tx.notificationSmtp.upsert({ where: { id: 1 }, create: { id: 1, ...data }, update: data });
    await appendAudit(tx, {
      actorId: deps.actorId,
      action: "notification.smtp_set",
      target: "notification:smtp",
      detail: {
        host: s.host,
        port: s.port,
        tls: s.tls,
        username: s.username,
        from: s.from,
        password: input.password ? "set" : "none",
      },
    });
    return { host: s.host, port: s.port };
  });
}

/** Queues a test notification to one channel (through the outbox, like any other). */
export async function sendTest(deps: Omit<ChannelDeps, "box">, input: { id: string }) {
  const c = await channelById(deps.db, input.id);
  await appendAudit(deps.db, {
    actorId: deps.actorId,
    action: "notification.test",
    target: `notification:${c.name}`,
    detail: { channelId: c.id },
  });
  return { id: c.id, name: c.name };
}
