// Shared types of rollouts: the plan people approve (its digest binds approvals), and the
// dependencies the services take.
import { z } from "zod";
import type { PrismaClient } from "@prisma/client";
import { ZHostFilter } from "@/server/services/inventory/types";
import { ZAppName, ZVersion } from "@/server/services/releases/names";
import type { ReleaseDeps } from "@/server/services/releases/deps";
import type { PlanRuntime, RuntimeUse } from "./plan-runtimes-types";

export type Clock = () => Date;
/** `releases`: lets planning make the incremental streams hosts need (see planRollout). */
export type RolloutDeps = { db: PrismaClient; clock?: Clock; releases?: ReleaseDeps };
export const nowOf = (d: { clock?: Clock }) => (d.clock ? d.clock() : new Date());

export const ROLLOUT_STATES = [
  "awaiting_approval",
  "approved",
  "running",
  "paused",
  "succeeded",
  /** Every wave done, but some hosts failed or went back (within the tolerated threshold). */
  "finished_with_failures",
  "failed",
  "cancelled",
  "rejected",
] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];
export const FINISHED: RolloutState[] = [
  "succeeded",
  "finished_with_failures",
  "failed",
  "cancelled",
  "rejected",
];

/** What names a rollout on every list and card: its id, number, action, app and version. */
export const ROLLOUT_NAME = { id: true, number: true, action: true, app: true, version: true } as const;
type RolloutName = { id: string; number: number; action: string; app: string; version: string | null };
export const rolloutName = <R extends RolloutName>(r: R): Pick<R, keyof RolloutName> => ({
  id: r.id,
  number: r.number,
  action: r.action,
  app: r.app,
  version: r.version,
});

export const ZRolloutSpec = z
  .object({
    action: z.enum(["update", "rollback"]),
    app: ZAppName,
    /** The version to install (update); not given for a rollback. */
    version: ZVersion.optional(),
    targets: ZHostFilter,
    waves: z.array(z.string().max(8)).max(20).default(["100%"]),
    /** Failed hosts tolerated per wave before the rollout pauses itself. */
    failureThreshold: z.number().int().min(0).max(10_000).default(0),
    parallelism: z.number().int().min(1).max(200).default(10),
    /** Plan hosts that were unreachable at their last refresh too (they are left out otherwise). */
    includeUnreachable: z.boolean().optional(),
  })
  .strict()
  .refine((s) => (s.action === "update" ? !!s.version : !s.version), {
    message: "an update names the version to install; a rollback names none (it makes `previous` current)",
    path: ["version"],
  });
export type TRolloutSpec = z.infer<typeof ZRolloutSpec>;

/**
 * The exact bytes a host is sent: the release (by id, so a re-pushed version is another release),
 * full stream or delta from `parent`, the blob's SHA-256 in the artifact store, its size and wire
 * encoding. The executor sends these bytes or fails the host; it never substitutes others.
 */
export type PlanArtifact = {
  releaseId: string;
  kind: "full" | "delta";
  parent: string | null;
  digest: string;
  bytes: number;
  encoding: "raw" | "keel-delta-1";
};

/** What the policy keys on, per host: read live at every decision and compared with the plan's. */
export type HostFacts = { environment: string | null; labels: Record<string, string>; groups: string[] };

export type PlanHost = {
  hostId: string;
  name: string;
  environment: string | null;
  /** The host's labels and static groups (sorted) when planned: part of the digest approvals bind to. */
  labels: Record<string, string>;
  groups: string[];
  wave: number;
  /** install | update | nothing | rollback */
  action: "install" | "update" | "nothing" | "rollback";
  /** What the host runs now (current version), and what it will run. */
  from: string | null;
  to: string | null;
  stream: "full" | "delta" | "none";
  parent: string | null;
  bytes: number;
  diskNeeded: number;
  /** Set when bytes are sent (stream full or delta). */
  artifact?: PlanArtifact;
  /** Left out of the run (action "nothing"): its host key changed, or it was unreachable at its last refresh. */
  excluded?: "key-changed" | "unreachable";
  note?: string;
  /** A runtime rollout: the agent acts in runtimes/ (decision 0023). */
  kind?: "runtime";
  /** Runtimes installed or updated on this host before the app (its release requires them). */
  runtimes?: PlanRuntime[];
};

export type { PlanRuntime, RuntimeUse } from "./plan-runtimes-types";

export type RolloutPlan = {
  action: "update" | "rollback";
  app: string;
  version: string | null;
  policyVersion: number;
  waves: number[];
  failureThreshold: number;
  parallelism: number;
  hosts: PlanHost[];
  totals: {
    hosts: number;
    install: number;
    update: number;
    rollback: number;
    nothing: number;
    bytes: number;
    diskNeeded: number;
  };
  /**
   * Only when the release's signed manifest declares commands that run as root (its health check
   * with runAs "root"): which, and on how many hosts. Part of the digest, so an approval covers it.
   */
  rootCommands?: RootCommands;
  /** "runtime" when the release (or the rolled-back software) is a runtime. */
  kind?: "runtime";
  /** A runtime rollout: the installed apps that require the runtime on the target hosts. */
  affects?: RuntimeUse[];
};

export type RootCommands = { commands: ("health check" | "activation hook")[]; hosts: number };
