// The identity provider's button on the sign-in page, and the reason a sign-in through it was refused.
export function OidcSignIn({
  providerHost,
  next,
  error,
}: {
  providerHost: string | null;
  next: string;
  error: string | null;
}) {
  return (
    <div className="mb-4 flex flex-col gap-3">
      {error && (
        <p role="alert" className="rounded-md bg-danger-bg px-3 py-2 text-sm text-danger">
          {error}
        </p>
      )}
      {providerHost && (
        <>
          <a
            className="btn btn-primary justify-center"
            href={`/api/auth/oidc/start?next=${encodeURIComponent(next)}`}
          >
            Sign in with {providerHost}
          </a>
          <p className="text-center text-xs text-muted">or with a Keel account</p>
        </>
      )}
    </div>
  );
}
