// Bulk enrollment from parsed entries (lab inventory, CSV, ssh_config + known_hosts). An entry
// with a fingerprint is pinned to it; one without is enrolled only when the admin chose to accept
// the keys the hosts present now (they are fetched and listed in the result), otherwise it is
// reported as needing a fingerprint. Each enrolled host is audited like a single enrollment.
import { AppError } from "@/server/errors";
import { mapLimit } from "@/server/services/inventory/refresh-hosts";
import type { InventoryDeps, TrustedKeyFile } from "@/server/services/inventory/types";
import { enrollHost } from "./enroll-host";
import { ZImportEntry, type TImportEntry } from "./host-input";

export type ImportOutcome = {
  name: string;
  status: "enrolled" | "exists" | "needs-fingerprint" | "invalid" | "failed";
  message?: string;
  fingerprint?: string | null;
  id?: string;
};

export async function importHosts(
  deps: InventoryDeps & { trustedKeys?: () => Promise<TrustedKeyFile[]> },
  input: {
    actorId: string | null;
    entries: TImportEntry[];
    /** Fetch and pin the key each host presents when the entry has none. */
    acceptPresentedKeys?: boolean;
    /** Applied to every entry that has none of its own. */
    environment?: string | null;
    labels?: Record<string, string>;
    source: string;
    concurrency?: number;
  },
): Promise<{ outcomes: ImportOutcome[]; enrolled: number }> {
  if (input.entries.length > 10_000)
    throw new AppError("BAD_REQUEST", { message: "import at most 10,000 hosts at once" });
  const existing = new Set((await deps.db.host.findMany({ select: { name: true } })).map((h) => h.name));
  const outcomes = await mapLimit(
    input.entries,
    input.concurrency ?? 8,
    async (raw): Promise<ImportOutcome> => {
      const parsed = ZImportEntry.safeParse({
        ...raw,
        environment: raw.environment ?? input.environment ?? null,
        labels: { ...input.labels, ...raw.labels },
      });
      const name = String(raw.name ?? "");
      if (!parsed.success)
        return {
          name,
          status: "invalid",
          message: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
        };
      const e = parsed.data;
      if (existing.has(e.name)) return { name, status: "exists", message: "already enrolled" };
      let fingerprint = e.fingerprint ?? null;
      if (!fingerprint) {
        if (!input.acceptPresentedKeys || !deps.ssh)
          return {
            name,
            status: "needs-fingerprint",
            message: "no fingerprint in the file; fetch and accept it",
          };
        try {
          fingerprint = (await deps.ssh.fetchHostKey({ name: e.name, address: e.address, port: e.port }))
            .fingerprint;
        } catch (err) {
          return { name, status: "failed", message: (err as Error).message };
        }
      }
      try {
        const { fingerprint: _f, ...fields } = e;
        // The file's fingerprint is what the admin vouched for; the first connection verifies it.
        const r = await enrollHost(
          { db: deps.db, clock: deps.clock, trustedKeys: deps.trustedKeys, ssh: undefined },
          {
            ...fields,
            acceptedFingerprint: fingerprint,
            actorId: input.actorId,
            via: `import:${input.source}`,
          },
        );
        // Like single enrollment, the host must trust the console's release signing keys, or every
        // release sent to it would be refused. The host stays enrolled if this fails; say so.
        if (deps.ssh?.installTrustedKeys && deps.trustedKeys) {
          try {
            const keys = await deps.trustedKeys();
            if (keys.length > 0)
              await deps.ssh.installTrustedKeys(
                {
                  name: e.name,
                  address: e.address,
                  port: e.port,
                  user: e.user,
                  fingerprint,
                  sudoMode: e.sudoMode ?? "none",
                },
                keys,
              );
          } catch (err) {
            return {
              name,
              status: "enrolled",
              id: r.id,
              fingerprint,
              message: `enrolled, but the signing keys could not be installed: ${(err as Error).message}`,
            };
          }
        }
        return { name, status: "enrolled", id: r.id, fingerprint };
      } catch (err) {
        if (err instanceof AppError && err.code === "CONFLICT")
          return { name, status: "exists", message: err.message };
        return { name, status: "failed", message: (err as Error).message };
      }
    },
  );
  return { outcomes, enrolled: outcomes.filter((o) => o.status === "enrolled").length };
}
