"use client";
// Settings → Identity provider (docs/auth.md): the OpenID provider people sign in with, its groups →
// roles map and whether password sign-in stays on (off: only the break-glass account). Saving is a
// governed manage_users action: a map granting admin or approver waits for an approver.
import { useState, type FormEvent, type InputHTMLAttributes } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { ErrorNote, OkNote } from "@/app/_components/ui";

export function IdentityProvider({ isAdmin }: { isAdmin: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const current = useQuery(trpc.oidc.get.queryOptions());
  const [note, setNote] = useState<string | null>(null);
  const save = useMutation(
    trpc.oidc.set.mutationOptions({
      onSuccess: async (r) => {
        setNote(`Saved: people sign in with ${r.issuer}.`);
        await queryClient.invalidateQueries({ queryKey: trpc.oidc.get.queryKey() });
      },
    }),
  );
  const s = current.data;
  const fromEnv = s?.source === "env";
  const locked = !isAdmin || fromEnv;

  function onSave(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const f = new FormData(event.currentTarget);
    const secret = String(f.get("clientSecret") ?? "");
    setNote(null);
    save.mutate({
      issuer: String(f.get("issuer") ?? "").trim(),
      clientId: String(f.get("clientId") ?? "").trim(),
      ...(secret ? { clientSecret: secret } : {}),
      groupClaim: String(f.get("groupClaim") ?? "groups").trim() || "groups",
      roleMap: String(f.get("roleMap") ?? ""),
      localSignIn: f.get("localSignIn") === "on",
      breakGlassEmail: String(f.get("breakGlassEmail") ?? "").trim() || null,
    });
  }

  return (
    <section className="flex flex-col gap-3" aria-label="Identity provider">
      <h2 className="text-lg font-semibold">Identity provider</h2>
      <p className="text-sm text-muted">
        People sign in with the organisation&apos;s OpenID provider; their groups give their roles at every
        sign-in and every 10 minutes. An account the provider has not confirmed for an hour stops working.
        {fromEnv && " Set by KEEL_OIDC_* environment variables on this console: change them there."}
      </p>
      {current.isSuccess && (
        <form
          onSubmit={onSave}
          className="card grid grid-cols-[10rem_1fr] items-center gap-3 text-sm"
          aria-label="Identity provider settings"
        >
          <GridInput
            id="oidc-issuer"
            label="Issuer URL"
            name="issuer"
            required
            defaultValue={s?.issuer ?? ""}
            placeholder="https://login.example.org/realms/acme"
            disabled={locked}
          />
          <GridInput
            id="oidc-client-id"
            label="Client id"
            name="clientId"
            required
            defaultValue={s?.clientId ?? ""}
            disabled={locked}
          />
          <GridInput
            id="oidc-client-secret"
            label="Client secret"
            name="clientSecret"
            type="password"
            autoComplete="off"
            placeholder={s?.hasClientSecret ? "stored (leave empty to keep)" : ""}
            disabled={locked}
          />
          <GridInput
            id="oidc-group-claim"
            label="Group claim"
            name="groupClaim"
            defaultValue={s?.groupClaim ?? "groups"}
            disabled={locked}
          />
          <label htmlFor="oidc-role-map">Groups → roles</label>
          <textarea
            id="oidc-role-map"
            name="roleMap"
            required
            rows={3}
            defaultValue={s?.roleMap.split(",").join("\n") ?? ""}
            placeholder={"keel-admins:admin\nkeel-ops:operator+approver"}
            className="input font-mono"
            disabled={locked}
          />
          <label htmlFor="oidc-local">Password sign-in</label>
          <label className="flex items-center gap-2">
            <input
              id="oidc-local"
              name="localSignIn"
              type="checkbox"
              defaultChecked={s?.localSignIn ?? true}
              disabled={locked}
            />{" "}
            on for everyone (off: only the break-glass account)
          </label>
          <GridInput
            id="oidc-break-glass"
            label="Break-glass account"
            name="breakGlassEmail"
            type="email"
            defaultValue={s?.breakGlassEmail ?? ""}
            disabled={locked}
          />
          {isAdmin && !fromEnv && (
            <button
              type="submit"
              className="btn btn-primary col-start-2 justify-self-start"
              disabled={save.isPending}
            >
              {save.isPending ? "Saving…" : "Save"}
            </button>
          )}
        </form>
      )}
      {save.error && <ErrorNote>{errorMessage(save.error)}</ErrorNote>}
      {note && <OkNote>{note}</OkNote>}
    </section>
  );
}

/** A label and its input as two cells of the settings grid. */
function GridInput({
  label,
  ...input
}: { id: string; label: string } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <>
      <label htmlFor={input.id}>{label}</label>
      <input className="input" {...input} />
    </>
  );
}
