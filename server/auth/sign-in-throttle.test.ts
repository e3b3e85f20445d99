import { describe, expect, it } from "vitest";
import { DEFAULT_THROTTLE, SignInThrottle } from "./sign-in-throttle";

describe("SignInThrottle", () => {
  const attacker = "203.0.113.9";
  const owner = "198.51.100.7";

  it("slows a guesser exponentially (1 s, 2 s, 4 s … capped at 15 min) after 5 free failures", () => {
    let now = 1_000_000;
    const t = new SignInThrottle(DEFAULT_THROTTLE, () => now);
    const waits: number[] = [];
    for (let i = 0; i < 20; i++) {
      t.failed(attacker, "admin@keel.local");
      let waited = 0;
      // The guesser waits exactly as long as told (the address's and the account's backoffs).
      for (
        let w = t.waitMs(attacker, "admin@keel.local");
        w > 0;
        w = t.waitMs(attacker, "admin@keel.local")
      ) {
        waited += w;
        now += w;
      }
      waits.push(waited);
    }
    expect(waits.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(waits.slice(5, 9)).toEqual([1000, 2000, 4000, 8000]);
    expect(Math.max(...waits)).toBe(15 * 60_000);
    // 20 guesses cost the attacker more than an hour; a hard lock would have cost the owner too.
    expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThan(3_600_000);
  });

  it("does not stop the owner at an address that has not been failing against the account", () => {
    const now = 1_000_000;
    const t = new SignInThrottle(DEFAULT_THROTTLE, () => now);
    for (let i = 0; i < 8; i++) t.failed(attacker, "admin@keel.local");
    expect(t.waitMs(attacker, "admin@keel.local")).toBeGreaterThan(0);
    expect(t.waitMs(owner, "admin@keel.local")).toBe(0);
    // The owner mistypes twice: still not stopped; a third time, they wait like the guesser.
    t.failed(owner, "admin@keel.local");
    t.failed(owner, "admin@keel.local");
    expect(t.waitMs(owner, "admin@keel.local")).toBe(0);
    t.failed(owner, "admin@keel.local");
    expect(t.waitMs(owner, "admin@keel.local")).toBeGreaterThan(0);
  });

  it("a success forgets only that address's failures against that account", () => {
    const now = 1_000_000;
    const t = new SignInThrottle(DEFAULT_THROTTLE, () => now);
    for (let i = 0; i < 8; i++) t.failed(attacker, "victim@keel.local");
    // Signing in to one's own account does not reset the backoff earned against another.
    t.succeeded(attacker, "attacker@keel.local");
    expect(t.waitMs(attacker, "victim@keel.local")).toBeGreaterThan(0);
  });

  it("an address failing across many accounts waits too (20 free failures), and is forgotten after an hour", () => {
    let now = 1_000_000;
    const t = new SignInThrottle(DEFAULT_THROTTLE, () => now);
    for (let i = 0; i < 21; i++) t.failed(attacker, `user${i}@keel.local`);
    expect(t.waitMs(attacker, "someone-else@keel.local")).toBe(1000);
    now += 3_600_001;
    expect(t.byIp.failures(attacker)).toBe(0);
  });

  it("an admin's unlock forgets the account's failures from every address; a day without failures forgets them too", () => {
    let now = 1_000_000;
    const t = new SignInThrottle(DEFAULT_THROTTLE, () => now);
    for (let i = 0; i < 8; i++) t.failed(owner, "admin@keel.local");
    expect(t.waitMs(owner, "admin@keel.local")).toBeGreaterThan(0);
    expect(t.unlock("admin@keel.local")).toBe(true);
    expect(t.waitMs(owner, "admin@keel.local")).toBe(0);
    expect(t.unlock("admin@keel.local")).toBe(false);
    for (let i = 0; i < 8; i++) t.failed(attacker, "ops@keel.local");
    now += 86_400_001;
    expect(t.waitMs(attacker, "ops@keel.local")).toBe(0);
  });
});
