"use client";
// Audit log (auditor, admin): newest first, filtered by actor, action, target and time,
// paged by cursor; "Verify chain" recomputes the hash chain on the server.
import { useState, type FormEvent } from "react";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useQuery } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { InputField, SelectField } from "@/app/_components/field";
import { ErrorNote, OkNote, PageHeader, Table, Time } from "@/app/_components/ui";
import { filtersFromParams, filtersToParams, localToDate, type AuditFilters } from "./filters";

const PAGE_SIZE = 50;

export function AuditView() {
  const searchParams = useSearchParams();
  const filters = filtersFromParams(new URLSearchParams(searchParams.toString()));
  const filterKey = filtersToParams(filters).toString();
  return (
    <div className="flex max-w-6xl flex-col gap-4">
      <VerifyChain />
      <FilterForm key={`form:${filterKey}`} filters={filters} />
      {/* Changing the filters starts again at the newest page. */}
      <AuditPages key={`pages:${filterKey}`} filters={filters} />
    </div>
  );
}

function FilterForm({ filters }: { filters: AuditFilters }) {
  const router = useRouter();
  const pathname = usePathname();
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next: AuditFilters = {};
    for (const k of ["actor", "action", "target", "from", "to"] as const) {
      const v = String(form.get(k) ?? "").trim();
      if (v) next[k] = v;
    }
    // A category is an action prefix ("rollout."); a typed action is more precise and wins.
    const category = String(form.get("category") ?? "");
    if (category && !next.action) next.action = category;
    const qs = filtersToParams(next).toString();
    router.push(qs ? `${pathname}?${qs}` : pathname);
  }
  const field = (name: keyof AuditFilters, label: string, props: Record<string, string> = {}) => (
    <InputField
      id={`audit-${name}`}
      label={label}
      name={name}
      defaultValue={filters[name] ?? ""}
      {...props}
    />
  );
  return (
    <form
      onSubmit={onSubmit}
      className="card grid items-end gap-3 sm:grid-cols-3 lg:grid-cols-7"
      aria-label="Filter audit log"
    >
      <SelectField
        id="audit-category"
        label="Category"
        name="category"
        defaultValue={CATEGORIES.some((c) => c.prefix === filters.action) ? filters.action : ""}
      >
        <option value="">all</option>
        {CATEGORIES.map((c) => (
          <option key={c.prefix} value={c.prefix}>
            {c.label}
          </option>
        ))}
      </SelectField>
      {field("actor", "Actor (email)", { placeholder: "e-mail or part of it" })}
      {field("action", "Action", { placeholder: "user.create, or user. for all" })}
      {field("target", "Target", { placeholder: "user id, host…" })}
      {field("from", "From", { type: "datetime-local" })}
      {field("to", "To", { type: "datetime-local" })}
      <div className="flex gap-2">
        <button type="submit" className="btn btn-primary">
          Filter
        </button>
        <button type="button" className="btn" onClick={() => router.push(pathname)}>
          Clear
        </button>
      </div>
    </form>
  );
}

function AuditPages({ filters }: { filters: AuditFilters }) {
  const trpc = useTRPC();
  // Cursors of the pages already visited, so "Newer" can step back.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const page = useQuery(
    trpc.audit.list.queryOptions({
      actor: filters.actor,
      action: filters.action,
      target: filters.target,
      from: localToDate(filters.from),
      to: localToDate(filters.to),
      cursor,
      limit: PAGE_SIZE,
    }),
  );
  if (page.isPending) return <p className="text-sm text-muted">Loading the audit log…</p>;
  if (page.error) return <ErrorNote>Could not load the audit log: {errorMessage(page.error)}</ErrorNote>;
  const { items, nextCursor } = page.data;
  return (
    <section aria-label="Audit events" className="flex flex-col gap-3">
      {items.length === 0 ? (
        <p className="text-sm text-muted">No events match these filters.</p>
      ) : (
        <Table columns={[<th className="w-0">#</th>, "Time", "Actor", "Action", "Target", "Detail"]}>
          {items.map((e) => (
            <tr key={String(e.id)} data-testid="audit-row" data-action={e.action}>
              <td className="text-xs text-muted">{String(e.id)}</td>
              <td className="whitespace-nowrap text-xs">
                <Time value={e.at} />
              </td>
              <td>{e.actor ?? <span className="text-muted">system</span>}</td>
              <td>
                <code className="text-xs">{e.action}</code>
              </td>
              <td className="break-all text-xs">{e.target ? <TargetLink target={e.target} /> : ""}</td>
              <td className="max-w-md text-xs">
                <DetailFields detail={e.detail} />
              </td>
            </tr>
          ))}
        </Table>
      )}
      <div className="flex items-center gap-2 text-sm">
        <button
          type="button"
          className="btn"
          disabled={cursors.length <= 1}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          ← Newer
        </button>
        <button
          type="button"
          className="btn"
          disabled={!nextCursor}
          onClick={() => setCursors((c) => [...c, nextCursor ?? undefined])}
        >
          Older →
        </button>
        <span className="text-muted">Page {cursors.length}</span>
      </div>
    </section>
  );
}

const CATEGORIES = [
  { prefix: "auth.", label: "sign-in" },
  { prefix: "user.", label: "users" },
  { prefix: "session.", label: "sessions" },
  { prefix: "token.", label: "API tokens" },
  { prefix: "host.", label: "hosts" },
  { prefix: "group.", label: "groups" },
  { prefix: "release.", label: "releases" },
  { prefix: "signing_key.", label: "signing keys" },
  { prefix: "rollout.", label: "rollouts" },
  { prefix: "policy.", label: "policy" },
  { prefix: "change.", label: "change requests" },
  { prefix: "oidc.", label: "identity provider" },
  { prefix: "notification.", label: "notifications" },
];

/** The detail as fields (key: value), nested values as compact JSON; long values wrap. */
function DetailFields({ detail }: { detail: unknown }) {
  if (detail == null || typeof detail !== "object")
    return detail == null ? null : <span>{String(detail)}</span>;
  const entries = Object.entries(detail as Record<string, unknown>);
  if (entries.length === 0) return null;
  return (
    <dl className="grid grid-cols-[auto_1fr] gap-x-2">
      {entries.map(([k, v]) => (
        <div key={k} className="contents">
          <dt className="text-muted">{k}</dt>
          <dd className="break-all font-mono">{typeof v === "string" ? v : JSON.stringify(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Targets name what they are about (`rollout:12`, `host:web-1`, `user:<id>`); link to where it lives. */
function TargetLink({ target }: { target: string }) {
  const [kind, ...rest] = target.split(":");
  const id = rest.join(":");
  const href =
    kind === "rollout" && /^\d+$/.test(id)
      ? `/rollouts/by-number/${id}`
      : kind === "host"
        ? `/hosts/by-name/${encodeURIComponent(id)}`
        : kind === "user"
          ? "/users"
          : kind === "release" || kind === "app"
            ? `/releases`
            : null;
  return href ? (
    <a className="underline" href={href}>
      {target}
    </a>
  ) : (
    <span>{target}</span>
  );
}

function VerifyChain() {
  const trpc = useTRPC();
  const verify = useQuery({ ...trpc.audit.verify.queryOptions(), enabled: false, staleTime: 0, gcTime: 0 });
  const result = verify.data;
  return (
    <>
      <PageHeader title="Audit log">
        <button
          type="button"
          className="btn"
          disabled={verify.isFetching}
          onClick={() => void verify.refetch()}
        >
          {verify.isFetching ? "Verifying…" : "Verify chain"}
        </button>
      </PageHeader>
      {verify.error && <ErrorNote>Verification failed to run: {errorMessage(verify.error)}</ErrorNote>}
      {result &&
        !verify.isFetching &&
        (result.ok ? (
          <OkNote>
            Chain intact: all {result.rows} events verified
            {result.checkpoints.newest ? (
              <>
                , matching {result.checkpoints.count} signed checkpoints (newest #
                {result.checkpoints.newest.seq} of <Time value={result.checkpoints.newest.at} />,{" "}
                {result.checkpoints.newest.rows} events).
              </>
            ) : (
              "; no checkpoint yet."
            )}
          </OkNote>
        ) : (
          <ErrorNote>
            {
              {
                chain: "Chain broken",
                rewrite: "Log rewritten",
                truncation: "Log truncated",
                checkpoints: "Checkpoints invalid",
              }[result.kind]
            }
            : {result.message}
          </ErrorNote>
        ))}
    </>
  );
}
