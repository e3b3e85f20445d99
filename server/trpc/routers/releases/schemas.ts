import { z } from "zod";
import { ZAppName, ZVersion } from "@/server/services/releases/names";

export { ZAppName, ZVersion };

export const ZListReleasesRequest = z.strictObject({ app: ZAppName.optional() });

export const ZReleaseSummary = z.object({
  id: z.string(),
  app: z.string(),
  version: z.string(),
  kind: z.string(),
  streamBytes: z.number(),
  treeFiles: z.number(),
  treeBytes: z.number(),
  signerKeyId: z.string(),
  signerName: z.string(),
  source: z.string(),
  createdAt: z.date(),
  addedAt: z.date(),
  /** Hosts that have this version installed (any state), and on how many it is current. */
  hosts: z.number(),
  currentOn: z.number(),
});

export const ZListReleasesResponse = z.object({
  apps: z.array(z.object({ app: z.string(), releases: z.array(ZReleaseSummary) })),
});

export const ZReleaseRef = z.strictObject({ app: ZAppName, version: ZVersion });

export const ZReleaseDetail = z.object({
  release: ZReleaseSummary,
  manifest: z.unknown(),
  healthCheck: z.object({ description: z.string(), runsAsRoot: z.boolean() }).nullable(),
  hasSubvolume: z.boolean(),
  installedOn: z.array(
    z.object({
      host: z.string(),
      isCurrent: z.boolean(),
      isPrevious: z.boolean(),
      installedAt: z.date().nullable(),
    }),
  ),
  deltas: z.array(
    z.object({
      direction: z.enum(["to", "from"]),
      otherVersion: z.string(),
      streamBytes: z.number(),
      wireBytes: z.number().nullable(),
      createdAt: z.date(),
    }),
  ),
});

export const ZDeleteReleaseResponse = z.object({
  app: z.string(),
  version: z.string(),
  deletedArtifacts: z.number(),
});

export const ZBuildSupport = z.object({
  canBuild: z.boolean(),
  reason: z.string().nullable(),
  dataDir: z.string(),
});

export const ZPlanStreamRequest = z.strictObject({
  app: ZAppName,
  version: ZVersion,
  hostVersions: z.array(ZVersion).max(1000),
});
export const ZPlanStreamResponse = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("none"), bytes: z.literal(0), releaseId: z.string() }),
  z.object({
    kind: z.literal("full"),
    bytes: z.number(),
    releaseId: z.string(),
    reason: z.string().optional(),
  }),
  z.object({
    kind: z.literal("delta"),
    parent: z.string(),
    bytes: z.number(),
    releaseId: z.string(),
    deltaId: z.string(),
    streamBytes: z.number(),
  }),
]);
