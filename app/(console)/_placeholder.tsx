// A section that a later issue builds. Says so plainly; shows no made-up data.
export function NotBuiltYet({ title, issue, what }: { title: string; issue: number; what: string }) {
  return (
    <div className="max-w-2xl">
      <h1 className="mb-3 text-xl font-semibold">{title}</h1>
      <div className="card">
        <p className="font-medium">Not built yet — arrives with issue {issue}.</p>
        <p className="mt-2 text-sm text-muted">{what}</p>
      </div>
    </div>
  );
}
