"use client";
// The Hosts page's filter form: applied on submit (labels checked first), and CSV export of exactly
// what the applied filters select.
import type { Dispatch, SetStateAction } from "react";
import { parseLabels } from "./_csv";
import { ExportCsvButton } from "./export-csv-button";
import type { HostFilterForm, HostSort, hostFilter } from "./host-filter";

export function HostFilters({
  form,
  setForm,
  onApply,
  setProblem,
  filter,
  sort,
}: {
  form: HostFilterForm;
  setForm: Dispatch<SetStateAction<HostFilterForm>>;
  onApply: () => void;
  setProblem: (p: string | null) => void;
  filter: ReturnType<typeof hostFilter>;
  sort: { key: HostSort; dir: "asc" | "desc" };
}) {
  return (
    <form
      aria-label="Filter hosts"
      className="card grid grid-cols-2 gap-2 md:grid-cols-4"
      onSubmit={(e) => {
        e.preventDefault();
        if (form.labels && !parseLabels(form.labels))
          return setProblem("Labels are key=value pairs separated by spaces.");
        setProblem(null);
        onApply();
      }}
    >
      {(
        [
          ["q", "Search", "name, address, OS, label…"],
          ["labels", "Labels", "role=web dc=fra1"],
          ["environment", "Environment", "prod"],
          ["os", "OS", "debian"],
          ["app", "App", "nginx"],
          ["version", "Version", "1.25.3"],
          ["staleHours", "Not seen for (hours)", "24"],
        ] as const
      ).map(([key, label, ph]) => (
        <div key={key}>
          <label className="label" htmlFor={`f-${key}`}>
            {label}
          </label>
          <input
            id={`f-${key}`}
            className="input"
            placeholder={ph}
            value={form[key]}
            onChange={(e) => setForm({ ...form, [key]: e.target.value })}
          />
        </div>
      ))}
      <div>
        <label className="label" htmlFor="f-reachable">
          Reachable
        </label>
        <select
          id="f-reachable"
          className="input"
          value={form.reachable}
          onChange={(e) => setForm({ ...form, reachable: e.target.value })}
        >
          <option value="">any</option>
          <option value="yes">yes</option>
          <option value="no">no</option>
        </select>
      </div>
      <div className="col-span-full flex flex-wrap gap-2">
        <button className="btn btn-primary" type="submit">
          Apply filters
        </button>
        <ExportCsvButton
          request={{ table: "hosts", filter, sort: sort.key, direction: sort.dir }}
          onError={setProblem}
        />
      </div>
    </form>
  );
}
