// Shared types of the inventory services: their dependencies, the SSH port they talk to hosts
// through (implemented over server/ssh by ssh-adapter.ts, faked nowhere but unit tests), the facts a
// refresh records, and the host filter every fleet view, filter group and export understands.
import { z } from "zod";
import { ZAppName, ZVersion } from "@/server/services/releases/names";
import type { PrismaClient } from "@prisma/client";

export type Clock = () => Date;

/** What a service needs to reach one enrolled host. */
export interface HostConnection {
  name: string;
  address: string;
  port: number;
  user: string;
  /** The pinned fingerprint (`SHA256:…`). */
  fingerprint: string;
  sudoMode: string;
}

/** A host's row as far as reaching it goes (its columns' names). */
export type HostConnectionRow = {
  id: string;
  name: string;
  address: string;
  port: number;
  user: string;
  hostKeyFingerprint: string;
  hostKeyChanged: boolean;
  sudoMode: string;
};

/** The facts a host's row keeps in columns of their own, as collected. */
export type HostFactColumns = {
  hostname: string | null;
  machineId: string | null;
  os: string | null;
  kernel: string | null;
  arch: string | null;
  agentVersion: string | null;
};

/** Facts as the inventory stores them, normalised from the agent's `facts` response. */
export interface CollectedFacts extends HostFactColumns {
  cpuCount: number | null;
  cpuModel: string | null;
  memoryBytes: number | null;
  store: { backend: string | null; totalBytes: number | null; usedBytes: number | null } | null;
  apps: CollectedApp[];
  /** The agent's document as received, kept on the host row for the detail page. */
  raw?: unknown;
}

export interface CollectedApp {
  app: string;
  kind: string;
  current: string | null;
  previous: string | null;
  versions: {
    version: string;
    sizeBytes: number | null;
    receivedUuid: string | null;
    createdAt: string | null;
    signer: string | null;
  }[];
}

/** The error a port throws; `code` follows server/ssh's SshError codes. */
export interface PortError extends Error {
  code?: string;
  details?: unknown;
}

/** How the inventory talks to hosts. ssh-adapter.ts implements it over server/ssh. */
export interface InventorySsh {
  /** Connect without a pinned key and report the key the host presents. */
  fetchHostKey(t: {
    name: string;
    address: string;
    port: number;
  }): Promise<{ fingerprint: string; algorithm?: string }>;
  /** Connect (pinned), make sure the agent is there, run `facts`. */
  collectFacts(h: HostConnection): Promise<CollectedFacts>;
  /** Install release-signing public keys as /etc/keel/trusted.d/<fileName> on the host. */
  installTrustedKeys?(h: HostConnection, keys: TrustedKeyFile[]): Promise<void>;
}

export type TrustedKeyFile = { fileName: string; publicKeyLine: string };

export interface InventoryDeps {
  db: PrismaClient;
  ssh?: InventorySsh;
  clock?: Clock;
}

export const now = (deps: { clock?: Clock }): Date => (deps.clock ? deps.clock() : new Date());

// ---- host filter -------------------------------------------------------------------------------

export const LABEL_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
export const LABEL_VALUE_RE = /^[A-Za-z0-9._:/@+-]{0,63}$/;
export const ENV_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export { ZAppName, ZVersion };
export const ZEnvironment = z.string().regex(ENV_RE, "environments are lower-case letters, digits, _ -");
export const ZLabels = z.record(
  z.string().regex(LABEL_KEY_RE, "label keys are letters, digits, . _ / -"),
  z.string().regex(LABEL_VALUE_RE, "label values are letters, digits, . _ : / @ + -"),
);

export const ZHostFilter = z
  .object({
    /** Free text: name, address, hostname, OS, environment, labels. */
    q: z.string().max(200).optional(),
    /** Every label must match (key=value). */
    labels: ZLabels.optional(),
    environments: z.array(ZEnvironment).max(50).optional(),
    groupId: z.uuid().optional(),
    /** Substring of the OS name, case-insensitive. */
    os: z.string().max(100).optional(),
    /** Hosts that have this app installed (with `version`: that version is current). */
    app: ZAppName.optional(),
    version: ZVersion.optional(),
    reachable: z.boolean().optional(),
    hostKeyChanged: z.boolean().optional(),
    /** Last seen before this time (or never). */
    seenBefore: z.coerce.date().optional(),
    seenAfter: z.coerce.date().optional(),
    ids: z.array(z.uuid()).max(10_000).optional(),
  })
  .strict();
export type THostFilter = z.infer<typeof ZHostFilter>;

export const HOST_SORT_KEYS = [
  "name",
  "address",
  "environment",
  "os",
  "reachable",
  "lastSeenAt",
  "lastRefreshAt",
  "createdAt",
] as const;
export type HostSortKey = (typeof HOST_SORT_KEYS)[number];
