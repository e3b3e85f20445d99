// Rendered with HTTP 403 when a signed-in user opens a page their roles do not allow.
import Link from "next/link";

export default function Forbidden() {
  return (
    <div className="mx-auto mt-24 max-w-md p-6">
      <div className="card">
        <p className="text-sm text-muted">403</p>
        <h1 className="mt-1 text-xl font-semibold">You do not have access to this page</h1>
        <p className="mt-2 text-sm text-muted">
          Your account&apos;s roles do not allow it. Ask an admin to give you the role you need.
        </p>
        <p className="mt-4">
          <Link href="/" className="btn">
            Back to the console
          </Link>
        </p>
      </div>
    </div>
  );
}
