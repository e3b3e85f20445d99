"use client";
// Bulk enrollment: paste the lab inventory, a CSV, or an ssh_config with known_hosts; preview what
// would be enrolled, then import. Hosts without a fingerprint need the explicit "accept the keys
// they present" choice.
import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { InputField, SelectField } from "@/app/_components/field";
import { Badge, ErrorNote, OkNote, PageHeader, Table } from "@/app/_components/ui";

export function ImportForm() {
  const trpc = useTRPC();
  const [format, setFormat] = useState<"lab" | "csv" | "ssh-config">("lab");
  const [text, setText] = useState("");
  const [knownHosts, setKnownHosts] = useState("");
  const [environment, setEnvironment] = useState("");
  const [accept, setAccept] = useState(false);
  const run = useMutation(trpc.hosts.import.mutationOptions());
  const submit = (dryRun: boolean) =>
    run.mutate({
      format,
      text,
      knownHosts: knownHosts || undefined,
      acceptPresentedKeys: accept,
      environment: environment || null,
      dryRun,
    });
  const r = run.data;
  return (
    <div className="flex max-w-4xl flex-col gap-4">
      <PageHeader title="Import hosts" />
      <form
        aria-label="Import hosts"
        className="card flex flex-col gap-3"
        onSubmit={(e) => e.preventDefault()}
      >
        <div className="flex gap-3">
          <SelectField
            id="i-format"
            label="Format"
            value={format}
            onChange={(e) => setFormat(e.target.value as typeof format)}
          >
            <option value="lab">Lab inventory (JSON)</option>
            <option value="csv">CSV (name,address,port,user,fingerprint,environment,labels)</option>
            <option value="ssh-config">OpenSSH ssh_config + known_hosts</option>
          </SelectField>
          <InputField
            id="i-env"
            label="Environment for all"
            value={environment}
            onChange={(e) => setEnvironment(e.target.value)}
            placeholder="(none)"
          />
        </div>
        <label className="label" htmlFor="i-text">
          {format === "ssh-config" ? "ssh_config" : "File content"}
        </label>
        <textarea
          id="i-text"
          className="input h-48 font-mono text-xs"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        {format === "ssh-config" && (
          <>
            <label className="label" htmlFor="i-known">
              known_hosts
            </label>
            <textarea
              id="i-known"
              className="input h-32 font-mono text-xs"
              value={knownHosts}
              onChange={(e) => setKnownHosts(e.target.value)}
            />
          </>
        )}
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={accept} onChange={(e) => setAccept(e.target.checked)} />
          For hosts without a fingerprint in the file, accept the key they present now
        </label>
        <div className="flex gap-2">
          <button
            className="btn"
            type="button"
            disabled={!text || run.isPending}
            onClick={() => submit(true)}
          >
            Preview
          </button>
          <button
            className="btn btn-primary"
            type="button"
            disabled={!text || run.isPending}
            onClick={() => submit(false)}
          >
            {run.isPending ? "Importing…" : "Import"}
          </button>
        </div>
      </form>
      {run.error && <ErrorNote>{errorMessage(run.error)}</ErrorNote>}
      {r && r.problems.length > 0 && <ErrorNote>{r.problems.join("; ")}</ErrorNote>}
      {r &&
        r.outcomes.length > 0 &&
        (r.outcomes.some((o) => !["enrolled", "exists"].includes(o.status)) ? (
          <ErrorNote>
            {r.enrolled} hosts enrolled;{" "}
            {r.outcomes.filter((o) => !["enrolled", "exists"].includes(o.status)).length} failed (see below).
          </ErrorNote>
        ) : (
          <OkNote>{r.enrolled} hosts enrolled.</OkNote>
        ))}
      {r && (
        <Table columns={["Name", "Address", "Fingerprint", "Result"]} label="Import result">
          {r.entries.map((e) => {
            const o = r.outcomes.find((x) => x.name === e.name);
            return (
              <tr key={e.name}>
                <td>{e.name}</td>
                <td className="font-mono text-xs">
                  {e.address}:{e.port ?? 22}
                </td>
                <td className="font-mono text-xs">{o?.fingerprint ?? e.fingerprint ?? "—"}</td>
                <td>
                  {o ? (
                    <Badge
                      tone={o.status === "enrolled" ? "ok" : o.status === "exists" ? "neutral" : "danger"}
                    >
                      {o.status}
                    </Badge>
                  ) : (
                    "preview"
                  )}{" "}
                  {o?.message}
                </td>
              </tr>
            );
          })}
        </Table>
      )}
    </div>
  );
}
