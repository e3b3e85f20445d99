// Inputs and outputs of the apps router (fleet-wide views per app, and target versions).
import { z } from "zod";
import { ZSetAppTargetRequest } from "@/server/services/inventory/hosts/set-app-target";
import { ZAppName, ZHostFilter } from "@/server/services/inventory/types";

export const READERS = ["admin", "operator", "approver", "auditor"] as const;

export const ZAppSummary = z.object({ app: z.string(), hosts: z.number(), versions: z.number() });
export const ZDistributionRequest = z.strictObject({
  app: ZAppName,
  at: z.date().optional(),
  filter: ZHostFilter.optional(),
});
export const ZDistribution = z.object({
  app: z.string(),
  at: z.date().nullable(),
  hostCount: z.number(),
  withoutApp: z.number(),
  versions: z.array(z.object({ version: z.string(), hosts: z.number() })),
});
export const ZDriftRequest = z.strictObject({ app: ZAppName.optional() }).default({});
export const ZDriftRow = z.object({
  targetId: z.string(),
  app: z.string(),
  targetVersion: z.string(),
  scopeKind: z.string(),
  scopeKey: z.string(),
  scopeName: z.string(),
  hosts: z.number(),
  onTarget: z.number(),
  behind: z.number(),
  ahead: z.number(),
  missing: z.number(),
  versions: z.array(z.object({ version: z.string().nullable(), hosts: z.number() })),
});
export const ZTarget = z.object({
  id: z.string(),
  app: z.string(),
  version: z.string(),
  scopeKind: z.string(),
  scopeKey: z.string(),
  updatedAt: z.date(),
  group: z.object({ name: z.string() }).nullable(),
});
export { ZSetAppTargetRequest };
export const ZSetTargetResponse = z.object({
  app: z.string(),
  version: z.string().nullable(),
  scopeKind: z.string(),
  scopeKey: z.string(),
});
