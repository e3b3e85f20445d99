// A comment box followed by the buttons that send it: the answer to a rollout, a change request
// or a policy version (approve, reject), or a policy proposal.
import type { ReactNode } from "react";

export function CommentRow({
  section,
  width = "min-w-64",
  placeholder,
  inputLabel,
  value,
  onChange,
  children,
}: {
  /** A `<section>` with this accessible name instead of a plain `<div>`. */
  section?: string;
  /** The comment box's width class. */
  width?: string;
  placeholder: string;
  inputLabel?: string;
  value: string;
  onChange: (value: string) => void;
  children: ReactNode;
}) {
  const input = (
    <input
      className={`input ${width}`}
      placeholder={placeholder}
      aria-label={inputLabel}
      value={value}
      onChange={(e) => onChange(e.target.value)}
    />
  );
  const row = "flex flex-wrap items-end gap-2";
  return section ? (
    <section aria-label={section} className={row}>
      {input}
      {children}
    </section>
  ) : (
    <div className={row}>
      {input}
      {children}
    </div>
  );
}

/** Approve (primary) and Reject (danger) buttons. */
export function AnswerButtons({
  approveText = "Approve",
  disabled,
  onApprove,
  onReject,
}: {
  approveText?: ReactNode;
  disabled?: boolean;
  onApprove: () => void;
  onReject: () => void;
}) {
  return (
    <>
      <button className="btn btn-primary" disabled={disabled} onClick={onApprove}>
        {approveText}
      </button>
      <button className="btn btn-danger" disabled={disabled} onClick={onReject}>
        Reject
      </button>
    </>
  );
}
