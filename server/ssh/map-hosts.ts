// Run one function per host with bounded fan-out, and report every host's outcome (value or an
// error with its code and step) in input order. One host failing never stops the others.
import { SshError, type SshErrorCode, type SshStep } from "./errors";
import { Semaphore } from "./semaphore";
import { type SshTarget } from "./target";

export type HostOutcome<T> =
  | { host: string; ok: true; value: T; durationMs: number }
  | {
      host: string;
      ok: false;
      error: { code: SshErrorCode | "ERROR"; step: SshStep | null; message: string };
      cause: unknown;
      durationMs: number;
    };

export interface MapHostsOptions<T> {
  /** Hosts worked on at once (default 50). */
  concurrency?: number;
  signal?: AbortSignal;
  onResult?: (r: HostOutcome<T>) => void;
}

export async function mapHosts<T, H extends Pick<SshTarget, "name"> = SshTarget>(
  targets: readonly H[],
  fn: (target: H, index: number) => Promise<T>,
  opts: MapHostsOptions<T> = {},
): Promise<HostOutcome<T>[]> {
  const sem = new Semaphore(Math.max(1, opts.concurrency ?? 50));
  return Promise.all(
    targets.map(async (t, i): Promise<HostOutcome<T>> => {
      const acquired = await sem.acquire(opts.signal).then(
        () => true,
        () => false,
      );
      const started = Date.now();
      let r: HostOutcome<T>;
      try {
        if (!acquired || opts.signal?.aborted)
          throw new SshError("ABORTED", `Skipped ${t.name}: the operation was cancelled.`, { host: t.name });
        r = { host: t.name, ok: true, value: await fn(t, i), durationMs: Date.now() - started };
      } catch (e) {
        const se = e instanceof SshError ? e : null;
        r = {
          host: t.name,
          ok: false,
          error: {
            code: se?.code ?? "ERROR",
            step: se?.step ?? null,
            message: e instanceof Error ? e.message : String(e),
          },
          cause: e,
          durationMs: Date.now() - started,
        };
      } finally {
        if (acquired) sem.release();
      }
      opts.onResult?.(r);
      return r;
    }),
  );
}
