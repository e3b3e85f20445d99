"use client";
import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { ErrorNote, OkNote } from "@/app/_components/ui";
import type { Role } from "@/app/(console)/_nav";
import { RolePicker } from "@/app/(console)/_role-picker";
import { PendingChangeNote, pendingChange } from "@/app/(console)/changes/pending";

export function CreateUserForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [roles, setRoles] = useState<Role[]>(["operator"]);
  const [created, setCreated] = useState<{ email: string; password: string | null } | null>(null);
  const create = useMutation(
    trpc.users.create.mutationOptions({
      onSuccess: async (data) => {
        setCreated({ email: data.user.email, password: data.password });
        await queryClient.invalidateQueries({ queryKey: trpc.users.list.queryKey() });
      },
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    const password = String(form.get("password") ?? "");
    setCreated(null);
    create.mutate(
      {
        email: String(form.get("email") ?? "").trim(),
        name: String(form.get("name") ?? "").trim(),
        // Empty: the server generates one and returns it once.
        password: password === "" ? undefined : password,
        roles,
      },
      { onSuccess: () => formEl.reset() },
    );
  }

  return (
    <form onSubmit={onSubmit} className="card flex flex-col gap-3" aria-label="Create user">
      <h2 className="font-medium">Create a user</h2>
      <div className="grid gap-3 sm:grid-cols-3">
        <div>
          <label htmlFor="new-email" className="label">
            Email
          </label>
          <input id="new-email" name="email" type="email" required className="input" autoComplete="off" />
        </div>
        <div>
          <label htmlFor="new-name" className="label">
            Name
          </label>
          <input id="new-name" name="name" required className="input" autoComplete="off" />
        </div>
        <div>
          <label htmlFor="new-password" className="label">
            Initial password
          </label>
          <input
            id="new-password"
            name="password"
            type="password"
            minLength={12}
            placeholder="empty: generate one"
            className="input"
            autoComplete="new-password"
          />
        </div>
      </div>
      <RolePicker idPrefix="new-role" value={roles} onChange={setRoles} />
      {create.error &&
        (pendingChange(create.error) ? (
          <PendingChangeNote pending={pendingChange(create.error)!} />
        ) : (
          <ErrorNote>{errorMessage(create.error)}</ErrorNote>
        ))}
      {created && (
        <OkNote>
          Created {created.email}.
          {created.password && (
            <>
              {" "}
              Their password, shown only now: <code data-testid="generated-password">{created.password}</code>
            </>
          )}
        </OkNote>
      )}
      <div>
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create user"}
        </button>
      </div>
    </form>
  );
}
