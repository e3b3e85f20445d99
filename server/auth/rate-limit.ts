// A small in-memory fixed-window counter, per key. One console process keeps its own counts;
// several replicas each allow the limit (documented in docs/decisions/0001-auth.md).
export type Limit = { max: number; windowMs: number };

export class RateLimiter {
  private readonly hits = new Map<string, { count: number; resetAt: number }>();
  constructor(
    private readonly limit: Limit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the key may try again, or 0 when it is under the limit. Does not count. */
  retryAfter(key: string): number {
    const h = this.hits.get(key);
    const t = this.now();
    if (!h || h.resetAt <= t || h.count < this.limit.max) return 0;
    return Math.ceil((h.resetAt - t) / 1000);
  }

  /** Counts `n` hits; returns false when the key is now over the limit. */
  hit(key: string, n = 1): boolean {
    const t = this.now();
    let h = this.hits.get(key);
    if (!h || h.resetAt <= t) {
      h = { count: 0, resetAt: t + this.limit.windowMs };
      this.hits.set(key, h);
    }
    h.count += n;
    if (this.hits.size > 10_000) this.sweep(t);
    return h.count <= this.limit.max;
  }

  reset(key: string): void {
    this.hits.delete(key);
  }

  private sweep(t: number): void {
    for (const [k, h] of this.hits) if (h.resetAt <= t) this.hits.delete(k);
  }
}
