// Plan entries for runtimes (decision 0023). Part of the plan, so of the digest approvals bind to.
import type { PlanArtifact } from "./types";

/** A runtime a host gets before the app whose release requires it. */
export type PlanRuntime = {
  runtime: string;
  /** The app's range. */
  versions: string;
  from: string | null;
  to: string;
  stream: "full" | "delta" | "none";
  parent: string | null;
  bytes: number;
  diskNeeded: number;
  artifact?: PlanArtifact;
};

/** An installed app (current version) that requires the runtime a rollout changes. */
export type RuntimeUse = { app: string; version: string; versions: string; hosts: number };
