"use client";
// Buttons shared by console pages.
import type { ReactNode } from "react";

/** A button that acts only after the browser's confirm() dialog with `question` is accepted. */
export function ConfirmButton({
  question,
  onConfirm,
  className = "btn btn-danger text-xs",
  disabled,
  children,
}: {
  question: string;
  onConfirm: () => void;
  className?: string;
  disabled?: boolean;
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      className={className}
      disabled={disabled}
      onClick={() => {
        if (window.confirm(question)) onConfirm();
      }}
    >
      {children}
    </button>
  );
}
