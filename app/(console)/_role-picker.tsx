"use client";
import type { Role } from "./_nav";
import { ROLES } from "./_roles";

/** Checkboxes for the four roles; a user can have several. */
export function RolePicker({
  value,
  onChange,
  idPrefix,
}: {
  value: readonly Role[];
  onChange: (roles: Role[]) => void;
  idPrefix: string;
}) {
  return (
    <fieldset className="flex flex-wrap gap-x-4 gap-y-1">
      <legend className="sr-only">Roles</legend>
      {ROLES.map(({ role, help }) => (
        <label
          key={role}
          htmlFor={`${idPrefix}-${role}`}
          className="flex items-center gap-1.5 text-sm"
          title={help}
        >
          <input
            id={`${idPrefix}-${role}`}
            type="checkbox"
            checked={value.includes(role)}
            onChange={(e) => onChange(e.target.checked ? [...value, role] : value.filter((r) => r !== role))}
          />
          {role}
        </label>
      ))}
    </fieldset>
  );
}
