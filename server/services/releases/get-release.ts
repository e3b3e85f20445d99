import { existsSync } from "node:fs";
import type { PrismaClient } from "@prisma/client";
import { runsAsRoot, type HealthCheck } from "@/agent/protocol";
import { AppError } from "@/server/errors";
import { describeHealthCheck } from "./health-check";
import { deltaWireBytes } from "./produce-delta";
import { releaseSummarySelect, toSummary } from "./list-releases";

/** One release for its detail page and `keel release show`. */
export async function getRelease({ db }: { db: PrismaClient }, input: { app: string; version: string }) {
  const r = await db.release.findUnique({
    where: { app_version: input },
    select: {
      ...releaseSummarySelect,
      manifest: true,
      subvolume: true,
      deltasTo: {
        select: {
          parent: { select: { version: true } },
          streamBytes: true,
          encodedBytes: true,
          encoded2Bytes: true,
          createdAt: true,
        },
      },
      deltasFrom: {
        select: {
          release: { select: { version: true } },
          streamBytes: true,
          encodedBytes: true,
          encoded2Bytes: true,
          createdAt: true,
        },
      },
    },
  });
  if (!r) throw new AppError("NOT_FOUND", { message: `there is no release ${input.app} ${input.version}` });
  const installed = await db.installedVersion.findMany({
    where: input,
    select: { isCurrent: true, isPrevious: true, installedAt: true, host: { select: { name: true } } },
    orderBy: { host: { name: "asc" } },
  });
  const { manifest, subvolume, deltasTo, deltasFrom, ...summary } = r;
  const parsed = JSON.parse(manifest) as { healthCheck?: HealthCheck };
  return {
    release: toSummary(summary, {
      hosts: installed.length,
      currentOn: installed.filter((i) => i.isCurrent).length,
    }),
    manifest: parsed as unknown,
    /** What the signed manifest's health check runs, and whether as root (the detail page says so). */
    healthCheck: parsed.healthCheck
      ? { description: describeHealthCheck(parsed.healthCheck), runsAsRoot: runsAsRoot(parsed.healthCheck) }
      : null,
    hasSubvolume: !!subvolume && existsSync(subvolume),
    installedOn: installed.map((i) => ({
      host: i.host.name,
      isCurrent: i.isCurrent,
      isPrevious: i.isPrevious,
      installedAt: i.installedAt,
    })),
    deltas: [
      ...deltasTo.map((d) => ({
        direction: "to" as const,
        otherVersion: d.parent.version,
        streamBytes: Number(d.streamBytes),
        wireBytes: d.encodedBytes === null ? null : deltaWireBytes(d),
        createdAt: d.createdAt,
      })),
      ...deltasFrom.map((d) => ({
        direction: "from" as const,
        otherVersion: d.release.version,
        streamBytes: Number(d.streamBytes),
        wireBytes: d.encodedBytes === null ? null : deltaWireBytes(d),
        createdAt: d.createdAt,
      })),
    ],
  };
}
