// A better-auth session for a user signed in through the provider: the session row is made by
// better-auth's own adapter (so its hooks run: a disabled user gets none) and the cookie is signed
// the way better-auth signs it (HMAC-SHA256 of the token under the auth secret, base64), so
// get-session and every request read it as any other session.
import { createHmac } from "node:crypto";
import type { Auth } from "@/server/auth/auth";

export async function createSessionCookie(
  auth: Auth,
  secret: string,
  userId: string,
  headers: Headers,
): Promise<string> {
  const ctx = await auth.$context;
  const session = await ctx.internalAdapter.createSession(userId, false, {
    ipAddress: headers.get("x-keel-client-ip") ?? "",
    userAgent: headers.get("user-agent") ?? "",
  });
  if (!session) throw new Error("better-auth made no session");
  const { name, attributes } = ctx.authCookies.sessionToken;
  const signature = createHmac("sha256", secret).update(session.token).digest("base64");
  const parts = [
    `${name}=${encodeURIComponent(`${session.token}.${signature}`)}`,
    `Path=${attributes.path ?? "/"}`,
    `Max-Age=${ctx.sessionConfig.expiresIn}`,
    "HttpOnly",
    `SameSite=${attributes.sameSite ?? "Lax"}`,
  ];
  if (attributes.secure) parts.push("Secure");
  return parts.join("; ");
}
