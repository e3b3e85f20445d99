// Jittered exponential backoff ("full jitter"): sshd's MaxStartups (10:30:100) drops connections
// at random once 10 are unauthenticated, so a burst to many hosts must spread its retries.

export interface BackoffOptions {
  attempts: number;
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

/** Delay before retry number `attempt` (1-based): uniform in [0, min(max, base·2^(attempt-1))]. */
export function backoffDelay(
  attempt: number,
  o: Pick<BackoffOptions, "baseMs" | "maxMs" | "random">,
): number {
  const cap = Math.min(o.maxMs, o.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round((o.random ?? Math.random)() * cap);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  o: BackoffOptions & {
    isRetryable: (e: unknown) => boolean;
    onRetry?: (e: unknown, attempt: number, delayMs: number) => void;
    signal?: AbortSignal;
  },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt >= o.attempts || !o.isRetryable(e)) throw e;
      const delay = backoffDelay(attempt, o);
      o.onRetry?.(e, attempt, delay);
      await sleep(delay, o.signal);
    }
  }
}
