"use client";
// API tokens for scripts and the `keel` CLI. A new token is shown exactly once; the server
// keeps only its hash. Tokens act with their owner's roles.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { InputField, SelectField } from "@/app/_components/field";
import { Badge, ErrorNote, Table, Time } from "@/app/_components/ui";

export function ApiTokens() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.tokens.list.queryOptions());
  const [secret, setSecret] = useState<{ name: string; token: string } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.tokens.list.queryKey() });
  const create = useMutation(
    trpc.tokens.create.mutationOptions({
      onSuccess: async (data, input) => {
        setSecret({ name: input.name, token: data.token });
        await refresh();
      },
    }),
  );
  const revoke = useMutation(trpc.tokens.revoke.mutationOptions({ onSuccess: refresh }));

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    const days = Number(form.get("expiresInDays"));
    setSecret(null);
    create.mutate(
      { name: String(form.get("name") ?? "").trim(), expiresInDays: days > 0 ? days : undefined },
      { onSuccess: () => formEl.reset() },
    );
  }

  return (
    <section className="flex flex-col gap-3" aria-label="API tokens">
      <h2 className="text-lg font-semibold">API tokens</h2>
      <p className="text-sm text-muted">
        For scripts and the command line: <code>keel login --url URL --token TOKEN</code>. A token acts with
        your roles.
      </p>
      <form onSubmit={onSubmit} className="card flex flex-wrap items-end gap-3" aria-label="Create API token">
        <InputField
          box="min-w-48 flex-1"
          id="token-name"
          label="Name"
          name="name"
          required
          maxLength={100}
          placeholder="e.g. ci-deploy"
        />
        <SelectField
          box="w-36"
          id="token-expiry"
          label="Expires after"
          name="expiresInDays"
          defaultValue="90"
        >
          <option value="30">30 days</option>
          <option value="90">90 days</option>
          <option value="365">1 year</option>
          <option value="0">never</option>
        </SelectField>
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create token"}
        </button>
      </form>
      {create.error && <ErrorNote>{errorMessage(create.error)}</ErrorNote>}
      {secret && <NewToken name={secret.name} token={secret.token} onDone={() => setSecret(null)} />}
      {tokens.isPending && <p className="text-sm text-muted">Loading tokens…</p>}
      {tokens.error && <ErrorNote>Could not load tokens: {errorMessage(tokens.error)}</ErrorNote>}
      {revoke.error && <ErrorNote>{errorMessage(revoke.error)}</ErrorNote>}
      {tokens.data && tokens.data.length === 0 && (
        <p className="text-sm text-muted">You have no API tokens.</p>
      )}
      {tokens.data && tokens.data.length > 0 && (
        <Table columns={["Name", "Token", "Created", "Last used", "Expires", <th className="w-0"></th>]}>
          {tokens.data.map((t) => (
            <tr key={t.id} data-testid={`token-row-${t.name}`}>
              <td className="font-medium">{t.name}</td>
              <td>
                <code className="text-xs">{t.prefix}…</code>
              </td>
              <td className="text-xs">
                <Time value={t.createdAt} />
              </td>
              <td className="text-xs">
                <Time value={t.lastUsedAt} />
              </td>
              <td className="text-xs">{t.expiresAt ? <Time value={t.expiresAt} /> : "never"}</td>
              <td>
                {t.revokedAt ? (
                  <Badge tone="danger">revoked</Badge>
                ) : (
                  <button
                    type="button"
                    className="btn btn-danger text-xs"
                    disabled={revoke.isPending}
                    onClick={() => revoke.mutate({ tokenId: t.id })}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}

function NewToken({ name, token, onDone }: { name: string; token: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(token);
      setCopied(true);
    } catch {
      // Clipboard needs a secure context (https or localhost); the token stays selectable.
      setCopied(false);
    }
  }
  return (
    <div className="card border-ok bg-ok-bg" role="status" aria-label="New API token">
      <p className="text-sm font-medium">Token “{name}” created. Copy it now — it will not be shown again.</p>
      <div className="mt-2 flex items-center gap-2">
        <input
          readOnly
          value={token}
          aria-label="New token"
          data-testid="new-token"
          className="input font-mono text-xs"
          onFocus={(e) => e.currentTarget.select()}
        />
        <button type="button" className="btn" onClick={copy}>
          {copied ? "Copied" : "Copy"}
        </button>
        <button type="button" className="btn" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
