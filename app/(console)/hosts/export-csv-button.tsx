"use client";
// "Export CSV" for any inventory table: asks hosts.exportCsv for the CSV and saves it as a file.
// A failure is reported through onError, or next to the button when no handler is given.
import { useState } from "react";
import { errorMessage, useTRPCClient } from "@/app/_trpc/react";
import { ErrorNote } from "@/app/_components/ui";
import { downloadCsv } from "./_csv";

type ExportRequest = Parameters<ReturnType<typeof useTRPCClient>["hosts"]["exportCsv"]["query"]>[0];

export function ExportCsvButton({
  request,
  onError,
}: {
  request: ExportRequest;
  onError?: (message: string) => void;
}) {
  const client = useTRPCClient();
  const [problem, setProblem] = useState<string | null>(null);
  const fail = onError ?? setProblem;
  return (
    <>
      <button
        className="btn"
        type="button"
        onClick={async () => {
          setProblem(null);
          try {
            const r = await client.hosts.exportCsv.query(request);
            downloadCsv(r.filename, r.csv);
          } catch (e) {
            fail(errorMessage(e));
          }
        }}
      >
        Export CSV
      </button>
      {problem && <ErrorNote>{problem}</ErrorNote>}
    </>
  );
}

/** The "As of" date-time field of the inventory pages; "" means now. */
export function AsOfField({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  return (
    <div>
      <label className="label" htmlFor="as-of">
        As of
      </label>
      <input
        id="as-of"
        type="datetime-local"
        className="input"
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </div>
  );
}
