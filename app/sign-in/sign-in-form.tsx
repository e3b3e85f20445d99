"use client";
// E-mail + password sign-in against the auth endpoint (/api/auth/sign-in/email). Failures get
// one generic message; the sign-in rate limit (HTTP 429 + Retry-After) gets its own.
import { useEffect, useState, type FormEvent } from "react";
import { InputField } from "@/app/_components/field";
import { ErrorNote } from "@/app/_components/ui";

type Failure =
  | { kind: "invalid" }
  | { kind: "rate-limited"; retryAfterSeconds: number | null }
  | { kind: "other"; message: string };

/** The one message for every refused sign-in: it must not tell whether the account exists or is disabled. */
export const SIGN_IN_FAILED = "Wrong e-mail or password, or the account is disabled.";

function waitText(seconds: number): string {
  if (seconds <= 90) return `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

function describe(failure: Failure): string {
  switch (failure.kind) {
    case "invalid":
      return SIGN_IN_FAILED;
    case "rate-limited":
      return failure.retryAfterSeconds
        ? `Too many failed sign-in attempts. Try again in ${waitText(failure.retryAfterSeconds)}.`
        : "Too many failed sign-in attempts. Wait a few minutes and try again.";
    case "other":
      return failure.message;
  }
}

function classify(res: Response): Failure {
  if (res.status === 429) {
    const retry = Number(res.headers.get("retry-after"));
    return {
      kind: "rate-limited",
      retryAfterSeconds: Number.isFinite(retry) && retry > 0 ? Math.ceil(retry) : null,
    };
  }
  if (res.status === 403 && res.headers.get("x-keel-error") === "LOCAL_SIGN_IN_OFF")
    return {
      kind: "other",
      message: "Sign-in with a password is turned off on this console: use the identity provider.",
    };
  if (res.status === 400 || res.status === 401 || res.status === 403) return { kind: "invalid" };
  return { kind: "other", message: `Sign-in failed: the console answered ${res.status}. Try again shortly.` };
}

export function SignInForm({ next }: { next: string }) {
  const [failure, setFailure] = useState<Failure | null>(null);
  const [isPending, setPending] = useState(false);
  // Until the page's script runs, the button stays disabled: a native submit would bypass
  // the sign-in call (and a GET form would put the password in the URL).
  const [isReady, setReady] = useState(false);
  useEffect(() => setReady(true), []);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setFailure(null);
    try {
      const res = await fetch("/api/auth/sign-in/email", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          email: String(form.get("email") ?? "").trim(),
          password: String(form.get("password") ?? ""),
        }),
      });
      if (res.ok) {
        // A full load so the console renders with the new session's cookies.
        window.location.assign(next);
        return;
      }
      setFailure(classify(res));
    } catch {
      setFailure({ kind: "other", message: "Could not reach the console. Check that it is running." });
    }
    setPending(false);
  }

  return (
    <form method="post" onSubmit={onSubmit} className="card flex flex-col gap-4" aria-label="Sign in">
      <InputField
        id="email"
        label="Email"
        name="email"
        type="email"
        autoComplete="username"
        required
        autoFocus
      />
      <InputField
        id="password"
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
      />
      {failure && <ErrorNote>{describe(failure)}</ErrorNote>}
      <button type="submit" className="btn btn-primary justify-center" disabled={isPending || !isReady}>
        {isPending ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
