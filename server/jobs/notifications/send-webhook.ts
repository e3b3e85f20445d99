// One webhook attempt: POST the JSON body, signed (server/services/notifications/sign.ts), with the
// delivery's id (stable across retries, for the receiver to drop a repeat). The address check runs
// again on the address actually connected to (the socket's DNS lookup), so a name that resolves to
// a public address when checked and a private one when connecting is refused too. Redirects are not
// followed; a 2xx answer is success, anything else or no answer within the timeout a failure to retry.
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { SIGNATURE_HEADER, signBody } from "@/server/services/notifications/sign";
import {
  allowPrivate,
  assertPublicTarget,
  isPrivateAddress,
} from "@/server/services/notifications/webhook-url";
import type { Outcome } from "./claim";

type LookupCb = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** dns.lookup that refuses private addresses (unless allowed). */
function guardedLookup(host: string, opts: object, cb: LookupCb) {
  dnsLookup(host, { ...opts, all: true }, (err, addrs) => {
    if (err) return cb(err, []);
    const bad = allowPrivate() ? undefined : addrs.find((a) => isPrivateAddress(a.address));
    if (bad)
      return cb(
        Object.assign(new Error(`${host} resolved to the private address ${bad.address}`), {
          code: "EPRIVATE",
        }),
        [],
      );
    if ((opts as { all?: boolean }).all) return cb(null, addrs);
    cb(null, addrs[0]!.address, addrs[0]!.family);
  });
}

function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        lookup: guardedLookup as never,
        timeout: timeoutMs,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          if ((size += c.length) <= 4096) chunks.push(c);
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () =>
      req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: "ETIMEDOUT" })),
    );
    req.on("error", reject);
    req.end(body);
  });
}

export async function sendWebhook(o: {
  url: string;
  secret: string;
  deliveryId: string;
  event: string;
  body: string;
  timeoutMs?: number;
}): Promise<Outcome> {
  const url = new URL(o.url);
  try {
    await assertPublicTarget(url);
  } catch (e) {
    return { ok: false, error: (e as Error).message, responseCode: null, permanent: true };
  }
  try {
    const res = await post(
      url,
      {
        "content-type": "application/json",
        "user-agent": "Keel-Webhook/1",
        [SIGNATURE_HEADER]: signBody(o.secret, o.body),
        "Keel-Delivery": o.deliveryId,
        "Keel-Event": o.event,
      },
      o.body,
      o.timeoutMs ?? 10_000,
    );
    const text = res.text.slice(0, 200).replace(/\s+/g, " ").trim();
    if (res.status >= 200 && res.status < 300) return { ok: true, responseCode: res.status };
    return { ok: false, responseCode: res.status, error: `HTTP ${res.status}${text ? `: ${text}` : ""}` };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ETIMEDOUT" || err.code === "EPRIVATE" ? err.message : (err.code ?? err.message);
    return {
      ok: false,
      responseCode: null,
      error: `cannot reach ${url.host}: ${why}`,
      ...(err.code === "EPRIVATE" ? { permanent: true } : {}),
    };
  }
}
