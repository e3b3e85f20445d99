"use client";
// Settings → Signing keys: the ed25519 keys releases are signed with. Admins create a console key
// (its private half is encrypted on the server and never shown), trust an outside signer's public
// key, retire a key (no new releases; hosts keep trusting it) or remove it from trust.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { ConfirmButton } from "@/app/_components/buttons";
import { InputField } from "@/app/_components/field";
import { Badge, ErrorNote, OkNote, Table, Time } from "@/app/_components/ui";

export function SigningKeys({ isAdmin }: { isAdmin: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.keys.list.queryOptions());
  const [note, setNote] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.keys.list.queryKey() });
  const create = useMutation(
    trpc.keys.create.mutationOptions({
      onSuccess: async (k) => {
        setNote(`Created key ${k.keyId}; new releases are signed with it. Hosts learn it at enrollment.`);
        await refresh();
      },
    }),
  );
  const importKey = useMutation(
    trpc.keys.import.mutationOptions({
      onSuccess: async (k) => {
        setNote(`Trusting ${k.name} (${k.keyId}) for pushed releases.`);
        await refresh();
      },
    }),
  );
  const retire = useMutation(trpc.keys.retire.mutationOptions({ onSuccess: refresh }));

  function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const el = event.currentTarget;
    setNote(null);
    create.mutate(
      { name: String(new FormData(el).get("name") ?? "").trim() },
      { onSuccess: () => el.reset() },
    );
  }
  function onImport(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const el = event.currentTarget;
    const form = new FormData(el);
    setNote(null);
    importKey.mutate(
      { name: String(form.get("name") ?? "").trim(), publicKey: String(form.get("publicKey") ?? "") },
      { onSuccess: () => el.reset() },
    );
  }

  return (
    <section className="flex flex-col gap-3" aria-label="Signing keys">
      <h2 className="text-lg font-semibold">Signing keys</h2>
      <p className="text-sm text-muted">
        Hosts install only releases signed by a key in their <code>/etc/keel/trusted.d</code>. The console
        signs the releases it builds, and the incremental streams it makes, with the newest active key it
        holds a private half of.
      </p>
      {isAdmin && (
        <div className="flex flex-wrap gap-3">
          <form
            onSubmit={onCreate}
            className="card flex flex-1 flex-wrap items-end gap-3"
            aria-label="Create signing key"
          >
            <InputField
              box="min-w-48 flex-1"
              id="key-name"
              label="New console key"
              name="name"
              required
              maxLength={64}
              placeholder="e.g. release key 2026"
            />
            <button type="submit" className="btn btn-primary" disabled={create.isPending}>
              {create.isPending ? "Creating…" : "Create key"}
            </button>
          </form>
          <form
            onSubmit={onImport}
            className="card flex flex-1 flex-wrap items-end gap-3"
            aria-label="Trust public key"
          >
            <div className="min-w-48 flex-1">
              <label htmlFor="import-name" className="label">
                Outside signer
              </label>
              <input
                id="import-name"
                name="name"
                required
                maxLength={64}
                placeholder="e.g. ci builder"
                className="input"
              />
              <label htmlFor="import-key" className="label mt-2">
                Public key
              </label>
              <input
                id="import-key"
                name="publicKey"
                required
                placeholder="keel-ed25519 …"
                className="input font-mono text-xs"
              />
            </div>
            <button type="submit" className="btn" disabled={importKey.isPending}>
              Trust key
            </button>
          </form>
        </div>
      )}
      {note && <OkNote>{note}</OkNote>}
      {(create.error || importKey.error || retire.error) && (
        <ErrorNote>{errorMessage(create.error ?? importKey.error ?? retire.error)}</ErrorNote>
      )}
      {keys.error && <ErrorNote>Could not load keys: {errorMessage(keys.error)}</ErrorNote>}
      {keys.data && keys.data.length === 0 && <p className="text-sm text-muted">No signing keys yet.</p>}
      {keys.data && keys.data.length > 0 && (
        <Table
          columns={[
            "Name",
            "Key id",
            "Status",
            "Releases",
            "Created",
            "Public key",
            isAdmin && <th className="w-0"></th>,
          ]}
        >
          {keys.data.map((k) => (
            <tr key={k.keyId} data-testid={`key-row-${k.keyId}`}>
              <td className="font-medium">
                {k.name} {k.isSigningKey && <Badge tone="ok">signs new releases</Badge>}{" "}
                {!k.hasPrivateKey && <Badge>public only</Badge>}
              </td>
              <td>
                <code className="text-xs">{k.keyId}</code>
              </td>
              <td>
                {k.status === "active" ? (
                  <Badge tone="ok">active</Badge>
                ) : (
                  <Badge tone={k.status === "removed" ? "danger" : "neutral"}>{k.status}</Badge>
                )}
              </td>
              <td>{k.releases}</td>
              <td className="text-xs">
                <Time value={k.createdAt} />
              </td>
              <td>
                <code className="block max-w-64 truncate text-xs" title={k.publicKeyLine}>
                  {k.publicKeyLine}
                </code>
              </td>
              {isAdmin && (
                <td className="whitespace-nowrap">
                  {k.status === "active" && (
                    <button
                      type="button"
                      className="btn text-xs"
                      disabled={retire.isPending}
                      onClick={() => retire.mutate({ keyId: k.keyId })}
                    >
                      Retire
                    </button>
                  )}{" "}
                  {k.status !== "removed" && (
                    <ConfirmButton
                      question={`Remove ${k.keyId} from trust? Releases signed with it can no longer be installed.`}
                      disabled={retire.isPending}
                      onConfirm={() => retire.mutate({ keyId: k.keyId, remove: true })}
                    >
                      Remove
                    </ConfirmButton>
                  )}
                </td>
              )}
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
