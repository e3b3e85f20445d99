// Small presentational pieces shared by console pages.
import { Fragment, type ReactNode } from "react";

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="mb-4 flex flex-wrap items-end justify-between gap-3">
      <h1 className="text-xl font-semibold">{title}</h1>
      {children}
    </div>
  );
}

export function ErrorNote({ children }: { children: ReactNode }) {
  return (
    <p role="alert" className="rounded-md bg-danger-bg px-3 py-2 text-sm text-danger">
      {children}
    </p>
  );
}

export function OkNote({ children }: { children: ReactNode }) {
  return (
    <p role="status" className="rounded-md bg-ok-bg px-3 py-2 text-sm text-ok">
      {children}
    </p>
  );
}

export function Badge({
  children,
  tone = "neutral",
}: {
  children: ReactNode;
  tone?: "neutral" | "danger" | "ok";
}) {
  const tones = {
    neutral: "border-line text-muted",
    danger: "border-danger text-danger",
    ok: "border-ok text-ok",
  };
  return (
    <span className={`inline-block rounded border px-1.5 py-px text-xs ${tones[tone]}`}>{children}</span>
  );
}

/** Absolute local time, with the ISO instant in the tooltip. Render only in the browser. */
export function Time({ value }: { value: Date | string | null | undefined }) {
  if (!value) return <span className="text-muted">never</span>;
  const date = typeof value === "string" ? new Date(value) : value;
  return (
    <time dateTime={date.toISOString()} title={date.toISOString()}>
      {date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" })}
    </time>
  );
}

/**
 * A console table on a card: `columns` are the header cells (a string, or a `<th>` of its own for a
 * header with attributes), `children` the body rows; `className` adds to "table card !p-0" (to
 * "table" when `card` is false, for a table inside a card).
 */
export function Table({
  columns,
  label,
  className,
  card = true,
  children,
}: {
  columns: readonly ReactNode[];
  label?: string;
  className?: string;
  card?: boolean;
  children: ReactNode;
}) {
  const base = card ? "table card !p-0" : "table";
  return (
    <table className={className ? `${base} ${className}` : base} aria-label={label}>
      <thead>
        <tr>
          {columns.map((c, i) => (
            <Fragment key={i}>{typeof c === "string" ? <th>{c}</th> : c}</Fragment>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}
