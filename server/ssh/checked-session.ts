// A checked session: the agent on the host is the console's bundle (by the digest in its hello),
// installed first when it is not; the host's resident agent is used when there is one.
import { type AgentBundle, type EnsureAgentResult, ensureAgent } from "./agent-install";
import { AgentSession } from "./agent-session";
import { type SshConnection } from "./connection";
import { SshError } from "./errors";

/**
 * A session with the console's agent. With residentSeconds (root logins without a forced command),
 * the host's resident agent is asked first — no process started on the host; when there is none,
 * or it runs another bundle, `serve --resident` is started instead and leaves one behind when it
 * ends. The hello's digest is compared with the bundle, and only when it differs (or the agent does
 * not start) is ensureAgent run — which uploads it or explains what is missing (node, sudo) — and
 * the session opened again.
 */
export async function openCheckedSession(
  conn: SshConnection,
  opts: { bundle: AgentBundle; timeoutMs?: number; residentSeconds?: number },
): Promise<{ session: AgentSession; ensured: EnsureAgentResult | null; resident: boolean }> {
  const t = conn.target;
  const residentSeconds = t.sudo || t.forcedCommand ? 0 : (opts.residentSeconds ?? 0);
  if (residentSeconds) {
    const r = await AgentSession.openResident(conn, { timeoutMs: opts.timeoutMs });
    if (r && r.hello.agentSha256 === opts.bundle.sha256) return { session: r, ensured: null, resident: true };
    // Another bundle: it notices its file change after the upload below and exits by itself.
    void r?.close().catch(() => undefined);
  }
  const open = () => AgentSession.open(conn, { timeoutMs: opts.timeoutMs, residentSeconds });
  let first: AgentSession | null = null;
  try {
    first = await open();
  } catch (e) {
    if (
      e instanceof SshError &&
      (e.code === "SUDO_REFUSED" ||
        e.code === "HOST_KEY_CHANGED" ||
        e.code === "CONNECTION_LOST" ||
        e.code === "KEEPALIVE_TIMEOUT")
    )
      throw e;
  }
  if (first && first.hello.agentSha256 === opts.bundle.sha256)
    return { session: first, ensured: null, resident: false };
  await first?.close().catch(() => undefined);
  const ensured = await ensureAgent(conn, { bundle: opts.bundle });
  // ensureAgent checked the file's digest on the host; the agent now running is that file.
  return { session: await open(), ensured, resident: false };
}
