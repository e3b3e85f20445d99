"use client";
// Settings → Notifications: webhooks and e-mail channels for approval, rollout, host-key and policy
// events, the SMTP server, and every delivery with its state. A webhook's signing secret is shown
// once. Admins change these (governed: manage_notifications); auditors read them.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { ConfirmButton } from "@/app/_components/buttons";
import { InputField, SelectField } from "@/app/_components/field";
import { Badge, ErrorNote, OkNote, Table } from "@/app/_components/ui";
import { Deliveries } from "./deliveries";
import { SmtpForm } from "./smtp-form";

export function Notifications({ isAdmin }: { isAdmin: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  // Counts follow deliveries while the page is open.
  const channels = useQuery({ ...trpc.notifications.list.queryOptions(), refetchInterval: 3000 });
  const events = useQuery(trpc.notifications.events.queryOptions());
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.notifications.pathKey() });
  const addWebhook = useMutation(
    trpc.notifications.addWebhook.mutationOptions({
      onSuccess: (r) => (setSecret({ name: r.name, secret: r.secret }), refresh()),
    }),
  );
  const addEmail = useMutation(
    trpc.notifications.addEmail.mutationOptions({
      onSuccess: (r) => (setDone(`Added the e-mail channel ${r.name}.`), refresh()),
    }),
  );
  const remove = useMutation(
    trpc.notifications.remove.mutationOptions({
      onSuccess: (r) => (setDone(`Removed ${r.name}; its deliveries stay listed.`), refresh()),
    }),
  );
  const test = useMutation(
    trpc.notifications.test.mutationOptions({
      onSuccess: (r) => (
        setDone(`Queued a test notification to ${r.name}; it appears under Deliveries.`),
        refresh()
      ),
    }),
  );
  const [kind, setKind] = useState<"webhook" | "email">("webhook");

  function onAdd(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const el = e.currentTarget;
    const f = new FormData(el);
    const name = String(f.get("name") ?? "").trim();
    const evs = f.getAll("events").map(String) as never[];
    setSecret(null);
    setDone(null);
    const split = (k: string) =>
      String(f.get(k) ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    if (kind === "webhook")
      addWebhook.mutate(
        { name, url: String(f.get("url") ?? "").trim(), events: evs },
        { onSuccess: () => el.reset() },
      );
    else
      addEmail.mutate(
        { name, to: split("to"), roles: f.getAll("roles").map(String) as never[], events: evs },
        { onSuccess: () => el.reset() },
      );
  }
  const error = addWebhook.error ?? addEmail.error ?? remove.error ?? test.error;

  return (
    <section className="flex flex-col gap-3" aria-label="Notifications">
      <h2 className="text-lg font-semibold">Notifications</h2>
      <p className="text-sm text-muted">
        Webhooks (signed with <code>Keel-Signature</code>, retried with backoff) and e-mail for approvals,
        rollouts, changed host keys and policy proposals. See docs/notifications.md.
      </p>
      {done && <OkNote>{done}</OkNote>}
      {error && <ErrorNote>{errorMessage(error)}</ErrorNote>}
      {secret && (
        <div className="card border-ok bg-ok-bg" role="status" aria-label="New webhook secret">
          <p className="text-sm font-medium">
            Webhook “{secret.name}” added. Its signing secret — copy it to the receiver now, it will not be
            shown again:
          </p>
          <input
            readOnly
            value={secret.secret}
            aria-label="Signing secret"
            data-testid="webhook-secret"
            className="input mt-2 font-mono text-xs"
            onFocus={(e) => e.currentTarget.select()}
          />
          <button type="button" className="btn mt-2" onClick={() => setSecret(null)}>
            Done
          </button>
        </div>
      )}
      {channels.error && (
        <ErrorNote>Could not load notification channels: {errorMessage(channels.error)}</ErrorNote>
      )}
      {channels.data && channels.data.length === 0 && (
        <p className="text-sm text-muted">No notification channels yet.</p>
      )}
      {channels.data && channels.data.length > 0 && (
        <Table
          columns={["Name", "Sends to", "Events", "Deliveries", isAdmin && <th className="w-0"></th>]}
          label="Notification channels"
        >
          {channels.data.map((c) => (
            <tr key={c.id} data-testid={`channel-row-${c.name}`}>
              <td className="font-medium">
                {c.name} <Badge>{c.kind}</Badge>
              </td>
              <td className="break-all text-xs">
                {c.url ?? [...c.to, ...c.roles.map((r) => `all ${r}s`)].join(", ")}
              </td>
              <td className="text-xs">{c.events.join(", ")}</td>
              <td className="text-xs">
                {c.deliveries.delivered ?? 0} delivered,{" "}
                {(c.deliveries.pending ?? 0) + (c.deliveries.delivering ?? 0)} pending,{" "}
                {c.deliveries.failed ?? 0} failed
              </td>
              {isAdmin && (
                <td className="flex gap-2">
                  <button
                    type="button"
                    className="btn text-xs"
                    disabled={test.isPending}
                    onClick={() => test.mutate({ id: c.id })}
                  >
                    Send test
                  </button>
                  <ConfirmButton
                    question={`Remove the channel ${c.name}?`}
                    disabled={remove.isPending}
                    onConfirm={() => remove.mutate({ id: c.id })}
                  >
                    Remove
                  </ConfirmButton>
                </td>
              )}
            </tr>
          ))}
        </Table>
      )}
      {isAdmin && (
        <form onSubmit={onAdd} className="card flex flex-col gap-3" aria-label="Add notification channel">
          <div className="flex flex-wrap items-end gap-3">
            <SelectField
              box="w-32"
              id="nc-kind"
              label="Kind"
              value={kind}
              onChange={(e) => setKind(e.target.value as "webhook" | "email")}
            >
              <option value="webhook">webhook</option>
              <option value="email">e-mail</option>
            </SelectField>
            <InputField
              box="w-44"
              id="nc-name"
              label="Name"
              name="name"
              required
              maxLength={64}
              placeholder="e.g. ops-chat"
            />
            {kind === "webhook" ? (
              <InputField
                box="min-w-64 flex-1"
                id="nc-url"
                label="URL"
                name="url"
                required
                type="url"
                placeholder="https://hooks.example.com/keel"
              />
            ) : (
              <>
                <InputField
                  box="min-w-48 flex-1"
                  id="nc-to"
                  label="Addresses (comma-separated)"
                  name="to"
                  placeholder="oncall@example.com"
                />
                <fieldset className="flex gap-2 text-sm">
                  <legend className="label">and every</legend>
                  {["admin", "operator", "approver", "auditor"].map((r) => (
                    <label key={r} className="flex items-center gap-1">
                      <input type="checkbox" name="roles" value={r} /> {r}
                    </label>
                  ))}
                </fieldset>
              </>
            )}
          </div>
          <fieldset className="flex flex-wrap gap-3 text-sm">
            <legend className="label">Events</legend>
            {(events.data ?? []).map((ev) => (
              <label key={ev} className="flex items-center gap-1">
                <input type="checkbox" name="events" value={ev} defaultChecked /> {ev}
              </label>
            ))}
          </fieldset>
          <div>
            <button
              type="submit"
              className="btn btn-primary"
              disabled={addWebhook.isPending || addEmail.isPending}
            >
              {kind === "webhook" ? "Add webhook" : "Add e-mail channel"}
            </button>
          </div>
        </form>
      )}
      <SmtpForm isAdmin={isAdmin} />
      <Deliveries />
    </section>
  );
}
