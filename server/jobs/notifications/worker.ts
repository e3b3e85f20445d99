// The notification worker: delivers the outbox (notification_deliveries). Every pollMs it claims
// due rows (claim.ts), sends each — a signed webhook POST or an e-mail — and records the outcome:
// delivered, failed for good after maxAttempts (or at once when retrying cannot help), or pending
// again after an exponential backoff. A worker that dies holding rows loses them to the others when
// its lease runs out; a row delivered and recorded is never sent again.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { PrismaClient } from "@prisma/client";
import type { SecretBox } from "@/server/services/keys/secret-box";
import type { NotificationPayload } from "@/server/services/notifications/enqueue-notifications";
import { claimDeliveries, recordOutcome, type Claimed, type Outcome } from "./claim";
import { sendEmail } from "./send-email";
import { sendWebhook } from "./send-webhook";

export type NotificationWorkerOptions = {
  db: PrismaClient;
  box: SecretBox;
  /** The console's public origin, for links. */
  origin: string;
  workerId?: string;
  pollMs?: number;
  leaseMs?: number;
  maxAttempts?: number;
  backoffBaseMs?: number;
  batch?: number;
  log?: (line: string) => void;
};

export type NotificationWorker = { id: string; tick(): Promise<number>; stop(): Promise<void> };

export const DEFAULTS = { pollMs: 1000, leaseMs: 60_000, maxAttempts: 8, backoffBaseMs: 10_000, batch: 20 };

export function startNotificationWorker(o: NotificationWorkerOptions): NotificationWorker {
  const id = o.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const c = {
    ...DEFAULTS,
    ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)),
  } as typeof DEFAULTS & NotificationWorkerOptions;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  const attempt = async (d: Claimed): Promise<Outcome & { channelName?: string }> => {
    const ch = d.channelId ? await o.db.notificationChannel.findUnique({ where: { id: d.channelId } }) : null;
    if (!ch) return { ok: false, responseCode: null, error: "the channel was removed", permanent: true };
    const payload = d.payload as unknown as NotificationPayload;
    if (ch.kind === "email")
      return {
        ...(await sendEmail({ db: o.db, box: o.box, origin: o.origin }, ch, payload)),
        channelName: ch.name,
      };
    let secret: string;
    try {
      secret = o.box.open(Buffer.from(ch.encryptedSecret ?? new Uint8Array()), ch.id).toString("utf8");
    } catch (e) {
      return {
        ok: false,
        responseCode: null,
        error: (e as Error).message,
        permanent: true,
        channelName: ch.name,
      };
    }
    const body = JSON.stringify({
      id: d.id,
      ...payload,
      url: payload.path ? `${o.origin}${payload.path}` : null,
    });
    return {
      ...(await sendWebhook({ url: ch.url!, secret, deliveryId: d.id, event: d.event, body })),
      channelName: ch.name,
    };
  };

  const tick = async (): Promise<number> => {
    const claimed = await claimDeliveries(o.db, { workerId: id, leaseMs: c.leaseMs, batch: c.batch });
    await Promise.all(
      claimed.map(async (d) => {
        const out = await attempt(d).catch((e: Error): Outcome => ({
          ok: false,
          responseCode: null,
          error: e.message,
        }));
        const { channelName, ...outcome } = out as Outcome & { channelName?: string };
        const state = await recordOutcome(o.db, { ...d, channelName }, outcome, {
          workerId: id,
          maxAttempts: c.maxAttempts,
          backoffBaseMs: c.backoffBaseMs,
        });
        if (state === "failed")
          o.log?.(
            `notification ${d.id} (${d.event}) failed after ${d.attempts} attempt(s): ${outcome.ok ? "" : outcome.error}`,
          );
      }),
    );
    return claimed.length;
  };

  const loop = () => {
    if (stopped) return;
    running = tick()
      .catch((e: Error) => o.log?.(`notifications: ${e.message}`))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, c.pollMs);
      });
  };
  timer = setTimeout(loop, 0);
  return {
    id,
    tick,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
