// What a governed admin action is: the policy action it is, what the policy sees of it (the hosts it
// touches as they are now, the roles it grants) and how to apply it once allowed or approved.
import type { PrismaClient } from "@prisma/client";
import type { SecretBox } from "@/server/services/keys/secret-box";
import type { InventoryDeps, TrustedKeyFile } from "@/server/services/inventory/types";
import type { PolicyAction, PolicyTargetHost, Role } from "@/server/services/policy/types";

export type GovernDeps = {
  db: PrismaClient;
  /** SSH and the signing keys to install, for host actions (tests leave SSH out). */
  inventory?: InventoryDeps & { trustedKeys?: () => Promise<TrustedKeyFile[]> };
  /** The console's secret box, for keys.create. */
  box?: () => SecretBox;
};

export type GovernActor = { id: string; roles: readonly string[] };

/** Set when a change request's approvals made the change: who approved it, which request. */
export type Approved = { approvedBy: string[]; changeRequestId: string } | null;

export type Described = { hosts: PolicyTargetHost[]; grantRoles?: Role[]; summary: string };

export type GovernedOp<I, O> = {
  action: PolicyAction;
  describe(db: PrismaClient, input: I): Promise<Described>;
  /** Why this change cannot wait for approvers (null: it can). */
  notApprovable?(input: I): string | null;
  /** What is stored and approved instead of the input (a password becomes its hash), and what the requester is told once. */
  prepare?(input: I): Promise<{ stored: I; once?: Record<string, string> }>;
  apply(deps: GovernDeps, actor: GovernActor, input: I, approved: Approved): Promise<O>;
};

export function op<I, O>(o: GovernedOp<I, O>): GovernedOp<I, O> {
  return o;
}
