"use client";
// Plan a rollout: what (app, version or fleet rollback), where (environment, labels, name search,
// group), how (waves, failure threshold, parallelism). "Preview" shows the per-host plan and the
// policy's answer with its reasons before anything is created.
import { useRouter } from "next/navigation";
import { useState, type InputHTMLAttributes } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { ErrorNote } from "@/app/_components/ui";
import { LabelAround } from "@/app/_components/field";
import { PlanTable } from "./plan-table";
import { decisionText } from "./format";

type Spec = {
  action: "update" | "rollback";
  app: string;
  version?: string;
  targets: { environments?: string[]; labels?: Record<string, string>; q?: string; groupId?: string };
  waves: string[];
  failureThreshold: number;
  parallelism: number;
  includeUnreachable?: boolean;
};

function parseLabels(text: string): Record<string, string> | undefined {
  const pairs = text.split(/[\s,]+/).filter(Boolean);
  if (pairs.length === 0) return undefined;
  return Object.fromEntries(pairs.map((p) => [p.split("=")[0]!, p.split("=").slice(1).join("=")]));
}

export function NewRolloutForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const [form, setForm] = useState({
    action: "update" as "update" | "rollback",
    app: "",
    version: "",
    environment: "",
    labels: "",
    q: "",
    groupId: "",
    waves: "1,10%,50%,100%",
    threshold: "0",
    parallelism: "10",
    includeUnreachable: false,
  });
  // Pickers: apps and versions from the releases the console holds, groups by name.
  const releases = useQuery(trpc.releases.list.queryOptions({}));
  const groups = useQuery(trpc.groups.list.queryOptions());
  const apps = releases.data?.apps ?? [];
  const versions = apps.find((a) => a.app === form.app.trim())?.releases.map((r) => r.version) ?? [];
  const [spec, setSpec] = useState<Spec | null>(null);
  // A mutation, not a query: planning may make incremental streams (btrfs send) on the console.
  const preview = useMutation(trpc.rollouts.preview.mutationOptions());
  const clearPreview = () => {
    setSpec(null);
    preview.reset();
  };
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => {
    setForm({ ...form, [k]: e.target.value });
    clearPreview();
  };
  const build = (): Spec => ({
    action: form.action,
    app: form.app.trim(),
    ...(form.action === "update" ? { version: form.version.trim() } : {}),
    targets: {
      ...(form.environment.trim()
        ? {
            environments: form.environment
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean),
          }
        : {}),
      ...(parseLabels(form.labels) ? { labels: parseLabels(form.labels) } : {}),
      ...(form.q.trim() ? { q: form.q.trim() } : {}),
      ...(form.groupId.trim() ? { groupId: form.groupId.trim() } : {}),
    },
    waves: form.waves
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    failureThreshold: Number(form.threshold) || 0,
    parallelism: Number(form.parallelism) || 10,
    ...(form.includeUnreachable ? { includeUnreachable: true } : {}),
  });
  const planPreview = (next: Spec) => preview.mutate(next, { onSuccess: () => setSpec(next) });
  const create = useMutation(
    trpc.rollouts.create.mutationOptions({ onSuccess: (r) => router.push(`/rollouts/${r.id}`) }),
  );

  return (
    <section aria-label="New rollout" className="card flex flex-col gap-3">
      <h2 className="font-medium">New rollout</h2>
      <div className="grid grid-cols-1 gap-3 md:grid-cols-4">
        <LabelAround label="Action">
          <select className="input" value={form.action} onChange={set("action")}>
            <option value="update">Install / update</option>
            <option value="rollback">Roll back (previous becomes current)</option>
          </select>
        </LabelAround>
        <PickInput
          label="App"
          list="rollout-apps"
          options={apps.map((a) => a.app)}
          value={form.app}
          onChange={set("app")}
          placeholder="web"
        />
        {form.action === "update" && (
          <PickInput
            label="Version"
            list="rollout-versions"
            options={versions}
            value={form.version}
            onChange={set("version")}
            placeholder="1.10"
          />
        )}
        <LabelAround label="Environments">
          <input
            className="input"
            value={form.environment}
            onChange={set("environment")}
            placeholder="prod, staging"
          />
        </LabelAround>
        <LabelAround label="Labels (key=value …)">
          <input className="input" value={form.labels} onChange={set("labels")} placeholder="role=web" />
        </LabelAround>
        <LabelAround label="Host name contains">
          <input className="input" value={form.q} onChange={set("q")} placeholder="lab-" />
        </LabelAround>
        <LabelAround label="Group">
          <select className="input" value={form.groupId} onChange={set("groupId")}>
            <option value="">any</option>
            {(groups.data ?? []).map((g) => (
              <option key={g.id} value={g.id}>
                {g.name} ({g.hosts} hosts)
              </option>
            ))}
          </select>
        </LabelAround>
        <LabelAround label="Waves">
          <input className="input" value={form.waves} onChange={set("waves")} />
        </LabelAround>
        <LabelAround label="Failures tolerated per wave">
          <input className="input" type="number" min={0} value={form.threshold} onChange={set("threshold")} />
        </LabelAround>
        <LabelAround label="Hosts at once">
          <input
            className="input"
            type="number"
            min={1}
            max={200}
            value={form.parallelism}
            onChange={set("parallelism")}
          />
        </LabelAround>
        <label className="flex items-center gap-2 text-sm md:col-span-4">
          <input
            type="checkbox"
            checked={form.includeUnreachable}
            onChange={(e) => {
              setForm({ ...form, includeUnreachable: e.target.checked });
              clearPreview();
            }}
          />
          Include hosts that were unreachable at their last refresh (left out otherwise; hosts whose key
          changed are always left out)
        </label>
      </div>
      <div className="flex gap-2">
        <button
          className="btn"
          type="button"
          onClick={() => planPreview(build())}
          disabled={!form.app.trim()}
        >
          Preview plan
        </button>
        <button
          className="btn btn-primary"
          type="button"
          disabled={!spec || !preview.data || create.isPending}
          onClick={() => spec && create.mutate(spec)}
        >
          Create rollout
        </button>
      </div>
      {preview.isPending && <p className="text-sm text-muted">Planning…</p>}
      {preview.error && <ErrorNote>{errorMessage(preview.error)}</ErrorNote>}
      {create.error && <ErrorNote>{errorMessage(create.error)}</ErrorNote>}
      {preview.data && (
        <div className="flex flex-col gap-2" aria-label="Plan preview">
          <p className="text-sm">
            Policy (version {preview.data.policyVersion}):{" "}
            <strong>{decisionText(preview.data.decision)}</strong> —{" "}
            {preview.data.decision.reasons.join("; ")}
          </p>
          <PlanTable plan={preview.data.plan} />
        </div>
      )}
    </section>
  );
}

/** A required labelled input with the choices it offers in a `<datalist>` (`list`: its id). */
function PickInput({
  label,
  list,
  options,
  ...input
}: { label: string; list: string; options: string[] } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <LabelAround label={label}>
      <input className="input" list={list} required {...input} />
      <datalist id={list}>
        {options.map((o) => (
          <option key={o} value={o} />
        ))}
      </datalist>
    </LabelAround>
  );
}
