// Maintenance windows: wall-clock ranges on given weekdays in an IANA time zone. Evaluated on the
// local wall clock, so DST shifts move the window with the clock: a window whose start falls in the
// skipped spring-forward hour opens at the first existing minute after it, and the repeated
// fall-back hour is inside the window both times it occurs.

export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A maintenance window. `end <= start` means it runs past midnight into the next day. */
export type MaintenanceWindow = {
  name: string;
  /** Hosts in any of these environments are bound by the window. */
  environments?: string[];
  /** Hosts in any of these groups are bound by the window. */
  groups?: string[];
  timeZone: string;
  /** Days on which the window starts. */
  days: Weekday[];
  start: string; // "HH:MM"
  end: string; // "HH:MM"
};

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function parseMinutes(hhmm: string): number {
  const m = HHMM.exec(hhmm);
  if (!m) throw new Error(`"${hhmm}" is not a time of day in HH:MM (24-hour) form`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export function checkWindow(w: MaintenanceWindow): string[] {
  const errors: string[] = [];
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: w.timeZone });
  } catch {
    errors.push(
      `window "${w.name}": unknown time zone "${w.timeZone}" (use an IANA name such as Europe/Berlin)`,
    );
  }
  for (const t of [w.start, w.end]) {
    try {
      parseMinutes(t);
    } catch (e) {
      errors.push(`window "${w.name}": ${(e as Error).message}`);
    }
  }
  if (w.days.length === 0) errors.push(`window "${w.name}": no days given`);
  for (const d of w.days) if (!WEEKDAYS.includes(d)) errors.push(`window "${w.name}": unknown day "${d}"`);
  if (!w.environments?.length && !w.groups?.length)
    errors.push(`window "${w.name}": names no environment or group, so it would bind no host`);
  return errors;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function localParts(at: Date, timeZone: string): { day: number; minutes: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  const parts = f.formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  const day = WEEKDAYS.indexOf(get("weekday").toLowerCase().slice(0, 3) as Weekday);
  return { day, minutes: Number(get("hour")) * 60 + Number(get("minute")) };
}

export function isWindowOpen(w: MaintenanceWindow, at: Date): boolean {
  const { day, minutes } = localParts(at, w.timeZone);
  const start = parseMinutes(w.start);
  const end = parseMinutes(w.end);
  const startsOn = (d: number) => w.days.includes(WEEKDAYS[(d + 7) % 7]!);
  if (start < end) return startsOn(day) && minutes >= start && minutes < end;
  // Crosses midnight: open from start on a listed day until end on the following day.
  return (startsOn(day) && minutes >= start) || (startsOn(day - 1) && minutes < end);
}

export type WindowHost = { environment: string | null; groups: string[] };

export function windowsFor(host: WindowHost, windows: MaintenanceWindow[]): MaintenanceWindow[] {
  return windows.filter(
    (w) =>
      (host.environment !== null && (w.environments ?? []).includes(host.environment)) ||
      (w.groups ?? []).some((g) => host.groups.includes(g)),
  );
}

/**
 * Whether a change to these hosts may run at `at`: every host bound by at least one window must be
 * inside one of its windows. Hosts bound by no window are unconstrained.
 */
export function windowState(
  hosts: WindowHost[],
  windows: MaintenanceWindow[],
  at: Date,
): { bound: boolean; open: boolean; closed: string[] } {
  let bound = false;
  const closed = new Set<string>();
  for (const h of hosts) {
    const ws = windowsFor(h, windows);
    if (ws.length === 0) continue;
    bound = true;
    if (!ws.some((w) => isWindowOpen(w, at))) for (const w of ws) closed.add(w.name);
  }
  return { bound, open: closed.size === 0, closed: [...closed].sort() };
}

/**
 * The first time from `from` (within `horizonDays`, at `stepMinutes` resolution) at which a change
 * to these hosts may run: `from` itself when no window binds them or all are open now; null when
 * their windows never open together in the horizon. Hosts are grouped by what windows key on, so
 * the cost follows the number of distinct (environment, groups), not of hosts.
 */
export function nextOpening(
  hosts: WindowHost[],
  windows: MaintenanceWindow[],
  from: Date,
  horizonDays = 14,
  stepMinutes = 5,
): Date | null {
  const distinct = new Map<string, WindowHost>();
  for (const h of hosts) distinct.set(`${h.environment ?? ""}\n${[...h.groups].sort().join("\n")}`, h);
  const keys = [...distinct.values()];
  const step = stepMinutes * 60_000;
  // Window edges are whole minutes; start on the next step boundary after `from`.
  if (windowState(keys, windows, from).open) return from;
  let t = Math.ceil(from.getTime() / step) * step;
  for (const end = from.getTime() + horizonDays * 86_400_000; t <= end; t += step)
    if (windowState(keys, windows, new Date(t)).open) return new Date(t);
  return null;
}
