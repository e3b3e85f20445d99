"use client";
// Hosts: the fleet, filtered/sorted/paged on the server, with selection for bulk refresh and
// labels, and CSV export of exactly what the filters select. The pieces: host-filters.tsx,
// bulk-actions.tsx, hosts-table.tsx, retired-hosts.tsx.
import Link from "next/link";
import { useState } from "react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { CursorPager, type PageCursor } from "@/app/_components/cursor-pager";
import { ErrorNote, OkNote, PageHeader } from "@/app/_components/ui";
import { BulkActions } from "./bulk-actions";
import { EMPTY_FILTER, hostFilter, type HostFilterForm, type HostSort } from "./host-filter";
import { HostFilters } from "./host-filters";
import { HostsTable } from "./hosts-table";
import { RetiredHosts } from "./retired-hosts";

export function HostsView({ roles }: { roles: string[] }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const canEnroll = roles.includes("admin");
  const canOperate = roles.includes("admin") || roles.includes("operator");
  const [form, setForm] = useState<HostFilterForm>(EMPTY_FILTER);
  const [applied, setApplied] = useState(form);
  const [sort, setSort] = useState<{ key: HostSort; dir: "asc" | "desc" }>({ key: "name", dir: "asc" });
  // Keyset paging: the page after (or before) a cursor the server handed out; none is the first page.
  const [cursor, setCursor] = useState<PageCursor>({});
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState<string | null>(null);
  // A refresh that reported failures is shown as a problem, not as a success.
  const [noticeIsBad, setNoticeIsBad] = useState(false);
  // While a background refresh runs, the list polls so hosts leave "not refreshed" as results land.
  const [liveUntil, setLiveUntil] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);

  const filter = hostFilter(applied);
  const hosts = useQuery({
    ...trpc.hosts.list.queryOptions({ filter, sort: sort.key, direction: sort.dir, ...cursor, pageSize: 50 }),
    placeholderData: keepPreviousData,
    refetchInterval: () => (Date.now() < liveUntil ? 2000 : false),
  });
  const refresh = useMutation(
    trpc.hosts.refresh.mutationOptions({
      onSuccess: async (r) => {
        setNotice(
          r.background
            ? `Refreshing ${r.total} hosts in the background; the list updates as they answer.`
            : `Refreshed ${r.total}: ${r.ok} ok, ${r.changed} changed, ${r.unreachable} unreachable${r.keyChanged ? `, ${r.keyChanged} host key changed` : ""}.`,
        );
        setNoticeIsBad(!r.background && r.unreachable + r.keyChanged > 0);
        if (r.background) setLiveUntil(Date.now() + Math.max(60_000, r.total * 1000));
        await queryClient.invalidateQueries({ queryKey: trpc.hosts.list.queryKey() });
      },
      onError: (e) => setProblem(errorMessage(e)),
    }),
  );
  const setLabels = useMutation(
    trpc.hosts.setLabels.mutationOptions({
      onSuccess: async (r) => {
        setNotice(`Labels changed on ${r.updated} hosts.`);
        setNoticeIsBad(false);
        await queryClient.invalidateQueries({ queryKey: trpc.hosts.list.queryKey() });
      },
      onError: (e) => setProblem(errorMessage(e)),
    }),
  );

  const sortBy = (key: HostSort) => {
    setCursor({});
    setSort((s) => ({ key, dir: s.key === key && s.dir === "asc" ? "desc" : "asc" }));
  };
  const rows = hosts.data?.rows ?? [];

  return (
    <div className="flex flex-col gap-4">
      <PageHeader title="Hosts">
        <div className="flex gap-2">
          <Link className="btn" href="/apps">
            Apps and versions
          </Link>
          {canEnroll && (
            <>
              <Link className="btn" href="/hosts/import">
                Import
              </Link>
              <Link className="btn btn-primary" href="/hosts/enroll">
                Enroll host
              </Link>
            </>
          )}
        </div>
      </PageHeader>
      <HostFilters
        form={form}
        setForm={setForm}
        onApply={() => {
          setCursor({});
          setApplied(form);
        }}
        setProblem={setProblem}
        filter={filter}
        sort={sort}
      />
      {notice && (noticeIsBad ? <ErrorNote>{notice}</ErrorNote> : <OkNote>{notice}</OkNote>)}
      {problem && <ErrorNote>{problem}</ErrorNote>}
      {canOperate && (
        <BulkActions
          selected={selected}
          total={hosts.data?.total}
          filter={filter}
          refresh={refresh}
          setLabels={setLabels}
        />
      )}
      {hosts.error && <ErrorNote>Could not load hosts: {errorMessage(hosts.error)}</ErrorNote>}
      <HostsTable
        rows={rows}
        loaded={!!hosts.data}
        selected={selected}
        setSelected={setSelected}
        sort={sort}
        sortBy={sortBy}
      />
      <CursorPager label="Pages" page={hosts.data && { ...hosts.data, noun: "hosts" }} onPage={setCursor} />
      <RetiredHosts />
    </div>
  );
}
