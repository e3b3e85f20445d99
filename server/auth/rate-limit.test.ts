import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limit";

describe("RateLimiter", () => {
  it("allows up to max hits per window, then answers how long to wait, and forgets after the window", () => {
    let now = 1_000_000;
    const l = new RateLimiter({ max: 3, windowMs: 60_000 }, () => now);
    expect([l.hit("a"), l.hit("a"), l.hit("a")]).toEqual([true, true, true]);
    expect(l.retryAfter("a")).toBe(60);
    expect(l.hit("a")).toBe(false);
    expect(l.retryAfter("b")).toBe(0);
    now += 30_000;
    expect(l.retryAfter("a")).toBe(30);
    now += 30_001;
    expect(l.retryAfter("a")).toBe(0);
    expect(l.hit("a")).toBe(true);
  });
  it("counts a batch as many hits, and reset clears a key", () => {
    const l = new RateLimiter({ max: 50, windowMs: 1000 });
    expect(l.hit("ip", 50)).toBe(true);
    expect(l.hit("ip", 1)).toBe(false);
    l.reset("ip");
    expect(l.hit("ip", 10)).toBe(true);
  });
});
