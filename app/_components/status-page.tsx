// The page shown for an HTTP status (403, 404): the code, what happened, what to do, a way back.
import Link from "next/link";
import type { ReactNode } from "react";

export function StatusPage({
  status,
  title,
  children,
}: {
  status: number;
  title: string;
  children?: ReactNode;
}) {
  return (
    <div className="mx-auto mt-24 max-w-md p-6">
      <div className="card">
        <p className="text-sm text-muted">{status}</p>
        <h1 className="mt-1 text-xl font-semibold">{title}</h1>
        {children ? <p className="mt-2 text-sm text-muted">{children}</p> : null}
        <p className="mt-4">
          <Link href="/" className="btn">
            Back to the console
          </Link>
        </p>
      </div>
    </div>
  );
}
