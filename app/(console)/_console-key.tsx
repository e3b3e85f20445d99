// The console's SSH public key, for the pages where an admin needs it (Settings, enroll, import):
// a host can be enrolled only after this line is in root's (or the sudo user's) authorized_keys.
import { getServerCaller } from "@/app/_trpc/server";

export async function ConsoleKeyCard({ compact = false }: { compact?: boolean }) {
  const caller = await getServerCaller();
  const key = await caller.settings.sshKey().catch((e: Error) => ({ error: e.message }));
  return (
    <section className="card text-sm" aria-label="Console SSH key">
      <h2 className="mb-1 font-medium">The console&apos;s SSH key</h2>
      {"error" in key ? (
        <p className="text-muted">{key.error}</p>
      ) : (
        <>
          <p className={compact ? "mb-2 text-muted" : "mb-2"}>
            Authorize this key for root (or a user with <code>sudo -n</code>) on every host before enrolling
            it: append the line to <code>/root/.ssh/authorized_keys</code>. The lab (
            <code>npm run lab -- up N</code>) does it for its hosts. Also printed by <code>keel ssh-key</code>
            .
          </p>
          <pre
            className="overflow-x-auto rounded bg-black/5 p-2 font-mono text-xs dark:bg-white/10"
            data-testid="console-ssh-key"
          >
            {key.publicKey}
          </pre>
          <p className="mt-1 font-mono text-xs text-muted">{key.fingerprint}</p>
        </>
      )}
    </section>
  );
}
