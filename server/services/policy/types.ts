// Types of Keel's approval policy: a Cedar policy set plus maintenance windows, evaluated for every
// change request. See docs/rollouts.md for the model.
import type { Role } from "@/server/auth/roles";
import type { MaintenanceWindow } from "./windows";

export const POLICY_ACTIONS = [
  "install",
  "update",
  "rollback",
  "remove",
  "enroll_host",
  "remove_host",
  "edit_policy",
  "manage_keys",
  "manage_users",
  "set_environment",
  "set_labels",
  "edit_groups",
  "repin_host_key",
  "manage_tokens",
  "manage_notifications",
] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

export type { Role };

/** A versioned policy: Cedar text plus the maintenance windows it refers to through `context.inWindow`. */
export type PolicyDocument = { cedar: string; windows: MaintenanceWindow[] };

export type PolicyTargetHost = {
  name: string;
  environment: string | null;
  groups: string[];
  labels: Record<string, string>;
};

/** One change request, as the policy sees it. */
export type PolicyRequest = {
  actor: { id: string; roles: Role[] };
  action: PolicyAction;
  app?: string;
  releaseKind?: "app" | "runtime" | "rootfs";
  /** Runtimes the change installs, updates or rolls back (an app's requirements, or the runtime itself); decision 0023. */
  runtimes?: string[];
  hosts: PolicyTargetHost[];
  /** The release declares commands that run as root on the hosts (its health check); `context.runsAsRoot`. */
  runsAsRoot?: boolean;
  /** An activation hook runs as root on some host (decision 0022); `context.rootHook`. */
  rootHook?: boolean;
  /** Hosts per wave, in order; a single wave when absent. */
  waves?: number[];
  /** manage_users: the roles the change grants (new roles of a new or changed user). */
  grantRoles?: Role[];
  at: Date;
  /**
   * Evaluate as if every maintenance window were open. Used when a rollout is planned and approved
   * (it may run later, inside its window); the real time is checked again at start and at dispatch.
   */
  assumeWindowsOpen?: boolean;
};

export type PolicyDecision =
  | { effect: "allow"; reasons: string[]; policies: string[] }
  | { effect: "needs_approval"; approvals: number; approverRole: Role; reasons: string[]; policies: string[] }
  | { effect: "deny"; reasons: string[]; policies: string[] };
