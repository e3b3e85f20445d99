// One webhook attempt: POST the JSON body, signed (server/services/notifications/sign.ts), with the
// delivery's id (stable across retries, for the receiver to drop a repeat). Redirects are not
// followed (they would lead past the address check); a 2xx answer is success, anything else or no
// answer within the timeout is a failure to retry.
import { SIGNATURE_HEADER, signBody } from "@/server/services/notifications/sign";
import { assertPublicTarget } from "@/server/services/notifications/webhook-url";
import type { Outcome } from "./claim";

export async function sendWebhook(o: { url: string; secret: string; deliveryId: string; event: string; body: string; timeoutMs?: number }): Promise<Outcome> {
  try {
    await assertPublicTarget(new URL(o.url));
  } catch (e) {
    return { ok: false, error: (e as Error).message, responseCode: null, permanent: true };
  }
  try {
    const res = await fetch(o.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
      headers: {
        "content-type": "application/json",
        "user-agent": "Keel-Webhook/1",
        [SIGNATURE_HEADER]: signBody(o.secret, o.body),
        "Keel-Delivery": o.deliveryId,
        "Keel-Event": o.event,
      },
      body: o.body,
    });
    const text = (await res.text().catch(() => "")).slice(0, 200).replace(/\s+/g, " ").trim();
    if (res.status >= 200 && res.status < 300) return { ok: true, responseCode: res.status };
    return { ok: false, responseCode: res.status, error: `HTTP ${res.status}${text ? `: ${text}` : ""}` };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why = err.name === "TimeoutError" ? `no answer within ${(o.timeoutMs ?? 10_000) / 1000} s` : (err.cause?.code ?? err.cause?.message ?? err.message);
    return { ok: false, responseCode: null, error: `cannot reach ${new URL(o.url).host}: ${why}` };
  }
}
