"use client";
// Email + password sign-in against the auth endpoint. Failures get one generic message
// (never "no such user" vs "wrong password"); the sign-in rate limit gets its own.
import { useState, type FormEvent } from "react";

type Failure = { kind: "invalid" } | { kind: "rate-limited"; retryAfterSeconds: number | null } | { kind: "disabled" } | { kind: "other"; message: string };

const MESSAGES: Record<Exclude<Failure["kind"], "other" | "rate-limited">, string> = {
  invalid: "Email or password is incorrect.",
  disabled: "This account is disabled. Ask an admin to enable it.",
};

function describe(failure: Failure): string {
  switch (failure.kind) {
    case "rate-limited":
      return failure.retryAfterSeconds
        ? `Too many sign-in attempts. Try again in ${failure.retryAfterSeconds} seconds.`
        : "Too many sign-in attempts. Wait a minute and try again.";
    case "other":
      return failure.message;
    default:
      return MESSAGES[failure.kind];
  }
}

async function classify(res: Response): Promise<Failure> {
  if (res.status === 429) {
    const retry = Number(res.headers.get("x-retry-after") ?? res.headers.get("retry-after"));
    return { kind: "rate-limited", retryAfterSeconds: Number.isFinite(retry) && retry > 0 ? Math.ceil(retry) : null };
  }
  const body = (await res.json().catch(() => null)) as { code?: string } | null;
  if (res.status === 403 && body?.code === "BANNED_USER") return { kind: "disabled" };
  if (res.status === 400 || res.status === 401 || res.status === 403) return { kind: "invalid" };
  return { kind: "other", message: `Sign-in failed: the server answered ${res.status}. Try again shortly.` };
}

export function SignInForm({ next }: { next: string }) {
  const [failure, setFailure] = useState<Failure | null>(null);
  const [isPending, setPending] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setFailure(null);
    try {
      const res = await fetch("/api/auth/sign-in/email", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: String(form.get("email") ?? "").trim(), password: String(form.get("password") ?? "") }),
      });
      if (res.ok) {
        // A full load so the console renders with the new session's cookies.
        window.location.assign(next);
        return;
      }
      setFailure(await classify(res));
    } catch {
      setFailure({ kind: "other", message: "Could not reach the console. Check that it is running." });
    }
    setPending(false);
  }

  return (
    <form onSubmit={onSubmit} className="card flex flex-col gap-4" noValidate={false}>
      <div>
        <label htmlFor="email" className="label">
          Email
        </label>
        <input id="email" name="email" type="email" autoComplete="username" required autoFocus className="input" />
      </div>
      <div>
        <label htmlFor="password" className="label">
          Password
        </label>
        <input id="password" name="password" type="password" autoComplete="current-password" required className="input" />
      </div>
      {failure && (
        <p role="alert" className="rounded-md bg-danger-bg px-3 py-2 text-sm text-danger">
          {describe(failure)}
        </p>
      )}
      <button type="submit" className="btn btn-primary justify-center" disabled={isPending}>
        {isPending ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
