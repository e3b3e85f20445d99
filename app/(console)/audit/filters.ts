// Audit filters live in the URL (?actor=&action=&target=&from=&to=) so a view can be shared.
export interface AuditFilters {
  actor?: string;
  action?: string;
  target?: string;
  /** Local date-time from an <input type="datetime-local">, e.g. "2026-11-26T18:00". */
  from?: string;
  to?: string;
}

const KEYS = ["actor", "action", "target", "from", "to"] as const;

export function filtersFromParams(params: URLSearchParams): AuditFilters {
  const f: AuditFilters = {};
  for (const k of KEYS) {
    const v = params.get(k)?.trim();
    if (v) f[k] = v;
  }
  return f;
}

export function filtersToParams(f: AuditFilters): URLSearchParams {
  const p = new URLSearchParams();
  for (const k of KEYS) if (f[k]) p.set(k, f[k]);
  return p;
}

/** A datetime-local value read in the browser's time zone; undefined when empty or invalid. */
export function localToDate(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
