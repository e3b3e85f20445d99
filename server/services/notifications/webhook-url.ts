// Which URLs a webhook may post to. Only http(s). Private, loopback and link-local addresses are
// refused unless KEEL_WEBHOOK_ALLOW_PRIVATE=1: the console runs next to things an admin account
// should not reach through it (the cloud metadata service, PostgreSQL, other hosts' admin ports),
// and a webhook is a request the console makes on the admin's behalf (SSRF). The name is checked
// when the webhook is added and its addresses again at every delivery (DNS may change).
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { AppError } from "@/server/errors";

export const ALLOW_PRIVATE_ENV = "KEEL_WEBHOOK_ALLOW_PRIVATE";
export const allowPrivate = (env: NodeJS.ProcessEnv = process.env) =>
  /^(1|true|yes)$/i.test(env[ALLOW_PRIVATE_ENV] ?? "");

export function parseWebhookUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new AppError("BAD_REQUEST", {
      message: `"${raw}" is not a URL; give one like https://hooks.example.com/keel`,
    });
  }
  if (u.protocol !== "https:" && u.protocol !== "http:")
    throw new AppError("BAD_REQUEST", {
      message: `webhook URLs must be http or https, not ${u.protocol.replace(":", "")}`,
    });
  if (u.username || u.password)
    throw new AppError("BAD_REQUEST", {
      message: "put no user or password in the webhook URL; the request is signed instead",
    });
  return u;
}

/** Loopback, private (RFC 1918, ULA), link-local, CGNAT, unspecified, multicast. */
export function isPrivateAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) {
    const [a, b] = ip.split(".").map(Number) as [number, number];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127) ||
      a >= 224
    );
  }
  if (v === 6) {
    const x = ip.toLowerCase();
    if (x.startsWith("::ffff:")) return isPrivateAddress(x.slice(7));
    return x === "::" || x === "::1" || /^f[cd]/.test(x) || /^fe[89ab]/.test(x) || x.startsWith("ff");
  }
  return true;
}

/** Refuses a URL whose host is or resolves to a private address (unless allowed). */
export async function assertPublicTarget(u: URL, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (allowPrivate(env)) return;
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const addrs = isIP(host)
    ? [host]
    : (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
  if (addrs.length === 0)
    throw new AppError("BAD_REQUEST", { message: `webhook host ${host} does not resolve` });
  const bad = addrs.find(isPrivateAddress);
  if (bad)
    throw new AppError("BAD_REQUEST", {
      message: `webhook host ${host} is a private address (${bad}); the console refuses these so an admin account cannot reach internal services through it. Set ${ALLOW_PRIVATE_ENV}=1 on the console to allow them`,
    });
}
