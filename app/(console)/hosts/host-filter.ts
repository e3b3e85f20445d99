// The Hosts page's filter form as typed (strings) and the server filter it makes.
import { parseLabels } from "./_csv";

export type HostFilterForm = {
  q: string;
  labels: string;
  environment: string;
  app: string;
  version: string;
  os: string;
  reachable: string;
  staleHours: string;
};

export const EMPTY_FILTER: HostFilterForm = {
  q: "",
  labels: "",
  environment: "",
  app: "",
  version: "",
  os: "",
  reachable: "",
  staleHours: "",
};

export type HostSort =
  "name" | "address" | "environment" | "os" | "reachable" | "lastSeenAt" | "lastRefreshAt" | "createdAt";

/** The filter hosts.list takes for what the form applied (empty fields filter nothing). */
export function hostFilter(applied: HostFilterForm) {
  const labels = parseLabels(applied.labels);
  return {
    ...(applied.q ? { q: applied.q } : {}),
    ...(labels && Object.keys(labels).length ? { labels } : {}),
    ...(applied.environment ? { environments: applied.environment.split(/[\s,]+/).filter(Boolean) } : {}),
    ...(applied.app ? { app: applied.app } : {}),
    ...(applied.version ? { version: applied.version } : {}),
    ...(applied.os ? { os: applied.os } : {}),
    ...(applied.reachable ? { reachable: applied.reachable === "yes" } : {}),
    ...(applied.staleHours
      ? { seenBefore: new Date(Date.now() - Number(applied.staleHours) * 3600_000) }
      : {}),
  };
}
