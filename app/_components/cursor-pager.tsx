// Previous / Next over a keyset-paged list (docs/decisions/0027-keyset-pagination.md): the
// server hands out the cursors; the page keeps only the one it is showing.
export type PageCursor = { after?: string; before?: string };

export function CursorPager(props: {
  label: string;
  page: { total: number; prevCursor: string | null; nextCursor: string | null; noun: string } | undefined;
  onPage: (c: PageCursor) => void;
}) {
  const prev = props.page?.prevCursor ?? null;
  const next = props.page?.nextCursor ?? null;
  return (
    <nav aria-label={props.label} className="flex items-center gap-2 text-sm">
      <button
        className="btn"
        type="button"
        disabled={!prev}
        onClick={() => prev && props.onPage({ before: prev })}
      >
        Previous
      </button>
      <span>
        {props.page?.total ?? 0} {props.page?.noun ?? ""}
      </span>
      <button
        className="btn"
        type="button"
        disabled={!next}
        onClick={() => next && props.onPage({ after: next })}
      >
        Next
      </button>
    </nav>
  );
}
