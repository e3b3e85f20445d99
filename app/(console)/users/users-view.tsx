"use client";
// Users (admin): everyone with an account, their roles and state, and the actions on them.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { Badge, ErrorNote, OkNote, PageHeader, Table, Time } from "@/app/_components/ui";
import type { Role } from "@/app/(console)/_nav";
import { RolePicker } from "@/app/(console)/_role-picker";
import { CreateUserForm } from "./create-user-form";
import { PendingChangeNote, pendingChange } from "@/app/(console)/changes/pending";

interface UserRow {
  id: string;
  email: string;
  name: string;
  roles: Role[];
  disabled: boolean;
  createdAt: Date;
  activeSessions: number;
  lastSignInAt: Date | null;
  /** Where each role came from (founder, or who granted and approved it). */
  grants: { role: string; via: string; grantedBy: string | null; approvedBy: string[] }[];
}

export function UsersView({ viewerId }: { viewerId: string }) {
  const trpc = useTRPC();
  const users = useQuery(trpc.users.list.queryOptions());
  return (
    <div className="flex max-w-5xl flex-col gap-6">
      <PageHeader title="Users" />
      <CreateUserForm />
      <section aria-label="All users">
        {users.isPending && <p className="text-sm text-muted">Loading users…</p>}
        {users.error && <ErrorNote>Could not load users: {errorMessage(users.error)}</ErrorNote>}
        {users.data && (
          <Table
            columns={["User", "Roles", "State", "Last sign-in", "Created", <th className="w-0">Actions</th>]}
          >
            {users.data.map((user) => (
              <UserRowView key={user.id} user={user} isSelf={user.id === viewerId} />
            ))}
          </Table>
        )}
      </section>
    </div>
  );
}

function UserRowView({ user, isSelf }: { user: UserRow; isSelf: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [roles, setRoles] = useState<Role[]>(user.roles);
  const [notice, setNotice] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.users.list.queryKey() });

  const setRolesMutation = useMutation(
    trpc.users.setRoles.mutationOptions({
      onSuccess: async () => {
        setNotice("Roles saved.");
        await refresh();
      },
    }),
  );
  const disable = useMutation(
    trpc.users.disable.mutationOptions({
      onSuccess: async () => {
        setNotice("Disabled: their sessions and API tokens stop working.");
        await refresh();
      },
    }),
  );
  const enable = useMutation(
    trpc.users.enable.mutationOptions({
      onSuccess: async () => {
        setNotice("Enabled.");
        await refresh();
      },
    }),
  );
  const revoke = useMutation(
    trpc.users.revokeSessions.mutationOptions({
      onSuccess: async (data) => {
        setNotice(`Signed out everywhere (${data.revoked} session${data.revoked === 1 ? "" : "s"} revoked).`);
        await refresh();
      },
    }),
  );
  const error = setRolesMutation.error ?? disable.error ?? enable.error ?? revoke.error;
  const rolesChanged = [...roles].sort().join() !== [...user.roles].sort().join();

  return (
    <tr data-testid={`user-row-${user.email}`}>
      <td>
        <div className="font-medium">{user.email}</div>
        <div className="text-xs text-muted">
          {user.name}
          {isSelf && " (you)"}
        </div>
      </td>
      <td>
        <RolePicker idPrefix={`roles-${user.id}`} value={roles} onChange={setRoles} />
        {user.grants.map((g) => (
          <div key={g.role} className="text-xs text-muted" data-testid={`grant-${user.email}-${g.role}`}>
            {g.role}:{" "}
            {g.via === "founder"
              ? "founder"
              : g.via === "legacy"
                ? "held before provenance was recorded"
                : g.via === "directory"
                  ? `from the identity provider's groups (map set by ${g.grantedBy ?? "the install"})`
                  : `granted by ${g.grantedBy ?? "?"}`}
            {g.approvedBy.length > 0 && `, approved by ${g.approvedBy.join(", ")}`}
          </div>
        ))}
        {rolesChanged && (
          <button
            type="button"
            className="btn mt-1.5 text-xs"
            disabled={setRolesMutation.isPending}
            onClick={() => setRolesMutation.mutate({ userId: user.id, roles })}
          >
            Save roles
          </button>
        )}
      </td>
      <td>
        {user.disabled ? <Badge tone="danger">disabled</Badge> : <Badge tone="ok">active</Badge>}
        <div className="mt-1 text-xs text-muted">
          {user.activeSessions} session{user.activeSessions === 1 ? "" : "s"}
        </div>
      </td>
      <td className="whitespace-nowrap text-xs">
        <Time value={user.lastSignInAt} />
      </td>
      <td className="whitespace-nowrap text-xs">
        <Time value={user.createdAt} />
      </td>
      <td>
        <div className="flex flex-col gap-1.5">
          <button
            type="button"
            className="btn btn-danger whitespace-nowrap text-xs"
            disabled={revoke.isPending}
            onClick={() => revoke.mutate({ userId: user.id })}
          >
            Revoke sessions
          </button>
          {!isSelf &&
            (user.disabled ? (
              <button
                type="button"
                className="btn whitespace-nowrap text-xs"
                disabled={enable.isPending}
                onClick={() => enable.mutate({ userId: user.id })}
              >
                Enable
              </button>
            ) : (
              <button
                type="button"
                className="btn whitespace-nowrap text-xs"
                disabled={disable.isPending}
                onClick={() => disable.mutate({ userId: user.id })}
              >
                Disable
              </button>
            ))}
        </div>
        {error &&
          (pendingChange(error) ? (
            <PendingChangeNote pending={pendingChange(error)!} />
          ) : (
            <ErrorNote>{errorMessage(error)}</ErrorNote>
          ))}
        {notice && !error && <OkNote>{notice}</OkNote>}
      </td>
    </tr>
  );
}
