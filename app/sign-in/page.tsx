import type { Metadata } from "next";
import { SignInForm } from "./sign-in-form";
import { safeNext } from "./safe-next";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const next = safeNext((await searchParams).next);
  return (
    <main className="mx-auto mt-24 w-full max-w-sm p-6">
      <h1 className="mb-1 text-2xl font-semibold tracking-tight">Keel</h1>
      <p className="mb-6 text-sm text-muted">Sign in to the console.</p>
      <SignInForm next={next} />
    </main>
  );
}
