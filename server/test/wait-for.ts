// Polling for int tests: asks `f` every `everyMs` until it answers (anything truthy) and returns
// that answer; after `timeoutMs` it fails, naming what it waited for.
export async function waitFor<T>(
  what: string,
  f: () => Promise<T | undefined | null | false>,
  { timeoutMs = 30_000, everyMs = 200 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
