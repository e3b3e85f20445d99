"use client";
// Bulk actions on the Hosts page (operators and admins): refresh the selected hosts or all that
// match the filters, set labels on the selected ones.
import { parseLabels } from "./_csv";
import type { hostFilter } from "./host-filter";

type RefreshInput = { hostIds: string[] } | { filter: ReturnType<typeof hostFilter> } | { all: true };

export function BulkActions({
  selected,
  total,
  filter,
  refresh,
  setLabels,
}: {
  selected: Set<string>;
  total: number | undefined;
  filter: ReturnType<typeof hostFilter>;
  refresh: { isPending: boolean; mutate: (input: RefreshInput) => void };
  setLabels: { mutate: (input: { hostIds: string[]; set: Record<string, string> }) => void };
}) {
  return (
    <div className="flex flex-wrap items-center gap-2 text-sm" aria-label="Bulk actions">
      <span className="text-muted">{selected.size} selected</span>
      <button
        className="btn"
        type="button"
        disabled={!selected.size || refresh.isPending}
        onClick={() => refresh.mutate({ hostIds: [...selected] })}
      >
        {refresh.isPending ? "Refreshing…" : "Refresh selected"}
      </button>
      <button
        className="btn"
        type="button"
        disabled={!total || refresh.isPending}
        onClick={() => refresh.mutate(Object.keys(filter).length ? { filter } : { all: true })}
      >
        Refresh all matching ({total ?? 0})
      </button>
      <button
        className="btn"
        type="button"
        disabled={!selected.size}
        onClick={() => {
          const text = window.prompt("Labels to set on the selected hosts (key=value …)");
          const l = text ? parseLabels(text) : null;
          if (l && Object.keys(l).length) setLabels.mutate({ hostIds: [...selected], set: l });
        }}
      >
        Set labels…
      </button>
    </div>
  );
}
