// A line diff as a reviewer reads it: old and new line numbers, a +/− marker, and each line exactly as
// written (whitespace-pre: indentation and blank lines are shown, not collapsed by HTML).
import type { DiffLine } from "./line-diff";

export function DiffView({ lines, label }: { lines: DiffLine[]; label: string }) {
  if (lines.every((l) => l.kind === "same")) return <p className="text-sm text-muted">{label}: none.</p>;
  return (
    <table className="card !p-0 w-full border-collapse font-mono text-xs" aria-label={label}>
      <tbody>
        {lines.map((l, i) => (
          <tr
            key={i}
            data-kind={l.kind}
            className={
              l.kind === "add"
                ? "bg-ok-bg text-ok"
                : l.kind === "del"
                  ? "bg-danger-bg text-danger"
                  : "text-muted"
            }
          >
            <td className="w-10 select-none px-1 text-right opacity-60">{l.kind === "add" ? "" : l.oldNo}</td>
            <td className="w-10 select-none px-1 text-right opacity-60">{l.kind === "del" ? "" : l.newNo}</td>
            <td
              className="w-4 select-none text-center"
              aria-label={l.kind === "add" ? "added" : l.kind === "del" ? "removed" : "unchanged"}
            >
              {l.kind === "add" ? "+" : l.kind === "del" ? "−" : ""}
            </td>
            <td className="whitespace-pre px-1" data-testid="diff-text">
              {l.text}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The maintenance windows as the editor and the version page show them (and diff them). */
export function windowsText(windows: unknown): string {
  return JSON.stringify(windows, null, 2);
}
