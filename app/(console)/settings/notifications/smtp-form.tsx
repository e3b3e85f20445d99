"use client";
// The SMTP server notification e-mail goes through. The password is stored encrypted and never
// shown; leaving it empty sends without one.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { InputField, SelectField } from "@/app/_components/field";
import { ErrorNote, OkNote } from "@/app/_components/ui";

export function SmtpForm({ isAdmin }: { isAdmin: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const smtp = useQuery(trpc.notifications.smtp.queryOptions());
  const [saved, setSaved] = useState<string | null>(null);
  const save = useMutation(
    trpc.notifications.setSmtp.mutationOptions({
      onSuccess: (r) => (
        setSaved(`E-mail now goes through ${r.host}:${r.port}.`),
        qc.invalidateQueries({ queryKey: trpc.notifications.smtp.queryKey() })
      ),
    }),
  );
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const s = (k: string) => String(f.get(k) ?? "").trim();
    setSaved(null);
    save.mutate({
      host: s("host"),
      port: Number(s("port")),
      tls: s("tls") as "none" | "starttls" | "tls",
      username: s("username") || undefined,
      password: s("password") || undefined,
      from: s("from"),
    });
  }
  const cur = smtp.data;
  if (!isAdmin)
    return (
      <p className="text-sm text-muted">
        E-mail server: {cur ? `${cur.host}:${cur.port} (${cur.tls}), from ${cur.from}` : "not set"}
      </p>
    );
  return (
    <form
      onSubmit={onSubmit}
      className="card flex flex-wrap items-end gap-3"
      aria-label="E-mail server"
      key={cur?.updatedAt ? String(cur.updatedAt) : "new"}
    >
      <h3 className="w-full font-medium">E-mail server (SMTP)</h3>
      {[
        ["host", "Host", cur?.host, "smtp.example.com", "min-w-48 flex-1"],
        ["port", "Port", cur ? String(cur.port) : "587", "587", "w-20"],
        ["username", "User", cur?.username ?? "", "optional", "w-40"],
        ["from", "From", cur?.from, "keel@example.com", "w-56"],
      ].map(([k, label, v, ph, cls]) => (
        <InputField
          key={k}
          box={cls}
          id={`smtp-${k}`}
          label={label}
          name={k}
          defaultValue={v ?? ""}
          placeholder={ph}
          required={k !== "username"}
        />
      ))}
      <InputField
        box="w-40"
        id="smtp-password"
        label="Password"
        name="password"
        type="password"
        autoComplete="new-password"
        placeholder={cur?.hasPassword ? "(set; retype to keep)" : "optional"}
      />
      <SelectField box="w-32" id="smtp-tls" label="TLS" name="tls" defaultValue={cur?.tls ?? "starttls"}>
        <option value="starttls">STARTTLS</option>
        <option value="tls">TLS</option>
        <option value="none">none</option>
      </SelectField>
      <button type="submit" className="btn" disabled={save.isPending}>
        Save e-mail server
      </button>
      {saved && <OkNote>{saved}</OkNote>}
      {save.error && <ErrorNote>{errorMessage(save.error)}</ErrorNote>}
    </form>
  );
}
