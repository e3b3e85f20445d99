// The audit log's hash chain: each row's hash is sha256(previous row's hash + "\n" + the row's
// canonical JSON). Canonical JSON sorts object keys at every depth, so the same row always
// gives the same bytes however its `detail` was built or read back from jsonb.
import { createHash } from "node:crypto";

/** The prev_hash of the first row. */
export const GENESIS_HASH = "0".repeat(64);

export type HashedFields = {
  id: bigint;
  at: Date;
  actorId: string | null;
  actor: string | null;
  action: string;
  target: string | null;
  detail: unknown;
};

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

export function auditRowHash(prevHash: string, row: HashedFields): string {
  const body = canonicalJson({
    id: row.id.toString(),
    at: row.at.toISOString(),
    actorId: row.actorId,
    actor: row.actor,
    action: row.action,
    target: row.target,
    detail: row.detail,
  });
  return createHash("sha256").update(prevHash).update("\n").update(body).digest("hex");
}
