// Host and group changes as governed actions: what the policy keys on (environment, labels,
// groups) and which hosts are managed at all. The policy sees the touched hosts as they are now,
// so moving a host out of prod is judged as a change to a prod host.
import type { z } from "zod";
import { deleteGroup } from "@/server/services/inventory/hosts/delete-group";
import { enrollHost } from "@/server/services/inventory/hosts/enroll-host";
import type { TEnrollHostRequest, TImportEntry } from "@/server/services/inventory/hosts/host-input";
import { importHosts } from "@/server/services/inventory/hosts/import-hosts";
import { removeHost } from "@/server/services/inventory/hosts/remove-host";
import { repinHostKey } from "@/server/services/inventory/hosts/repin-host-key";
import { saveGroup, type ZSaveGroupRequest } from "@/server/services/inventory/hosts/save-group";
import { setGroupMembers } from "@/server/services/inventory/hosts/set-group-members";
import { setHostEnvironment } from "@/server/services/inventory/hosts/set-host-environment";
import { setHostLabels } from "@/server/services/inventory/hosts/set-host-labels";
import { filterHostIds, groupHostIds, policyHosts } from "./policy-hosts";
import { op, type GovernDeps } from "./types";

const inv = (d: GovernDeps) => d.inventory ?? { db: d.db };
const names = (hs: { name: string }[]) =>
  hs.length <= 5 ? hs.map((h) => h.name).join(", ") : `${hs.length} hosts`;

export const hostOps = {
  "hosts.setEnvironment": op({
    action: "set_environment",
    async describe(db, i: { hostIds: string[]; environment: string | null }) {
      const rows = await db.host.findMany({
        where: { id: { in: i.hostIds } },
        select: { id: true, environment: true },
      });
      const hosts = await policyHosts(
        db,
        rows.filter((r) => r.environment !== i.environment).map((r) => r.id),
      );
      return { hosts, summary: `move ${names(hosts) || "no host"} to ${i.environment ?? "no environment"}` };
    },
    apply: (d, a, i) => setHostEnvironment(inv(d), { ...i, actorId: a.id }),
  }),
  "hosts.setLabels": op({
    action: "set_labels",
    async describe(db, i: { hostIds: string[]; set?: Record<string, string>; unset?: string[] }) {
      const hosts = await policyHosts(db, i.hostIds);
      const text = [
        ...Object.entries(i.set ?? {}).map(([k, v]) => `${k}=${v}`),
        ...(i.unset ?? []).map((k) => `-${k}`),
      ].join(" ");
      return { hosts, summary: `labels ${text} on ${names(hosts)}` };
    },
    apply: (d, a, i) => setHostLabels(inv(d), { ...i, actorId: a.id }),
  }),
  "groups.setMembers": op({
    action: "edit_groups",
    async describe(db, i: { groupId: string; add?: string[]; remove?: string[] }) {
      const g = await db.hostGroup.findUnique({ where: { id: i.groupId }, select: { name: true } });
      const hosts = await policyHosts(db, [...(i.add ?? []), ...(i.remove ?? [])]);
      return {
        hosts,
        summary: `group ${g?.name ?? i.groupId}: +${i.add?.length ?? 0} −${i.remove?.length ?? 0} hosts`,
      };
    },
    apply: (d, a, i) => setGroupMembers(inv(d), { ...i, actorId: a.id }),
  }),
  "groups.save": op({
    action: "edit_groups",
    async describe(db, i: z.input<typeof ZSaveGroupRequest>) {
      const old = i.id
        ? await db.hostGroup.findUnique({
            where: { id: i.id },
            select: { id: true, kind: true, filter: true },
          })
        : null;
      const ids = [
        ...(old ? await groupHostIds(db, old) : []),
        ...(i.kind === "filter" ? await filterHostIds(db, i.filter ?? {}) : []),
      ];
      const hosts = await policyHosts(db, [...new Set(ids)]);
      return {
        hosts,
        summary: `${i.id ? "change" : "create"} ${i.kind} group ${i.name} (${hosts.length} hosts touched)`,
      };
    },
    apply: (d, a, i) => saveGroup(inv(d), { ...i, actorId: a.id }),
  }),
  "groups.delete": op({
    action: "edit_groups",
    async describe(db, i: { id: string }) {
      const g = await db.hostGroup.findUnique({
        where: { id: i.id },
        select: { id: true, name: true, kind: true, filter: true },
      });
      const hosts = g ? await policyHosts(db, await groupHostIds(db, g)) : [];
      return { hosts, summary: `delete group ${g?.name ?? i.id} (${hosts.length} hosts)` };
    },
    apply: (d, a, i) => deleteGroup(inv(d), { ...i, actorId: a.id }),
  }),
  "hosts.enroll": op({
    action: "enroll_host",
    async describe(_db, i: TEnrollHostRequest & { refresh?: boolean }) {
      return {
        hosts: [{ name: i.name, environment: i.environment ?? null, groups: [], labels: i.labels ?? {} }],
        summary: `enroll ${i.name} (${i.address}) with host key ${i.acceptedFingerprint}`,
      };
    },
    apply: (d, a, i, approved) =>
      enrollHost(inv(d), { ...i, actorId: a.id, via: approved ? "change request" : "console" }),
  }),
  "hosts.import": op({
    action: "enroll_host",
    async describe(
      _db,
      i: {
        entries: TImportEntry[];
        acceptPresentedKeys?: boolean;
        environment?: string | null;
        labels?: Record<string, string>;
        source: string;
      },
    ) {
      const hosts = i.entries.map((e) => ({
        name: String(e.name),
        environment: e.environment ?? i.environment ?? null,
        groups: [],
        labels: { ...i.labels, ...e.labels },
      }));
      return { hosts, summary: `import ${hosts.length} host(s) from ${i.source}` };
    },
    // Approvers approve the fingerprints they see; keys fetched when the change is applied were seen by no one.
    notApprovable: (i) =>
      i.acceptPresentedKeys
        ? "accepting the keys hosts present now cannot wait for approval; import with fingerprints"
        : null,
    apply: (d, a, i) => importHosts(inv(d), { ...i, actorId: a.id }),
  }),
  "hosts.remove": op({
    action: "remove_host",
    async describe(db, i: { id: string }) {
      const hosts = await policyHosts(db, [i.id]);
      return { hosts, summary: `remove ${names(hosts) || i.id}` };
    },
    apply: (d, a, i) => removeHost(inv(d), { ...i, actorId: a.id }),
  }),
  "hosts.repin": op({
    action: "repin_host_key",
    async describe(db, i: { id: string; acceptedFingerprint: string }) {
      const hosts = await policyHosts(db, [i.id]);
      return { hosts, summary: `re-pin the host key of ${names(hosts) || i.id} to ${i.acceptedFingerprint}` };
    },
    apply: (d, a, i) => repinHostKey(inv(d), { ...i, actorId: a.id }),
  }),
};
