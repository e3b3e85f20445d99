"use client";
import { useState } from "react";

export function SignOutButton() {
  const [isPending, setPending] = useState(false);
  async function signOut() {
    setPending(true);
    try {
      await fetch("/api/auth/sign-out", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
    } finally {
      // A full load drops every cached query of the old session.
      window.location.assign("/sign-in");
    }
  }
  return (
    <button type="button" className="btn w-full justify-center" onClick={signOut} disabled={isPending}>
      {isPending ? "Signing out…" : "Sign out"}
    </button>
  );
}
