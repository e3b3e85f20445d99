"use client";
// Enroll one host in two steps: fetch the host key the machine presents, then — after the admin
// compared the fingerprint with the host — accept it explicitly and enroll (pins the key).
import Link from "next/link";
import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { InputField, SelectField } from "@/app/_components/field";
import { ErrorNote, OkNote, PageHeader } from "@/app/_components/ui";
import { parseLabels } from "@/app/(console)/hosts/_csv";
import { BootstrapFields, type Credential } from "./bootstrap-fields";

export function EnrollForm() {
  const trpc = useTRPC();
  const [f, setF] = useState({
    name: "",
    address: "",
    port: "22",
    user: "root",
    sudoMode: "none",
    environment: "",
    labels: "",
  });
  const [accepted, setAccepted] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const fetchKey = useMutation(
    trpc.hosts.fetchHostKey.mutationOptions({ onError: (e) => setProblem(errorMessage(e)) }),
  );
  const enroll = useMutation(
    trpc.hosts.enroll.mutationOptions({ onError: (e) => setProblem(errorMessage(e)) }),
  );
  const [credential, setCredential] = useState<Credential | null>(null);
  const bootstrap = useMutation(
    trpc.hosts.bootstrapKey.mutationOptions({ onError: (e) => setProblem(errorMessage(e)) }),
  );
  const key = fetchKey.data;
  const sameTarget = key && key.address === f.address && key.port === Number(f.port);
  const field = (k: keyof typeof f, label: string, extra: Record<string, string> = {}) => (
    <InputField
      id={`e-${k}`}
      label={label}
      value={f[k]}
      onChange={(e) => setF({ ...f, [k]: e.target.value })}
      {...extra}
    />
  );

  if (enroll.data)
    return (
      <div className="flex max-w-2xl flex-col gap-4">
        <PageHeader title="Enroll host" />
        <OkNote>
          {enroll.data.name} is enrolled
          {enroll.data.refresh?.status === "ok" ? " and its facts were collected." : "."}
        </OkNote>
        {enroll.data.refresh && enroll.data.refresh.status !== "ok" && (
          <ErrorNote>
            Its first refresh failed ({enroll.data.refresh.status}): {enroll.data.refresh.message}
          </ErrorNote>
        )}
        {enroll.data.warning && <ErrorNote>{enroll.data.warning}</ErrorNote>}
        <div className="flex gap-2">
          <Link className="btn btn-primary" href={`/hosts/${enroll.data.id}`}>
            Open {enroll.data.name}
          </Link>
          <button
            className="btn"
            type="button"
            onClick={() => {
              enroll.reset();
              fetchKey.reset();
              setAccepted(false);
              setF({ ...f, name: "", address: "" });
            }}
          >
            Enroll another
          </button>
        </div>
      </div>
    );

  return (
    <div className="flex max-w-2xl flex-col gap-4">
      <PageHeader title="Enroll host" />
      <form
        aria-label="Enroll host"
        className="card grid grid-cols-2 gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          setProblem(null);
          setAccepted(false);
          fetchKey.mutate({ address: f.address, port: Number(f.port) });
        }}
      >
        {field("name", "Name", { required: "true", placeholder: "web-1" })}
        {field("address", "Address", { required: "true", placeholder: "10.0.0.5" })}
        {field("port", "SSH port", { inputMode: "numeric" })}
        {field("user", "Login user")}
        <SelectField
          id="e-sudoMode"
          label="Agent runs as"
          value={f.sudoMode}
          onChange={(e) => setF({ ...f, sudoMode: e.target.value })}
        >
          <option value="none">the login user (root)</option>
          <option value="sudo">sudo -n</option>
          <option value="forced-command">forced command</option>
        </SelectField>
        {field("environment", "Environment", { placeholder: "prod" })}
        <div className="col-span-2">{field("labels", "Labels", { placeholder: "role=web dc=fra1" })}</div>
        <BootstrapFields value={credential} onChange={setCredential} />
        <div className="col-span-2">
          <button className="btn" type="submit" disabled={fetchKey.isPending || !f.address}>
            {fetchKey.isPending ? "Reading host key…" : "Fetch host key fingerprint"}
          </button>
        </div>
      </form>
      {problem && <ErrorNote>{problem}</ErrorNote>}
      {key && sameTarget && (
        <section className="card flex flex-col gap-3" aria-label="Host key">
          <p className="text-sm">
            {key.address}:{key.port} presents this {key.algorithm ?? ""} host key. Compare it with the host
            (for example <code>ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</code> on its console) before
            you accept it.
          </p>
          <p className="font-mono text-sm break-all" data-testid="fingerprint">
            {key.fingerprint}
          </p>
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={accepted} onChange={(e) => setAccepted(e.target.checked)} />I
            compared it with the host and accept this fingerprint
          </label>
          <button
            className="btn btn-primary self-start"
            type="button"
            disabled={!accepted || enroll.isPending || bootstrap.isPending || !f.name}
            onClick={async () => {
              const labels = parseLabels(f.labels);
              if (!labels) return setProblem("Labels are key=value pairs separated by spaces.");
              setProblem(null);
              const req = {
                name: f.name,
                address: f.address,
                port: Number(f.port),
                user: f.user,
                sudoMode: f.sudoMode as "none",
                environment: f.environment || null,
                labels,
                acceptedFingerprint: key.fingerprint,
              };
              if (credential) {
                const done = await bootstrap.mutateAsync({ ...req, credential }).catch(() => null);
                setCredential(null); // used once, whatever happened
                if (!done) return;
              }
              enroll.mutate({ ...req, refresh: true });
            }}
          >
            {bootstrap.isPending
              ? "Installing the console's key…"
              : enroll.isPending
                ? "Enrolling…"
                : credential
                  ? "Install the console's key, accept and enroll"
                  : "Accept and enroll"}
          </button>
        </section>
      )}
    </div>
  );
}
