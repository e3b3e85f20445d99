import type { Metadata } from "next";
import { db } from "@/server/db";
import { getEnv } from "@/server/env";
import { oidcMessage } from "@/server/auth/oidc/errors";
import { loadOidcSettings } from "@/server/auth/oidc/settings";
import { consoleServices } from "@/server/services/compose";
import { OidcSignIn } from "./oidc-sign-in";
import { SignInForm } from "./sign-in-form";
import { safeNext } from "./safe-next";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

/** The identity provider's host, when one is set up (a broken setting shows no button, not an error page). */
async function providerHost(): Promise<string | null> {
  const s = await loadOidcSettings({ db, env: getEnv(), box: () => consoleServices().box }).catch(() => null);
  return s ? new URL(s.issuer).host : null;
}

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  const next = safeNext(params.next);
  const reason = typeof params.oidc_error === "string" ? params.oidc_error : null;
  return (
    <main className="mx-auto mt-24 w-full max-w-sm p-6">
      <h1 className="mb-1 text-2xl font-semibold tracking-tight">Keel</h1>
      <p className="mb-6 text-sm text-muted">Sign in to the console.</p>
      <OidcSignIn
        providerHost={await providerHost()}
        next={next}
        error={reason ? oidcMessage(reason) : null}
      />
      <SignInForm next={next} />
    </main>
  );
}
