import { describe, expect, it } from "vitest";
import { checkWindow, isWindowOpen, nextOpening, windowState, type MaintenanceWindow } from "./windows";

const berlinNight: MaintenanceWindow = {
  name: "prod-night",
  environments: ["prod"],
  timeZone: "Europe/Berlin",
  days: ["tue", "wed", "thu"],
  start: "22:00",
  end: "04:00",
};

describe("maintenance windows", () => {
  it("opens on the listed day at local time, not UTC", () => {
    // Tuesday 2026-11-24 22:30 in Berlin is 21:30 UTC (CET, UTC+1).
    expect(isWindowOpen(berlinNight, new Date("2026-11-24T21:30:00Z"))).toBe(true);
    // 21:30 Berlin = 20:30 UTC: before the window.
    expect(isWindowOpen(berlinNight, new Date("2026-11-24T20:30:00Z"))).toBe(false);
  });

  it("runs past midnight into the next day and closes at the end time", () => {
    // Wednesday 03:59 Berlin belongs to Tuesday's window.
    expect(isWindowOpen(berlinNight, new Date("2026-11-25T02:59:00Z"))).toBe(true);
    expect(isWindowOpen(berlinNight, new Date("2026-11-25T03:00:00Z"))).toBe(false);
    // Monday 23:00 is not a listed start day; Sunday night neither.
    expect(isWindowOpen(berlinNight, new Date("2026-11-23T22:00:00Z"))).toBe(false);
    // Friday 02:00 Berlin is the tail of Thursday's window.
    expect(isWindowOpen(berlinNight, new Date("2026-11-27T01:00:00Z"))).toBe(true);
    // Saturday 02:00 Berlin: Friday is not listed.
    expect(isWindowOpen(berlinNight, new Date("2026-11-28T01:00:00Z"))).toBe(false);
  });

  it("follows the wall clock across the spring-forward DST change", () => {
    const w: MaintenanceWindow = {
      name: "n",
      environments: ["prod"],
      timeZone: "Europe/Berlin",
      days: ["sun"],
      start: "02:00",
      end: "04:00",
    };
    // 2026-03-29: Berlin jumps from 02:00 CET to 03:00 CEST. 00:59 UTC = 01:59 CET: closed.
    expect(isWindowOpen(w, new Date("2026-03-29T00:59:00Z"))).toBe(false);
    // 01:00 UTC = 03:00 CEST: the first existing minute inside the window.
    expect(isWindowOpen(w, new Date("2026-03-29T01:00:00Z"))).toBe(true);
    // 02:00 UTC = 04:00 CEST: closed. The window lasted one real hour that night.
    expect(isWindowOpen(w, new Date("2026-03-29T02:00:00Z"))).toBe(false);
  });

  it("is open during both occurrences of the repeated fall-back hour", () => {
    const w: MaintenanceWindow = {
      name: "n",
      environments: ["prod"],
      timeZone: "America/New_York",
      days: ["sun"],
      start: "01:00",
      end: "02:00",
    };
    // 2026-11-01: New York repeats 01:00–02:00 (EDT then EST).
    expect(isWindowOpen(w, new Date("2026-11-01T05:30:00Z"))).toBe(true); // 01:30 EDT
    expect(isWindowOpen(w, new Date("2026-11-01T06:30:00Z"))).toBe(true); // 01:30 EST
    expect(isWindowOpen(w, new Date("2026-11-01T07:30:00Z"))).toBe(false); // 02:30 EST
  });

  it("binds only hosts whose environment or group the window names", () => {
    const at = new Date("2026-11-24T12:00:00Z"); // Tuesday noon: outside the night window
    const dev = { environment: "dev", groups: [] };
    const prod = { environment: "prod", groups: [] };
    expect(windowState([dev], [berlinNight], at)).toEqual({ bound: false, open: true, closed: [] });
    expect(windowState([dev, prod], [berlinNight], at)).toEqual({
      bound: true,
      open: false,
      closed: ["prod-night"],
    });
    const byGroup = { ...berlinNight, name: "db", environments: [], groups: ["databases"] };
    expect(windowState([{ environment: null, groups: ["databases"] }], [byGroup], at).open).toBe(false);
  });

  it("reports bad windows in words", () => {
    const errors = checkWindow({
      name: "x",
      timeZone: "Mars/Olympus",
      days: [],
      start: "25:00",
      end: "4:00",
    });
    expect(errors.join("\n")).toMatch(/unknown time zone "Mars\/Olympus"/);
    expect(errors.join("\n")).toMatch(/"25:00" is not a time of day/);
    expect(errors.join("\n")).toMatch(/no days given/);
    expect(errors.join("\n")).toMatch(/would bind no host/);
  });
  it("tells the next time a change could start: now when open or unbound, the window's opening otherwise, never when windows never overlap", () => {
    const prodNight: MaintenanceWindow = {
      name: "prod-night",
      environments: ["prod"],
      timeZone: "Europe/Berlin",
      days: ["sat"],
      start: "22:00",
      end: "02:00",
    };
    const devDay: MaintenanceWindow = {
      name: "dev-day",
      environments: ["dev"],
      timeZone: "UTC",
      days: ["mon"],
      start: "09:00",
      end: "10:00",
    };
    const friNoon = new Date("2026-12-04T12:00:00Z"); // Friday
    expect(nextOpening([{ environment: "staging", groups: [] }], [prodNight], friNoon)).toEqual(friNoon);
    // Saturday 22:00 in Berlin (UTC+1 in December) is 21:00 UTC.
    expect(nextOpening([{ environment: "prod", groups: [] }], [prodNight], friNoon)?.toISOString()).toBe(
      "2026-12-05T21:00:00.000Z",
    );
    const inside = new Date("2026-12-05T21:30:00Z");
    expect(nextOpening([{ environment: "prod", groups: [] }], [prodNight], inside)).toEqual(inside);
    // prod only on Saturday nights, dev only on Monday mornings: never both at once.
    expect(
      nextOpening(
        [
          { environment: "prod", groups: [] },
          { environment: "dev", groups: [] },
        ],
        [prodNight, devDay],
        friNoon,
      ),
    ).toBeNull();
  });
});
