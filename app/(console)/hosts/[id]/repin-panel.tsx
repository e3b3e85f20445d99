"use client";
// Re-pin a host key that changed (reinstall, re-key): the admin sees the fingerprint the host now
// presents, confirms it was checked on the machine itself, and Keel pins it — keeping the host's id
// and history (removing and enrolling again would retire them). The host must still present exactly
// that key when the console checks; audited as host.repin.
import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { ErrorNote, OkNote } from "@/app/_components/ui";

// `onDone` carries the confirmation to the host page: the panel itself goes away once the host's
// flag is cleared, and its own note with it.
export function RepinPanel(props: {
  hostId: string;
  name: string;
  pinned: string;
  presented: string | null;
  onDone?: (text: string) => void;
}) {
  const { hostId, name, pinned, presented, onDone } = props;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [checked, setChecked] = useState(false);
  const [fingerprint, setFingerprint] = useState(presented ?? "");
  const repin = useMutation(
    trpc.hosts.repin.mutationOptions({
      onSuccess: async (r) => {
        onDone?.(`Re-pinned ${r.name}: Keel now expects host key ${r.fingerprint}.`);
        await queryClient.invalidateQueries({ queryKey: trpc.hosts.get.queryKey() });
      },
    }),
  );
  if (repin.data)
    return (
      <OkNote>
        Re-pinned {repin.data.name}: Keel now expects host key {repin.data.fingerprint}.
      </OkNote>
    );
  return (
    <section className="card flex flex-col gap-2 text-sm" aria-label="Re-pin host key">
      <h2 className="font-medium">Re-pin the host key of {name}</h2>
      <p className="text-muted">
        Pinned: <code>{pinned}</code>. On the machine itself, run{" "}
        <code>ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</code> and compare.
      </p>
      <label className="label" htmlFor="repin-fp">
        New fingerprint (as the host presents it now)
      </label>
      <input
        id="repin-fp"
        className="input font-mono"
        value={fingerprint}
        onChange={(e) => setFingerprint(e.target.value.trim())}
      />
      <label className="flex items-center gap-2">
        <input type="checkbox" checked={checked} onChange={(e) => setChecked(e.target.checked)} />I checked
        this fingerprint on the machine
      </label>
      <div>
        <button
          className="btn btn-primary"
          type="button"
          disabled={!checked || !fingerprint || repin.isPending}
          onClick={() => repin.mutate({ id: hostId, acceptedFingerprint: fingerprint })}
        >
          {repin.isPending ? "Re-pinning…" : "Re-pin host key"}
        </button>
      </div>
      {repin.error && <ErrorNote>{errorMessage(repin.error)}</ErrorNote>}
    </section>
  );
}
