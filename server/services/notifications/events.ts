// Which audit events are notifications. The event is derived from the audit entry itself (its
// action and detail), so whatever writes the audit entry also, in the same transaction, queues the
// notification (enqueue-notifications.ts): nothing can happen without its notification.
export const NOTIFICATION_EVENTS = [
  "approval.requested",
  "approval.given",
  "rollout.paused",
  "rollout.failed",
  "rollout.finished",
  "host.key_changed",
  "policy.proposed",
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];
/** A "send test" from Settings → Notifications: only the channel it names receives it. */
export const TEST_EVENT = "notification.test";

type Entry = { action: string; target?: string | null; detail?: Record<string, unknown> };

const effectOf = (detail: Record<string, unknown> | undefined) =>
  (detail?.decision as { effect?: unknown } | undefined)?.effect;

/** The notification an audit entry is, if any. */
export function eventOf(e: Entry): NotificationEvent | typeof TEST_EVENT | null {
  switch (e.action) {
    case "rollout.create":
    case "rollout.replan":
      return effectOf(e.detail) === "needs_approval" ? "approval.requested" : null;
    case "change.request":
      return "approval.requested";
    case "rollout.approve":
    case "change.approve":
    case "policy.approve":
      return "approval.given";
    case "rollout.pause":
      return "rollout.paused";
    case "rollout.finish":
      return e.detail?.state === "succeeded" ? "rollout.finished" : "rollout.failed";
    case "host.key_changed":
      return "host.key_changed";
    case "policy.propose":
      return "policy.proposed";
    case "notification.test":
      return TEST_EVENT;
    default:
      return null;
  }
}

/** One line for people (the e-mail subject, the webhook's `summary`). */
export function summaryOf(event: string, e: Entry & { actor?: string | null }): string {
  const d = e.detail ?? {};
  const what = e.target ?? "";
  const by = e.actor ? ` by ${e.actor}` : "";
  switch (event) {
    case "approval.requested":
      return `${what} waits for approval${by}${typeof d.summary === "string" ? `: ${d.summary}` : d.app ? `: ${String(d.action ?? "")} ${String(d.app)} ${String(d.version ?? "")}`.trimEnd() : ""}`;
    case "approval.given":
      return `${what} approved${by}${typeof d.state === "string" ? ` (now ${d.state})` : ""}`;
    case "rollout.paused":
      return `${what} paused: ${String(d.reason ?? "")}`;
    case "rollout.failed":
      return `${what} finished with failures`;
    case "rollout.finished":
      return `${what} succeeded`;
    case "host.key_changed":
      return `${what}: its SSH host key changed; an admin must re-pin it`;
    case "policy.proposed":
      return `${what} proposed${by}; it needs approval`;
    case TEST_EVENT:
      return `test notification${by}`;
    default:
      return `${event} ${what}`;
  }
}

/** The console page of the target ("rollout:5" → /rollouts/5), for links. */
export function pathOf(target: string | null | undefined): string | null {
  const m = /^(rollout|change|policy|host):(.+)$/.exec(target ?? "");
  if (!m) return null;
  const [, kind, id] = m;
  if (kind === "rollout") return `/rollouts/${encodeURIComponent(id!)}`;
  if (kind === "change") return `/changes`;
  if (kind === "policy") return `/policy`;
  return `/hosts?q=${encodeURIComponent(id!)}`;
}
