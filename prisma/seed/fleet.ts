// Seed helpers shared by integration tests, benchmarks and e2e: users with roles, hosts with
// installed versions, releases. Rows only — no SSH, no agent; real hosts come from infra/lab.
import { randomBytes, randomUUID } from "node:crypto";
import type { PrismaClient, Role } from "@prisma/client";

export async function seedUser(
  db: PrismaClient,
  email: string,
  roles: Role[],
): Promise<{ id: string; email: string; roles: Role[] }> {
  const id = randomUUID();
  await db.user.create({ data: { id, email, name: email.split("@")[0]!, roles, emailVerified: true } });
  // Seeded people are founders: their roles rest on no other account (docs/decisions/0015-two-person-rule.md).
  await db.roleGrant.createMany({ data: roles.map((role) => ({ userId: id, role, via: "founder" })) });
  return { id, email, roles };
}

export async function seedHosts(
  db: PrismaClient,
  n: number,
  opts: {
    prefix?: string;
    environment?: string;
    app?: string;
    current?: string;
    previous?: string;
    labels?: Record<string, string>;
  } = {},
): Promise<{ id: string; name: string }[]> {
  const out: { id: string; name: string }[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${opts.prefix ?? "host"}-${String(i).padStart(3, "0")}`;
    const h = await db.host.create({
      data: {
        name,
        address: `10.99.${Math.floor(i / 250)}.${(i % 250) + 1}`,
        hostKeyFingerprint: `SHA256:${randomBytes(32).toString("base64").replace(/=+$/, "")}`,
        environment: opts.environment ?? "dev",
        labels: opts.labels ?? {},
        reachable: true,
      },
      select: { id: true, name: true },
    });
    if (opts.app && opts.current)
      await db.installedVersion.create({
        data: { hostId: h.id, app: opts.app, version: opts.current, isCurrent: true },
      });
    if (opts.app && opts.previous)
      await db.installedVersion.create({
        data: { hostId: h.id, app: opts.app, version: opts.previous, isPrevious: true },
      });
    out.push(h);
  }
  return out;
}

/** A release row with a public-only signing key; its stream is not in any artifact store. */
export async function seedRelease(
  db: PrismaClient,
  app: string,
  version: string,
  bytes = 1_000_000,
): Promise<{ id: string }> {
  const keyId = `seed-${randomBytes(4).toString("hex")}`;
  await db.signingKey.create({ data: { keyId, name: keyId, publicKey: randomBytes(32).toString("base64") } });
  return db.release.create({
    data: {
      app,
      version,
      kind: "app",
      manifest: "{}",
      signerKeyId: keyId,
      streamDigest: randomBytes(32).toString("hex"),
      streamBytes: BigInt(bytes),
      treeFiles: 10,
      treeBytes: BigInt(bytes * 2),
      source: "push",
      createdAt: new Date(),
    },
    select: { id: true },
  });
}
