// The CLI's tRPC client: the console's own API over HTTP with the API token, one call per
// request (no batching). Turns every failure into one clear CliError line.
import { createTRPCClient, httpLink, TRPCClientError, type TRPCLink } from "@trpc/client";
import { observable } from "@trpc/server/observable";
import superjson from "superjson";
import type { AppRouter } from "@/server/trpc/root";
import { CliError } from "./errors";

export type KeelClient = ReturnType<typeof createTRPCClient<AppRouter>>;

function baseUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    throw new CliError(`"${url}" is not a URL; use the console's address, e.g. http://127.0.0.1:3000`);
  }
}

/** A link that hands every answer to `onAnswer` (for `--json`) and passes it on unchanged. */
function answerLink(onAnswer: (path: string, data: unknown) => void): TRPCLink<AppRouter> {
  return () =>
    ({ next, op }) =>
      observable((observer) =>
        next(op).subscribe({
          next(value) {
            onAnswer(op.path, value.result.type === "data" ? value.result.data : undefined);
            observer.next(value);
          },
          error: (e) => observer.error(e),
          complete: () => observer.complete(),
        }),
      );
}

export function createKeelClient(opts: {
  url: string;
  token: string;
  timeoutMs?: number;
  onAnswer?: (path: string, data: unknown) => void;
}): KeelClient {
  const origin = baseUrl(opts.url);
  const guardedFetch: typeof fetch = async (input, init) => {
    let res: Response;
    try {
      res = await fetch(input, { ...init, signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
      throw new CliError(
        `cannot reach the console at ${origin} (${cause}); is it running, and is the URL right?`,
      );
    }
    if (!res.ok) {
      // Keel's own guards answer { error: { code, message } } (not a tRPC body).
      const body = (await res
        .clone()
        .json()
        .catch(() => null)) as { error?: { code?: unknown; message?: unknown } } | null;
      if (body?.error && typeof body.error.message === "string" && typeof body.error.code === "string") {
        const hint = res.status === 401 ? " Run `keel login` with a valid token." : "";
        throw new CliError(`${body.error.message}${hint}`);
      }
      if (!(res.headers.get("content-type") ?? "").includes("json"))
        throw new CliError(`the console at ${origin} answered HTTP ${res.status}; is this a Keel console?`);
    }
    return res;
  };
  return createTRPCClient<AppRouter>({
    links: [
      ...(opts.onAnswer ? [answerLink(opts.onAnswer)] : []),
      httpLink({
        url: `${origin}/api/trpc`,
        transformer: superjson,
        headers: { authorization: `Bearer ${opts.token}` },
        fetch: guardedFetch,
      }),
    ],
  });
}

/** One line for any error a command lets escape. */
export function describeError(e: unknown): string {
  if (e instanceof CliError) return e.message;
  if (e instanceof TRPCClientError) {
    const code = (e.data as { code?: string } | undefined)?.code;
    if (code === "UNAUTHORIZED") return `${e.message} Run \`keel login\` with a valid token.`;
    if (code === "FORBIDDEN") return `refused: ${e.message}`;
    return e.message;
  }
  return `unexpected error: ${(e as Error)?.message ?? String(e)}`;
}
