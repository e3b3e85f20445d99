// The re-check of accounts linked to the provider (docs/auth.md): every minute, each active link not
// checked for 10 minutes is refreshed with its refresh token; the groups in the new answer (ID token
// or userinfo) are applied as at sign-in. A provider that refuses the refresh (invalid_grant: the user
// was removed or their grant revoked) marks the link gone, revokes its directory roles and ends its
// sessions; a provider that cannot be reached leaves the link unconfirmed, and ./gate.ts stops it
// after an hour.
import type { PrismaClient } from "@prisma/client";
import * as client from "openid-client";
import { appendAudit } from "@/server/services/audit/append-audit";
import type { SecretBox } from "@/server/services/keys/secret-box";
import { providerConfig } from "./client";
import { applyDirectoryRoles } from "./directory-roles";
import { reasonOf } from "./errors";
import { RECHECK_MS } from "./gate";
import { rolesForGroups } from "./role-map";
import { confirmLink, groupsFor } from "./sign-in";
import type { OidcSettings } from "./settings";

export type RecheckDeps = {
  db: PrismaClient;
  box: () => SecretBox;
  settings: () => Promise<OidcSettings | null>;
};
export type RecheckResult = {
  userId: string;
  outcome: "confirmed" | "gone" | "no_roles" | "unreachable" | "no_refresh_token";
};

/** Re-checks the links due at `now` (all active links with `all`); returns what happened to each. */
export async function recheckDirectoryUsers(
  deps: RecheckDeps,
  opts: { now?: Date; all?: boolean } = {},
): Promise<RecheckResult[]> {
  const now = opts.now ?? new Date();
  const s = await deps.settings();
  if (!s) return [];
  const due = await deps.db.oidcLink.findMany({
    where: {
      state: "active",
      ...(opts.all ? {} : { checkedAt: { lt: new Date(now.getTime() - RECHECK_MS) } }),
    },
    include: { user: { select: { id: true, email: true } } },
    take: 500,
  });
  const out: RecheckResult[] = [];
  for (const link of due) {
    if (!link.refreshTokenSealed) {
      await deps.db.oidcLink.update({ where: { userId: link.userId }, data: { checkedAt: now } });
      out.push({ userId: link.userId, outcome: "no_refresh_token" });
      continue;
    }
    const refreshToken = deps
      .box()
      .open(Buffer.from(link.refreshTokenSealed), `oidc-refresh:${link.userId}`)
      .toString("utf8");
    try {
      const config = await providerConfig(s);
      const tokens = await client.refreshTokenGrant(config, refreshToken);
      const claims = (tokens.claims() ?? { sub: link.subject }) as Record<string, unknown>;
      const groups = await groupsFor(config, s, claims, tokens.access_token);
      const wanted = rolesForGroups(groups, s.roleMap);
      const outcome = await deps.db.$transaction(async (tx) => {
        const { roles } = await applyDirectoryRoles(tx, link.user, wanted, s, "recheck");
        await confirmLink(tx, deps.box, link.userId, {
          groups,
          roles,
          at: now,
          refreshToken: tokens.refresh_token,
        });
        return roles.length ? ("confirmed" as const) : ("no_roles" as const);
      });
      out.push({ userId: link.userId, outcome });
    } catch (e) {
      const reason = reasonOf(e);
      if (reason === "code_refused") {
        await deps.db.$transaction(async (tx) => {
          await applyDirectoryRoles(tx, link.user, [], s, "provider_gone");
          await tx.oidcLink.update({
            where: { userId: link.userId },
            data: { state: "gone", checkedAt: now, refreshTokenSealed: null },
          });
          const { count } = await tx.session.deleteMany({ where: { userId: link.userId } });
          await appendAudit(tx, {
            actorId: null,
            action: "user.directory_gone",
            target: `user:${link.user.email}`,
            detail: { issuer: link.issuer, sessions: count },
          });
        });
        out.push({ userId: link.userId, outcome: "gone" });
      } else {
        await deps.db.oidcLink.update({ where: { userId: link.userId }, data: { checkedAt: now } });
        out.push({ userId: link.userId, outcome: "unreachable" });
      }
    }
  }
  return out;
}

/** Runs the re-check every minute until stopped. */
export function startDirectoryRecheck(deps: RecheckDeps, log: (line: string) => void): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    recheckDirectoryUsers(deps)
      .then((r) => {
        const bad = r.filter((x) => x.outcome !== "confirmed");
        if (bad.length) log(`directory re-check: ${bad.map((x) => `${x.userId} ${x.outcome}`).join(", ")}`);
      })
      .catch((e) => log(`directory re-check failed: ${(e as Error).message}`))
      .finally(() => (running = false));
  }, 60_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
