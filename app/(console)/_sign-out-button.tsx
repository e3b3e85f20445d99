"use client";
import { useState } from "react";

export function SignOutButton() {
  const [isPending, setPending] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);
  async function signOut() {
    setPending(true);
    setFailed(null);
    try {
      const res = await fetch("/api/auth/sign-out", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      // 401: the session was already gone (revoked, expired) — signed out either way.
      if (!res.ok && res.status !== 401) throw new Error(`the console answered ${res.status}`);
      // A full load drops every cached query of the old session.
      window.location.assign("/sign-in");
    } catch (e) {
      setFailed(`Sign-out failed: ${(e as Error).message}. Try again.`);
      setPending(false);
    }
  }
  return (
    <>
      <button type="button" className="btn w-full justify-center" onClick={signOut} disabled={isPending}>
        {isPending ? "Signing out…" : "Sign out"}
      </button>
      {failed && (
        <p role="alert" className="text-xs text-danger">
          {failed}
        </p>
      )}
    </>
  );
}
