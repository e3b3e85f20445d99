import { describe, expect, it } from "vitest";
import { backoffDelay, withRetry } from "./retry";
import { Semaphore } from "./semaphore";

describe("Semaphore", () => {
  it("never lets more than the limit in, serves waiters in order, and honours a lowered limit", async () => {
    const s = new Semaphore(3);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        s.use(async () => {
          active++;
          peak = Math.max(peak, active);
          order.push(i);
          await new Promise((r) => setTimeout(r, 5));
          if (i === 4) s.setLimit(1);
          active--;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(s.inUse).toBe(0);
  });
});

describe("backoff", () => {
  it("grows exponentially up to the cap, with full jitter", () => {
    const o = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(1, { ...o, random: () => 1 })).toBe(100);
    expect(backoffDelay(3, { ...o, random: () => 1 })).toBe(400);
    expect(backoffDelay(10, { ...o, random: () => 1 })).toBe(1000);
    expect(backoffDelay(3, { ...o, random: () => 0 })).toBe(0);
  });

  it("retries only retryable errors, at most `attempts` times", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error("flaky");
        },
        { attempts: 3, baseMs: 1, maxMs: 1, isRetryable: () => true },
      ),
    ).rejects.toThrow("flaky");
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error("fatal");
        },
        { attempts: 3, baseMs: 1, maxMs: 1, isRetryable: () => false },
      ),
    ).rejects.toThrow("fatal");
    expect(calls).toBe(1);
  });
});
