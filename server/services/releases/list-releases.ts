import type { Prisma, PrismaClient } from "@prisma/client";
import { compareVersions } from "@/agent/protocol";

export const releaseSummarySelect = {
  id: true,
  app: true,
  version: true,
  kind: true,
  streamBytes: true,
  treeFiles: true,
  treeBytes: true,
  signerKeyId: true,
  signer: { select: { name: true } },
  source: true,
  createdAt: true,
  addedAt: true,
} satisfies Prisma.ReleaseSelect;

type Row = Prisma.ReleaseGetPayload<{ select: typeof releaseSummarySelect }>;

export function toSummary(r: Row, counts?: { hosts: number; currentOn: number }) {
  const { signer, streamBytes, treeBytes, ...rest } = r;
  return {
    ...rest,
    streamBytes: Number(streamBytes),
    treeBytes: Number(treeBytes),
    signerName: signer.name,
    hosts: counts?.hosts ?? 0,
    currentOn: counts?.currentOn ?? 0,
  };
}

/** Releases grouped by app (apps by name, versions newest first) with host counts from inventory. */
export async function listReleases({ db }: { db: PrismaClient }, input: { app?: string } = {}) {
  const where = input.app ? { app: input.app } : {};
  const [rows, installed] = await Promise.all([
    db.release.findMany({ where, select: releaseSummarySelect }),
    db.installedVersion.groupBy({ by: ["app", "version", "isCurrent"], where, _count: { _all: true } }),
  ]);
  const counts = new Map<string, { hosts: number; currentOn: number }>();
  for (const g of installed) {
    const k = `${g.app}\0${g.version}`;
    const c = counts.get(k) ?? { hosts: 0, currentOn: 0 };
    c.hosts += g._count._all;
    if (g.isCurrent) c.currentOn += g._count._all;
    counts.set(k, c);
  }
  const byApp = new Map<string, ReturnType<typeof toSummary>[]>();
  for (const r of rows) {
    const list = byApp.get(r.app) ?? [];
    list.push(toSummary(r, counts.get(`${r.app}\0${r.version}`)));
    byApp.set(r.app, list);
  }
  return {
    apps: [...byApp.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([app, releases]) => ({
        app,
        releases: releases.sort((a, b) => compareVersions(b.version, a.version)),
      })),
  };
}
