// A counting semaphore with a FIFO queue and an adjustable limit. Used for connections in total,
// connections per operation (mapHosts) and channels per connection.

export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  private peak = 0;

  constructor(private max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`semaphore limit must be ≥ 1, got ${max}`);
  }

  get limit(): number {
    return this.max;
  }
  get inUse(): number {
    return this.active;
  }
  get waiting(): number {
    return this.waiters.length;
  }
  /** Highest number of simultaneous holders seen. */
  get highWater(): number {
    return this.peak;
  }

  /** Lower (or raise) the limit; holders above a lowered limit keep their slot until they release. */
  setLimit(max: number): void {
    this.max = Math.max(1, Math.floor(max));
    this.drain();
  }

  tryAcquire(): boolean {
    if (this.active >= this.max) return false;
    this.take();
    return true;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.max && this.waiters.length === 0) {
      this.take();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        this.take();
        resolve();
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(grant);
    });
  }

  release(): void {
    if (this.active <= 0) throw new Error("semaphore released more often than acquired");
    this.active--;
    this.drain();
  }

  async use<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private take(): void {
    this.active++;
    if (this.active > this.peak) this.peak = this.active;
  }

  private drain(): void {
    while (this.active < this.max && this.waiters.length > 0) this.waiters.shift()!();
  }
}
