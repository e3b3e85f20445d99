// Form pieces shared by console pages: a label above its control, and the usual controls with it.
import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes } from "react";

/** A label (class "label") above its control, in a box of its own (`className`: the box's class). */
export function Field({
  id,
  label,
  className,
  children,
}: {
  id: string;
  label: ReactNode;
  className?: string;
  children: ReactNode;
}) {
  return (
    <div className={className}>
      <label htmlFor={id} className="label">
        {label}
      </label>
      {children}
    </div>
  );
}

type Boxed = { id: string; label: ReactNode; box?: string };

/** A labelled `<input className="input">`; `className` replaces the input's class, `box` is the box's. */
export function InputField({ label, box, ...input }: Boxed & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <Field id={input.id} label={label} className={box}>
      <input className="input" {...input} />
    </Field>
  );
}

/** A labelled `<select className="input">` with its options as children. */
export function SelectField({
  label,
  box,
  children,
  ...select
}: Boxed & SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <Field id={select.id} label={label} className={box}>
      <select className="input" {...select}>
        {children}
      </select>
    </Field>
  );
}

/** A label that wraps its text and its control, stacked (`className` replaces the stacking). */
export function LabelAround({
  label,
  className = "flex flex-col gap-1 text-sm",
  children,
}: {
  label: ReactNode;
  className?: string;
  children: ReactNode;
}) {
  return (
    <label className={className}>
      {label}
      {children}
    </label>
  );
}
