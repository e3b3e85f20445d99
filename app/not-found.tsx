import Link from "next/link";

export default function NotFound() {
  return (
    <div className="mx-auto mt-24 max-w-md p-6">
      <div className="card">
        <p className="text-sm text-muted">404</p>
        <h1 className="mt-1 text-xl font-semibold">No such page</h1>
        <p className="mt-4">
          <Link href="/" className="btn">
            Back to the console
          </Link>
        </p>
      </div>
    </div>
  );
}
