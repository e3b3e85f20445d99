// Inputs and outputs of the hosts router.
import { z } from "zod";
import { ZEnrollHostRequest, ZFingerprint, ZImportEntry } from "@/server/services/inventory/hosts/host-input";
import {
  HOST_SORT_KEYS,
  ZAppName,
  ZEnvironment,
  ZHostFilter,
  ZLabels,
} from "@/server/services/inventory/types";

export const READERS = ["admin", "operator", "approver", "auditor"] as const;

/** A keyset cursor (server/services/inventory/keyset.ts): opaque, base64url. */
const ZCursor = z
  .string()
  .max(2048)
  .regex(/^[A-Za-z0-9_-]+$/);
const ZCursors = { nextCursor: z.string().nullable(), prevCursor: z.string().nullable() };

export const ZListHostsRequest = z
  .strictObject({
    filter: ZHostFilter.optional(),
    sort: z.enum(HOST_SORT_KEYS).optional(),
    direction: z.enum(["asc", "desc"]).optional(),
    after: ZCursor.optional(),
    before: ZCursor.optional(),
    pageSize: z.number().int().min(1).max(500).optional(),
  })
  .default({});

export const ZHostRow = z.object({
  id: z.string(),
  name: z.string(),
  address: z.string(),
  port: z.number(),
  user: z.string(),
  environment: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  reachable: z.boolean().nullable(),
  hostKeyChanged: z.boolean(),
  lastError: z.string().nullable(),
  lastSeenAt: z.date().nullable(),
  lastRefreshAt: z.date().nullable(),
  os: z.string().nullable(),
  kernel: z.string().nullable(),
  arch: z.string().nullable(),
  agentVersion: z.string().nullable(),
  appCount: z.number(),
});
export const ZHostPage = z.object({
  total: z.number(),
  pageSize: z.number(),
  rows: z.array(ZHostRow),
  ...ZCursors,
});

export const ZGetHostRequest = z.strictObject({
  id: z.uuid().optional(),
  name: z.string().max(63).optional(),
  at: z.date().optional(),
});
const ZVersionRow = z.object({
  app: z.string(),
  version: z.string(),
  kind: z.string(),
  sizeBytes: z.number().nullable(),
  receivedUuid: z.string().nullable(),
  signer: z.string().nullable(),
  installedAt: z.date().nullable(),
  isCurrent: z.boolean(),
  isPrevious: z.boolean(),
  since: z.date(),
});
export const ZHostDetail = z.object({
  id: z.string(),
  name: z.string(),
  address: z.string(),
  port: z.number(),
  user: z.string(),
  hostKeyFingerprint: z.string(),
  hostKeyChanged: z.boolean(),
  presentedKeyFingerprint: z.string().nullable(),
  sudoMode: z.string(),
  environment: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  reachable: z.boolean().nullable(),
  lastError: z.string().nullable(),
  lastSeenAt: z.date().nullable(),
  lastRefreshAt: z.date().nullable(),
  facts: z.unknown(),
  factsAt: z.date().nullable(),
  hostname: z.string().nullable(),
  machineId: z.string().nullable(),
  os: z.string().nullable(),
  kernel: z.string().nullable(),
  arch: z.string().nullable(),
  agentVersion: z.string().nullable(),
  storeTotalBytes: z.number().nullable(),
  storeUsedBytes: z.number().nullable(),
  enrolledBy: z.string().nullable(),
  createdAt: z.date(),
  /** Set when the host was removed from the inventory; its history and timeline stay readable. */
  retiredAt: z.date().nullable(),
  retiredBy: z.string().nullable(),
  groups: z.array(z.object({ id: z.string(), name: z.string() })),
  at: z.date().nullable(),
  apps: z.array(
    z.object({
      app: z.string(),
      kind: z.string(),
      current: z.string().nullable(),
      previous: z.string().nullable(),
      versions: z.array(ZVersionRow),
    }),
  ),
  events: z.array(
    z.object({
      id: z.string(),
      at: z.date(),
      kind: z.string(),
      message: z.string(),
      detail: z.unknown(),
      actorId: z.string().nullable(),
    }),
  ),
});

export const ZFetchHostKeyRequest = z.strictObject({
  address: z.string().max(253),
  port: z.number().int().min(1).max(65535).default(22),
});
export const ZFetchHostKeyResponse = z.object({
  address: z.string(),
  port: z.number(),
  fingerprint: z.string(),
  algorithm: z.string().nullable(),
});

export const ZEnrollRequest = ZEnrollHostRequest.extend({ refresh: z.boolean().default(true) }).strict();
const ZRefreshResult = z.object({
  hostId: z.string(),
  name: z.string(),
  status: z.enum(["ok", "unreachable", "key-changed", "skipped"]),
  changed: z.boolean(),
  message: z.string().optional(),
  ms: z.number(),
});
export const ZEnrollResponse = z.object({
  id: z.string(),
  name: z.string(),
  keysInstalled: z.number().nullable(),
  warning: z.string().nullable(),
  refresh: ZRefreshResult.nullable(),
});

export const ZImportRequest = z.strictObject({
  format: z.enum(["lab", "csv", "ssh-config"]),
  text: z.string().max(5_000_000),
  knownHosts: z.string().max(5_000_000).optional(),
  acceptPresentedKeys: z.boolean().default(false),
  environment: ZEnvironment.nullish(),
  labels: ZLabels.optional(),
  /** Only parse and report what would be enrolled. */
  dryRun: z.boolean().default(false),
});
export const ZImportResponse = z.object({
  problems: z.array(z.string()),
  entries: z.array(ZImportEntry.partial().extend({ name: z.string() })),
  outcomes: z.array(
    z.object({
      name: z.string(),
      status: z.enum(["enrolled", "exists", "needs-fingerprint", "invalid", "failed"]),
      message: z.string().optional(),
      fingerprint: z.string().nullish(),
      id: z.string().optional(),
    }),
  ),
  enrolled: z.number(),
});

export const ZRemoveRequest = z.strictObject({ id: z.uuid() });
export const ZSetLabelsRequest = z.strictObject({
  hostIds: z.array(z.uuid()).min(1).max(10_000),
  set: ZLabels.optional(),
  unset: z.array(z.string().max(63)).max(100).optional(),
});
export const ZSetEnvironmentRequest = z.strictObject({
  hostIds: z.array(z.uuid()).min(1).max(10_000),
  environment: ZEnvironment.nullable(),
});
export const ZUpdated = z.object({ updated: z.number() });

export const ZRefreshRequest = z.union([
  z.strictObject({ hostIds: z.array(z.uuid()).min(1).max(10_000) }),
  z.strictObject({ filter: ZHostFilter }),
  z.strictObject({ all: z.literal(true) }),
]);
export const ZRefreshResponse = z.object({
  background: z.boolean(),
  total: z.number(),
  ok: z.number(),
  changed: z.number(),
  unreachable: z.number(),
  keyChanged: z.number(),
  skipped: z.number(),
  results: z.array(ZRefreshResult),
});

export const ZRepinRequest = z.strictObject({ id: z.uuid(), acceptedFingerprint: ZFingerprint });

export const ZStaleRequest = z.strictObject({
  olderThanHours: z
    .number()
    .min(0)
    .max(24 * 365)
    .default(24),
  filter: ZHostFilter.optional(),
  after: ZCursor.optional(),
  before: ZCursor.optional(),
  pageSize: z.number().int().min(1).max(500).optional(),
});

export const ZAsOfRequest = z.strictObject({
  at: z.date(),
  app: ZAppName.optional(),
  filter: ZHostFilter.optional(),
  after: ZCursor.optional(),
  before: ZCursor.optional(),
  pageSize: z.number().int().min(1).max(500).optional(),
});
export const ZAsOfResponse = z.object({
  at: z.date(),
  app: z.string().nullable(),
  total: z.number(),
  pageSize: z.number(),
  ...ZCursors,
  rows: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      environment: z.string().nullable(),
      retiredAt: z.date().nullable(),
      versions: z.array(z.object({ app: z.string(), version: z.string() })),
    }),
  ),
});

export const ZExportRequest = z.discriminatedUnion("table", [
  z.strictObject({
    table: z.literal("hosts"),
    filter: ZHostFilter.optional(),
    sort: z.enum(HOST_SORT_KEYS).optional(),
    direction: z.enum(["asc", "desc"]).optional(),
  }),
  z.strictObject({
    table: z.literal("stale"),
    olderThanMs: z.number().min(0).optional(),
    filter: ZHostFilter.optional(),
  }),
  z.strictObject({ table: z.literal("apps") }),
  z.strictObject({
    table: z.literal("distribution"),
    app: ZAppName,
    at: z.date().optional(),
    filter: ZHostFilter.optional(),
  }),
  z.strictObject({ table: z.literal("drift"), app: ZAppName.optional() }),
  z.strictObject({
    table: z.literal("as-of"),
    at: z.date(),
    app: ZAppName.optional(),
    filter: ZHostFilter.optional(),
  }),
  z.strictObject({ table: z.literal("timeline"), hostId: z.uuid() }),
]);
export const ZExportResponse = z.object({ filename: z.string(), csv: z.string() });
