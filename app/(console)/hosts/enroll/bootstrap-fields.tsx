"use client";
// For a host that does not trust the console's SSH key yet: the admin's one-time password or one
// of their own private keys, used once by the console to install its key (like ssh-copy-id) right
// before enrolling. Held only in this form's memory and cleared once used; never stored.
import { useState } from "react";
import { InputField } from "@/app/_components/field";

export type Credential = { password: string } | { privateKey: string; passphrase?: string };

export function BootstrapFields({
  value,
  onChange,
}: {
  value: Credential | null;
  onChange: (c: Credential | null) => void;
}) {
  const [mode, setMode] = useState<"password" | "key">("password");
  const [open, setOpen] = useState(false);
  const set = (patch: { password?: string; privateKey?: string; passphrase?: string }) => {
    const cur: { password?: string; privateKey?: string; passphrase?: string } = value ?? {};
    const next: Credential =
      mode === "password"
        ? { password: patch.password ?? cur.password ?? "" }
        : {
            privateKey: patch.privateKey ?? cur.privateKey ?? "",
            passphrase: "passphrase" in patch ? patch.passphrase : cur.passphrase,
          };
    const empty = "password" in next ? !next.password : !next.privateKey;
    onChange(empty ? null : next);
  };
  return (
    <details
      className="col-span-2 text-sm"
      open={open}
      onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}
    >
      <summary className="cursor-pointer">This host does not trust the console&apos;s key yet</summary>
      <p className="my-2 text-muted">
        Keel logs in once with this password or key — after checking the host key you accept below — and adds
        the console&apos;s key to the login user&apos;s <code>~/.ssh/authorized_keys</code>, like{" "}
        <code>ssh-copy-id</code>. It is not stored or logged.
      </p>
      <div className="mb-2 flex gap-4" role="radiogroup" aria-label="Credential">
        <label className="flex items-center gap-1">
          <input
            type="radio"
            checked={mode === "password"}
            onChange={() => (setMode("password"), onChange(null))}
          />{" "}
          Password
        </label>
        <label className="flex items-center gap-1">
          <input type="radio" checked={mode === "key"} onChange={() => (setMode("key"), onChange(null))} />{" "}
          Private key
        </label>
      </div>
      {mode === "password" ? (
        <InputField
          id="e-bootstrap-password"
          label="One-time password of the login user"
          type="password"
          autoComplete="off"
          value={value && "password" in value ? value.password : ""}
          onChange={(e) => set({ password: e.target.value })}
        />
      ) : (
        <div className="flex flex-col gap-2">
          <label className="label" htmlFor="e-bootstrap-key">
            A private key the host already trusts
          </label>
          <textarea
            id="e-bootstrap-key"
            className="input font-mono text-xs"
            rows={5}
            spellCheck={false}
            placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
            value={value && "privateKey" in value ? value.privateKey : ""}
            onChange={(e) => set({ privateKey: e.target.value })}
          />
          <label className="label" htmlFor="e-bootstrap-passphrase">
            Its passphrase (if any)
          </label>
          <input
            id="e-bootstrap-passphrase"
            className="input"
            type="password"
            autoComplete="off"
            value={value && "privateKey" in value ? (value.passphrase ?? "") : ""}
            onChange={(e) => set({ passphrase: e.target.value || undefined })}
          />
        </div>
      )}
    </details>
  );
}
